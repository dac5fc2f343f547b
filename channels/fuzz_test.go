package channels

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// replySeeds are replies as the engine writes them: a title, lines, a link, accents, emoji,
// lines longer than a segment.
var replySeeds = []string{
	"",
	"Pensión Garantizada Universal (PGU):\nEs un beneficio del Estado.\nMás información: https://www.chileatiende.gob.cl/fichas/9",
	"“Bono” – 👍 {x} [y] ~ € ^ | \\",
	strings.Repeat("Requisitos: tener 65 años o más. ", 20) + "https://x.cl",
	strings.Repeat("a", 400) + " https://example.cl/a",
	"línea\r\n\tcon\u00a0espacios  raros\n\n\nfin",
	strings.Repeat("línea corta\n", 40),
	"Bono de Invierno para pensionados:\n" + strings.Repeat("Pago único que se entrega en mayo a personas pensionadas con pensiones bajas. ", 4) + "¿Quién lo recibe? Las personas de 65 años o más.\nMás información: https://www.chileatiende.gob.cl/fichas/39484-bono-invierno",
	"Título:\n" + strings.Repeat("Una sola oración muy larga que no termina nunca y sigue y sigue ", 6) + "fin.\nhttps://x.cl",
	"€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€",
}

func inGSM(s string) bool {
	for _, r := range s {
		if _, ok := gsmSet[r]; !ok {
			return false
		}
	}
	return true
}

// FuzzGSMText: the SMS text is GSM-7 only, single spaced, stable when rewritten, and its
// segment count is within the bounds of its length.
func FuzzGSMText(f *testing.F) {
	for _, s := range replySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := GSMText(s)
		if !inGSM(g) {
			t.Fatalf("GSMText(%q) = %q: not GSM-7", s, g)
		}
		if again := GSMText(g); again != g {
			t.Fatalf("GSMText not idempotent: %q → %q", g, again)
		}
		for _, l := range strings.Split(g, "\n") {
			if l != strings.Join(strings.Fields(l), " ") {
				t.Fatalf("GSMText(%q): line %q is not single spaced", s, l)
			}
		}
		for _, text := range []string{g, s} {
			n, enc := Segments(text)
			runes := utf8.RuneCountInString(text)
			if enc != GSM7 && enc != UCS2 || (enc == GSM7) != inGSM(text) {
				t.Fatalf("Segments(%q) encoding %s", text, enc)
			}
			single, multi := 160, 153
			if enc == UCS2 {
				single, multi = 70, 67
			}
			lo := (runes + single - 1) / single
			hi := max(1, (2*runes+multi-1)/multi) // extension characters and surrogates count twice
			if n < 1 || n < lo || n > hi {
				t.Fatalf("Segments(%q) = %d %s for %d characters, want %d..%d", text, n, enc, runes, lo, hi)
			}
		}
	})
}

// FuzzRenderSMS: a rendered SMS reply is GSM-7, counts its own segments, keeps the link in
// the first message, loses and invents no word (a line may be split between sentences, no
// other way), asks for MAS exactly when more is held, never sends a title alone when a line
// follows it, and exceeds SMSSegments only when a single line, or a title and the first
// sentence of the line after it (with the link and the prompt), does.
func FuzzRenderSMS(f *testing.F) {
	for _, s := range replySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Render("sms", s)
		if n, enc := Segments(r.Text); n != r.Segments || enc != r.Encoding || enc != GSM7 {
			t.Fatalf("Render(%q): %d %s, text counts %d %s", s, r.Segments, r.Encoding, n, enc)
		}
		lines := strings.Split(GSMText(s), "\n")
		first := strings.Split(r.Text, "\n")
		if len(r.More) > 0 {
			if first[len(first)-1] != moreSMS {
				t.Fatalf("Render(%q): more held but no prompt: %q", s, r.Text)
			}
			first = first[:len(first)-1]
		} else if strings.HasSuffix(r.Text, moreSMS) && !strings.HasSuffix(GSMText(s), moreSMS) {
			t.Fatalf("Render(%q): prompt with nothing held: %q", s, r.Text)
		}
		got := slices.Clone(first)
		for _, m := range r.More {
			if !inGSM(m) {
				t.Fatalf("Render(%q): held part %q not GSM-7", s, m)
			}
			got = append(got, strings.Split(m, "\n")...)
		}
		words := func(ls []string) []string {
			w := strings.Fields(strings.Join(ls, " "))
			slices.Sort(w)
			return w
		}
		if !slices.Equal(words(lines), words(got)) {
			t.Fatalf("Render(%q): lines %q, sent %q", s, lines, got)
		}
		// Each line sent is a line of the reply or a run of its sentences.
		for _, l := range got {
			if !slices.Contains(lines, l) && !slices.ContainsFunc(lines, func(o string) bool {
				return strings.HasPrefix(o, l+" ") || strings.HasSuffix(o, " "+l)
			}) {
				t.Fatalf("Render(%q): sent line %q is no line of the reply, nor its start or end", s, l)
			}
		}
		link := ""
		for _, l := range strings.Split(GSMText(s), "\n") {
			if strings.Contains(l, "http") {
				link = l
			}
		}
		if link != "" && !slices.Contains(first, link) {
			t.Fatalf("Render(%q): link %q not in the first message %q", s, link, r.Text)
		}
		body := 0
		for _, l := range first {
			if l != link {
				body++
			}
		}
		titled := len(first) > 0 && strings.HasSuffix(first[0], ":") && first[0] != link
		if r.Segments > SMSSegments && body > 1 && !(body == 2 && titled) {
			t.Fatalf("Render(%q): %d segments with %d lines besides the link", s, r.Segments, body)
		}
		if titled && body == 1 && len(r.More) > 0 {
			t.Fatalf("Render(%q): the title alone, the rest held: %q", s, r.Text)
		}
		// Each held part, sent on MAS, also fits unless it is a single line.
		for i := range r.More {
			m := RenderMore("sms", r.More[i:])
			if m.Segments > SMSSegments && !strings.Contains(r.More[i], "\n") {
				continue
			}
			if m.Segments > SMSSegments || m.Encoding != GSM7 || (len(m.More) > 0) != strings.HasSuffix(m.Text, moreSMS) {
				t.Fatalf("RenderMore(%q) = %+v", r.More[i:], m)
			}
		}
	})
}

// FuzzRenderWhatsApp: a WhatsApp reply keeps every line, asks for MAS exactly when more is
// held, and exceeds WhatsAppMax only with a single line besides the link.
func FuzzRenderWhatsApp(f *testing.F) {
	for _, s := range replySeeds {
		f.Add(s)
	}
	f.Add(strings.Repeat("Una línea de la ficha que se repite.\n", 80))
	f.Fuzz(func(t *testing.T, s string) {
		r := Render("whatsapp", s)
		first := strings.Split(r.Text, "\n")
		if len(r.More) > 0 {
			if first[len(first)-1] != moreWhatsApp {
				t.Fatalf("Render(%q): more held but no prompt: %q", s, r.Text)
			}
			first = first[:len(first)-1]
		}
		n := len(first)
		for _, m := range r.More {
			n += len(strings.Split(m, "\n"))
		}
		if want := len(strings.Split(s, "\n")); n != want {
			t.Fatalf("Render(%q): %d lines sent of %d", s, n, want)
		}
		if utf8.RuneCountInString(r.Text) > WhatsAppMax && len(first) > 2 {
			t.Fatalf("Render(%q): %d characters in %d lines", s, utf8.RuneCountInString(r.Text), len(first))
		}
	})
}
