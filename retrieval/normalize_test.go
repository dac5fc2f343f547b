package retrieval

import (
	"slices"
	"strings"
	"testing"

	"github.com/atiende/atiende/catalogue"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Pensión Garantizada": "pension garantizada",
		"ÑUÑOA":               "nunoa",
		"¿Cuánto es?":         "¿cuanto es?",
		"Güiña":               "guina",
		"plain":               "plain",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFoldTableAgrees: the table's fold is the transform's, rune by rune, in texts that mix
// them with ASCII, combining marks and emoji, and on every text of the bundled catalogue.
func TestFoldTableAgrees(t *testing.T) {
	var texts []string
	for r := rune(0x80); r < 0x400; r++ {
		texts = append(texts, string(r), "a"+string(r)+"b", string(r)+"\u0301", "n"+string(r)+"\u0303x", string(r)+" 🙂")
	}
	texts = append(texts, "pensio\u0301n", "Ñuñoa ÇA Ærø ß", "\xff\xfeinválido", "¿Cuánto? ¡Ya!")
	fichas, _, err := bundledFichas(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fichas {
		texts = append(append(texts, f.Title, f.Summary), f.Questions...)
	}
	for _, s := range texts {
		if got, want := Fold(s), foldSlow(strings.ToLower(s)); got != want {
			t.Errorf("Fold(%q) = %q, the transform gives %q", s, got, want)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("¿Cuánto es la PGU? xfa!! 2026, año")
	want := []string{"cuanto", "es", "la", "pgu", "xfa", "2026", "ano"}
	if !slices.Equal(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
}

// TestKeyMeetsMisspellings: the index key makes the usual mistakes of citizens meet the
// right word, and keeps different words apart.
func TestKeyMeetsMisspellings(t *testing.T) {
	same := [][2]string{
		{"pencion", "pension"}, {"garantisada", "garantizada"}, {"sertificado", "certificado"},
		{"nasimiento", "nacimiento"}, {"vono", "bono"}, {"cedula", "sedula"}, {"asignasion", "asignacion"},
		{"invierno", "imbierno"}, {"certificados", "certificado"}, {"pensiones", "pension"}, {"llave", "yave"},
		{"quiero", "kiero"}, {"hijos", "ijos"}, {"electroniko", "electronico"}, {"klinika", "clinica"}, {"kilo", "quilo"},
	}
	for _, p := range same {
		if a, b := Key(p[0]), Key(p[1]); a != b {
			t.Errorf("Key(%q) = %q, Key(%q) = %q; want equal", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{{"bono", "bota"}, {"matrimonio", "nacimiento"}, {"2025", "2026"}}
	for _, p := range differ {
		if a, b := Key(p[0]), Key(p[1]); a == b {
			t.Errorf("Key(%q) = Key(%q) = %q; want different", p[0], p[1], a)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		max  int
		want int
	}{
		{"pension", "pension", 2, 0}, {"pension", "pensoin", 2, 1}, {"cedula", "cedla", 1, 1},
		{"abc", "xyz", 1, 2}, {"kitten", "sitting", 3, 3}, {"", "ab", 2, 2},
	} {
		if got := editDistance(c.a, c.b, c.max); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.max, got, c.want)
		}
	}
}
