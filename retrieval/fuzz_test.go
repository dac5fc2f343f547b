package retrieval_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atiende/atiende/retrieval"
)

// textSeeds are what citizens write: accents or none, SMS shorthand, emoji, other scripts,
// digits, RUTs and links.
var textSeeds = []string{
	"", " ", "Pensión Garantizada Universal", "kiero saber dl bono invierno xfa", "ÑUÑOA", "hijos y ijos",
	"q documentos piden pa la clave unica", "¿Cuánto es la PGU?", "11.111.111-1", "https://www.chileatiende.gob.cl/fichas/123",
	"bono 😀 invierno", "İstanbul ǅ ß ﬁ", "llamar al 600 360 7777", "Ⅻⅻ ½ ²", "ababa\u0301\u0301", "\xff\xfe bono",
}

// FuzzFold: folding is idempotent, leaves no combining mark, and keeps text valid UTF-8;
// Words gives folded runs of letters and digits only, and reading its own output gives it
// back.
func FuzzFold(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		folded := retrieval.Fold(s)
		if utf8.ValidString(s) {
			if !utf8.ValidString(folded) {
				t.Fatalf("Fold(%q) = %q: not UTF-8", s, folded)
			}
			if again := retrieval.Fold(folded); again != folded {
				t.Fatalf("Fold not idempotent: %q → %q → %q", s, folded, again)
			}
			for _, r := range folded {
				if unicode.Is(unicode.Mn, r) {
					t.Fatalf("Fold(%q) = %q keeps the mark %U", s, folded, r)
				}
			}
		}
		words := retrieval.Words(s)
		for _, w := range words {
			if w == "" {
				t.Fatalf("Words(%q) has an empty word", s)
			}
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("Words(%q): %q holds %U", s, w, r)
				}
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		for _, w := range words {
			if retrieval.Fold(w) != w {
				t.Fatalf("Words(%q): %q is not folded", s, w)
			}
		}
		if again := retrieval.Words(strings.Join(words, " ")); !slices.Equal(again, words) {
			t.Fatalf("Words(%q) = %q, but Words of it joined = %q", s, words, again)
		}
	})
}

// FuzzKey: a word's index key is deterministic, valid UTF-8, spelled by sound (no h, q, v,
// w or z left), never longer than the word, and a number is its own key.
func FuzzKey(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Add("chachachá")
	f.Add("llyy")
	f.Add("ぁ \u1041") // a letter and a digit whose UTF-8 has a doubled byte
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // Words' input in the product is a citizen's text, valid UTF-8 (channels check)
		}
		for _, w := range retrieval.Words(s) {
			k := retrieval.Key(w)
			if k != retrieval.Key(w) {
				t.Fatalf("Key(%q) not deterministic", w)
			}
			if !utf8.ValidString(k) {
				t.Fatalf("Key(%q) = %q: not UTF-8", w, k)
			}
			if strings.ContainsAny(k, "hqvwz") {
				t.Fatalf("Key(%q) = %q: not spelled by sound", w, k)
			}
			if len(k) > len(w) {
				t.Fatalf("Key(%q) = %q: longer than the word", w, k)
			}
			if strings.Trim(w, "0123456789") == "" && k != w {
				t.Fatalf("Key(%q) = %q: a number must be its own key", w, k)
			}
		}
	})
}

// FuzzAnalyze: the index's reading of a citizen's text (glossary, typo matching) is single
// spaced and stable, and its terms are distinct keys with weights in (0, 1] and groups in
// range.
func FuzzAnalyze(f *testing.F) {
	ix := bundled(f)
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Add("kiero ablar cn alguien")
	f.Add("pension pension pencion garantizada pgu")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		n := ix.Normalize(s)
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") || !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q", s, n)
		}
		a := ix.Analyze(s)
		seen := map[string]bool{}
		for _, term := range a.Terms {
			if term.Key == "" || seen[term.Key] {
				t.Fatalf("Analyze(%q): empty or repeated key %q in %+v", s, term.Key, a.Terms)
			}
			seen[term.Key] = true
			if !(term.Weight > 0 && term.Weight <= 1) || term.Group < 0 || term.Group >= a.Groups {
				t.Fatalf("Analyze(%q): term %+v of %d groups", s, term, a.Groups)
			}
		}
		if b := ix.Analyze(s); len(b.Terms) != len(a.Terms) || b.Groups != a.Groups {
			t.Fatalf("Analyze(%q) not deterministic", s)
		}
	})
}

// FuzzParseFichas: our catalogue format's parser never panics; every ficha it returns is
// valid, and every problem names the file and a line within it.
func FuzzParseFichas(f *testing.F) {
	for _, name := range []string{"../catalogue/fichas/pensiones.json", "testdata/bad/fichas.json"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"slug": "x"}`))
	f.Add([]byte(`[{"slug": "a-b", "title": 3}, {]`))
	f.Add([]byte(`[`))
	f.Add([]byte("\n\n  null"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fichas, probs := retrieval.ParseFichas("f.json", data)
		lines := 1 + bytes.Count(data, []byte("\n"))
		for _, p := range probs {
			if p.File != "f.json" || p.Line < 1 || p.Line > lines || p.Msg == "" {
				t.Fatalf("problem %+v (the file has %d lines)", p, lines)
			}
		}
		for _, fi := range fichas {
			if ps := retrieval.Validate(fi); len(ps) > 0 {
				t.Fatalf("ficha %q returned with problems %v", fi.Slug, ps)
			}
			if !strings.HasPrefix(fi.Source, "f.json:") {
				t.Fatalf("ficha %q source %q", fi.Slug, fi.Source)
			}
		}
		if len(fichas) > 0 && len(probs) > 0 && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
			t.Fatalf("one ficha both valid and not: %v", probs)
		}
	})
}

// FuzzImportChileAtiende: the API importer never panics; it either refuses the file with an
// error or returns a note per record, and every ficha it keeps is valid, with a unique slug.
func FuzzImportChileAtiende(f *testing.F) {
	for _, name := range []string{"testdata/chileatiende/list.json", "testdata/chileatiende/single.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"fichas": {"items": {"ficha": {"id": 1, "titulo": "x"}}}}`))
	f.Add([]byte(`[{"titulo": "Bono", "objetivo": "<p>a</p>", "fecha": "2020-01-02"}]`))
	f.Add([]byte(`{"titulo": 5}`))
	today := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		fichas, notes, err := retrieval.ImportChileAtiende(data, today)
		if err != nil {
			if fichas != nil || notes != nil || !strings.HasPrefix(err.Error(), "import: ") {
				t.Fatalf("error %v with %d fichas, %d notes", err, len(fichas), len(notes))
			}
			return
		}
		slugs := map[string]bool{}
		kept := 0
		for i, n := range notes {
			if n.Record != i+1 || (n.Slug == "") == (n.Skipped == "") {
				t.Fatalf("note %d: %+v", i, n)
			}
			if n.Slug != "" {
				kept++
			}
		}
		if kept != len(fichas) {
			t.Fatalf("%d fichas, %d notes say kept", len(fichas), kept)
		}
		for _, fi := range fichas {
			if ps := retrieval.Validate(fi); len(ps) > 0 {
				t.Fatalf("imported ficha %q has problems %v", fi.Slug, ps)
			}
			if slugs[fi.Slug] {
				t.Fatalf("slug %q twice", fi.Slug)
			}
			slugs[fi.Slug] = true
		}
	})
}
