package notify

// english is the source language. Every SMS must stay GSM-7 (straight
// apostrophes, no dashes or emoji) and fit one segment with the longest
// realistic parameters; templates_test.go checks both.
var english = language{
	name:     "English",
	greeting: "Hello,",
	signoff:  "The Hometime team",
	months: [12]string{"January", "February", "March", "April", "May", "June",
		"July", "August", "September", "October", "November", "December"},
	dateFormat: "%[1]d %[2]s %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "{{.SchoolName}} invites you to Hometime to support {{.ChildFirstName}}'s learning. Code {{.Code}} {{.Link}}",
			Subject: "{{.SchoolName}} invites you to Hometime",
			Body: "{{.SchoolName}} uses Hometime to share fun learning activities you can do at home with {{.ChildFirstName}}, and to keep in touch with the class teacher.\n\n" +
				"Your invite code is {{.Code}}. Download the Hometime app and enter the code, or use the link below to join.",
			Action:    "Join Hometime",
			PushTitle: "Welcome to Hometime",
			PushBody:  "{{.SchoolName}} has invited you to support {{.ChildFirstName}}'s learning.",
		},
		TemplateInviteReminder: {
			SMS:     "Reminder: {{.SchoolName}} invited you to Hometime for {{.ChildFirstName}}. Code {{.Code}} {{.Link}}",
			Subject: "Reminder: your invitation to Hometime",
			Body: "Just a reminder that {{.SchoolName}} has invited you to Hometime, where you can find activities to do at home with {{.ChildFirstName}}.\n\n" +
				"Your invite code is {{.Code}}. It only takes a minute to join.",
			Action:    "Join Hometime",
			PushTitle: "Your invitation is waiting",
			PushBody:  "Join Hometime to support {{.ChildFirstName}}'s learning.",
		},
		TemplateActivitySet: {
			SMS:     "New activity for {{.ChildFirstName}} from {{.SchoolName}}: {{.ActivityTitle}}. Open Hometime to do it together.",
			Subject: "New activity for {{.ChildFirstName}}: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} has set a new activity for {{.ChildFirstName}}: {{.ActivityTitle}}.\n\n" +
				"Open the Hometime app to do it together, then let the teacher know how it went.",
			PushTitle: "New activity for {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "{{.TeacherName}} replied to you about {{.ChildFirstName}} on Hometime. Open the app to read it.",
			Subject: "{{.TeacherName}} replied about {{.ChildFirstName}}",
			Body: "{{.TeacherName}} has replied to you about {{.ChildFirstName}} on Hometime.\n\n" +
				"Open the Hometime app to read the reply.",
			PushTitle: "{{.TeacherName}} replied",
			PushBody:  "Tap to read the reply about {{.ChildFirstName}}.",
		},
		TemplateAward: {
			SMS:     "{{.ChildFirstName}} has an award from {{.TeacherName}} at {{.SchoolName}}! Open Hometime to see it.",
			Subject: "{{.ChildFirstName}} has an award!",
			Body: "Great news: {{.TeacherName}} at {{.SchoolName}} has given {{.ChildFirstName}} an award on Hometime.\n\n" +
				"Open the Hometime app to see it and celebrate together.",
			PushTitle: "An award for {{.ChildFirstName}}!",
			PushBody:  "{{.TeacherName}} has given {{.ChildFirstName}} an award. Tap to see it.",
		},
		TemplateInactivityNotice: {
			SMS:     "Your Hometime account closes on {{.CloseDate}} as it hasn't been used for a while. Sign in to keep it: {{.Link}}",
			Subject: "Your Hometime account will close on {{.CloseDate}}",
			Body: "You haven't used Hometime for a while, so to protect your data we will close your account on {{.CloseDate}}.\n\n" +
				"If you would like to keep it, just sign in before then. If not, you don't need to do anything.",
			Action:    "Sign in to Hometime",
			PushTitle: "Your account will close soon",
			PushBody:  "Open Hometime before {{.CloseDate}} to keep your account.",
		},
		TemplateAccountClosed: {
			SMS:     "Your Hometime account is now closed and you won't get more messages. Your details will be deleted in 90 days. To rejoin, ask your school for a new invite.",
			Subject: "Your Hometime account is closed",
			Body: "Your Hometime account is now closed and you won't receive any more messages from us.\n\n" +
				"Your personal details will be deleted after 90 days. If you would like to join again, ask your school for a new invite.\n\n" +
				"Thank you for learning with us.",
			PushTitle: "Your account is closed",
			PushBody:  "Thank you for using Hometime.",
		},
		TemplatePasswordReset: {
			SMS:     "Reset your Hometime password here: {{.Link}} If you didn't ask for this, you can ignore this message.",
			Subject: "Reset your Hometime password",
			Body: "We received a request to reset your Hometime password. Use the link below to choose a new one.\n\n" +
				"If you didn't ask for this, you can ignore this email; your password won't change.",
			Action:    "Reset password",
			PushTitle: "Reset your password",
			PushBody:  "Tap to choose a new password.",
		},
		TemplatePasswordResetCode: {
			SMS:     "Your Hometime password reset code is {{.Code}}. It works for 15 minutes. Don't share it. If you didn't ask for it, ignore this message.",
			Subject: "Your Hometime password reset code",
			Body: "Your code to reset your Hometime password is {{.Code}}. It works for 15 minutes; never share it with anyone.\n\n" +
				"If you didn't ask for this, you can ignore this message; your password won't change.",
			PushTitle: "Reset your password",
			PushBody:  "Enter the code we sent you by text to choose a new password.",
		},
		TemplateExportReady: {
			SMS:     "Your Hometime data export is ready. Download it here: {{.Link}}",
			Subject: "Your Hometime data is ready to download",
			Body: "The copy of your Hometime data that you asked for is ready. It includes your details, comments and photos in a machine-readable format.\n\n" +
				"Use the link below to download it. For your security, the link only works for a short time.",
			Action:    "Download your data",
			PushTitle: "Your data is ready",
			PushBody:  "Tap to download your Hometime data.",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: {{.ActivityTitle}} for {{.ChildFirstName}} from {{.SchoolName}} is due tomorrow. Open the app.",
			Subject: "Due tomorrow: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} set {{.ActivityTitle}} for {{.ChildFirstName}}, and it is due tomorrow.\n\n" +
				"If you have done it together, open the Hometime app to let the teacher know how it went.",
			PushTitle: "Due tomorrow for {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "New on Hometime today for {{.ChildFirstName}}: {{.ItemCount}}. Open the app to see them.",
			Subject: "New today for {{.ChildFirstName}}: {{.ItemCount}}",
			Body: "New on Hometime today for {{.ChildFirstName}}: {{.ItemCount}}.\n\n" +
				"Open the Hometime app to see them.",
			PushTitle: "Today on Hometime",
			PushBody:  "New for {{.ChildFirstName}}: {{.ItemCount}}. Tap to see them.",
		},
		TemplateChildLeft: {
			SMS:     "{{.ChildFirstName}} has left {{.SchoolName}}. Their past activities stay in Hometime for 90 days. Close your account any time in Settings.",
			Subject: "{{.ChildFirstName}} has left {{.SchoolName}}",
			Body: "{{.SchoolName}} has let us know that {{.ChildFirstName}} has left the school, so no new activities will be set for {{.ChildFirstName}} there.\n\n" +
				"{{.ChildFirstName}}'s past activities, photos, comments and awards stay available to you in the Hometime app for 90 days, so you can look back at them.\n\n" +
				"If you no longer need Hometime, you can close your account at any time: open the app, go to Settings and choose Close account.",
			Action:    "Open Hometime",
			PushTitle: "{{.ChildFirstName}} has left {{.SchoolName}}",
			PushBody:  "Past activities stay in the app for 90 days. You can close your account in Settings.",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "New message from {{.ClassName}} class",
			Body:      "{{.MessageBody}}\n\n— {{.ClassName}} class, {{.SchoolName}}. Reply in the Hometime app.",
			PushTitle: "New message from {{.ClassName}} class",
			PushBody:  "Open Hometime to read it.",
		},
	},
}
