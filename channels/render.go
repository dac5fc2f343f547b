package channels

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rendered is a reply as a channel sends it: the first message, and what is left for the
// citizen to ask for with MAS.
type Rendered struct {
	Text     string   `json:"text"`
	More     []string `json:"more,omitempty"`
	Segments int      `json:"segments,omitempty"`
	Encoding string   `json:"encoding,omitempty"`
}

// Limits of each channel.
const (
	// SMSSegments is how many segments a reply aims for: the essential answer and its link.
	SMSSegments = 2
	// WhatsAppMax is the most characters a WhatsApp message may hold.
	WhatsAppMax = 1600
)

// Continuation prompts, appended when part of a reply waits for MAS.
const (
	moreSMS      = "Responde MAS para seguir."
	moreWhatsApp = "Responda *MAS* para seguir."
)

// Render writes a reply for the channel. SMS: GSM-7 text within SMSSegments segments when it
// can, the link kept in the first message, the rest held for MAS. WhatsApp: the title in
// bold, at most WhatsAppMax characters, the rest held for MAS. Web: as it is.
func Render(channel, text string) Rendered {
	switch channel {
	case "sms":
		first, more := fit(strings.Split(GSMText(text), "\n"), moreSMS, func(s string) bool {
			n, enc := Segments(s)
			return n <= SMSSegments && enc == GSM7
		})
		n, enc := Segments(first)
		return Rendered{Text: first, More: more, Segments: n, Encoding: enc}
	case "whatsapp":
		lines := strings.Split(text, "\n")
		if len(lines) > 1 && strings.HasSuffix(lines[0], ":") && !strings.Contains(lines[0], "*") {
			lines[0] = "*" + strings.TrimSuffix(lines[0], ":") + "*"
		}
		first, more := fit(lines, moreWhatsApp, func(s string) bool { return utf8.RuneCountInString(s) <= WhatsAppMax })
		return Rendered{Text: first, More: more}
	}
	return Rendered{Text: text}
}

// RenderMore writes the next held part of a reply, with the prompt when more remains.
func RenderMore(channel string, more []string) Rendered {
	if len(more) == 0 {
		return Rendered{}
	}
	text := more[0]
	rest := more[1:]
	prompt := moreSMS
	if channel == "whatsapp" {
		prompt = moreWhatsApp
	}
	if len(rest) > 0 {
		text += "\n" + prompt
	}
	r := Rendered{Text: text, More: rest}
	if channel == "sms" {
		r.Segments, r.Encoding = Segments(text)
	}
	return r
}

// fit keeps as many lines as ok allows in the first message, always with the link line
// (the one with "http"), and groups the others into further messages that ok allows too.
// A single line longer than ok allows travels alone: text is never cut. The prompt is added
// only when something is held for it.
func fit(lines []string, prompt string, ok func(string) bool) (string, []string) {
	all := strings.Join(lines, "\n")
	if ok(all) {
		return all, nil
	}
	link := -1
	for i, l := range lines {
		if strings.Contains(l, "http") {
			link = i
		}
	}
	var body []string
	for i, l := range lines {
		if i != link {
			body = append(body, l)
		}
	}
	join := func(head []string) string {
		parts := append([]string{}, head...)
		if link >= 0 {
			parts = append(parts, lines[link])
		}
		return strings.Join(append(parts, prompt), "\n")
	}
	n := 0
	for n < len(body) && ok(join(body[:n+1])) {
		n++
	}
	n = min(max(n, 1), len(body)) // the first line goes even if long; a lone link line may be all
	// A first message that would hold only the reply's title ("Bono de Invierno para
	// pensionados:") tells the citizen nothing: it takes the first sentences of the next line,
	// as many as fit and at least one, and the rest of that line waits for MAS with the others.
	if n == 1 && len(body) > 1 && strings.HasSuffix(body[0], ":") {
		sents := sentences(body[1])
		k := 1
		for k < len(sents) && ok(join([]string{body[0], strings.Join(sents[:k+1], " ")})) {
			k++
		}
		split := []string{body[0], strings.Join(sents[:k], " ")}
		if k < len(sents) {
			split = append(split, strings.Join(sents[k:], " "))
		}
		body = append(split, body[2:]...)
		n = 2
	}
	var more []string
	var cur []string
	for _, l := range body[n:] {
		next := strings.Join(append(append([]string{}, cur...), l, prompt), "\n")
		if len(cur) > 0 && !ok(next) {
			more = append(more, strings.Join(cur, "\n"))
			cur = nil
		}
		cur = append(cur, l)
	}
	if len(cur) > 0 {
		more = append(more, strings.Join(cur, "\n"))
	}
	if len(more) == 0 { // nothing held: no prompt to ask for it
		head := body[:n:n]
		if link >= 0 {
			head = append(head, lines[link])
		}
		return strings.Join(head, "\n"), nil
	}
	return join(body[:n]), more
}

// sentences splits a line after each ".", "?" or "!" that a space and a capital letter (or
// an opening "¿" or "¡") follow; the pieces joined with single spaces give the line back.
func sentences(line string) []string {
	var out []string
	start := 0
	for i := 0; i+2 < len(line); i++ {
		if c := line[i]; (c == '.' || c == '?' || c == '!') && line[i+1] == ' ' {
			next, _ := utf8.DecodeRuneInString(line[i+2:])
			if unicode.IsUpper(next) || next == '¿' || next == '¡' {
				out = append(out, line[start:i+1])
				start = i + 2
			}
		}
	}
	return append(out, line[start:])
}
