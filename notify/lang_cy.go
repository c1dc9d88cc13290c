package notify

// welsh (Cymraeg). Names are left unmutated after prepositions, as is usual
// with personal names in everyday Welsh. The SMS bodies avoid circumflexes
// (ŵ, ŷ, â) so they stay GSM-7: one circumflex would triple the cost.
var welsh = language{
	name:     "Cymraeg",
	greeting: "Helo,",
	signoff:  "Tîm Hometime",
	months: [12]string{"Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
		"Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"},
	dateFormat: "%[1]d %[2]s %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "Mae {{.SchoolName}} yn eich gwahodd i Hometime i gefnogi dysgu {{.ChildFirstName}}. Cod {{.Code}} {{.Link}}",
			Subject: "Mae {{.SchoolName}} yn eich gwahodd i Hometime",
			Body: "Mae {{.SchoolName}} yn defnyddio Hometime i rannu gweithgareddau dysgu hwyliog y gallwch eu gwneud gartref gyda {{.ChildFirstName}}, ac i gadw mewn cysylltiad ag athro'r dosbarth.\n\n" +
				"Eich cod gwahoddiad yw {{.Code}}. Lawrlwythwch ap Hometime a rhowch y cod, neu defnyddiwch y ddolen isod i ymuno.",
			Action:    "Ymuno â Hometime",
			PushTitle: "Croeso i Hometime",
			PushBody:  "Mae {{.SchoolName}} wedi eich gwahodd i gefnogi dysgu {{.ChildFirstName}}.",
		},
		TemplateInviteReminder: {
			SMS:     "Atgoffa: eich gwahoddiad gan {{.SchoolName}} i Hometime ar gyfer {{.ChildFirstName}}. Cod {{.Code}} {{.Link}}",
			Subject: "Nodyn atgoffa: eich gwahoddiad i Hometime",
			Body: "Dyma nodyn i'ch atgoffa bod {{.SchoolName}} wedi eich gwahodd i Hometime, lle gallwch ddod o hyd i weithgareddau i'w gwneud gartref gyda {{.ChildFirstName}}.\n\n" +
				"Eich cod gwahoddiad yw {{.Code}}. Dim ond munud mae'n ei gymryd i ymuno.",
			Action:    "Ymuno â Hometime",
			PushTitle: "Mae eich gwahoddiad yn aros amdanoch",
			PushBody:  "Ymunwch â Hometime i gefnogi dysgu {{.ChildFirstName}}.",
		},
		TemplateActivitySet: {
			SMS:     "{{.SchoolName}}: gweithgaredd newydd i {{.ChildFirstName}} - {{.ActivityTitle}}. Agorwch Hometime i'w wneud ar y cyd.",
			Subject: "Gweithgaredd newydd i {{.ChildFirstName}}: {{.ActivityTitle}}",
			Body: "Mae {{.SchoolName}} wedi gosod gweithgaredd newydd i {{.ChildFirstName}}: {{.ActivityTitle}}.\n\n" +
				"Agorwch ap Hometime i'w wneud gyda'ch gilydd, yna rhowch wybod i'r athro sut aeth hi.",
			PushTitle: "Gweithgaredd newydd i {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "Mae {{.TeacherName}} wedi anfon ateb atoch am {{.ChildFirstName}} ar Hometime. Agorwch yr ap i'w ddarllen.",
			Subject: "Ateb gan {{.TeacherName}} am {{.ChildFirstName}}",
			Body: "Mae {{.TeacherName}} wedi anfon ateb atoch am {{.ChildFirstName}} ar Hometime.\n\n" +
				"Agorwch ap Hometime i'w ddarllen.",
			PushTitle: "Ateb gan {{.TeacherName}}",
			PushBody:  "Tapiwch i ddarllen yr ateb am {{.ChildFirstName}}.",
		},
		TemplateAward: {
			SMS:     "Mae {{.ChildFirstName}} wedi cael gwobr gan {{.TeacherName}} yn {{.SchoolName}}! Agorwch Hometime i'w gweld.",
			Subject: "Gwobr i {{.ChildFirstName}}!",
			Body: "Newyddion da: mae {{.TeacherName}} yn {{.SchoolName}} wedi rhoi gwobr i {{.ChildFirstName}} ar Hometime.\n\n" +
				"Agorwch ap Hometime i'w gweld a dathlu gyda'ch gilydd.",
			PushTitle: "Gwobr i {{.ChildFirstName}}!",
			PushBody:  "Mae {{.TeacherName}} wedi rhoi gwobr i {{.ChildFirstName}}. Tapiwch i'w gweld.",
		},
		TemplateInactivityNotice: {
			SMS:     "Bydd eich cyfrif Hometime yn cau ar {{.CloseDate}} gan nad yw wedi'i ddefnyddio ers tro. Mewngofnodwch i'w gadw: {{.Link}}",
			Subject: "Bydd eich cyfrif Hometime yn cau ar {{.CloseDate}}",
			Body: "Dydych chi ddim wedi defnyddio Hometime ers tro, felly er mwyn diogelu eich data byddwn yn cau eich cyfrif ar {{.CloseDate}}.\n\n" +
				"Os hoffech ei gadw, mewngofnodwch cyn hynny. Os na, does dim angen i chi wneud dim.",
			Action:    "Mewngofnodi i Hometime",
			PushTitle: "Bydd eich cyfrif yn cau cyn bo hir",
			PushBody:  "Agorwch Hometime cyn {{.CloseDate}} i gadw eich cyfrif.",
		},
		TemplateAccountClosed: {
			SMS:     "Mae'ch cyfrif Hometime wedi cau ac ni chewch fwy o negeseuon. Caiff eich data ei ddileu ymhen 90 diwrnod. I ailymuno, gofynnwch i'ch ysgol am wahoddiad newydd.",
			Subject: "Mae eich cyfrif Hometime wedi cau",
			Body: "Mae eich cyfrif Hometime wedi cau bellach ac ni fyddwch yn cael rhagor o negeseuon gennym.\n\n" +
				"Caiff eich manylion personol eu dileu ymhen 90 diwrnod. Os hoffech ymuno eto, gofynnwch i'ch ysgol am wahoddiad newydd.\n\n" +
				"Diolch am ddysgu gyda ni.",
			PushTitle: "Mae eich cyfrif wedi cau",
			PushBody:  "Diolch am ddefnyddio Hometime.",
		},
		TemplatePasswordReset: {
			SMS:     "Ailosodwch eich cyfrinair Hometime yma: {{.Link}} Os na wnaethoch ofyn am hyn, anwybyddwch y neges hon.",
			Subject: "Ailosod eich cyfrinair Hometime",
			Body: "Cawsom gais i ailosod eich cyfrinair Hometime. Defnyddiwch y ddolen isod i ddewis un newydd.\n\n" +
				"Os na wnaethoch ofyn am hyn, gallwch anwybyddu'r e-bost hwn; fydd eich cyfrinair ddim yn newid.",
			Action:    "Ailosod cyfrinair",
			PushTitle: "Ailosod eich cyfrinair",
			PushBody:  "Tapiwch i ddewis cyfrinair newydd.",
		},
		TemplatePasswordResetCode: {
			SMS:     "Eich cod ailosod cyfrinair Hometime yw {{.Code}}. Mae'n gweithio am 15 munud. Peidiwch a'i rannu. Os na wnaethoch ofyn amdano, anwybyddwch y neges hon.",
			Subject: "Eich cod ailosod cyfrinair Hometime",
			Body: "Eich cod i ailosod eich cyfrinair Hometime yw {{.Code}}. Mae'n gweithio am 15 munud; peidiwch â'i rannu gydag unrhyw un.\n\n" +
				"Os na wnaethoch ofyn am hyn, gallwch anwybyddu'r neges hon; fydd eich cyfrinair ddim yn newid.",
			PushTitle: "Ailosod eich cyfrinair",
			PushBody:  "Rhowch y cod a anfonwyd atoch mewn neges destun i ddewis cyfrinair newydd.",
		},
		TemplateExportReady: {
			SMS:     "Mae copi o'ch data Hometime yn barod i'w lawrlwytho: {{.Link}}",
			Subject: "Mae eich data Hometime yn barod i'w lawrlwytho",
			Body: "Mae'r copi o'ch data Hometime y gofynnoch amdano yn barod. Mae'n cynnwys eich manylion, eich sylwadau a'ch lluniau mewn fformat y gall peiriant ei ddarllen.\n\n" +
				"Defnyddiwch y ddolen isod i'w lawrlwytho. Er eich diogelwch, dim ond am gyfnod byr y bydd y ddolen yn gweithio.",
			Action:    "Lawrlwytho eich data",
			PushTitle: "Mae eich data yn barod",
			PushBody:  "Tapiwch i lawrlwytho eich data Hometime.",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: mae {{.ActivityTitle}} i {{.ChildFirstName}} gan {{.SchoolName}} i fod yfory. Agorwch yr ap.",
			Subject: "I fod yfory: {{.ActivityTitle}}",
			Body: "Gosododd {{.SchoolName}} {{.ActivityTitle}} i {{.ChildFirstName}}, ac mae i fod yfory.\n\n" +
				"Os ydych chi wedi'i wneud gyda'ch gilydd, agorwch ap Hometime i ddweud wrth yr athro sut aeth hi.",
			PushTitle: "I fod yfory i {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "Newydd ar Hometime heddiw i {{.ChildFirstName}}: {{.ItemCount}}. Agorwch yr ap i'w gweld.",
			Subject: "Newydd heddiw i {{.ChildFirstName}}: {{.ItemCount}}",
			Body: "Newydd ar Hometime heddiw i {{.ChildFirstName}}: {{.ItemCount}}.\n\n" +
				"Agorwch ap Hometime i'w gweld.",
			PushTitle: "Heddiw ar Hometime",
			PushBody:  "Newydd i {{.ChildFirstName}}: {{.ItemCount}}. Tapiwch i'w gweld.",
		},
		TemplateChildLeft: {
			SMS:     "Mae {{.ChildFirstName}} wedi gadael {{.SchoolName}}. Bydd gwaith blaenorol ar gael am 90 diwrnod. Gallwch gau'ch cyfrif yn y Gosodiadau.",
			Subject: "Mae {{.ChildFirstName}} wedi gadael {{.SchoolName}}",
			Body: "Mae {{.SchoolName}} wedi rhoi gwybod i ni fod {{.ChildFirstName}} wedi gadael yr ysgol, felly ni fydd yr ysgol yn gosod gweithgareddau newydd i {{.ChildFirstName}} mwyach.\n\n" +
				"Bydd gweithgareddau, lluniau, sylwadau a gwobrau blaenorol {{.ChildFirstName}} ar gael i chi yn ap Hometime am 90 diwrnod, er mwyn i chi allu edrych yn ôl arnyn nhw.\n\n" +
				"Os nad oes angen Hometime arnoch chi mwyach, gallwch gau eich cyfrif unrhyw bryd: agorwch yr ap, ewch i'r Gosodiadau a dewiswch Cau'r cyfrif.",
			Action:    "Agor Hometime",
			PushTitle: "Mae {{.ChildFirstName}} wedi gadael {{.SchoolName}}",
			PushBody:  "Bydd gweithgareddau blaenorol ar gael yn yr ap am 90 diwrnod. Gallwch gau eich cyfrif yn y Gosodiadau.",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "Neges newydd gan ddosbarth {{.ClassName}}",
			Body:      "{{.MessageBody}}\n\n— Dosbarth {{.ClassName}}, {{.SchoolName}}. Atebwch yn ap Hometime.",
			PushTitle: "Neges newydd gan ddosbarth {{.ClassName}}",
			PushBody:  "Agorwch Hometime i'w darllen.",
		},
	},
}
