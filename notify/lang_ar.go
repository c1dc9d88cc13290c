package notify

// arabic (العربية), Modern Standard Arabic, written right to left. The
// child's and teacher's genders are unknown, so sentences are built around
// nouns ("رد جديد من…", "جائزة جديدة لطفلك…") rather than gendered verbs.
var arabic = language{
	name:     "العربية",
	rtl:      true,
	greeting: "مرحباً،",
	signoff:  "فريق Hometime",
	months: [12]string{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
		"يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
	dateFormat: "%[1]d %[2]s %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "تدعوك {{.SchoolName}} إلى Hometime لدعم تعلّم {{.ChildFirstName}}. الرمز {{.Code}} {{.Link}}",
			Subject: "دعوة من {{.SchoolName}} للانضمام إلى Hometime",
			Body: "تستخدم {{.SchoolName}} تطبيق Hometime لمشاركة أنشطة تعليمية ممتعة يمكنك القيام بها في المنزل مع {{.ChildFirstName}}، وللبقاء على تواصل مع معلمي الصف.\n\n" +
				"رمز الدعوة الخاص بك هو {{.Code}}. نزّل تطبيق Hometime وأدخل الرمز، أو استخدم الرابط أدناه للانضمام.",
			Action:    "الانضمام إلى Hometime",
			PushTitle: "مرحباً بك في Hometime",
			PushBody:  "تدعوك {{.SchoolName}} لدعم تعلّم {{.ChildFirstName}}.",
		},
		TemplateInviteReminder: {
			SMS:     "تذكير: دعتك {{.SchoolName}} إلى Hometime من أجل {{.ChildFirstName}}. الرمز {{.Code}} {{.Link}}",
			Subject: "تذكير: دعوتك إلى Hometime",
			Body: "نذكّرك بأن {{.SchoolName}} دعتك إلى Hometime، حيث تجد أنشطة تقوم بها في المنزل مع {{.ChildFirstName}}.\n\n" +
				"رمز الدعوة الخاص بك هو {{.Code}}. الانضمام لا يستغرق سوى دقيقة.",
			Action:    "الانضمام إلى Hometime",
			PushTitle: "دعوتك بانتظارك",
			PushBody:  "انضم إلى Hometime لدعم تعلّم {{.ChildFirstName}}.",
		},
		TemplateActivitySet: {
			SMS:     "نشاط جديد لطفلك {{.ChildFirstName}} من {{.SchoolName}}: {{.ActivityTitle}}. افتح Hometime للقيام به معاً.",
			Subject: "نشاط جديد لطفلك {{.ChildFirstName}}: {{.ActivityTitle}}",
			Body: "أضافت {{.SchoolName}} نشاطاً جديداً لطفلك {{.ChildFirstName}}: {{.ActivityTitle}}.\n\n" +
				"افتح تطبيق Hometime للقيام به معاً، ثم أخبر المعلم كيف جرى الأمر.",
			PushTitle: "نشاط جديد لطفلك {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "لديك رد جديد من {{.TeacherName}} بشأن {{.ChildFirstName}} على Hometime. افتح التطبيق لقراءته.",
			Subject: "رد من {{.TeacherName}} بشأن {{.ChildFirstName}}",
			Body: "لديك رد جديد من {{.TeacherName}} بشأن {{.ChildFirstName}} على Hometime.\n\n" +
				"افتح تطبيق Hometime لقراءة الرد.",
			PushTitle: "رد من {{.TeacherName}}",
			PushBody:  "اضغط لقراءة الرد بشأن {{.ChildFirstName}}.",
		},
		TemplateAward: {
			SMS:     "خبر رائع! جائزة جديدة لطفلك {{.ChildFirstName}} من {{.TeacherName}} في {{.SchoolName}}. افتح Hometime لمشاهدتها.",
			Subject: "جائزة لطفلك {{.ChildFirstName}}!",
			Body: "خبر رائع: جائزة جديدة على Hometime لطفلك {{.ChildFirstName}} من {{.TeacherName}} في {{.SchoolName}}.\n\n" +
				"افتح تطبيق Hometime لمشاهدتها والاحتفال بها معاً.",
			PushTitle: "جائزة لطفلك {{.ChildFirstName}}!",
			PushBody:  "جائزة جديدة لطفلك {{.ChildFirstName}} من {{.TeacherName}}. اضغط لمشاهدتها.",
		},
		TemplateInactivityNotice: {
			SMS:     "سيُغلق حسابك على Hometime في {{.CloseDate}} لأنه لم يُستخدم منذ مدة. للاحتفاظ به، سجّل الدخول: {{.Link}}",
			Subject: "سيُغلق حسابك على Hometime في {{.CloseDate}}",
			Body: "لم تستخدم Hometime منذ مدة، لذلك سنغلق حسابك في {{.CloseDate}} حمايةً لبياناتك.\n\n" +
				"إذا أردت الاحتفاظ به، فما عليك سوى تسجيل الدخول قبل ذلك التاريخ. وإلا فلا حاجة لفعل أي شيء.",
			Action:    "تسجيل الدخول إلى Hometime",
			PushTitle: "سيُغلق حسابك قريباً",
			PushBody:  "افتح Hometime قبل {{.CloseDate}} للاحتفاظ بحسابك.",
		},
		TemplateAccountClosed: {
			SMS:     "تم إغلاق حسابك على Hometime ولن تصلك رسائل أخرى. ستُحذف بياناتك بعد 90 يوماً. للعودة، اطلب من مدرستك دعوة جديدة.",
			Subject: "تم إغلاق حسابك على Hometime",
			Body: "تم إغلاق حسابك على Hometime ولن تصلك منا أي رسائل أخرى.\n\n" +
				"ستُحذف بياناتك الشخصية بعد 90 يوماً. إذا أردت الانضمام مجدداً، اطلب من مدرستك دعوة جديدة.\n\n" +
				"شكراً لأنك تعلّمت معنا.",
			PushTitle: "تم إغلاق حسابك",
			PushBody:  "شكراً لاستخدامك Hometime.",
		},
		TemplatePasswordReset: {
			SMS:     "أعد تعيين كلمة مرور Hometime من هنا: {{.Link}} إذا لم تطلب ذلك، فتجاهل هذه الرسالة.",
			Subject: "إعادة تعيين كلمة مرور Hometime",
			Body: "تلقينا طلباً لإعادة تعيين كلمة مرور حسابك على Hometime. استخدم الرابط أدناه لاختيار كلمة مرور جديدة.\n\n" +
				"إذا لم تطلب ذلك، يمكنك تجاهل هذا البريد؛ لن تتغير كلمة المرور.",
			Action:    "إعادة تعيين كلمة المرور",
			PushTitle: "إعادة تعيين كلمة المرور",
			PushBody:  "اضغط لاختيار كلمة مرور جديدة.",
		},
		TemplatePasswordResetCode: {
			SMS:     "رمز إعادة تعيين كلمة مرور Hometime هو {{.Code}}. صالح لمدة 15 دقيقة. لا تشاركه مع أحد. إذا لم تطلب ذلك، فتجاهل هذه الرسالة.",
			Subject: "رمز إعادة تعيين كلمة مرور Hometime",
			Body: "رمز إعادة تعيين كلمة مرور حسابك على Hometime هو {{.Code}}. صالح لمدة 15 دقيقة؛ لا تشاركه مع أي شخص.\n\n" +
				"إذا لم تطلب ذلك، يمكنك تجاهل هذه الرسالة؛ لن تتغير كلمة المرور.",
			PushTitle: "إعادة تعيين كلمة المرور",
			PushBody:  "أدخل الرمز الذي أرسلناه إليك برسالة نصية لاختيار كلمة مرور جديدة.",
		},
		TemplateExportReady: {
			SMS:     "نسخة بياناتك على Hometime جاهزة للتنزيل: {{.Link}}",
			Subject: "بياناتك على Hometime جاهزة للتنزيل",
			Body: "نسخة بياناتك على Hometime التي طلبتها أصبحت جاهزة. وتتضمن بياناتك وتعليقاتك وصورك بصيغة يمكن للأجهزة قراءتها.\n\n" +
				"استخدم الرابط أدناه لتنزيلها. حفاظاً على أمانك، يعمل الرابط لفترة قصيرة فقط.",
			Action:    "تنزيل بياناتك",
			PushTitle: "بياناتك جاهزة",
			PushBody:  "اضغط لتنزيل بياناتك من Hometime.",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: موعد تسليم {{.ActivityTitle}} لطفلك {{.ChildFirstName}} في {{.SchoolName}} غداً. افتح التطبيق.",
			Subject: "موعد التسليم غداً: {{.ActivityTitle}}",
			Body: "حددت {{.SchoolName}} النشاط {{.ActivityTitle}} لطفلك {{.ChildFirstName}}، وموعد تسليمه غداً.\n\n" +
				"إذا أنجزتماه معاً، افتح تطبيق Hometime لتخبر المعلم كيف سار.",
			PushTitle: "موعد التسليم غداً لـ {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "جديد اليوم على Hometime لـ {{.ChildFirstName}}: {{.ItemCount}}. افتح التطبيق لمشاهدته.",
			Subject: "جديد اليوم لـ {{.ChildFirstName}}: {{.ItemCount}}",
			Body: "جديد اليوم على Hometime لـ {{.ChildFirstName}}: {{.ItemCount}}.\n\n" +
				"افتح تطبيق Hometime لمشاهدته.",
			PushTitle: "اليوم على Hometime",
			PushBody:  "جديد لـ {{.ChildFirstName}}: {{.ItemCount}}. اضغط للمشاهدة.",
		},
		TemplateChildLeft: {
			SMS:     "غادر طفلك {{.ChildFirstName}} مدرسة {{.SchoolName}}. ستبقى أنشطته السابقة في Hometime لمدة 90 يوماً. يمكنك إغلاق حسابك من الإعدادات.",
			Subject: "غادر طفلك {{.ChildFirstName}} مدرسة {{.SchoolName}}",
			Body: "أبلغتنا مدرسة {{.SchoolName}} أن طفلك {{.ChildFirstName}} قد غادر المدرسة، لذلك لن تصله منها أنشطة جديدة.\n\n" +
				"ستبقى الأنشطة والصور والتعليقات والجوائز السابقة لطفلك {{.ChildFirstName}} متاحة لك في تطبيق Hometime لمدة 90 يوماً، لتتمكن من الرجوع إليها.\n\n" +
				"إذا لم تعد بحاجة إلى Hometime، يمكنك إغلاق حسابك في أي وقت: افتح التطبيق، وانتقل إلى الإعدادات، ثم اختر إغلاق الحساب.",
			Action:    "افتح Hometime",
			PushTitle: "غادر طفلك {{.ChildFirstName}} مدرسة {{.SchoolName}}",
			PushBody:  "ستبقى الأنشطة السابقة في التطبيق لمدة 90 يوماً. يمكنك إغلاق حسابك من الإعدادات.",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "رسالة جديدة من صف {{.ClassName}}",
			Body:      "{{.MessageBody}}\n\n— صف {{.ClassName}}، {{.SchoolName}}. يمكنك الرد في تطبيق Hometime.",
			PushTitle: "رسالة جديدة من صف {{.ClassName}}",
			PushBody:  "افتح Hometime لقراءتها.",
		},
	},
}
