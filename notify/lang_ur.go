package notify

// urdu (اردو), written right to left. "Hometime" and links stay in Latin
// script; phones lay out the mixed direction themselves.
var urdu = language{
	name:     "اردو",
	rtl:      true,
	greeting: "السلام علیکم،",
	signoff:  "Hometime ٹیم",
	months: [12]string{"جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون",
		"جولائی", "اگست", "ستمبر", "اکتوبر", "نومبر", "دسمبر"},
	dateFormat: "%[1]d %[2]s %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "{{.SchoolName}} نے آپ کو {{.ChildFirstName}} کی پڑھائی میں مدد کے لیے Hometime پر مدعو کیا ہے۔ کوڈ {{.Code}} {{.Link}}",
			Subject: "{{.SchoolName}} کی طرف سے Hometime کی دعوت",
			Body: "{{.SchoolName}} Hometime استعمال کرتا ہے تاکہ آپ گھر پر {{.ChildFirstName}} کے ساتھ مزے دار تعلیمی سرگرمیاں کر سکیں اور کلاس ٹیچر سے رابطے میں رہیں۔\n\n" +
				"آپ کا دعوتی کوڈ {{.Code}} ہے۔ Hometime ایپ ڈاؤن لوڈ کریں اور کوڈ درج کریں، یا شامل ہونے کے لیے نیچے دیا گیا لنک استعمال کریں۔",
			Action:    "Hometime میں شامل ہوں",
			PushTitle: "Hometime میں خوش آمدید",
			PushBody:  "{{.SchoolName}} نے آپ کو {{.ChildFirstName}} کی پڑھائی میں مدد کے لیے مدعو کیا ہے۔",
		},
		TemplateInviteReminder: {
			SMS:     "یاد دہانی: {{.SchoolName}} نے آپ کو {{.ChildFirstName}} کے لیے Hometime پر مدعو کیا ہے۔ کوڈ {{.Code}} {{.Link}}",
			Subject: "یاد دہانی: Hometime کے لیے آپ کی دعوت",
			Body: "یاد دہانی کے طور پر، {{.SchoolName}} نے آپ کو Hometime پر مدعو کیا ہے، جہاں آپ کو {{.ChildFirstName}} کے ساتھ گھر پر کرنے کے لیے سرگرمیاں ملیں گی۔\n\n" +
				"آپ کا دعوتی کوڈ {{.Code}} ہے۔ شامل ہونے میں صرف ایک منٹ لگتا ہے۔",
			Action:    "Hometime میں شامل ہوں",
			PushTitle: "آپ کی دعوت منتظر ہے",
			PushBody:  "{{.ChildFirstName}} کی پڑھائی میں مدد کے لیے Hometime میں شامل ہوں۔",
		},
		TemplateActivitySet: {
			SMS:     "{{.SchoolName}} کی طرف سے {{.ChildFirstName}} کے لیے نئی سرگرمی: {{.ActivityTitle}}۔ مل کر کرنے کے لیے Hometime کھولیں۔",
			Subject: "{{.ChildFirstName}} کے لیے نئی سرگرمی: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} نے {{.ChildFirstName}} کے لیے ایک نئی سرگرمی دی ہے: {{.ActivityTitle}}۔\n\n" +
				"اسے مل کر کرنے کے لیے Hometime ایپ کھولیں، پھر ٹیچر کو بتائیں کہ کیسا رہا۔",
			PushTitle: "{{.ChildFirstName}} کے لیے نئی سرگرمی",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "{{.TeacherName}} نے Hometime پر {{.ChildFirstName}} کے بارے میں آپ کو جواب دیا ہے۔ پڑھنے کے لیے ایپ کھولیں۔",
			Subject: "{{.ChildFirstName}} کے بارے میں {{.TeacherName}} کا جواب",
			Body: "{{.TeacherName}} نے Hometime پر {{.ChildFirstName}} کے بارے میں آپ کو جواب دیا ہے۔\n\n" +
				"جواب پڑھنے کے لیے Hometime ایپ کھولیں۔",
			PushTitle: "{{.TeacherName}} کا جواب",
			PushBody:  "{{.ChildFirstName}} کے بارے میں جواب پڑھنے کے لیے ٹیپ کریں۔",
		},
		TemplateAward: {
			SMS:     "زبردست! {{.SchoolName}} میں {{.TeacherName}} نے {{.ChildFirstName}} کو انعام دیا ہے۔ دیکھنے کے لیے Hometime کھولیں۔",
			Subject: "{{.ChildFirstName}} کو انعام ملا ہے!",
			Body: "خوشخبری: {{.SchoolName}} میں {{.TeacherName}} نے Hometime پر {{.ChildFirstName}} کو انعام دیا ہے۔\n\n" +
				"اسے دیکھنے اور مل کر خوشی منانے کے لیے Hometime ایپ کھولیں۔",
			PushTitle: "{{.ChildFirstName}} کے لیے انعام!",
			PushBody:  "{{.TeacherName}} نے {{.ChildFirstName}} کو انعام دیا ہے۔ دیکھنے کے لیے ٹیپ کریں۔",
		},
		TemplateInactivityNotice: {
			SMS:     "آپ کا Hometime اکاؤنٹ {{.CloseDate}} کو بند ہو جائے گا کیونکہ یہ کافی عرصے سے استعمال نہیں ہوا۔ اسے رکھنے کے لیے سائن ان کریں: {{.Link}}",
			Subject: "آپ کا Hometime اکاؤنٹ {{.CloseDate}} کو بند ہو جائے گا",
			Body: "آپ نے کافی عرصے سے Hometime استعمال نہیں کیا، اس لیے آپ کے ڈیٹا کی حفاظت کے لیے ہم {{.CloseDate}} کو آپ کا اکاؤنٹ بند کر دیں گے۔\n\n" +
				"اگر آپ اسے رکھنا چاہتے ہیں تو اس سے پہلے سائن ان کر لیں۔ ورنہ آپ کو کچھ کرنے کی ضرورت نہیں۔",
			Action:    "Hometime میں سائن ان کریں",
			PushTitle: "آپ کا اکاؤنٹ جلد بند ہو جائے گا",
			PushBody:  "اپنا اکاؤنٹ رکھنے کے لیے {{.CloseDate}} سے پہلے Hometime کھولیں۔",
		},
		TemplateAccountClosed: {
			SMS:     "آپ کا Hometime اکاؤنٹ بند ہو گیا ہے اور آپ کو مزید پیغامات نہیں ملیں گے۔ آپ کی تفصیلات 90 دن بعد حذف کر دی جائیں گی۔ دوبارہ شامل ہونے کے لیے اپنے اسکول سے نئی دعوت مانگیں۔",
			Subject: "آپ کا Hometime اکاؤنٹ بند ہو گیا ہے",
			Body: "آپ کا Hometime اکاؤنٹ اب بند ہو گیا ہے اور آپ کو ہماری طرف سے مزید پیغامات نہیں ملیں گے۔\n\n" +
				"آپ کی ذاتی تفصیلات 90 دن بعد حذف کر دی جائیں گی۔ اگر آپ دوبارہ شامل ہونا چاہیں تو اپنے اسکول سے نئی دعوت مانگیں۔\n\n" +
				"ہمارے ساتھ سیکھنے کا شکریہ۔",
			PushTitle: "آپ کا اکاؤنٹ بند ہو گیا ہے",
			PushBody:  "Hometime استعمال کرنے کا شکریہ۔",
		},
		TemplatePasswordReset: {
			SMS:     "اپنا Hometime پاس ورڈ یہاں ری سیٹ کریں: {{.Link}} اگر آپ نے یہ درخواست نہیں کی تو اس پیغام کو نظر انداز کر دیں۔",
			Subject: "اپنا Hometime پاس ورڈ ری سیٹ کریں",
			Body: "ہمیں آپ کا Hometime پاس ورڈ ری سیٹ کرنے کی درخواست ملی ہے۔ نیا پاس ورڈ چننے کے لیے نیچے دیا گیا لنک استعمال کریں۔\n\n" +
				"اگر آپ نے یہ درخواست نہیں کی تو اس ای میل کو نظر انداز کر دیں؛ آپ کا پاس ورڈ تبدیل نہیں ہوگا۔",
			Action:    "پاس ورڈ ری سیٹ کریں",
			PushTitle: "پاس ورڈ ری سیٹ کریں",
			PushBody:  "نیا پاس ورڈ چننے کے لیے ٹیپ کریں۔",
		},
		TemplatePasswordResetCode: {
			SMS:     "آپ کا Hometime پاس ورڈ ری سیٹ کوڈ {{.Code}} ہے۔ یہ 15 منٹ تک کام کرے گا۔ اسے کسی کو نہ بتائیں۔ اگر آپ نے یہ درخواست نہیں کی تو اس پیغام کو نظر انداز کر دیں۔",
			Subject: "آپ کا Hometime پاس ورڈ ری سیٹ کوڈ",
			Body: "اپنا Hometime پاس ورڈ ری سیٹ کرنے کے لیے آپ کا کوڈ {{.Code}} ہے۔ یہ 15 منٹ تک کام کرے گا؛ اسے کبھی کسی کو نہ بتائیں۔\n\n" +
				"اگر آپ نے یہ درخواست نہیں کی تو اس پیغام کو نظر انداز کر دیں؛ آپ کا پاس ورڈ تبدیل نہیں ہوگا۔",
			PushTitle: "پاس ورڈ ری سیٹ کریں",
			PushBody:  "نیا پاس ورڈ چننے کے لیے ٹیکسٹ میں بھیجا گیا کوڈ درج کریں۔",
		},
		TemplateExportReady: {
			SMS:     "آپ کے Hometime ڈیٹا کی کاپی ڈاؤن لوڈ کے لیے تیار ہے: {{.Link}}",
			Subject: "آپ کا Hometime ڈیٹا ڈاؤن لوڈ کے لیے تیار ہے",
			Body: "آپ نے اپنے Hometime ڈیٹا کی جو کاپی مانگی تھی وہ تیار ہے۔ اس میں آپ کی تفصیلات، تبصرے اور تصاویر ایسی شکل میں ہیں جسے کمپیوٹر پڑھ سکتا ہے۔\n\n" +
				"اسے ڈاؤن لوڈ کرنے کے لیے نیچے دیا گیا لنک استعمال کریں۔ آپ کی حفاظت کے لیے یہ لنک صرف تھوڑی دیر کام کرے گا۔",
			Action:    "اپنا ڈیٹا ڈاؤن لوڈ کریں",
			PushTitle: "آپ کا ڈیٹا تیار ہے",
			PushBody:  "اپنا Hometime ڈیٹا ڈاؤن لوڈ کرنے کے لیے ٹیپ کریں۔",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: {{.SchoolName}} کی سرگرمی {{.ActivityTitle}} ({{.ChildFirstName}}) کل جمع ہونی ہے۔ ایپ کھولیں۔",
			Subject: "کل جمع ہونی ہے: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} نے {{.ChildFirstName}} کے لیے {{.ActivityTitle}} دی تھی، اور یہ کل جمع ہونی ہے۔\n\n" +
				"اگر آپ نے یہ مل کر کر لی ہے تو Hometime ایپ کھولیں اور استاد کو بتائیں کہ یہ کیسی رہی۔",
			PushTitle: "{{.ChildFirstName}} کے لیے کل آخری دن",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "آج Hometime پر {{.ChildFirstName}} کے لیے نئی چیزیں: {{.ItemCount}}۔ دیکھنے کے لیے ایپ کھولیں۔",
			Subject: "آج {{.ChildFirstName}} کے لیے نئی چیزیں: {{.ItemCount}}",
			Body: "آج Hometime پر {{.ChildFirstName}} کے لیے نئی چیزیں: {{.ItemCount}}۔\n\n" +
				"انہیں دیکھنے کے لیے Hometime ایپ کھولیں۔",
			PushTitle: "آج Hometime پر",
			PushBody:  "{{.ChildFirstName}} کے لیے نئی چیزیں: {{.ItemCount}}۔ دیکھنے کے لیے ٹیپ کریں۔",
		},
		TemplateChildLeft: {
			SMS:     "{{.ChildFirstName}} نے {{.SchoolName}} چھوڑ دیا ہے۔ پچھلی سرگرمیاں 90 دن تک Hometime میں موجود رہیں گی۔ آپ سیٹنگز میں اپنا اکاؤنٹ بند کر سکتے ہیں۔",
			Subject: "{{.ChildFirstName}} نے {{.SchoolName}} چھوڑ دیا ہے",
			Body: "{{.SchoolName}} نے ہمیں بتایا ہے کہ {{.ChildFirstName}} نے اسکول چھوڑ دیا ہے، اس لیے اب اسکول کی طرف سے نئی سرگرمیاں نہیں آئیں گی۔\n\n" +
				"{{.ChildFirstName}} کی پچھلی سرگرمیاں، تصاویر، تبصرے اور انعامات 90 دن تک Hometime ایپ میں آپ کے لیے دستیاب رہیں گے، تاکہ آپ انہیں دوبارہ دیکھ سکیں۔\n\n" +
				"اگر آپ کو اب Hometime کی ضرورت نہیں ہے تو آپ کسی بھی وقت اپنا اکاؤنٹ بند کر سکتے ہیں: ایپ کھولیں، سیٹنگز میں جائیں اور \"اکاؤنٹ بند کریں\" منتخب کریں۔",
			Action:    "Hometime کھولیں",
			PushTitle: "{{.ChildFirstName}} نے {{.SchoolName}} چھوڑ دیا ہے",
			PushBody:  "پچھلی سرگرمیاں 90 دن تک ایپ میں رہیں گی۔ آپ سیٹنگز میں اپنا اکاؤنٹ بند کر سکتے ہیں۔",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "{{.ClassName}} کلاس کی طرف سے نیا پیغام",
			Body:      "{{.MessageBody}}\n\n— {{.ClassName}} کلاس، {{.SchoolName}}۔ جواب Hometime ایپ میں دیں۔",
			PushTitle: "{{.ClassName}} کلاس کی طرف سے نیا پیغام",
			PushBody:  "پڑھنے کے لیے Hometime کھولیں۔",
		},
	},
}
