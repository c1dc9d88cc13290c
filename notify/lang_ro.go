package notify

// romanian (română), formal address (dumneavoastră), with the comma-below
// letters ș and ț that Romanian readers expect.
var romanian = language{
	name:     "română",
	greeting: "Bună ziua,",
	signoff:  "Echipa Hometime",
	months: [12]string{"ianuarie", "februarie", "martie", "aprilie", "mai", "iunie",
		"iulie", "august", "septembrie", "octombrie", "noiembrie", "decembrie"},
	dateFormat: "%[1]d %[2]s %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "{{.SchoolName}} vă invită în Hometime ca să sprijiniți învățarea lui {{.ChildFirstName}}. Cod {{.Code}} {{.Link}}",
			Subject: "{{.SchoolName}} vă invită în Hometime",
			Body: "{{.SchoolName}} folosește Hometime pentru a vă trimite activități de învățare distractive pe care le puteți face acasă împreună cu {{.ChildFirstName}} și pentru a păstra legătura cu profesorii.\n\n" +
				"Codul dumneavoastră de invitație este {{.Code}}. Descărcați aplicația Hometime și introduceți codul sau folosiți linkul de mai jos ca să vă înscrieți.",
			Action:    "Înscrieți-vă în Hometime",
			PushTitle: "Bun venit în Hometime",
			PushBody:  "{{.SchoolName}} vă invită să sprijiniți învățarea lui {{.ChildFirstName}}.",
		},
		TemplateInviteReminder: {
			SMS:     "Reamintire: {{.SchoolName}} v-a invitat în Hometime pentru {{.ChildFirstName}}. Cod {{.Code}} {{.Link}}",
			Subject: "Reamintire: invitația dumneavoastră în Hometime",
			Body: "Vă reamintim că {{.SchoolName}} v-a invitat în Hometime, unde găsiți activități de făcut acasă împreună cu {{.ChildFirstName}}.\n\n" +
				"Codul dumneavoastră de invitație este {{.Code}}. Înscrierea durează doar un minut.",
			Action:    "Înscrieți-vă în Hometime",
			PushTitle: "Invitația vă așteaptă",
			PushBody:  "Înscrieți-vă în Hometime ca să sprijiniți învățarea lui {{.ChildFirstName}}.",
		},
		TemplateActivitySet: {
			SMS:     "Activitate nouă de la {{.SchoolName}} pentru {{.ChildFirstName}}: {{.ActivityTitle}}. Deschideți Hometime ca s-o faceți împreună.",
			Subject: "Activitate nouă pentru {{.ChildFirstName}}: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} a pregătit o activitate nouă pentru {{.ChildFirstName}}: {{.ActivityTitle}}.\n\n" +
				"Deschideți aplicația Hometime ca s-o faceți împreună, apoi spuneți-i profesorului cum a mers.",
			PushTitle: "Activitate nouă pentru {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "{{.TeacherName}} v-a răspuns în Hometime despre {{.ChildFirstName}}. Deschideți aplicația ca să citiți răspunsul.",
			Subject: "Răspuns de la {{.TeacherName}} despre {{.ChildFirstName}}",
			Body: "{{.TeacherName}} v-a răspuns în Hometime despre {{.ChildFirstName}}.\n\n" +
				"Deschideți aplicația Hometime ca să citiți răspunsul.",
			PushTitle: "Răspuns de la {{.TeacherName}}",
			PushBody:  "Atingeți ca să citiți răspunsul despre {{.ChildFirstName}}.",
		},
		TemplateAward: {
			SMS:     "Vești bune! {{.ChildFirstName}} a primit o recompensă de la {{.TeacherName}} ({{.SchoolName}}). Deschideți Hometime ca s-o vedeți.",
			Subject: "{{.ChildFirstName}} a primit o recompensă!",
			Body: "Vești bune: {{.ChildFirstName}} a primit în Hometime o recompensă de la {{.TeacherName}} ({{.SchoolName}}).\n\n" +
				"Deschideți aplicația Hometime ca s-o vedeți și să sărbătoriți împreună.",
			PushTitle: "O recompensă pentru {{.ChildFirstName}}!",
			PushBody:  "{{.ChildFirstName}} a primit o recompensă de la {{.TeacherName}}. Atingeți ca s-o vedeți.",
		},
		TemplateInactivityNotice: {
			SMS:     "Contul dumneavoastră Hometime se închide pe {{.CloseDate}}, fiindcă nu a mai fost folosit de mult. Ca să-l păstrați, conectați-vă: {{.Link}}",
			Subject: "Contul dumneavoastră Hometime se va închide pe {{.CloseDate}}",
			Body: "Nu ați mai folosit Hometime de ceva timp, așa că, pentru a vă proteja datele, vă vom închide contul pe {{.CloseDate}}.\n\n" +
				"Dacă doriți să-l păstrați, conectați-vă înainte de această dată. Dacă nu, nu trebuie să faceți nimic.",
			Action:    "Conectați-vă la Hometime",
			PushTitle: "Contul se va închide în curând",
			PushBody:  "Deschideți Hometime înainte de {{.CloseDate}} ca să vă păstrați contul.",
		},
		TemplateAccountClosed: {
			SMS:     "Contul dumneavoastră Hometime a fost închis și nu veți mai primi mesaje. Datele vor fi șterse după 90 de zile. Ca să reveniți, cereți școlii o invitație nouă.",
			Subject: "Contul dumneavoastră Hometime a fost închis",
			Body: "Contul dumneavoastră Hometime a fost închis și nu veți mai primi mesaje de la noi.\n\n" +
				"Datele dumneavoastră personale vor fi șterse după 90 de zile. Dacă doriți să reveniți, cereți școlii o invitație nouă.\n\n" +
				"Vă mulțumim că ați învățat împreună cu noi.",
			PushTitle: "Contul a fost închis",
			PushBody:  "Vă mulțumim că ați folosit Hometime.",
		},
		TemplatePasswordReset: {
			SMS:     "Resetați parola Hometime aici: {{.Link}} Dacă nu ați cerut acest lucru, ignorați mesajul.",
			Subject: "Resetați parola Hometime",
			Body: "Am primit o cerere de resetare a parolei dumneavoastră Hometime. Folosiți linkul de mai jos ca să alegeți o parolă nouă.\n\n" +
				"Dacă nu ați cerut acest lucru, puteți ignora acest e-mail; parola nu se va schimba.",
			Action:    "Resetați parola",
			PushTitle: "Resetarea parolei",
			PushBody:  "Atingeți ca să alegeți o parolă nouă.",
		},
		TemplatePasswordResetCode: {
			SMS:     "Codul pentru resetarea parolei Hometime este {{.Code}}. Este valabil 15 minute. Nu îl dați nimănui. Dacă nu ați cerut acest lucru, ignorați mesajul.",
			Subject: "Codul pentru resetarea parolei Hometime",
			Body: "Codul pentru resetarea parolei Hometime este {{.Code}}. Este valabil 15 minute; nu îl dați nimănui.\n\n" +
				"Dacă nu ați cerut acest lucru, puteți ignora acest mesaj; parola nu se va schimba.",
			PushTitle: "Resetarea parolei",
			PushBody:  "Introduceți codul primit prin SMS ca să alegeți o parolă nouă.",
		},
		TemplateExportReady: {
			SMS:     "Copia datelor dumneavoastră Hometime este gata de descărcat: {{.Link}}",
			Subject: "Datele dumneavoastră Hometime sunt gata de descărcat",
			Body: "Copia datelor dumneavoastră Hometime pe care ați cerut-o este gata. Conține datele, comentariile și fotografiile dumneavoastră într-un format care poate fi citit automat.\n\n" +
				"Folosiți linkul de mai jos ca s-o descărcați. Pentru siguranța dumneavoastră, linkul funcționează doar scurt timp.",
			Action:    "Descărcați datele",
			PushTitle: "Datele sunt gata",
			PushBody:  "Atingeți ca să descărcați datele Hometime.",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: termenul pentru {{.ActivityTitle}} ({{.ChildFirstName}}, {{.SchoolName}}) este mâine. Deschideți aplicația.",
			Subject: "Termenul este mâine: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} a dat activitatea {{.ActivityTitle}} pentru {{.ChildFirstName}}, iar termenul este mâine.\n\n" +
				"Dacă ați făcut-o împreună, deschideți aplicația Hometime și spuneți-i profesorului cum a mers.",
			PushTitle: "Termen mâine pentru {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "Noutăți azi în Hometime pentru {{.ChildFirstName}}: {{.ItemCount}}. Deschideți aplicația pentru a le vedea.",
			Subject: "Noutăți azi pentru {{.ChildFirstName}}: {{.ItemCount}}",
			Body: "Noutăți azi în Hometime pentru {{.ChildFirstName}}: {{.ItemCount}}.\n\n" +
				"Deschideți aplicația Hometime pentru a le vedea.",
			PushTitle: "Azi în Hometime",
			PushBody:  "Noutăți pentru {{.ChildFirstName}}: {{.ItemCount}}. Atingeți pentru a le vedea.",
		},
		TemplateChildLeft: {
			SMS:     "{{.ChildFirstName}} a plecat de la {{.SchoolName}}. Activitățile anterioare rămân în Hometime 90 de zile. Vă puteți închide contul din Setări.",
			Subject: "{{.ChildFirstName}} a plecat de la {{.SchoolName}}",
			Body: "{{.SchoolName}} ne-a anunțat că {{.ChildFirstName}} a plecat de la școală, așa că școala nu va mai trimite activități noi.\n\n" +
				"Activitățile, fotografiile, comentariile și recompensele anterioare ale lui {{.ChildFirstName}} rămân disponibile în aplicația Hometime timp de 90 de zile, ca să le puteți revedea.\n\n" +
				"Dacă nu mai aveți nevoie de Hometime, vă puteți închide contul oricând: deschideți aplicația, mergeți la Setări și alegeți Închide contul.",
			Action:    "Deschideți Hometime",
			PushTitle: "{{.ChildFirstName}} a plecat de la {{.SchoolName}}",
			PushBody:  "Activitățile anterioare rămân în aplicație 90 de zile. Vă puteți închide contul din Setări.",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "Mesaj nou de la clasa {{.ClassName}}",
			Body:      "{{.MessageBody}}\n\n— Clasa {{.ClassName}}, {{.SchoolName}}. Răspundeți în aplicația Hometime.",
			PushTitle: "Mesaj nou de la clasa {{.ClassName}}",
			PushBody:  "Deschideți Hometime pentru a-l citi.",
		},
	},
}
