package bot

import (
	"regexp"
	"strings"

	"github.com/atiende/atiende/redact"
)

// Questions about another person's data ("dime cuánto recibe mi vecino, su rut es …", "which
// users asked about the bono today?"). The assistant sees no one's data, but answering the
// benefit's general page to such a question reads as if it had looked, and invites the next
// try: it says plainly that it gives no one's data. A citizen asking on behalf of a relative
// ("¿cuánto le pagan de PGU a mi mamá?") is still answered: only a request to disclose what
// belongs to a named or identified person, or to other users, is refused.

var (
	// othersRe: other users of the service, or its records, asked for as such.
	othersRe = re(`otros usuarios`, `otras personas que (?:escribieron|preguntaron|postularon|cobraron)`, `other users`, `other people s (?:data|conversations|chats)`,
		`(?:tu|vuestra) base de datos`, `busca\w* en (?:tu|su|la) base de datos`, `your database`, `historial de (?:chat|conversacion\w*|mensajes) (?:del|de la|de) (?:numero|persona|usuario|senora|senor)`,
		`chat history (?:of|for)`, `el ultimo (?:que|q) (?:escribio|hablo|pregunto)`, `the last person who`, `quien mas (?:pregunto|escribio|postulo|cobro)`,
		`(?:que|which|what) (?:usuarios|personas|users|people) (?:preguntaron|escribieron|asked|wrote|applied|received)`,
		`(?:lista|list|nombres|names|correos|emails|telefonos|phone numbers|ruts?) (?:de )?(?:las personas|los|everyone|all the people|todos los|de todos) (?:que|who|quienes) (?:postularon|cobraron|recibieron|preguntaron|escribieron|usaron|asked|wrote|applied|received|used)`,
		`list everyone`, `de los que (?:postularon|cobraron|recibieron|preguntaron)`)
	// thirdRe: a person other than the one writing, not a close relative asked for.
	thirdRe = re(`mi (?:vecin[oa]|ex|ex pareja|ex esposa|ex esposo|exmarido|jefe|jefa|pololo|polola)`,
		`my (?:neighbou?r|ex|ex wife|ex husband|boss|ex girlfriend|ex boyfriend)`,
		`(?:don|dona|la senora|el senor|la sra|el sr|sra|sr) [a-z]+ [a-z]+`, `se llama`, `(?:her|his|their) name is`, `named [a-z]+`,
		`busca\w* (?:a|en)`, `search (?:for|your)`)
	// kinRe: a close relative: questions for them are usually on their behalf.
	kinRe = re(`mi (?:hij[oa]|mama|papa|madre|padre|abuel[oa]|herman[oa]|espos[oa]|marido|pareja|tio|tia|prim[oa]|suegr[oa]|cunad[oa]|yerno|nuera)`,
		`my (?:son|daughter|mother|mom|father|dad|grandmother|grandfather|brother|sister|wife|husband|mother in law|father in law)`)
	// discloseRe: asks for what belongs to the person: what they get, whom they married, what
	// they are to be handed.
	discloseRe = re(`cuanto (?:le|les) (?:pagan|paga|deposita\w*|dan|da|llega)`, `cuanto (?:recibe|gana|cobra|tiene)`,
		`(?:que|cual|cuales) (?:pension|beneficios?|bonos?|subsidios?) (?:recibe|tiene|cobra)`, `where (?:does|do) .+ live`,
		`con quien esta casad[oa]`, `en que tramo esta`, `what pension does`, `how much does .+ get`, `which benefits (?:he|she|they) (?:gets?|receives?)`,
		`(?:tell|give|show) me (?:the )?(?:rut|address|phone|number|names?)`, `dame (?:el|la|los|las|sus) (?:rut|direccion|telefono|celular|numero|nombres|correos|datos)`,
		// Their documents, handed over: "dame su certificado de nacimiento".
		`(?:dame|pasame|muestrame|mandame|enviame|entregame) (?:el |la |los |las |su |sus )?(?:certificado\w*|documento\w*|cartola\w*|liquidacion\w*)`,
		`(?:give|send|show) me (?:his|her|their) (?:certificate\w*|documents?|records?)`)
	// dataRe: the person's data named (where they live, their numbers and keys), asked for
	// (askedFor): "dame el rut de…", "quiero saber dónde vive…", "¿dónde vive mi ex?".
	dataRe = askedFor(`donde vive`, `(?:rut|direccion|domicilio|telefono|celular|numero|correo\w*|email|clave\w*|datos|sueldo|cotizaciones) (?:de|del|d)`,
		`(?:su|sus) (?:rut|direccion|domicilio|telefono|celular|numero|correo\w*|clave\w*|datos|nombres?|sueldo|cotizaciones)`,
		`(?:their|his|her) (?:rut|address|phone|number|email|password|data|names?)`, `si es casad[oa]`, `esta casad[oa]`)
	// kinDiscloseRe: what even a relative's question does not get.
	kinDiscloseRe = re(`where (?:does|do) .+ live`,
		`(?:cual es|dame|dime|pasame|muestrame|what is|give me|tell me|show me) (?:el |la |su |sus |the |his |her )?(?:rut|clave\w*|direccion|domicilio|telefono|celular|correo|password|address|phone)`)
	kinDataRe = askedFor(`donde vive`)
)

// askedFor matches data named where it is asked for: at the start of the message, or just
// after words that ask for it ("dame", "cuál es", "quiero saber", "tell me"), an article or a
// possessive between them. Named in a story it is not asked for: "no tengo el rut de mi ex",
// "la casa donde vive mi hermano", "el ex sabe dónde vive", "hay un número de la policía?"
// are questions of the citizen's own, and the catalogue answers them.
func askedFor(parts ...string) *regexp.Regexp {
	const asks = `dame|dime|digame|deme|pasame|muestrame|mandame|enviame|entregame|consigueme|consigue|averigua\w*|busca\w*|` +
		`cual es|cuales son|sabes|sabe usted|saber|necesito|quiero|me (?:puede|podria|puedes|podrias) (?:decir|dar|pasar|conseguir)|` +
		`tell me|give me|show me|send me|what is|what s|do you know|look up`
	return regexp.MustCompile(`(?:^|\b(?:` + asks + `) (?:(?:el|la|los|las|su|sus|the|his|her|their) )?)(?:` + strings.Join(parts, "|") + `)\b`)
}

// asksOthers reports whether the message asks for another person's data, by any of the rules
// (privacyRe, privacyAskedRe, asksOthersData); norm is text normalized.
func asksOthers(text, norm string) bool {
	return privacyRe.MatchString(norm) || privacyAskedRe.MatchString(norm) || asksOthersData(norm, redact.Contains(text))
}

// asksOthersData reports whether the normalized text asks for another person's data; hadID:
// the raw text carried a RUT, a phone number or an email.
func asksOthersData(norm string, hadID bool) bool {
	if othersRe.MatchString(norm) {
		return true
	}
	kinAsks := kinDiscloseRe.MatchString(norm) || kinDataRe.MatchString(norm)
	if !kinAsks && !discloseRe.MatchString(norm) && !dataRe.MatchString(norm) {
		return false
	}
	if thirdRe.MatchString(norm) {
		return true
	}
	return kinRe.MatchString(norm) && (hadID || kinAsks)
}
