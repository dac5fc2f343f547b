package retrieval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/html"
)

// ImportNote is what the ChileAtiende importer says of one record: the ficha it made and
// what it could not map, or why the record was skipped.
type ImportNote struct {
	Record  int    // position in the file, from 1
	ID      string // the record's id or codigo
	Slug    string // the slug given, when imported
	Notes   []string
	Skipped string // why the record was not imported; empty when it was
}

// caRecord is a ficha of ChileAtiende's public API, v1 (2017) or v2 (2018); text fields hold
// HTML. Every field is optional here: the importer reports what is missing.
type caRecord struct {
	ID             flexString `json:"id"`
	Codigo         flexString `json:"codigo"`
	Servicio       caServicio `json:"servicio"`
	Fecha          flexString `json:"fecha"`
	Titulo         flexString `json:"titulo"`
	Objetivo       flexString `json:"objetivo"`
	Beneficiarios  flexString `json:"beneficiarios"`
	Costo          flexString `json:"costo"`
	MarcoLegal     flexString `json:"marco_legal"`
	GuiaOnline     flexString `json:"guia_online"`
	GuiaOnlineURL  flexString `json:"guia_online_url"`
	GuiaOficina    flexString `json:"guia_oficina"`
	GuiaCorreo     flexString `json:"guia_correo"`
	GuiaTelefonico flexString `json:"guia_telefonico"`
	GuiaConsulado  flexString `json:"guia_consulado"`
	Vigencia       flexString `json:"vigencia"`
	Plazo          flexString `json:"plazo"`
	DocRequeridos  flexString `json:"doc_requeridos"`
	UpdatedDataAt  flexString `json:"updated_data_at"`
	Observaciones  flexString `json:"observaciones"`
	Temas          flexList   `json:"temas"`
	Tags           flexList   `json:"tags"`
	ChileclicID    flexString `json:"chileclic_id"`
	Permalink      flexString `json:"permalink"`
}

// flexString accepts a JSON string, number, boolean or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("want text, got %s", map[byte]string{'{': "an object", '[': "a list"}[b[0]])
	default:
		*f = flexString(b)
	}
	return nil
}

// flexList accepts {"tema": ["a", "b"]}, {"tema": "a"}, ["a", "b"] or "a".
type flexList []string

func (f *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) || len(b) == 0 {
		*f = nil
		return nil
	}
	switch b[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		var out flexList
		for _, v := range m {
			var inner flexList
			if err := inner.UnmarshalJSON(v); err != nil {
				return err
			}
			out = append(out, inner...)
		}
		*f = out
	case '[':
		var items []flexString
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		*f = nil
		for _, it := range items {
			*f = append(*f, string(it))
		}
	default:
		var s flexString
		if err := s.UnmarshalJSON(b); err != nil {
			return err
		}
		*f = flexList{string(s)}
	}
	return nil
}

// caServicio is the institution: a name, or an object with nombre and sigla.
type caServicio struct{ Nombre, Sigla string }

func (s *caServicio) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Nombre flexString `json:"nombre"`
			Sigla  flexString `json:"sigla"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		s.Nombre, s.Sigla = string(o.Nombre), string(o.Sigla)
		return nil
	}
	var f flexString
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	s.Nombre = string(f)
	return nil
}

// ImportChileAtiende reads a file in the shape of ChileAtiende's API — the list envelope
// {"fichas": {"items": {"ficha": [...]}}}, one {"ficha": {...}}, or a plain list of fichas —
// and turns each record into a ficha of our format. A record that cannot make a valid ficha
// is skipped and reported; the others are kept. today dates the fichas that carry no date.
func ImportChileAtiende(data []byte, today time.Time) ([]*Ficha, []ImportNote, error) {
	raws, err := caRecords(data)
	if err != nil {
		return nil, nil, err
	}
	var fichas []*Ficha
	var notes []ImportNote
	slugs := map[string]bool{}
	for i, raw := range raws {
		note := ImportNote{Record: i + 1}
		var rec caRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			note.ID, note.Skipped = badRecord(raw, err)
			notes = append(notes, note)
			continue
		}
		note.ID = string(rec.ID)
		if note.ID == "" {
			note.ID = string(rec.Codigo)
		}
		f, msgs, skip := convert(rec, today)
		note.Notes = msgs
		if skip == "" {
			for _, p := range Validate(f) {
				skip = p.Field + ": " + p.Msg
				break
			}
		}
		if skip != "" {
			note.Skipped = skip
			notes = append(notes, note)
			continue
		}
		base := f.Slug
		for n := 2; slugs[f.Slug]; n++ {
			f.Slug = fmt.Sprintf("%s-%d", base, n)
		}
		slugs[f.Slug] = true
		note.Slug = f.Slug
		fichas = append(fichas, f)
		notes = append(notes, note)
	}
	return fichas, notes, nil
}

// badRecord names the id and the field of a record that does not decode.
func badRecord(raw json.RawMessage, err error) (string, string) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return "", "not a ficha object: " + jsonMsg(err)
	}
	var id flexString
	_ = json.Unmarshal(fields["id"], &id)
	for name, v := range fields {
		one, _ := json.Marshal(map[string]json.RawMessage{name: v})
		var probe caRecord
		if ferr := json.Unmarshal(one, &probe); ferr != nil {
			return string(id), name + ": " + jsonMsg(ferr)
		}
	}
	return string(id), jsonMsg(err)
}

// caRecords finds the records in any of the API's envelopes.
func caRecords(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("import: empty file")
	}
	if data[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("import: not JSON: %s", jsonMsg(err))
		}
		return list, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("import: not JSON: %s", jsonMsg(err))
	}
	if one, ok := top["ficha"]; ok {
		return []json.RawMessage{one}, nil
	}
	feed, ok := top["fichas"]
	if !ok {
		if _, ok := top["titulo"]; ok {
			return []json.RawMessage{data}, nil
		}
		return nil, fmt.Errorf(`import: no "fichas" list nor "ficha" in the file`)
	}
	var env struct {
		Items json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(feed, &env); err != nil {
		return nil, fmt.Errorf("import: fichas: %s", jsonMsg(err))
	}
	var items struct {
		Ficha json.RawMessage `json:"ficha"`
	}
	if err := json.Unmarshal(env.Items, &items); err != nil || len(items.Ficha) == 0 {
		return nil, fmt.Errorf(`import: fichas.items.ficha: missing`)
	}
	if bytes.TrimSpace(items.Ficha)[0] == '{' {
		return []json.RawMessage{items.Ficha}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(items.Ficha, &list); err != nil {
		return nil, fmt.Errorf("import: fichas.items.ficha: %s", jsonMsg(err))
	}
	return list, nil
}

// convert maps one record; it returns the ficha, notes on what it did or could not map, and
// a reason when the record cannot be imported at all.
func convert(rec caRecord, today time.Time) (*Ficha, []string, string) {
	var notes []string
	title := strings.Join(htmlLines(string(rec.Titulo)), " ")
	if title == "" {
		return nil, nil, "titulo: missing"
	}
	f := &Ficha{Title: title, Slug: slugify(title, 60)}
	f.Institution = strings.TrimSpace(html.UnescapeString(rec.Servicio.Nombre))
	if f.Institution == "" {
		f.Institution = strings.TrimSpace(html.UnescapeString(rec.Servicio.Sigla))
	}
	if f.Institution == "" {
		return nil, nil, "servicio: missing"
	}
	date, ok := caDate(string(rec.UpdatedDataAt))
	if !ok {
		date, ok = caDate(string(rec.Fecha))
	}
	if !ok {
		date = today
		notes = append(notes, "no updated_data_at nor fecha: dated "+today.Format(time.DateOnly))
	}
	f.ValidFrom, f.Reviewed = Date{Time: date}, Date{Time: date}
	item := func(s string) Item {
		it := Item{Text: s}
		if amountRe.MatchString(s) {
			it.ValidFrom = f.ValidFrom
		}
		return it
	}
	items := func(htmlText string, prefix string) []Item {
		var out []Item
		for _, l := range htmlLines(htmlText) {
			for _, piece := range splitItem(l) {
				out = append(out, item(prefix+piece))
			}
		}
		return out
	}
	// The summary is the objective without amounts: those go to the monto section, dated.
	var summary []string
	for _, l := range htmlLines(string(rec.Objetivo)) {
		for _, s := range sentences(l) {
			if amountRe.MatchString(s) {
				f.Sections.Monto = append(f.Sections.Monto, item(s))
			} else if len(summary) < 2 {
				summary = append(summary, s)
			} else {
				f.Sections.Requisitos = append(f.Sections.Requisitos, item(s))
			}
		}
	}
	if len(f.Sections.Monto) > 0 {
		notes = append(notes, fmt.Sprintf("objetivo: %d sentence(s) with amounts moved to monto, dated %s", len(f.Sections.Monto), date.Format(time.DateOnly)))
	}
	f.Summary = strings.Join(summary, " ")
	if f.Summary == "" {
		f.Summary = title
		notes = append(notes, "objetivo: missing; the title stands as summary")
	}
	f.Sections.Requisitos = append(items(string(rec.Beneficiarios), ""), f.Sections.Requisitos...)
	f.Sections.Costo = items(string(rec.Costo), "")
	f.Sections.Documentos = items(string(rec.DocRequeridos), "")
	f.Sections.Fechas = append(items(string(rec.Plazo), "Plazo: "), items(string(rec.Vigencia), "Vigencia: ")...)
	como := &Como{
		Online: items(string(rec.GuiaOnline), ""),
		Office: append(items(string(rec.GuiaOficina), ""), append(items(string(rec.GuiaCorreo), "Por correo: "), items(string(rec.GuiaConsulado), "En consulados: ")...)...),
		Phone:  items(string(rec.GuiaTelefonico), ""),
	}
	if u := strings.TrimSpace(string(rec.GuiaOnlineURL)); u != "" {
		como.Online = append(como.Online, Item{Text: "Sitio del trámite: " + u})
	}
	if len(como.Online)+len(como.Office)+len(como.Phone) > 0 {
		f.Sections.Como = como
	}
	for _, t := range rec.Temas {
		if s := slugify(t, 40); s != "" {
			f.Topics = append(f.Topics, s)
		}
	}
	if len(f.Topics) == 0 {
		f.Topics = []string{"general"}
		notes = append(notes, `temas: missing; topic "general"`)
	}
	for _, t := range rec.Tags {
		if t = strings.ToLower(strings.TrimSpace(html.UnescapeString(t))); t != "" {
			f.Keywords = append(f.Keywords, t)
		}
	}
	f.URL = strings.TrimSpace(string(rec.Permalink))
	switch {
	case strings.HasPrefix(f.URL, "http://"):
		f.URL = "https://" + strings.TrimPrefix(f.URL, "http://")
	case f.URL == "" && rec.ID != "":
		f.URL = "https://www.chileatiende.gob.cl/fichas/" + string(rec.ID)
		notes = append(notes, "permalink: missing; url built from the id")
	}
	for name, v := range map[string]flexString{"marco_legal": rec.MarcoLegal, "observaciones": rec.Observaciones} {
		if t := strings.Join(htmlLines(string(v)), " "); t != "" {
			notes = append(notes, fmt.Sprintf("%s: not mapped (%d characters)", name, len([]rune(t))))
		}
	}
	if f.Sections.Items(AspectComo) == nil && len(f.Sections.Requisitos)+len(f.Sections.Monto)+len(f.Sections.Documentos)+len(f.Sections.Fechas)+len(f.Sections.Costo) == 0 {
		return nil, notes, "no section: the record has none of beneficiarios, costo, guia_*, plazo, vigencia, doc_requeridos"
	}
	return f, notes, ""
}

var caDateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

func caDate(s string) (time.Time, bool) {
	m := caDateRe.FindString(strings.TrimSpace(s))
	if m == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, m)
	return t, err == nil
}

// htmlLines turns an HTML fragment into plain lines: block elements and <br> end a line,
// entities are decoded, white space is folded, empty lines dropped.
func htmlLines(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var lines []string
	var cur strings.Builder
	flush := func() {
		if l := strings.Join(strings.Fields(cur.String()), " "); l != "" {
			lines = append(lines, l)
		}
		cur.Reset()
	}
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			flush()
			return lines
		case html.TextToken:
			if skip == 0 {
				cur.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				if t := z.Token(); t.Type == html.StartTagToken {
					skip++
				} else if t.Type == html.EndTagToken && skip > 0 {
					skip--
				}
			case "p", "li", "br", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote":
				flush()
			case "td", "th":
				cur.WriteByte(' ')
			}
		}
	}
}

var sentenceEnd = regexp.MustCompile(`([.!?])\s+(\p{Lu}|¿|¡|\d)`)

// sentences splits a line into sentences.
func sentences(l string) []string {
	marked := sentenceEnd.ReplaceAllString(l, "$1\x00$2")
	var out []string
	for _, s := range strings.Split(marked, "\x00") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitItem cuts a line longer than an item may be into sentences, and a sentence still too
// long at word boundaries, so that no text is lost.
func splitItem(l string) []string {
	if len([]rune(l)) <= MaxItemLen {
		return []string{l}
	}
	var out []string
	for _, s := range sentences(l) {
		for len([]rune(s)) > MaxItemLen {
			r := []rune(s)
			cut := MaxItemLen - 1
			for cut > MaxItemLen/2 && !unicode.IsSpace(r[cut]) {
				cut--
			}
			out = append(out, strings.TrimSpace(string(r[:cut]))+"…")
			s = "…" + strings.TrimSpace(string(r[cut:]))
		}
		out = append(out, s)
	}
	return out
}

// slugify makes a slug of at most max bytes, cut at a hyphen.
func slugify(s string, max int) string {
	words := Words(html.UnescapeString(s))
	slug := strings.Join(words, "-")
	for len(slug) > max {
		i := strings.LastIndexByte(slug[:max], '-')
		if i <= 0 {
			slug = slug[:max]
			break
		}
		slug = slug[:i]
	}
	return strings.Trim(slug, "-")
}
