package channels

import (
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
