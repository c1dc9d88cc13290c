package notify

// spanish (español), addressing parents as usted, which reads as respectful
// in Spain and Latin America alike.
var spanish = language{
	name:     "español",
	greeting: "Hola:",
	signoff:  "El equipo de Hometime",
	months: [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio",
		"julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	dateFormat: "%[1]d de %[2]s de %[3]d",
	messages: map[Template]message{
		TemplateInvite: {
			SMS:     "{{.SchoolName}} le invita a Hometime para apoyar el aprendizaje de {{.ChildFirstName}}. Código {{.Code}} {{.Link}}",
			Subject: "{{.SchoolName}} le invita a Hometime",
			Body: "{{.SchoolName}} usa Hometime para compartir actividades de aprendizaje divertidas que puede hacer en casa con {{.ChildFirstName}} y para estar en contacto con el profesorado.\n\n" +
				"Su código de invitación es {{.Code}}. Descargue la aplicación Hometime e introduzca el código, o use el enlace de abajo para unirse.",
			Action:    "Unirse a Hometime",
			PushTitle: "Le damos la bienvenida a Hometime",
			PushBody:  "{{.SchoolName}} le invita a apoyar el aprendizaje de {{.ChildFirstName}}.",
		},
		TemplateInviteReminder: {
			SMS:     "Recordatorio: {{.SchoolName}} le ha invitado a Hometime para {{.ChildFirstName}}. Código {{.Code}} {{.Link}}",
			Subject: "Recordatorio: su invitación a Hometime",
			Body: "Le recordamos que {{.SchoolName}} le ha invitado a Hometime, donde encontrará actividades para hacer en casa con {{.ChildFirstName}}.\n\n" +
				"Su código de invitación es {{.Code}}. Unirse solo lleva un minuto.",
			Action:    "Unirse a Hometime",
			PushTitle: "Su invitación le espera",
			PushBody:  "Únase a Hometime para apoyar el aprendizaje de {{.ChildFirstName}}.",
		},
		TemplateActivitySet: {
			SMS:     "Nueva actividad de {{.SchoolName}} para {{.ChildFirstName}}: {{.ActivityTitle}}. Abra Hometime para hacerla juntos.",
			Subject: "Nueva actividad para {{.ChildFirstName}}: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} ha puesto una nueva actividad para {{.ChildFirstName}}: {{.ActivityTitle}}.\n\n" +
				"Abra la aplicación Hometime para hacerla juntos y luego cuente al profesorado qué tal ha ido.",
			PushTitle: "Nueva actividad para {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateTeacherReply: {
			SMS:     "{{.TeacherName}} le ha respondido sobre {{.ChildFirstName}} en Hometime. Abra la aplicación para leerlo.",
			Subject: "Respuesta de {{.TeacherName}} sobre {{.ChildFirstName}}",
			Body: "{{.TeacherName}} le ha respondido sobre {{.ChildFirstName}} en Hometime.\n\n" +
				"Abra la aplicación Hometime para leer la respuesta.",
			PushTitle: "Respuesta de {{.TeacherName}}",
			PushBody:  "Toque para leer la respuesta sobre {{.ChildFirstName}}.",
		},
		TemplateAward: {
			SMS:     "¡Enhorabuena! {{.TeacherName}}, de {{.SchoolName}}, ha dado un premio a {{.ChildFirstName}}. Abra Hometime para verlo.",
			Subject: "¡Un premio para {{.ChildFirstName}}!",
			Body: "¡Buenas noticias! {{.TeacherName}}, de {{.SchoolName}}, ha dado un premio a {{.ChildFirstName}} en Hometime.\n\n" +
				"Abra la aplicación Hometime para verlo y celebrarlo juntos.",
			PushTitle: "¡Un premio para {{.ChildFirstName}}!",
			PushBody:  "{{.TeacherName}} ha dado un premio a {{.ChildFirstName}}. Toque para verlo.",
		},
		TemplateInactivityNotice: {
			SMS:     "Su cuenta de Hometime se cerrará el {{.CloseDate}} porque hace tiempo que no se usa. Para conservarla, inicie sesión: {{.Link}}",
			Subject: "Su cuenta de Hometime se cerrará el {{.CloseDate}}",
			Body: "Hace tiempo que no usa Hometime, así que, para proteger sus datos, cerraremos su cuenta el {{.CloseDate}}.\n\n" +
				"Si quiere conservarla, solo tiene que iniciar sesión antes de esa fecha. Si no, no tiene que hacer nada.",
			Action:    "Iniciar sesión en Hometime",
			PushTitle: "Su cuenta se cerrará pronto",
			PushBody:  "Abra Hometime antes del {{.CloseDate}} para conservar su cuenta.",
		},
		TemplateAccountClosed: {
			SMS:     "Su cuenta de Hometime se ha cerrado y ya no recibirá más mensajes. Sus datos se borrarán dentro de 90 días. Para volver, pida a su colegio una nueva invitación.",
			Subject: "Su cuenta de Hometime se ha cerrado",
			Body: "Su cuenta de Hometime se ha cerrado y ya no recibirá más mensajes nuestros.\n\n" +
				"Sus datos personales se borrarán dentro de 90 días. Si quiere volver a unirse, pida a su colegio una nueva invitación.\n\n" +
				"Gracias por aprender con nosotros.",
			PushTitle: "Su cuenta se ha cerrado",
			PushBody:  "Gracias por usar Hometime.",
		},
		TemplatePasswordReset: {
			SMS:     "Restablezca su contraseña de Hometime aquí: {{.Link}} Si no lo ha pedido usted, ignore este mensaje.",
			Subject: "Restablezca su contraseña de Hometime",
			Body: "Hemos recibido una solicitud para restablecer su contraseña de Hometime. Use el enlace de abajo para elegir una nueva.\n\n" +
				"Si no lo ha pedido usted, puede ignorar este correo; su contraseña no cambiará.",
			Action:    "Restablecer contraseña",
			PushTitle: "Restablecer contraseña",
			PushBody:  "Toque para elegir una nueva contraseña.",
		},
		TemplatePasswordResetCode: {
			SMS:     "Su código para restablecer la contraseña de Hometime es {{.Code}}. Vale 15 minutos. No lo comparta. Si no lo ha pedido usted, ignore este mensaje.",
			Subject: "Su código para restablecer la contraseña de Hometime",
			Body: "Su código para restablecer la contraseña de Hometime es {{.Code}}. Vale durante 15 minutos; no lo comparta con nadie.\n\n" +
				"Si no lo ha pedido usted, puede ignorar este mensaje; su contraseña no cambiará.",
			PushTitle: "Restablecer contraseña",
			PushBody:  "Escriba el código que le enviamos por SMS para elegir una nueva contraseña.",
		},
		TemplateExportReady: {
			SMS:     "La copia de sus datos de Hometime está lista para descargar: {{.Link}}",
			Subject: "Sus datos de Hometime están listos para descargar",
			Body: "La copia de sus datos de Hometime que solicitó ya está lista. Incluye sus datos, comentarios y fotos en un formato legible por máquina.\n\n" +
				"Use el enlace de abajo para descargarla. Por su seguridad, el enlace solo funciona durante poco tiempo.",
			Action:    "Descargar sus datos",
			PushTitle: "Sus datos están listos",
			PushBody:  "Toque para descargar sus datos de Hometime.",
		},
		TemplateDueReminder: {
			SMS:     "Hometime: {{.ActivityTitle}} de {{.ChildFirstName}} ({{.SchoolName}}) vence mañana. Abra la aplicación.",
			Subject: "Vence mañana: {{.ActivityTitle}}",
			Body: "{{.SchoolName}} asignó {{.ActivityTitle}} a {{.ChildFirstName}} y vence mañana.\n\n" +
				"Si ya lo han hecho juntos, abra la aplicación Hometime para contarle al profesor cómo fue.",
			PushTitle: "Vence mañana para {{.ChildFirstName}}",
			PushBody:  "{{.ActivityTitle}}",
		},
		TemplateDigest: {
			SMS:     "Novedades de hoy en Hometime para {{.ChildFirstName}}: {{.ItemCount}}. Abra la aplicación para verlas.",
			Subject: "Novedades de hoy para {{.ChildFirstName}}: {{.ItemCount}}",
			Body: "Novedades de hoy en Hometime para {{.ChildFirstName}}: {{.ItemCount}}.\n\n" +
				"Abra la aplicación Hometime para verlas.",
			PushTitle: "Hoy en Hometime",
			PushBody:  "Novedades para {{.ChildFirstName}}: {{.ItemCount}}. Toque para verlas.",
		},
		TemplateChildLeft: {
			SMS:     "{{.ChildFirstName}} ya no está en {{.SchoolName}}. Sus actividades anteriores seguirán en Hometime 90 días. Puede cerrar su cuenta en Ajustes.",
			Subject: "{{.ChildFirstName}} ya no está en {{.SchoolName}}",
			Body: "{{.SchoolName}} nos ha comunicado que {{.ChildFirstName}} ha dejado el colegio, así que el colegio ya no le pondrá nuevas actividades.\n\n" +
				"Las actividades, fotos, comentarios y premios anteriores de {{.ChildFirstName}} seguirán disponibles para usted en la aplicación Hometime durante 90 días, para que pueda volver a verlos.\n\n" +
				"Si ya no necesita Hometime, puede cerrar su cuenta en cualquier momento: abra la aplicación, vaya a Ajustes y elija Cerrar cuenta.",
			Action:    "Abrir Hometime",
			PushTitle: "{{.ChildFirstName}} ya no está en {{.SchoolName}}",
			PushBody:  "Las actividades anteriores seguirán en la aplicación 90 días. Puede cerrar su cuenta en Ajustes.",
		},
		TemplateConversationMessage: {
			SMS:       "{{.SchoolName}} ({{.ClassName}}): {{.MessageBody}}",
			Subject:   "Nuevo mensaje de la clase {{.ClassName}}",
			Body:      "{{.MessageBody}}\n\n— Clase {{.ClassName}}, {{.SchoolName}}. Responda en la aplicación Hometime.",
			PushTitle: "Nuevo mensaje de la clase {{.ClassName}}",
			PushBody:  "Abra Hometime para leerlo.",
		},
	},
}
