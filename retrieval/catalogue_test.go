package retrieval_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/atiende/atiende/retrieval"
)

// TestBundledCatalogue loads the embedded catalogue: every ficha valid, and every slug the
// product requires (../shared/catalogue/required.tsv, mirrored in testdata) present.
func TestBundledCatalogue(t *testing.T) {
	ix := bundled(t)
	f, err := os.Open("testdata/required.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		ficha, ok := ix.Ficha(cols[0])
		if !ok {
			t.Errorf("required ficha %q is missing", cols[0])
			continue
		}
		if ficha.Title != cols[1] {
			t.Errorf("ficha %q: title %q, required.tsv says %q", cols[0], ficha.Title, cols[1])
		}
		if ficha.Institution != cols[2] {
			t.Errorf("ficha %q: institution %q, required.tsv says %q", cols[0], ficha.Institution, cols[2])
		}
	}
	t.Logf("%d fichas", len(ix.Fichas()))
}

// TestSources: a ficha's sources are checked (an https page, what it supports, the day it
// was read); a ficha without any, or linking to a home page, gets a warning, not an error.
func TestSources(t *testing.T) {
	const ficha = `{"slug": "bono-x", "title": "Bono X", "institution": "IPS", "topics": ["bonos"],
		"summary": "Un bono.", "url": %q, "valid_from": "2026-01-01", "reviewed": "2026-12-01",
		"sources": %s, "sections": {"requisitos": [{"text": "Tener 65 años."}]}}`
	for _, c := range []struct {
		url, sources string
		problems     []string // fields with an error
		warnings     []string // fields with a warning
	}{
		{"https://www.ips.gob.cl/bono-x", `[{"url": "https://www.ips.gob.cl/bono-x", "supports": "requisitos", "read": "2026-12-01"}]`, nil, nil},
		{"https://www.ips.gob.cl/", `[]`, nil, []string{"sources", "url"}},
		{"https://www.ips.gob.cl/bono-x", `[{"url": "http://ips.gob.cl", "supports": " ", "read": "2026-13-01"}]`,
			[]string{"sources[0].url", "sources[0].supports", "sources[0].read"}, nil},
		{"https://www.ips.gob.cl/bono-x", `[{"url": "https://www.ips.gob.cl/bono-x", "supports": "monto"}]`, []string{"sources[0].read"}, nil},
	} {
		fichas, probs := retrieval.ParseFichas("f.json", []byte(fmt.Sprintf(ficha, c.url, c.sources)))
		var got []string
		for _, p := range probs {
			got = append(got, p.Field)
		}
		if !slices.Equal(got, c.problems) {
			t.Errorf("%s: problems %v, want %v", c.sources, probs, c.problems)
		}
		if len(fichas) != 1 {
			continue
		}
		got = nil
		for _, w := range retrieval.Warnings(fichas[0]) {
			got = append(got, w.Field)
		}
		if !slices.Equal(got, c.warnings) {
			t.Errorf("%s %s: warnings %v, want %v", c.url, c.sources, got, c.warnings)
		}
	}
}

// TestValidUntil: an item may say the last day it holds, after its valid_from; a bad date
// or an end before the start is a problem naming the field.
func TestValidUntil(t *testing.T) {
	const ficha = `{"slug": "bono-x", "title": "Bono X", "institution": "IPS", "topics": ["bonos"],
		"summary": "Un bono.", "url": "https://www.ips.gob.cl/bono-x", "valid_from": "2026-01-01", "reviewed": "2026-12-01",
		"sections": {"monto": [%s]}}`
	for item, want := range map[string]string{
		`{"text": "$10.000 al mes.", "valid_from": "2026-01-01", "valid_until": "2026-04-30"}`: "",
		`{"text": "$10.000 al mes.", "valid_from": "2026-05-01", "valid_until": "2026-04-30"}`: "sections.monto[0].valid_until",
		`{"text": "$10.000 al mes.", "valid_from": "2026-05-01", "valid_until": "30-04-2026"}`: "sections.monto[0].valid_until",
	} {
		fichas, probs := retrieval.ParseFichas("f.json", []byte(fmt.Sprintf(ficha, item)))
		var got string
		for _, p := range probs {
			got = p.Field
		}
		if got != want {
			t.Errorf("%s: problems %v, want one in %q", item, probs, want)
		}
		if want == "" && (len(fichas) != 1 || fichas[0].Sections.Monto[0].ValidUntil.IsZero()) {
			t.Errorf("%s: valid_until not read", item)
		}
	}
}

// TestAliases: a ficha merged into another is reached by its old slug — its questions, a
// lookup — and an alias that names another ficha, or is no slug, is refused with its file,
// line and field.
func TestAliases(t *testing.T) {
	const fichas = `[
{"slug": "permiso-viaje-menores", "aliases": ["salida-menores"], "title": "Permiso de viaje de menores", "institution": "PDI",
 "topics": ["familia"], "summary": "Permiso para que un niño salga del país.", "url": "https://www.pdichile.cl/permiso",
 "valid_from": "2026-01-01", "reviewed": "2026-12-01", "sections": {"requisitos": ["Autorización notarial."]}},
{"slug": "pasaporte", "aliases": %s, "title": "Pasaporte", "institution": "Registro Civil",
 "topics": ["identidad"], "summary": "Documento para viajar.", "url": "https://www.registrocivil.cl/pasaporte",
 "valid_from": "2026-01-01", "reviewed": "2026-12-01", "sections": {"requisitos": ["Cédula vigente."]}}
]`
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f.json"), fmt.Sprintf(fichas, `[]`))
	got, err := retrieval.LoadPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"questions/q.tsv": {Data: []byte("salida-menores\tmi hijo viaja con su abuela, que papel necesita\n")}}
	if err := retrieval.LoadQuestions(fsys, "questions", got, true); err != nil {
		t.Fatalf("a question under a merged ficha's slug: %v", err)
	}
	ix := retrieval.NewIndex(got, nil)
	f, ok := ix.Ficha("salida-menores")
	if !ok || f.Slug != "permiso-viaje-menores" || len(f.Questions) != 1 {
		t.Fatalf("the old slug reaches %+v, %v", f, ok)
	}
	for aliases, want := range map[string]string{`["pasaporte-nuevo", "salida-menores"]`: `aliases: "salida-menores" is already`,
		`["permiso-viaje-menores"]`: `aliases: "permiso-viaje-menores" is already`, `["Pasaporte Viejo"]`: `aliases: "Pasaporte Viejo": an alias`} {
		writeFile(t, filepath.Join(dir, "f.json"), fmt.Sprintf(fichas, aliases))
		_, err := retrieval.LoadPath(dir)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "f.json:") {
			t.Errorf("aliases %s: %v, want %q with the file and line", aliases, err, want)
		}
	}
}

// TestLoadCatalogueRoot: given a catalogue's root, as laid out in catalogue/, LoadPath reads
// its fichas/ and not offices.json beside them, which is no ficha.
func TestLoadCatalogueRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "offices.json"), `{"offices": [], "mobile": []}`)
	if err := os.Mkdir(filepath.Join(dir, "fichas"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "fichas", "f.json"), `[{"slug": "pasaporte", "title": "Pasaporte",
 "institution": "Registro Civil", "topics": ["identidad"], "summary": "Documento para viajar.",
 "url": "https://www.registrocivil.cl/pasaporte", "valid_from": "2026-01-01", "reviewed": "2026-12-01",
 "sections": {"requisitos": ["Cédula vigente."]}}]`)
	got, err := retrieval.LoadPath(dir)
	if err != nil || len(got) != 1 || got[0].Slug != "pasaporte" {
		t.Fatalf("the root of a catalogue: %d fichas, %v", len(got), err)
	}
}

func TestSpecificLink(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://www.chileatiende.gob.cl/fichas/20005-pension-garantizada-universal-pgu": true,
		"https://consulta.servel.cl/":       true, // a site made for one procedure
		"https://calefactores.mma.gob.cl":   true,
		"https://www.ips.gob.cl/":           false, // the institution's home page
		"https://ips.gob.cl":                false,
		"https://www.chileatiende.gob.cl":   false,
		"https://WWW.SII.CL/":               false,
		"not a url at all":                  false,
		"https://www.registrocivil.cl/?x=1": false,
	} {
		if got := retrieval.SpecificLink(raw); got != want {
			t.Errorf("SpecificLink(%q) = %v, want %v", raw, got, want)
		}
	}
}
