package bot

import "strings"

// The engine's own words. Every fact in them (the public emergency lines, the 101) is
// public and fixed; everything about a benefit comes from its ficha.

type phrase struct{ es, en string }

func (p phrase) in(english bool) string {
	if english {
		return p.en
	}
	return p.es
}

var (
	msgGreet = phrase{
		"Hola, soy Atiende, el asistente de ChileAtiende. Le oriento sobre beneficios y trámites del Estado. Por ejemplo: «cuánto es la PGU» o «cómo saco el certificado de nacimiento». Si prefiere hablar con una persona, escriba «persona».",
		"Hello, I am Atiende, ChileAtiende's assistant. I can guide you on State benefits and procedures, for example «how much is the PGU» or «how do I get a birth certificate». To talk to a person, write «person».",
	}
	msgGoodbye = phrase{
		"Gracias por escribirnos. Si necesita algo más, aquí estamos.",
		"Thank you for writing to us. If you need anything else, we are here.",
	}
	msgOptout = phrase{
		"Listo, no le enviaremos más mensajes. Si nos escribe de nuevo, le volveremos a responder.",
		"Done, we will not send you more messages. If you write to us again, we will answer.",
	}
	msgOutOfScope = phrase{
		"No tengo información sobre eso. Puedo orientarle sobre beneficios y trámites del Estado, como pensiones, bonos, certificados o subsidios. ¿Sobre cuál quiere saber?",
		"I have no information about that. I can guide you on State benefits and procedures, such as pensions, bonuses, certificates or subsidies. Which one would you like to know about?",
	}
	msgNotThat = phrase{
		"Disculpe. ¿Me lo puede contar con otras palabras? Por ejemplo, qué trámite quiere hacer o qué le pasó.",
		"Sorry. Could you tell me in other words? For example, which procedure you need or what happened.",
	}
	msgNoChoice = phrase{
		"No tengo opciones abiertas para elegir. Cuénteme en pocas palabras qué trámite o beneficio busca, por ejemplo: \"cuánto es la PGU\".",
		"I have no open options to choose from. Tell me in a few words which procedure or benefit you need, for example: \"how much is the PGU\".",
	}
	msgRefuse = phrase{
		"Solo puedo orientarle sobre beneficios y trámites del Estado. ¿En qué trámite le ayudo?",
		"I can only guide you on State benefits and procedures. Which procedure can I help you with?",
	}
	msgPrivacy = phrase{
		"No puedo entregar datos de otras personas. Puedo orientarle sobre beneficios y trámites del Estado.",
		"I cannot give out other people's data. I can guide you on State benefits and procedures.",
	}
	msgWhich = phrase{
		"¿Sobre qué beneficio o trámite quiere saber? Por ejemplo: «requisitos de la PGU».",
		"Which benefit or procedure would you like to know about? For example: «PGU requirements».",
	}
	msgHelp = phrase{
		"Con gusto. ¿Sobre qué beneficio o trámite necesita ayuda? Cuénteme en pocas palabras, por ejemplo: «requisitos de la PGU». Si prefiere hablar con una persona, escriba «persona».",
		"Of course. Which benefit or procedure do you need help with? Tell me in a few words, for example «PGU requirements». To talk to a person, write «person».",
	}
	msgEmpty = phrase{
		"No recibí texto. ¿En qué le puedo ayudar?",
		"I received no text. How can I help you?",
	}
)

// Handoff replies say what happens next.
var msgHandoff = map[string]phrase{
	ReasonRequest: {
		"Le comunico con una persona del equipo de atención. Le responderá por este mismo medio y verá lo que ya conversamos, así que no necesita repetirlo. Si prefiere, también puede llamar al 101.",
		"I am passing you to a person on our team. They will answer you here and will see what we have talked about, so you do not need to repeat it. You can also call 101.",
	},
	ReasonFailure: {
		"No logré encontrar la respuesta. Le comunico con una persona del equipo de atención, que le responderá por este mismo medio y verá lo que ya conversamos. También puede llamar al 101.",
		"I could not find the answer. I am passing you to a person on our team, who will answer you here and will see what we have talked about. You can also call 101.",
	},
	ReasonPersonal: {
		"Su caso necesita que una persona lo revise. Le comunico con el equipo de atención: le responderán por este mismo medio y verán lo que ya conversamos. También puede llamar al 101.",
		"Your case needs a person to review it. I am passing you to our team: they will answer you here and will see what we have talked about. You can also call 101.",
	},
	ReasonFrustration: {
		"Disculpe que no haya podido ayudarle. Le comunico con una persona del equipo de atención, que le responderá por este mismo medio y verá lo que ya conversamos. También puede llamar al 101.",
		"I am sorry I could not help. I am passing you to a person on our team, who will answer you here and will see what we have talked about. You can also call 101.",
	},
}

// Emergency lines, in the order detectEmergency ranks the kinds.
var msgEmergency = map[string]phrase{
	EmergencySuicide: {
		"Lo que siente importa y no tiene que pasarlo solo. Llame ahora a la línea de prevención del suicidio *4141 (gratis desde celulares, todos los días, a toda hora). Si su vida corre peligro ahora, llame al SAMU 131.",
		"What you feel matters and you do not have to go through it alone. Call the suicide prevention line *4141 now (free from mobile phones, every day, at any hour). If your life is in danger now, call SAMU 131.",
	},
	EmergencyWomen: {
		"Si hay peligro ahora, llame al 133 de Carabineros, a cualquier hora. Si usted o alguien que conoce vive violencia, llame al 1455 (orientación en violencia contra la mujer, gratis, de lunes a viernes de 8:00 a 24:00) o escriba por WhatsApp al +56 9 9700 7000.",
		"If there is danger now, call Carabineros at 133, at any hour. If you or someone you know is suffering violence, call 1455 (guidance on violence against women, free, Monday to Friday 8:00 to 24:00) or write on WhatsApp to +56 9 9700 7000.",
	},
	EmergencyFamily: {
		"Si alguien está en peligro ahora, llame al 133 de Carabineros. Si hay violencia en la familia, llame al 149 (Fono Familia de Carabineros, gratis). Si la víctima es un niño, niña o adolescente, también puede llamar al 147 (Fono Niños, las 24 horas).",
		"If someone is in danger now, call Carabineros at 133. If there is violence in the family, call 149 (Carabineros' Family Line, free). If the victim is a child, you can also call 147 (Children's Line, 24 hours).",
	},
	// 132 is the fire brigades' (Bomberos) emergency line: fires, smoke, accidents (notices of
	// Chilean fire brigades read 2026-12-07: Bomberos de Mariquina on sanjosefm.cl, the
	// Araucanía's commanders on araucanianoticias.cl, 2023). The bank's danger kind holds
	// fires as well as weapons and threats.
	EmergencyDanger: {
		"Si está en peligro ahora, llame de inmediato al 133 (Carabineros). Si hay fuego o un incendio, llame al 132 (Bomberos).",
		"If you are in danger now, call 133 (Carabineros) right away. If there is a fire, call 132 (Bomberos, the fire brigade).",
	},
	EmergencyMedical: {
		"Si hay personas heridas o una urgencia médica, llame al 131 (SAMU).",
		"If someone is hurt or there is a medical emergency, call 131 (SAMU).",
	},
}

// lineFicha is the ficha of the bundled catalogue each kind's lines come from; a kind without
// one (danger, medical: 133 and 131 alone) has none. A catalogue without the slug leaves the
// emergency reply without a ficha.
var lineFicha = map[string]string{
	EmergencySuicide: "prevencion-suicidio",
	EmergencyWomen:   "violencia-contra-la-mujer",
	EmergencyFamily:  "fono-familia-149",
}

// isLineFicha reports whether the slug is the ficha of a kind's lines (lineFicha).
func isLineFicha(slug string) bool {
	for _, s := range lineFicha {
		if s == slug {
			return true
		}
	}
	return false
}

// The lists of fichas to choose from: after a question the engine could not settle, and after
// a tentative answer.
var (
	msgChoose    = phrase{"¿Sobre cuál de estos quiere saber?", "Which of these do you mean?"}
	msgChooseHow = phrase{"Responda con el número o el nombre.", "Reply with the number or the name."}
	msgOthers    = phrase{"Si no era eso, quizás busca:", "If that is not it, you may mean:"}
	msgOthersHow = phrase{"Responda con el número.", "Reply with the number."}
	// msgBesides leads the options offered after "otros bonos" or "hay otros beneficios?":
	// %s is the title of the ficha just answered.
	msgBesides = phrase{"Además de «%s», puede consultar sobre:", "Besides «%s», you can ask about:"}
)

// with fills the phrase's %s with s, in both languages.
func (p phrase) with(s string) phrase {
	return phrase{strings.Replace(p.es, "%s", s, 1), strings.Replace(p.en, "%s", s, 1)}
}

var msgEmergencyAfter = phrase{
	"Una persona de nuestro equipo también verá su mensaje. Puede seguir escribiendo aquí.",
	"A person on our team will also see your message. You can keep writing here.",
}

func emergencyText(kinds []string, english bool) string {
	var parts []string
	for _, k := range kinds {
		parts = append(parts, msgEmergency[k].in(english))
	}
	parts = append(parts, msgEmergencyAfter.in(english))
	return strings.Join(parts, "\n")
}
