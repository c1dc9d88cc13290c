package notify

// polish (polski). Polish declines names, so names appear only where the
// nominative is correct: as the subject, or after a label ("Dziecko: Ania").
// Parents are addressed formally (Państwo), as schools do.
var polish = language{
	name:     "polski",
	greeting: "Dzień dobry,",
	signoff:  "Zespół Hometime",
	// Genitive month names, as in "12 marca 2026".
	months: [12]string{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
		"lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
	dateFormat: "%[1]d %[2]s %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "{{.SchoolName}} zaprasza Państwa do Hometime – wspólnej nauki w domu. Dziecko: {{.ChildFirstName}}. Kod: {{.Code}} {{.Link}}",
			Subject: "{{.SchoolName}} zaprasza Państwa do Hometime",
			Body: "{{.SchoolName}} korzysta z Hometime, aby dzielić się ciekawymi zadaniami do wspólnej nauki w domu i być w kontakcie z wychowawcą. Dziecko: {{.ChildFirstName}}.\n\n" +
				"Kod zaproszenia: {{.Code}}. Wystarczy pobrać aplikację Hometime i wpisać kod albo dołączyć przez link poniżej.",
			Action:    "Dołącz do Hometime",
			PushTitle: "Witamy w Hometime",
			PushBody:  "{{.SchoolName}} zaprasza Państwa do wspólnej nauki z dzieckiem. Dziecko: {{.ChildFirstName}}.",
		},
		TemplateInviteReminder: {
			SMS:     "Przypomnienie: {{.SchoolName}} zaprasza Państwa do Hometime. Dziecko: {{.ChildFirstName}}. Kod: {{.Code}} {{.Link}}",
			Subject: "Przypomnienie: zaproszenie do Hometime",
			Body: "przypominamy, że {{.SchoolName}} zaprasza Państwa do Hometime, gdzie czekają zadania do wspólnej nauki w domu. Dziecko: {{.ChildFirstName}}.\n\n" +
				"Kod zaproszenia: {{.Code}}. Dołączenie zajmuje tylko minutę.",
			Action:    "Dołącz do Hometime",
			PushTitle: "Zaproszenie czeka",
			PushBody:  "Zapraszamy do Hometime – {{.ChildFirstName}} czeka na wspólną naukę!",
		},
		TemplateActivitySet: {
			SMS:     "{{.ChildFirstName}} ma nowe zadanie od szkoły {{.SchoolName}}: {{.ActivityTitle}}. Zapraszamy do Hometime!",
			Subject: "{{.ChildFirstName}} ma nowe zadanie: {{.ActivityTitle}}",
			Body: "{{.ChildFirstName}} ma nowe zadanie od szkoły {{.SchoolName}}: {{.ActivityTitle}}.\n\n" +
				"Zachęcamy do wspólnego wykonania go w aplikacji Hometime, a potem do podzielenia się z nauczycielem, jak poszło.",
			PushTitle: "Nowe zadanie: {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "{{.TeacherName}} odpowiada na Państwa wpis w Hometime. Dziecko: {{.ChildFirstName}}. Odpowiedź czeka w aplikacji.",
			Subject: "{{.TeacherName}} odpowiada. Dziecko: {{.ChildFirstName}}",
			Body: "{{.TeacherName}} odpowiada na Państwa wpis w Hometime. Dziecko: {{.ChildFirstName}}.\n\n" +
				"Odpowiedź można przeczytać w aplikacji Hometime.",
			PushTitle: "{{.TeacherName}} odpowiada",
			PushBody:  "Dotknij, aby przeczytać odpowiedź. Dziecko: {{.ChildFirstName}}.",
		},
		TemplateAward: {
			SMS:     "Świetna wiadomość! {{.ChildFirstName}} dostaje nagrodę w Hometime. Przyznaje ją {{.TeacherName}}, {{.SchoolName}}.",
			Subject: "{{.ChildFirstName}} dostaje nagrodę!",
			Body: "świetna wiadomość: {{.ChildFirstName}} dostaje nagrodę w Hometime! Przyznaje ją {{.TeacherName}}, {{.SchoolName}}.\n\n" +
				"Zapraszamy do aplikacji Hometime, aby ją zobaczyć i wspólnie świętować.",
			PushTitle: "{{.ChildFirstName}} dostaje nagrodę!",
			PushBody:  "{{.TeacherName}} przyznaje nagrodę. Dziecko: {{.ChildFirstName}}. Dotknij, aby zobaczyć.",
		},
		TemplateInactivityNotice: {
			SMS:     "Konto Hometime zostanie zamknięte {{.CloseDate}}, bo od dawna nie było używane. Aby je zachować, wystarczy się zalogować: {{.Link}}",
			Subject: "Konto Hometime zostanie zamknięte {{.CloseDate}}",
			Body: "od dłuższego czasu nie korzystają Państwo z Hometime, dlatego dla ochrony Państwa danych zamkniemy konto {{.CloseDate}}.\n\n" +
				"Aby je zachować, wystarczy zalogować się przed tym dniem. W przeciwnym razie nie trzeba nic robić.",
			Action:    "Zaloguj się do Hometime",
			PushTitle: "Konto wkrótce zostanie zamknięte",
			PushBody:  "Wystarczy otworzyć Hometime przed {{.CloseDate}}, aby zachować konto.",
		},
		TemplateAccountClosed: {
			SMS:     "Konto Hometime zostało zamknięte i nie będą już Państwo otrzymywać wiadomości. Dane usuniemy po 90 dniach. Aby wrócić, wystarczy poprosić szkołę o nowe zaproszenie.",
			Subject: "Konto Hometime zostało zamknięte",
			Body: "Państwa konto Hometime zostało zamknięte i nie będą już Państwo otrzymywać od nas wiadomości.\n\n" +
				"Dane osobowe usuniemy po 90 dniach. Aby ponownie dołączyć, wystarczy poprosić szkołę o nowe zaproszenie.\n\n" +
				"Dziękujemy za wspólną naukę.",
			PushTitle: "Konto zostało zamknięte",
			PushBody:  "Dziękujemy za korzystanie z Hometime.",
		},
		TemplatePasswordReset: {
			SMS:     "Link do zmiany hasła w Hometime: {{.Link}} Jeśli to nie Państwo prosili o zmianę, prosimy zignorować tę wiadomość.",
			Subject: "Zmiana hasła w Hometime",
			Body: "otrzymaliśmy prośbę o zmianę hasła do Hometime. Nowe hasło można ustawić przez link poniżej.\n\n" +
				"Jeśli to nie Państwo wysłali tę prośbę, wystarczy zignorować tę wiadomość – hasło się nie zmieni.",
			Action:    "Ustaw nowe hasło",
			PushTitle: "Zmiana hasła",
			PushBody:  "Dotknij, aby ustawić nowe hasło.",
		},
		TemplatePasswordResetCode: {
			SMS:     "Kod do zmiany hasła w Hometime: {{.Code}}. Ważny przez 15 minut. Prosimy nikomu go nie podawać. Jeśli to nie Państwo prosili o zmianę, prosimy zignorować tę wiadomość.",
			Subject: "Kod do zmiany hasła w Hometime",
			Body: "Kod do zmiany hasła w Hometime to {{.Code}}. Jest ważny przez 15 minut; prosimy nikomu go nie podawać.\n\n" +
				"Jeśli to nie Państwo wysłali tę prośbę, wystarczy zignorować tę wiadomość – hasło się nie zmieni.",
			PushTitle: "Zmiana hasła",
			PushBody:  "Wpisz kod z SMS-a, aby ustawić nowe hasło.",
		},
		TemplateExportReady: {
			SMS:     "Kopia Państwa danych z Hometime jest gotowa do pobrania: {{.Link}}",
			Subject: "Dane z Hometime są gotowe do pobrania",
			Body: "kopia Państwa danych z Hometime jest gotowa. Zawiera dane osobowe, komentarze i zdjęcia w formacie do odczytu maszynowego.\n\n" +
				"Można ją pobrać przez link poniżej. Ze względów bezpieczeństwa link działa tylko przez krótki czas.",
			Action:    "Pobierz dane",
			PushTitle: "Dane są gotowe",
			PushBody:  "Dotknij, aby pobrać kopię danych z Hometime.",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: termin {{.ActivityTitle}} dla {{.ChildFirstName}} ({{.SchoolName}}) mija jutro. Otwórz aplikację.",
			Subject: "Termin mija jutro: {{.ActivityTitle}}",
			Body: "Szkoła {{.SchoolName}} zadała {{.ActivityTitle}} dla {{.ChildFirstName}}, a termin mija jutro.\n\n" +
				"Jeśli zrobili to Państwo razem, prosimy otworzyć aplikację Hometime i dać znać nauczycielowi, jak poszło.",
			PushTitle: "Termin mija jutro: {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "Nowe dziś w Hometime dla {{.ChildFirstName}}: {{.ItemCount}}. Otwórz aplikację, aby zobaczyć.",
			Subject: "Nowe dziś dla {{.ChildFirstName}}: {{.ItemCount}}",
			Body: "Nowe dziś w Hometime dla {{.ChildFirstName}}: {{.ItemCount}}.\n\n" +
				"Otwórz aplikację Hometime, aby je zobaczyć.",
			PushTitle: "Dziś w Hometime",
			PushBody:  "Nowe dla {{.ChildFirstName}}: {{.ItemCount}}. Stuknij, aby zobaczyć.",
		},
		TemplateChildLeft: {
			SMS:     "Szkoła {{.SchoolName}}: {{.ChildFirstName}} już się w niej nie uczy. Dotychczasowe aktywności zostają w Hometime przez 90 dni. Konto można zamknąć w Ustawieniach.",
			Subject: "{{.ChildFirstName}} już nie uczy się w szkole {{.SchoolName}}",
			Body: "Szkoła {{.SchoolName}} poinformowała nas, że {{.ChildFirstName}} już się w niej nie uczy, więc szkoła nie będzie już zadawać nowych aktywności.\n\n" +
				"Dotychczasowe aktywności, zdjęcia, komentarze i nagrody pozostaną dostępne w aplikacji Hometime przez 90 dni, aby mogli Państwo do nich wrócić.\n\n" +
				"Jeśli nie potrzebują już Państwo Hometime, mogą Państwo w każdej chwili zamknąć konto: wystarczy otworzyć aplikację, przejść do Ustawień i wybrać Zamknij konto.",
			Action:    "Otwórz Hometime",
			PushTitle: "{{.ChildFirstName}} już nie uczy się w szkole {{.SchoolName}}",
			PushBody:  "Dotychczasowe aktywności zostają w aplikacji przez 90 dni. Konto można zamknąć w Ustawieniach.",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "Nowa wiadomość – klasa {{.ClassName}}",
			Body:      "{{.MessageBody}}\n\n– Klasa {{.ClassName}}, {{.SchoolName}}. Odpowiedzi prosimy udzielić w aplikacji Hometime.",
			PushTitle: "Nowa wiadomość – klasa {{.ClassName}}",
			PushBody:  "Prosimy otworzyć Hometime, aby ją przeczytać.",
		},
	},
}
