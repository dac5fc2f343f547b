package bot

import (
	"regexp"
	"strings"

	"github.com/atiende/atiende/redact"
)

// The patterns below run on normalized text: folded (no case, no accents), words separated
// by single spaces, SMS spellings respelled by the glossary ("kiero" → "quiero").

func re(parts ...string) *regexp.Regexp {
	return regexp.MustCompile(`\b(?:` + strings.Join(parts, "|") + `)\b`)
}

// Emergency kinds, in the order a reply gives their lines.
const (
	EmergencySuicide = "suicide"
	EmergencyWomen   = "violence_women"
	EmergencyFamily  = "violence_family"
	EmergencyDanger  = "danger"
	EmergencyMedical = "medical"
)

var (
	suicideRe = re(
		`(?:me quiero|quiero|me voy a|voy a|pienso|pensando en|ganas de|deseos de|me dan ganas de) (?:morir(?:me)?|matar(?:me)?|suicidar(?:me)?|quitar(?:me)? la vida)`,
		`(?:pensando en|pienso en|ideas|pensamientos|ganas de|intentar|voy a|va a|vamos a|quiero|quiere|me quiero|se quiere) (?:el )?suicid\w*`, `suicidarme`, `suicida`, `suicidas`, `quitarme la vida`, `matarme`, `no quiero (?:seguir )?viv\w*`, `no quiero vivir`, `terminar con todo`, `quiero desaparecer`,
		`nadie me extranaria`, `no aguanto mas`, `no puedo mas con (?:la|mi) vida`, `mejor me muero`, `me quiero ir de este mundo`,
		`no tiene sentido (?:vivir|seguir)`, `acabar con (?:mi vida|todo)`, `hacerme dano`, `hacerme daño`, `me (?:quiero|voy a|estoy) (?:hacer|haciendo) dano`,
		`cortarme`, `tomarme (?:todas )?las pastillas`, `me tome (?:todas )?las pastillas`,
		`no vale la pena vivir`, `mejor (?:estaria|estar) muerto`, `mejor (?:estaria|estar) muerta`,
		`desaparecer para siempre`, `kill myself`, `(?:commit|committing|thinking about|think about|thinking of|considering) suicide`, `suicidal`, `want to die`, `end my life`, `hurt myself`, `self harm`)
	partnerRe = re(`pareja`, `marido`, `esposo`, `pololo`, `conviviente`, `novio`, `mi ex`, `ex pareja`, `expareja`, `husband`, `boyfriend`, `partner`)
	familyRe  = re(`padre`, `madre`, `padrastro`, `madrastra`, `hijo`, `hija`, `hermano`, `hermana`, `tio`, `tia`, `abuelo`, `abuela`, `nieto`, `nieta`, `suegro`, `suegra`, `familia`, `nino`, `nina`, `ninos`, `guagua`, `en la casa`, `en mi casa`)
	violentRe = re(
		`me (?:pega|pegan|pego|golpea|golpean|golpeo|maltrata|maltratan|amenaza|amenazan|amenazo|viola|violo|abusa|abuso|acosa|ahorca|ahorco|empuja|empujo|empujan|tira el pelo|encierra|encerro)`,
		`(?:le|les) (?:pega|pegan|pego|golpea|golpean|maltrata|maltratan)`, `no me deja salir`,
		`(?:tiene|tienen) encerrad[oa]s?`, `no le (?:da|dan) (?:comida|de comer)`, `(?:lo|la|los|las) (?:tiene|tienen) abandonad[oa]s?`, `me quiere matar`, `me va a matar`, `me quieren matar`, `me van a matar`,
		`amenaz\w* (?:con )?matar\w*`, `me violaron`, `violacion`,
		`hits me`, `beats me`, `abuses me`, `threatens to kill`)
	// notBlowRe: "pegar" and "golpear" that are no blow to the person writing: a system that
	// hangs ("se me pega"), an illness caught ("me pegó el covid"), a blow denied ("ya no me
	// pega", "no me pega ni nada"). Taken out of the text before violentRe reads it.
	notBlowRe = re(`se me (?:pega|pego|pegan|pegaron)`, `me (?:pego|pegaron) (?:el|la|un|una) (?:covid|resfrio|gripe|virus|influenza|bicho|peste|piojos|tos)`,
		`(?:ya no|nunca) me (?:pega|pegan|golpea|golpean)`, `no me (?:pega|pegan|golpea|golpean) ni`)
	// controlRe: control by a partner or a relative (work forbidden, the phone watched).
	// Without one named it tells something else: an illness that keeps one from working.
	controlRe = re(`no me deja trabajar`, `me revisa el (?:celular|telefono)`, `me controla`)
	womenRe   = re(`violencia (?:de genero|contra la mujer|contra las mujeres)`, `femicidio`, `me violaron`, `violacion`, `abuso sexual`, `mi amiga`)
	familyVRe = re(`violencia intrafamiliar`, `vif`, `maltrato infantil`, `maltratan a`, `le pegan a`, `les pegan a`, `le pega a`, `les pega a`)
	dangerRe  = re(
		`(?:entrando|entraron|se metio|se metieron|estan entrando) (?:a|en) mi casa`, `me (?:estan|esta) (?:siguiendo|persiguiendo|atacando|asaltando|robando)`,
		`me quieren matar`, `me van a matar`, `me va a matar`, `(?:tiene|tienen) (?:un )?(?:arma|pistola|cuchillo)`,
		`(?:tratando|intentando|quiere|quieren) (?:de )?(?:abrir|entrar|forzar) (?:mi|la) (?:puerta|casa|ventana)`, `forzando (?:la|mi) (?:puerta|chapa|ventana)`, `auxilio`, `socorro`,
		`ayuda urgente`, `me asaltaron`, `en peligro`, `tengo miedo`, `breaking into`, `in danger`, `someone is following me`)
	medicalRe = re(`herido`, `herida`, `sangr\w*`, `no respira`, `infarto`, `desmay\w*`, `inconsciente`, `sobredosis`, `pastillas`, `overdose`)
	// Everyday exaggerations that share words with an emergency.
	notEmergencyRe = re(`me muero de (?:la )?(?:risa|ganas|hambre|sueno|calor|frio|verguenza)`, `me esta matando la cuenta`, `me (?:esta|estan) matando (?:los|las|el|la) (?:precio|cuenta|deuda|gasto)\w*`)
)

// detectEmergency returns the kinds of emergency the text speaks of, most urgent first.
func detectEmergency(t string) []string {
	if notEmergencyRe.MatchString(t) && !suicideRe.MatchString(strings.Replace(t, "me muero de", "", 1)) {
		return nil
	}
	var kinds []string
	if suicideRe.MatchString(t) {
		kinds = append(kinds, EmergencySuicide)
	}
	violent := violentRe.MatchString(notBlowRe.ReplaceAllString(t, " ")) || controlRe.MatchString(t) && (partnerRe.MatchString(t) || familyRe.MatchString(t))
	switch {
	case violent && partnerRe.MatchString(t), womenRe.MatchString(t) && violent:
		kinds = append(kinds, EmergencyWomen)
	case violent && (familyRe.MatchString(t) || familyVRe.MatchString(t)):
		kinds = append(kinds, EmergencyFamily)
	case violent && strings.Contains(t, "violencia"):
		kinds = append(kinds, EmergencyWomen, EmergencyFamily)
	case violent && !dangerRe.MatchString(t):
		kinds = append(kinds, EmergencyFamily)
	}
	if dangerRe.MatchString(t) {
		kinds = append(kinds, EmergencyDanger)
	}
	if len(kinds) > 0 && medicalRe.MatchString(t) {
		kinds = append(kinds, EmergencyMedical)
	}
	return kinds
}

var (
	personRe = re(
		`(?:hablar|conversar|comunicarme|comunicar|contactar|contactarme|atender|atienda|atiende|atenderme|pasar|pasame|paseme|derivar|derivame|derivarme|comuniqueme|comunicame) (?:con )?(?:una |un |alguna |algun )?(?:persona|humano|humana|ejecutiv\w*|operador\w*|agente|funcionari\w*|alguien|asesor\w*|persona real)`,
		`(?:alguna |una )?persona (?:que|q) (?:me )?(?:pueda|puede) (?:atender|ayudar)`, `alguien (?:que|q) (?:me )?(?:pueda|puede) (?:atender|ayudar)`,
		`persona real`, `persona de verdad`, `alguien de verdad`, `alguien real`,
		`atencion (?:humana|personal|personalizada)`, `no quiero (?:hablar con )?(?:un |una )?(?:robot|bot|maquina)`, `no eres (?:una )?persona`,
		`(?:talk|speak|chat) (?:to|with) (?:a |an )?(?:human|person|agent|someone|real person|representative|operator)`,
		`real person`, `live agent`, `human agent`, `customer service`,
		// A call asked for in so many words: the person readings read a conversation's few
		// words too loosely to be trusted there ("me sirve a mi?").
		`(?:me|nos) (?:puede|pueden|podria|podrian) llamar`, `llam(?:en|e)me`, `(?:que|q) me llamen(?: (?:xfa|porfa|por favor|pls|mejor|altiro))?$`,
		`(?:me|nos) llaman (?:xfa|porfa|por favor|pls)`,
		`(?:please|pls|can you|could you|would you|someone) call me`, `call me back`, `give me a call`)
	// personAloneRe: a message that is only the name of a person to talk to, with a few
	// words of asking around it ("un ejecutivo porfa", "quiero un operador"). In a longer
	// message the word is someone the citizen speaks of: "me llamó un ejecutivo de otra AFP",
	// "me demandaron en juicio ejecutivo", "hay cursos de operador de grúa?".
	personAloneRe = regexp.MustCompile(`^(?:(?:quiero|necesito|deme|dame|un|una|con|algun|alguna|por favor|porfavor|porfa|xfa|pls|please|a|an)\s)*` +
		`(?:persona|agente|asesor|asesora|human|agent|representative|ejecutiv[oa]s?|operador(?:a|as|es)?|humano|humana)` +
		`(?:\s(?:por favor|porfavor|porfa|xfa|pls|please|ya|ahora|altiro|real))*$`)
	// lineAskRe: the citizen asks whether there is a line, a number or a chat to talk to
	// someone on: a question about a service ("¿hay algún teléfono donde pueda hablar con
	// alguien a esta hora?", "¿a qué número llamo?"), which a ficha answers, not a request to
	// be handed to one of our agents.
	lineAskRe = re(`(?:hay|existe|tienen|habra) (?:un |una |algun |alguna |otro |otra )?(?:telefono|numero|linea|fono|whatsapp|wsp|chat)`,
		`(?:a|al|en) (?:que|q|cual) (?:numero|telefono|fono|linea)`, `(?:que|q|cual es el) (?:numero|telefono|fono)`,
		`is there (?:a |an |any )?(?:phone|number|line|hotline|helpline|chat)`, `(?:what|which) (?:number|phone|line|hotline)`)
	// personalRe: a case of one's own put to a person to look at. A decision to be reviewed
	// ("¿cómo pido que lo revisen?") or a case whose state is asked ("the status of my case
	// in family court") is a ficha's question.
	personalRe = re(`(?:vea|vean|ver|revise|revisen|revisar|mire|miren|analice|analicen|estudie|estudien) (?:mi|nuestro) (?:caso|situacion|expediente)`, `revisar el caso`, `caso particular`, `caso especial`, `mi situacion particular`,
		`(?:look at|review|check|see|study) (?:my|our) (?:case|situation)`, `my (?:particular|special|own) (?:case|situation)`)
	// ownCaseRe: the citizen speaks of a case of their own. Alone it is no request for a
	// person ("la isapre rechazó mi caso, dónde reclamo?" asks what a ficha says): it hands
	// over only when the catalogue has no sure answer (bot/engine.go).
	ownCaseRe    = re(`mi caso`)
	frustratedRe = re(`no me sirve`, `no sirve (?:de nada|para nada)`, `no me (?:estas|esta) ayudando`, `no me ayuda\w*`, `no entiende\w*`, `no entendiste`, `no me entiende\w*`,
		`inutil`, `pesimo`, `ya te dije`, `ya le dije`, `robot tonto`, `bot tonto`, `que lata`, `useless`, `not helpful`,
		`(?:you|this bot|the bot|this chat) (?:don t|doesn t|do not|does not|can t|cannot) (?:understand|help)`, `(?:you re|you are) not (?:helping|understanding)`)
	optoutRe       = regexp.MustCompile(`^(?:stop|stopall|baja|parar|unsubscribe|cancelar|cancel|end|quit|detener|darme de baja|dar de baja)$`)
	optoutPhraseRe = re(`no me (?:manden|mande|envien|envie|escriban|escriba) mas`, `dejar de recibir`, `no quiero recibir mas`, `no quiero (?:mas|recibir) (?:mensajes|sms|notificaciones)`, `no quiero mas mensajes`, `darme de baja`, `eliminar mi (?:numero|suscripcion)`, `stop sending`, `^(?:please )?stop (?:texting|messaging|writing to|contacting) me`, `^(?:please )?(?:do not|don t|dont) (?:text|message|write to|contact) me`, `cancelar (?:la )?suscripcion`)
	injectionRe    = re(
		`ignor(?:a|e|en|ar|es) (?:tus|todas|todo|cualquier|previous|all|your|las (?:instrucciones|reglas|indicaciones)|lo (?:anterior|que te|q te)|el (?:contexto|sistema|catalogo)|la (?:ficha|informacion))`,
		`olvida\w* (?:tus|las|todas) (?:instrucciones|reglas)`, `instrucciones (?:del sistema|previas|anteriores|iniciales)`, `prompt\w*`,
		`^system`, `system (?:prompt|message|mode|override|instruction\w*|rules?|note|update)`,
		`tu configuracion`, `configuracion (?:interna|del sistema)`, `muestrame tu`, `ahora eres`, `eres ahora`, `a partir de ahora eres`, `^(?:tu )?eres (?:un|una|el|la|mi) \w+ (?:de|del|y|que|q)`,
		`revela\w* (?:tu|tus|el prompt|las instrucciones|la configuracion|el sistema|informacion interna)`,
		`actua como`, `act as`, `pretend (?:you|that you|to be (?:my|the|a|an))`, `fing\w* (?:que |q )?(?:eres|seas|ser (?:un|una|el|la|mi))`,
		`jailbreak`, `dan mode`, `modo (?:desarrollador|developer|dios)`, `developer mode`,
		`roleplay`, `juego de rol`, `ignore (?:all |your |previous |the )`, `disregard (?:all|your|previous|prior|any|the (?:rules|instructions|above))`,
		`your instructions`, `tus instrucciones`, `tus reglas`,
		`habla como`, `responde como`, `como pirata`, `tu personaje`, `hazte pasar`, `haz de cuenta`, `se mi (?:abogado|contador|novio|novia|amigo)`,
		`you are (?:now |an? |my )`, `let s play`, `maintenance mode`, `new instructions`, `hidden rules`, `nuevas instrucciones`, `reglas ocultas`,
		`sin reglas`, `without (?:rules|restrictions)`, `unrestricted`, `api key`, `contrasena del sistema`, `codigo fuente`, `system prompt`)
	// privacyRe: another person's data asked for. The data named in a story is not asked for
	// (askedFor): "el número de otro teléfono", "my neighbor's kids have bruises".
	privacyRe      = re(`datos personales de`, `(?:dame|dime|deme|digame|pasame|muestrame|cual es|sabes|sabe|conseguir|averiguar|averigua|busca|buscar) (?:el |cual es el )?rut de`, `other people s data`)
	privacyAskedRe = askedFor(`(?:rut|datos|direccion|telefono|numero|sueldo|pension|domicilio|cuenta) (?:de|del) (?:mi )?(?:vecin\w*|otra persona|otro|otra|un tercero|mi ex|mi jefe|alguien|esa persona|una persona)`,
		`(?:someone else s|my neighbou?r s) (?:rut|address|phone|number|data|pension|salary|password|email|account)`)
	// greetRe is a message made only of greeting words (greetList) and of the phrases that
	// greet beside them.
	greetRe = regexp.MustCompile(`^(?:(?:` + strings.Join(greetList, "|") + `|que tal|como esta|como estas|ahi|alguien|hay alguien|para|por favor)\s*)+$`)
	// correctionRe is the opening of a message that turns down the ficha just answered and says
	// which one instead ("no perdón, era…", "no, no es eso, …", "perdón, me equivoqué: …"), on
	// normalised text. strongCorrectionRe must find more in it than a "no", which opens many an
	// ordinary message ("no tengo contrato"), or a "perdón" alone, which is as often politeness
	// ("disculpe, ¿ese beneficio es compatible con mi pensión?").
	correctionRe       = regexp.MustCompile(`^(?:(?:no era eso|no es eso|es eso|era eso|eso no|me equivoque de (?:bono|tramite|certificado|beneficio)|me equivoque|me confundi|no|nop|perdon|perdone|disculpe|disculpa|sorry|era|me referia a|me refiero a|quise decir|lo que necesito es|lo q necesito es|lo que quiero es|lo q quiero es|lo que busco es)(?: |$))+`)
	strongCorrectionRe = regexp.MustCompile(`\b(?:me equivoque|me confundi|no era|no es eso|era eso|me referia|me refiero|quise decir|lo q(?:ue)? (?:necesito|quiero|busco) es|no (?:perdon|perdone|disculpa|disculpe|sorry))\b`)
	// thanksRe finds thanks as citizens write them; thanked reads the rest of the message.
	thanksRe = re(`gracias`, `grax`, `grasias`, `gracia`, `grcs`, `thanks`, `thank you`, `thx`, `agradezco`, `agradecid[oa]`, `se agradece`)
	// stillAsksRe: words that make a message of thanks also a request ("gracias, pero…",
	// "gracias, otra consulta", "thanks, I also need…").
	stillAsksRe = re(`pero`, `quiero`, `quisiera`, `queria`, `kiero`, `keria`, `necesito`, `nesesito`, `necesitaba`, `ayud\w*`, `consult\w*`, `pregunt\w*`,
		`otra cosa`, `tambien`, `ademas`, `tb`, `but`, `also`, `need`, `want`, `another`, `question`)
	goodbyeRe = regexp.MustCompile(`^(?:(?:gracias|muchas|mil|muy|amable|chao|chau|chaito|chaolin|adios|nos vemos|hasta luego|hasta pronto|bye|goodbye|thanks|thank you|thank|you|ok|oka|okey|okay|listo|vale|perfecto|genial|buenisimo|bakan|eso era|eso es todo|nada mas|era eso|seria todo|buena|bueno|super|entendido|ya|si|de nada|que este bien|saludos|bendiciones|igualmente|todo|era todo|eso)\s*)+$`)
)

// officeRe: the citizen asks where to be served in person.
var officeRe = re(`oficina\w*`, `sucursal\w*`, `atencion presencial`, `presencial\w*`,
	`donde (?:atienden|queda|quedan|hay)`, `mas cerca\w*`, `cercan\w*`, `office\w*`, `nearest`, `branch\w*`)

// officeNameRe names the institutions whose offices the catalogue lists. A name is a request
// for an office only in a few words ("chileatiende temuco") or beside a word that asks where
// (officeWhereRe): "recibe una pensión chica del IPS" in a story from Chillán asks for a bono.
var (
	officeNameRe  = re(`chileatiende`, `chile atiende`, `ips`)
	officeWhereRe = re(`donde`, `direccion`, `ubicad\w*`, `queda\w*`, `horario\w*`, `a que hora`, `where`, `address`)
)

// requestsPerson reports whether the normalised text asks to be handed to a person, in so many
// words (personRe) and not as a question whether there is a line to call (lineAskRe), or as
// the whole message (personAloneRe).
func requestsPerson(norm string) bool {
	return personRe.MatchString(norm) && !lineAskRe.MatchString(norm) || personAloneRe.MatchString(norm)
}

// asksOffice reports whether the normalised text asks where to be served in person.
func asksOffice(norm string) bool {
	return officeRe.MatchString(norm) ||
		officeNameRe.MatchString(norm) && (officeWhereRe.MatchString(norm) || len(strings.Fields(norm)) <= 4)
}

// Aspect cues: phrases that say which part of a ficha is asked. Checked in this order.
var aspectCues = []struct {
	aspect string
	re     *regexp.Regexp
}{
	{"fechas", re(`cuanto (?:tiempo |se )?(?:demora|tarda)\w*`, `cuantos (?:dias|meses|semanas)`, `cuanto (?:tiempo )?dura\w*`, `por cuanto tiempo`,
		`cuanto tiempo`, `how long`, `(?:which|what) (?:months?|days?|dates?)`)},
	// "como se cobra" asks how to collect a payment, not what it costs.
	{"como", re(`(?:como|donde) (?:lo |la |los |las |se |me |le |puedo |podria )?cobr\w*`)},
	{"costo", re(`cuanto (?:cuesta|vale|sale|cobran|hay que pagar|se paga)`, `cuesta\w*`, `costo\w*`, `cobran`, `cobra`, `precio`, `arancel`, `valor del (?:tramite|certificado|documento|pasaporte|carnet)`, `el valor`, `que valor`, `es gratis`, `gratis`, `gratuito`, `hay que pagar`, `tiene (?:algun )?costo`, `how much does it cost`, `cost`, `costs`, `fee`, `fees`, `price`, `free`)},
	{"monto", re(`cuanto (?:es|son|pagan|paga|dan|da|recibo|recibe|me toca|le toca|corresponde|me corresponde|seria|sera|plata|dinero)`, `de cuanto`, `cuanto`, `monto\w*`, `cuanta plata`, `cuanto dinero`, `how much`, `amount`)},
	{"documentos", re(`documento\w*`, `papeles`, `que (?:tengo que |debo |hay que |necesito )?llevar`, `que llevo`, `documents`, `papers`, `paperwork`)},
	{"fechas", re(`hasta cuando`, `desde cuando`, `fecha\w*`, `plazo\w*`, `cuando (?:pagan|paga|se paga|sale|salen|abre|cierra|vence|empieza|termina|comienza)`, `deadline`)},
	{"requisitos", re(`requisito\w*`, `quien(?:es)? (?:lo |la |los |las |le )?(?:puede|pueden|recibe|reciben|tiene derecho|cobra|pide|pueden pedir)`,
		`que (?:necesito|se necesita|se requiere|requiero|piden|me piden|hay que tener|tengo que tener|tengo que cumplir)`, `me queda`, `le queda`,
		`(?:me|le|nos) (?:tiene|tienen) que dar`, `(?:esta|estan) obligad\w*`, `es obligatori\w*`, `can i (?:get|apply|receive)`, `am i entitled`, `puedo (?:postular|pedir|recibir|optar|acceder|cobrar|solicitar|dar|tener|jubilar|pensionarme|nacionalizarme|casarme|votar|trabajar)`, `me corresponde`, `le corresponde`, `si (?:puedo|puede|pueden|podemos|califico|califica)`, `(?:me|le|nos|les) sirve`, `sirve igual`,
		`(?:do|does) (?:i|she|he|we|they) (?:need|have) to`, `tengo derecho`, `tiene derecho`, `cumplo`, `condiciones`, `para quien(?:es)?`, `a quien(?:es)?`, `me toca`, `le toca`, `califico`, `who can`, `who (?:gets|receives|is (?:it )?for|qualifies)`, `eligible`, `eligibility`, `requirements`, `qualify`)},
	{"fechas", re(`cuando`, `fecha\w*`, `plazo\w*`, `hasta cuando`, `desde cuando`, `que dia`, `calendario`, `vence\w*`, `when`, `deadline`, `dates`, `date`)},
	{"como", re(`como (?:lo |la |los |las |se |me |le )?(?:pido|pide|solicito|solicita|saco|saca|obtengo|obtiene|postulo|postula|tramito|tramita|hago|hace|cobro|cobra|renuevo|renueva|hacer|sacar|pedir|postular|obtener|cobrar|solicitar|renovar|reclamar|reclamo|inscribo|inscribir|consigo|conseguir|recupero|recuperar|cambio|cambiar|activo|activar|actualizo|actualizar)`, `donde`, `como`, `postular`, `postulo`, `solicitar`, `tramitar`, `sacar`, `que hay que hacer`, `que (?:tengo|debo) (?:que )?hacer`, `cobrar\w*`, `pongo`, `meto`, `por internet`, `en linea`, `online`, `how do i`, `how to`, `how can i`, `where`, `apply`)},
	{"como", re(`(?:tenemos|tiene|tienen|debemos|debe) (?:que )?hacer`,
		`(?:quiero|kiero|quisiera|necesito|nesesito) (?:sacar|obtener|pedir|tramitar|renovar|cambiar|cambiarme|inscribir|inscribirme)`)},
	{"general", re(`que es`, `que son`, `en que consiste`, `de que se trata`, `what is`, `what are`)},
}

// cueWordsRe removes, before retrieval, the words that only say which aspect is asked.
var cueWordsRe = re(`requisitos?`, `documentos?`, `papeles`, `costos?`, `cuesta`, `cuestan`, `precio`, `monto`, `montos`, `fechas?`, `plazos?`,
	`gratis`, `gratuito`, `valor`, `cuando`, `donde`, `como`, `pido`, `pedir`, `solicito`, `solicitar`, `saco`, `sacar`, `obtengo`, `obtener`,
	`tramito`, `tramitar`, `hago`, `hacer`, `postul\w*`, `llevar`, `llevo`, `necesito`, `sale`, `vale`, `pagan`, `paga`, `dan`, `da`, `recibo`, `toca`, `corresponde`,
	`consiste`, `trata`, `cobrar`, `cobro`, `cobra`, `demora\w*`, `tarda\w*`, `cost`, `costs`, `fee`, `price`, `free`, `requirements`, `documents`, `apply`, `get`, `eligible`)

// anotherRe finds a citizen asking, after an answer, for other things of a kind ("hay otros
// beneficios?", "otro bono", "que mas subsidios hay"): not the thing just answered. "Otro" alone
// may still be about it ("y si tengo otro trabajo?"), so the kind must be named.
var anotherRe = re(`(?:otr[oa]s?|algun otr[oa]|mas|demas) (?:bono|beneficio|subsidio|certificado|pension|tramite|ayuda|apoyo|programa|aporte)s?`)

// askRe finds the words of a request: what makes a message that tells of an emergency also
// a question a ficha may answer.
var askRe = re(`que hago`, `q hago`, `donde`, `saber`, `puedo`, `podria`, `existe`, `hay algun\w*`,
	`numero`, `telefono`, `fono`, `denunci\w*`, `requisitos?`, `postul\w*`, `pedir`, `solicit\w*`,
	`cuando`, `cuanto\w*`, `cual\w*`,
	// "como lo saco", "cómo la renuevo": the verb of a procedure, a pronoun before it or not.
	`como (?:lo |la |los |las |le |les |me )?(?:hago|hacemos|se|pido|saco|sacamos|postulo|denuncio|puedo|tramito|obtengo|consigo|cobro|renuevo|pago|inscribo|reclamo|averiguo|veo|reviso|cambio|activo|recupero|bloqueo|descargo|ingreso|presento|retiro)`,
	`(?:que|q) (?:tengo|tenemos|hay) (?:que|q)`, `(?:que|q) (?:necesito|piden|me piden|se necesita|documentos|papeles)`, `tengo derecho`, `me corresponde`,
	`how`, `where`, `what`, `when`, `can i`, `do i`, `should i`, `is there`, `are there`, `number`, `report`)

// asks reports whether a message asks something, rather than only telling what happens.
func asks(text, norm string) bool {
	return strings.ContainsRune(text, '?') || askRe.MatchString(norm)
}

// squeeze folds a run of three or more of the same letter into one ("holaaa", "graciaaas"):
// how citizens stretch a greeting or thanks.
func squeeze(norm string) string {
	stretched := false
	for i := 2; i < len(norm); i++ {
		if norm[i] == norm[i-1] && norm[i] == norm[i-2] {
			stretched = true
			break
		}
	}
	if !stretched {
		return norm
	}
	rs := []rune(norm)
	var b strings.Builder
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		if j-i >= 3 {
			b.WriteRune(rs[i])
		} else {
			b.WriteString(string(rs[i:j]))
		}
		i = j
	}
	return b.String()
}

// helpOnly reports whether the normalised text only asks for help, naming nothing it wants
// help with ("me puede ayudar?", "buenas tardes, necesito ayuda con un trámite", "una
// consulta porfa"): every word a greeting, a courtesy or a request for help, and one of them
// help, a question or a doubt. Such an opener is asked what it is about. Read as words it
// matched the fichas whose titles hold "ayuda" or "apoyo" ("hola me puede ayudar" got the
// Ayudas técnicas), or the models' reading of a request for a person, though nobody was asked
// for (personRe keeps that: "una persona que me ayude").
func helpOnly(norm string) bool {
	asked := false
	for _, w := range strings.Fields(norm) {
		switch {
		case helpWords[w]:
			asked = true
		case !helpFiller[w] && !greetWords[w]:
			return false
		}
	}
	return asked
}

var (
	// helpWords ask for help, or say a question is coming.
	helpWords = setOf("ayuda", "ayudar", "ayude", "ayuden", "ayudeme", "ayudenme", "ayudame", "ayudarme", "ayudita",
		"consulta", "consultas", "pregunta", "preguntas", "duda", "dudas", "help", "question")
	// helpFiller are the words around such a request: who is asked, courtesy, "con un trámite".
	helpFiller = setOf("me", "nos", "puede", "pueden", "podria", "podrian", "podra", "puedes", "usted", "ustedes",
		"necesito", "quiero", "quisiera", "tengo", "una", "un", "con", "tramite", "q", "que", "le", "lo", "mi", "a",
		"por", "favor", "porfa", "porfavor", "xfa", "plis", "pls", "please", "i", "can", "you", "could", "need", "some", "have")
	// greetList are the words that greet or name the assistant by themselves: greetRe's, and
	// those a request for help may open with (greetWords).
	greetList = []string{"hola", "ola", "holi", "alo", "wena", "wenas", "buenas", "buenos", "buen", "dias", "dia", "tardes",
		"noches", "hello", "hi", "hey", "good", "morning", "afternoon", "evening", "saludos", "estimado", "estimada",
		"senor", "senora", "senorita", "bot", "robot", "asistente", "atiende", "chileatiende"}
	greetWords = setOf(greetList...)
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// detectAspect returns the aspect the text asks about, or "" when it names none.
func detectAspect(t string) string {
	for _, c := range aspectCues {
		if c.re.MatchString(t) {
			return c.aspect
		}
	}
	return ""
}

// The words below belong to one language only: "me" and "no", written in both, count for
// neither ("my husband hits me" is English).
var (
	englishWords = map[string]bool{"the": true, "how": true, "what": true, "where": true, "when": true, "is": true, "are": true, "do": true, "does": true,
		"i": true, "my": true, "can": true, "get": true, "to": true, "of": true, "for": true, "much": true, "need": true, "want": true, "who": true,
		"hello": true, "hi": true, "please": true, "thanks": true, "you": true, "with": true, "and": true, "it": true, "an": true, "apply": true, "which": true,
		"he": true, "she": true, "his": true, "her": true, "him": true, "we": true, "they": true, "our": true, "their": true, "your": true, "this": true,
		"that": true, "there": true, "have": true, "has": true, "had": true, "was": true, "were": true, "will": true, "would": true, "should": true,
		"could": true, "not": true, "dont": true, "im": true, "am": true, "be": true, "been": true, "if": true, "in": true, "on": true, "at": true,
		"from": true, "about": true, "someone": true, "myself": true, "help": true}
	spanishWords = map[string]bool{"el": true, "la": true, "los": true, "las": true, "de": true, "que": true, "como": true, "es": true, "para": true, "por": true,
		"un": true, "una": true, "mi": true, "cuanto": true, "donde": true, "cuando": true, "quiero": true, "necesito": true, "hola": true, "y": true,
		"del": true, "se": true, "lo": true, "con": true, "gracias": true, "puedo": true, "tengo": true, "bono": true,
		"en": true, "al": true, "su": true, "sus": true, "le": true, "les": true, "nos": true, "pero": true, "si": true, "ya": true, "esta": true,
		"estoy": true, "tiene": true, "hay": true, "pa": true, "q": true, "porque": true, "cual": true, "quien": true, "usted": true, "ayuda": true,
		"muy": true, "mas": true, "sin": true, "te": true, "ni": true, "ser": true, "soy": true}
)

// detectEnglish reports whether the text reads as English rather than Spanish.
func detectEnglish(t string) bool {
	en, es := 0, 0
	for _, w := range strings.Fields(t) {
		if englishWords[w] {
			en++
		}
		if spanishWords[w] {
			es++
		}
	}
	return en > es && en > 0
}

// withoutPersonalData is the text with what identifies a person (RUTs, phone numbers, e-mail
// addresses) blanked: never read as words of a question.
func withoutPersonalData(text string) string {
	return redact.Replace(text, func(redact.Kind, string) string { return " " })
}

// thanksEmoji reports whether a message without words holds an emoji that thanks or agrees
// (a thumbs-up, joined hands, a heart, a smile, an OK hand, a check mark).
func thanksEmoji(text string) bool {
	return strings.ContainsFunc(text, func(r rune) bool {
		switch {
		case r == '👍' || r == '🙏' || r == '👌' || r == '👏' || r == '🙌' || r == '✅' || r == '✔' || r == '☺' || r == '♥' || r == '❤':
			return true
		case r >= '😀' && r <= '😍', r >= '💕' && r <= '💞', r >= '💗' && r <= '💝', r == '🥰', r == '🤗':
			return true
		}
		return false
	})
}
