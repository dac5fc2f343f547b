package channels

import (
	"fmt"
	"strings"
	"testing"
)

func TestGSMText(t *testing.T) {
	for in, want := range map[string]string{
		"Pensión Garantizada":            "Pension Garantizada",
		"¿Qué día? ¡Sí! Ñuñoa, pingüino": "¿Qué dia? ¡Si! Ñuñoa, pingüino",
		"Más información 👍 aquí":         "Mas informacion aqui",
		"“comillas” – guion…":            "\"comillas\" - guion...",
		"línea 1\nlínea 2":               "linea 1\nlinea 2",
	} {
		if got := GSMText(in); got != want {
			t.Errorf("GSMText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSegments(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
		enc  string
	}{
		{"", 1, GSM7},
		{strings.Repeat("a", 160), 1, GSM7},
		{strings.Repeat("a", 161), 2, GSM7},
		{strings.Repeat("a", 306), 2, GSM7},
		{strings.Repeat("a", 307), 3, GSM7},
		{strings.Repeat("€", 80), 1, GSM7}, // extension characters take two septets
		{strings.Repeat("€", 81), 2, GSM7},
		{strings.Repeat("á", 70), 1, UCS2},
		{strings.Repeat("á", 71), 2, UCS2},
		{"hola 😀", 1, UCS2},
	} {
		n, enc := Segments(c.text)
		if n != c.n || enc != c.enc {
			t.Errorf("Segments(%d×%q…) = %d %s, want %d %s", len([]rune(c.text)), []rune(c.text)[:min(1, len(c.text))], n, enc, c.n, c.enc)
		}
	}
}

func TestRenderSMSIsGSM7(t *testing.T) {
	r := Render("sms", "Pensión Garantizada Universal: ¿cuánto? Más información: https://x.cl 🎉")
	if r.Encoding != GSM7 || r.Segments != 1 || strings.ContainsRune(r.Text, 'ó') {
		t.Errorf("Render = %+v", r)
	}
	if w := Render("whatsapp", "Pensión 🎉"); w.Text != "Pensión 🎉" || w.Segments != 0 {
		t.Errorf("whatsapp render changed the text: %+v", w)
	}
}

func TestRenderSMSFitsTwoSegmentsAndHoldsTheRest(t *testing.T) {
	lines := []string{"Título de la ficha:"}
	for i := range 8 {
		lines = append(lines, fmt.Sprintf("Requisito número %d: una oración de unos setenta caracteres para llenar.", i+1))
	}
	lines = append(lines, "Más información: https://www.chileatiende.gob.cl/fichas/123-ejemplo")
	r := Render("sms", strings.Join(lines, "\n"))
	if r.Segments > 2 || r.Encoding != GSM7 {
		t.Errorf("first message: %d segments %s", r.Segments, r.Encoding)
	}
	if !strings.Contains(r.Text, "https://") || !strings.HasSuffix(r.Text, "Responde MAS para seguir.") || len(r.More) == 0 {
		t.Errorf("first message lacks the link or the prompt:\n%s\nmore %q", r.Text, r.More)
	}
	// Nothing is lost: every requisito is in the first message or a later one.
	all := r.Text + strings.Join(r.More, "\n")
	for i := range 8 {
		if !strings.Contains(all, fmt.Sprintf("numero %d", i+1)) {
			t.Errorf("requisito %d lost", i+1)
		}
	}
	for i, part := range r.More {
		next := RenderMore("sms", r.More[i:])
		if n, _ := Segments(next.Text); n > 2 || !strings.HasPrefix(next.Text, part) {
			t.Errorf("part %d: %d segments", i, n)
		}
	}
	short := Render("sms", "Hola:\nuna línea\nMás información: https://x.cl")
	if len(short.More) != 0 || strings.Contains(short.Text, "MAS") {
		t.Errorf("a short reply was split: %+v", short)
	}
}

// TestRenderSMSTitleTakesItsFirstSentence: a title is never sent alone. The first message
// carries the first sentences of the line after it, as many as fit in two segments, and at
// least one even when that takes a third; the rest of the line waits for MAS.
func TestRenderSMSTitleTakesItsFirstSentence(t *testing.T) {
	link := "Más información: https://www.chileatiende.gob.cl/fichas/39484-bono-invierno"
	summary := "Pago único que se entrega en mayo a personas pensionadas de 65 años o más con pensiones bajas. " +
		"No es lo mismo que los aguinaldos de septiembre y diciembre, y no aumenta por cargas familiares. ¿Quién lo paga? El IPS."
	r := Render("sms", "Bono de Invierno para pensionados:\n"+summary+"\n"+link)
	first := "Bono de Invierno para pensionados:\nPago unico que se entrega en mayo a personas pensionadas de 65 años o mas con pensiones bajas.\n"
	if !strings.HasPrefix(r.Text, first) || !strings.HasSuffix(r.Text, "Responde MAS para seguir.") || r.Segments > 2 {
		t.Errorf("first message (%d segments):\n%s", r.Segments, r.Text)
	}
	if len(r.More) != 1 || !strings.HasPrefix(r.More[0], "No es lo mismo") || !strings.HasSuffix(r.More[0], "El IPS.") {
		t.Errorf("held: %q", r.More)
	}
	long := "Una sola oración larga" + strings.Repeat(", que sigue con una cláusula más", 12) + "."
	r = Render("sms", "Título de la ficha:\n"+long+"\nOtra línea.\n"+link)
	if !strings.Contains(r.Text, GSMText(long)) || r.Segments <= 2 || len(r.More) != 1 || r.More[0] != "Otra linea." {
		t.Errorf("a first sentence longer than two segments is sent whole, over them: %d segments\n%s\nheld %q", r.Segments, r.Text, r.More)
	}
}

func TestRenderWhatsApp(t *testing.T) {
	r := Render("whatsapp", "Bono de Invierno para pensionados:\nUn pago en mayo.\nMás información: https://x.cl")
	if !strings.HasPrefix(r.Text, "*Bono de Invierno para pensionados*\n") || len(r.More) != 0 {
		t.Errorf("%+v", r)
	}
	long := "Título:\n" + strings.Repeat("Una línea larga de contenido que ocupa espacio en el mensaje.\n", 40) + "Más información: https://x.cl"
	r = Render("whatsapp", long)
	if n := len([]rune(r.Text)); n > WhatsAppMax || len(r.More) == 0 || !strings.Contains(r.Text, "https://x.cl") {
		t.Errorf("long whatsapp: %d characters, %d held", n, len(r.More))
	}
}
