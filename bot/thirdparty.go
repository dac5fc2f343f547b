package bot

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
		`(?:lista|list|nombres|names|correos|emails|telefonos|phone numbers|ruts?) (?:de )?(?:las personas|los|everyone|all the people|todos los|de todos) (?:que|who|quienes)`,
		`list everyone`, `de los que (?:postularon|cobraron|recibieron|preguntaron)`)
	// thirdRe: a person other than the one writing, not a close relative asked for.
	thirdRe = re(`mi (?:vecin[oa]|ex|ex pareja|ex esposa|ex esposo|exmarido|jefe|jefa|pololo|polola)`,
		`my (?:neighbou?r|ex|ex wife|ex husband|boss|ex girlfriend|ex boyfriend)`,
		`(?:don|dona|la senora|el senor|la sra|el sr|sra|sr) [a-z]+ [a-z]+`, `se llama`, `(?:her|his|their) name is`, `named [a-z]+`,
		`busca\w* (?:a|en)`, `search (?:for|your)`)
	// kinRe: a close relative: questions for them are usually on their behalf.
	kinRe = re(`mi (?:hij[oa]|mama|papa|madre|padre|abuel[oa]|herman[oa]|espos[oa]|marido|pareja|tio|tia|prim[oa]|suegr[oa]|cunad[oa]|yerno|nuera)`,
		`my (?:son|daughter|mother|mom|father|dad|grandmother|grandfather|brother|sister|wife|husband|mother in law|father in law)`)
	// discloseRe: asks for what belongs to the person: what they get, where they live, their
	// numbers and keys.
	discloseRe = re(`cuanto (?:le|les) (?:pagan|paga|deposita\w*|dan|da|llega)`, `cuanto (?:recibe|gana|cobra|tiene)`,
		`(?:que|cual|cuales) (?:pension|beneficios?|bonos?|subsidios?) (?:recibe|tiene|cobra)`, `donde vive`, `where (?:does|do) .+ live`,
		`(?:rut|direccion|domicilio|telefono|celular|numero|correo\w*|email|clave\w*|datos|sueldo|cotizaciones) (?:de|del|d)`,
		`(?:su|sus) (?:rut|direccion|domicilio|telefono|celular|numero|correo\w*|clave\w*|datos|nombres?|sueldo|cotizaciones)`,
		`(?:their|his|her) (?:rut|address|phone|number|email|password|data|names?)`, `con quien esta casad[oa]`, `si es casad[oa]`, `esta casad[oa]`,
		`en que tramo esta`, `what pension does`, `how much does .+ get`, `which benefits (?:he|she|they) (?:gets?|receives?)`,
		`(?:tell|give|show) me (?:the )?(?:rut|address|phone|number|names?)`, `dame (?:el|la|los|las|sus) (?:rut|direccion|telefono|celular|numero|nombres|correos|datos)`,
		// Their documents, handed over: "dame su certificado de nacimiento".
		`(?:dame|pasame|muestrame|mandame|enviame|entregame) (?:el |la |los |las |su |sus )?(?:certificado\w*|documento\w*|cartola\w*|liquidacion\w*)`,
		`(?:give|send|show) me (?:his|her|their) (?:certificate\w*|documents?|records?)`)
	// kinDiscloseRe: what even a relative's question does not get.
	kinDiscloseRe = re(`donde vive`, `where (?:does|do) .+ live`,
		`(?:cual es|dame|dime|pasame|muestrame|what is|give me|tell me|show me) (?:el |la |su |sus |the |his |her )?(?:rut|clave\w*|direccion|domicilio|telefono|celular|correo|password|address|phone)`)
)

// asksOthersData reports whether the normalized text asks for another person's data; hadID:
// the raw text carried a RUT, a phone number or an email.
func asksOthersData(norm string, hadID bool) bool {
	if othersRe.MatchString(norm) {
		return true
	}
	if !discloseRe.MatchString(norm) && !kinDiscloseRe.MatchString(norm) {
		return false
	}
	if thirdRe.MatchString(norm) {
		return true
	}
	return kinRe.MatchString(norm) && (hadID || kinDiscloseRe.MatchString(norm))
}
