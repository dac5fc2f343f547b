package retrieval_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/retrievaltest"
)

// bundled returns the bundled index the package's tests share.
func bundled(t testing.TB) *retrieval.Index { return retrievaltest.Bundled(t) }

// TestRanking: questions written as citizens write them find their ficha first. These are
// not the eval cases; they pin the analysis features one by one.
func TestRanking(t *testing.T) {
	ix := bundled(t)
	for _, c := range []struct{ q, want string }{
		{"pension garantizada universal", "pension-garantizada-universal"},
		{"pencion garantisada", "pension-garantizada-universal"}, // typos
		{"pgu", "pension-garantizada-universal"},                 // acronym
		{"suf", "subsidio-unico-familiar"},                       // acronym
		{"rsh", "registro-social-hogares"},                       // acronym
		{"bono marzo", "aporte-familiar-permanente"},             // colloquial name
		{"pase escolar", "tarjeta-nacional-estudiantil"},         // colloquial name
		{"sertificado de nasimiento", "certificado-nacimiento"},  // typos
		{"certificado de matrimonio", "certificado-matrimonio"},  // near neighbours
		{"certificado de defuncion", "certificado-defuncion"},
		{"se me olvido la clave unica", "recuperar-clave-unica"},
		{"bono de invierno", "bono-invierno"},
		{"aguinaldo de navidad", "aguinaldo-navidad"},
		{"seguro de cesantia", "seguro-cesantia"},
		{"birth certificate", "certificado-nacimiento"}, // English through the glossary
	} {
		found := ix.Find(context.Background(), retrieval.Query{Text: c.q}, 3)
		if len(found.Results) == 0 {
			t.Errorf("%q: nothing found, want %s", c.q, c.want)
			continue
		}
		if got := found.Results[0].Ficha.Slug; got != c.want {
			var top []string
			for _, r := range found.Results {
				top = append(top, r.Ficha.Slug)
			}
			t.Errorf("%q: top %v, want %s first", c.q, top, c.want)
		}
	}
}

func TestFindReportsCoverageAndSections(t *testing.T) {
	ix := bundled(t)
	found := ix.Find(context.Background(), retrieval.Query{Text: "pgu"}, 1)
	if len(found.Results) != 1 || found.Results[0].Coverage < 0.99 {
		t.Fatalf("pgu: %+v", found.Results)
	}
	off := ix.Find(context.Background(), retrieval.Query{Text: "receta de empanadas de pino"}, 1)
	if len(off.Results) > 0 && off.Results[0].Coverage > 0.4 {
		t.Errorf("off-topic question covered %.2f by %s", off.Results[0].Coverage, off.Results[0].Ficha.Slug)
	}
	vague := ix.Find(context.Background(), retrieval.Query{Text: "bono"}, 5)
	if !vague.Vague {
		t.Errorf("bono: not vague")
	}
	if ix.Find(context.Background(), retrieval.Query{Text: "bono invierno"}, 5).Vague {
		t.Errorf("bono invierno: vague")
	}
	only := ix.Find(context.Background(), retrieval.Query{Text: "certificado", Only: []string{"certificado-matrimonio", "pasaporte"}}, 5)
	if len(only.Results) != 1 || only.Results[0].Ficha.Slug != "certificado-matrimonio" {
		t.Errorf("Only: %+v", only.Results)
	}
}

// TestFieldWeightsAndSections uses a tiny catalogue: a word in the title outranks the same
// word deep in a section, and the sections where words matched are reported.
func TestFieldWeightsAndSections(t *testing.T) {
	data := `[
 {"slug":"a","title":"Subsidio de leña","institution":"X","topics":["t"],"summary":"Ayuda para calefacción.","url":"https://x.cl/a",
  "valid_from":"2025-01-01","reviewed":"2026-01-01","sections":{"requisitos":["Vivir en el sur."]}},
 {"slug":"b","title":"Bono de calefacción","institution":"X","topics":["t"],"summary":"Un pago.","url":"https://x.cl/b",
  "valid_from":"2025-01-01","reviewed":"2026-01-01","sections":{"requisitos":["Comprar leña certificada."],"fechas":["En mayo."]}}
]`
	fichas, probs := retrieval.ParseFichas("mini.json", []byte(data))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ix := retrieval.NewIndex(fichas, nil)
	res := ix.Find(context.Background(), retrieval.Query{Text: "leña"}, 0).Results
	if len(res) != 2 || res[0].Ficha.Slug != "a" {
		t.Fatalf("leña: %+v", res)
	}
	if !slices.Contains(res[1].Sections, "requisitos") {
		t.Errorf("b matched leña in requisitos, sections = %v", res[1].Sections)
	}
}

// TestResultsShareNothingAnAppendReaches: a search's results hold their matched words in one
// backing array and their sections in a shared table (docs/performance.md); a caller that
// appends to one result's lists must not change another's, nor the next search's.
func TestResultsShareNothingAnAppendReaches(t *testing.T) {
	ix := bundled(t)
	res := ix.Search(ix.Analyze("requisitos bono invierno pension"), 0)
	if len(res) < 3 {
		t.Fatalf("%d results", len(res))
	}
	before := make([]string, len(res))
	for i, r := range res {
		before[i] = fmt.Sprint(r.Matched, r.Sections)
	}
	for i := range res {
		res[i].Matched = append(res[i].Matched, "intruso")
		res[i].Sections = append(res[i].Sections, "intruso")
	}
	for i, r := range res {
		if got := fmt.Sprint(r.Matched[:len(r.Matched)-1], r.Sections[:len(r.Sections)-1]); got != before[i] {
			t.Fatalf("%s: %s after the appends, %s before", r.Ficha.Slug, got, before[i])
		}
	}
	for _, r := range ix.Search(ix.Analyze("requisitos bono invierno pension"), 0) {
		if slices.Contains(r.Matched, "intruso") || slices.Contains(r.Sections, "intruso") {
			t.Fatalf("%s: a caller's append reached the next search: %v %v", r.Ficha.Slug, r.Matched, r.Sections)
		}
	}
}

func TestLoadReportsFileLineField(t *testing.T) {
	_, err := retrieval.LoadPath("testdata/bad")
	var le *retrieval.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a LoadError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`fichas.json:13: ficha "sin-fecha": sections.monto[0].valid_from: an item with an amount needs valid_from`,
		`fichas.json:24: ficha "Mal Slug": slug:`,
		`fichas.json:24: ficha "Mal Slug": valid_from:`,
		`fichas.json:35: ficha "campo-raro": requsitos: unknown field`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// The bad date stops decoding before the other fields are checked; a good ficha gives
	// no problem.
	if strings.Contains(msg, `"buena"`) {
		t.Errorf("a valid ficha was reported:\n%s", msg)
	}
}

func TestLoadRejectsBrokenJSONWithLine(t *testing.T) {
	_, probs := retrieval.ParseFichas("x.json", []byte("[\n {\"slug\": \"a\",\n  \"title\": }\n]"))
	if len(probs) != 1 || probs[0].Line != 3 {
		t.Fatalf("problems = %+v, want one on line 3", probs)
	}
}

func TestLoadDuplicateSlug(t *testing.T) {
	one := `{"slug":"a","title":"A","institution":"X","topics":["t"],"summary":"S.","url":"https://x.cl","valid_from":"2025-01-01","reviewed":"2026-01-01","sections":{"costo":["Gratis."]}}`
	dir := t.TempDir()
	writeFile(t, dir+"/1.json", one)
	writeFile(t, dir+"/2.json", one)
	_, err := retrieval.LoadPath(dir)
	if err == nil || !strings.Contains(err.Error(), "duplicate slug") {
		t.Fatalf("err = %v, want duplicate slug", err)
	}
}

func TestGlossaryErrors(t *testing.T) {
	_, err := retrieval.ParseGlossary("g.tsv", []byte("# ok\npgu\talias\tpension garantizada\nmal\n\nx\tweird\ty\n"))
	if err == nil || !strings.Contains(err.Error(), "g.tsv:3:") || !strings.Contains(err.Error(), "g.tsv:5: kind:") {
		t.Fatalf("err = %v", err)
	}
}

// benchQuestions are five questions in turn: typos, SMS style, off-topic.
var benchQuestions = []string{"cuanto es la pgu", "kiero saber dl bono invierno xfa", "sertificado de nasimiento", "como saco la clave unica", "receta de empanadas"}

func benchFind(b *testing.B, ix *retrieval.Index) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Find(context.Background(), retrieval.Query{Text: benchQuestions[i%len(benchQuestions)]}, 5)
	}
}

func BenchmarkFind(b *testing.B) { benchFind(b, bundled(b)) }

// BenchmarkFindWithVectors is BenchmarkFind with the local embedder's lift
// (ATIENDE_EMBEDDER=local).
func BenchmarkFindWithVectors(b *testing.B) {
	ix := bundled(b)
	vs, err := retrieval.LocalVectors(context.Background(), ix)
	if err != nil {
		b.Fatal(err)
	}
	benchFind(b, ix.With(retrieval.WithVectors(vs, 0.5)))
}

// BenchmarkFindAtScale searches synthetic catalogues (catalogue synth) of growing size, to
// see how the in-memory index scales beyond the bundled one.
func BenchmarkFindAtScale(b *testing.B) {
	real := bundled(b).Fichas()
	g, _ := retrieval.ParseGlossary("g", nil)
	for _, n := range []int{2500, 25000} {
		fichas := append(append([]*retrieval.Ficha{}, real...), retrieval.Synthesize(real, n-len(real), 1)...)
		start := time.Now()
		ix := retrieval.NewIndex(fichas, g)
		b.Logf("%d fichas: index built in %v", n, time.Since(start).Round(time.Millisecond))
		b.Run(fmt.Sprintf("fichas=%d", n), func(b *testing.B) { benchFind(b, ix) })
	}
}

// TestConcurrentSearchesAgree: searches share pooled scratch space; many at once give what
// each gives alone.
func TestConcurrentSearchesAgree(t *testing.T) {
	ix := bundled(t)
	qs := append(slices.Clone(benchQuestions), "bono por hijo", "certificado de matrimonio", "y el de nacimiento", "pension")
	want := make([][]string, len(qs))
	for i, q := range qs {
		for _, r := range ix.Find(context.Background(), retrieval.Query{Text: q}, 0).Results {
			want[i] = append(want[i], fmt.Sprintf("%s %.6f %v %v", r.Ficha.Slug, r.Score, r.Matched, r.Sections))
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				i := (g + n) % len(qs)
				var got []string
				for _, r := range ix.Find(context.Background(), retrieval.Query{Text: qs[i]}, 0).Results {
					got = append(got, fmt.Sprintf("%s %.6f %v %v", r.Ficha.Slug, r.Score, r.Matched, r.Sections))
				}
				if !slices.Equal(got, want[i]) {
					t.Errorf("%q searched concurrently differs", qs[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestOffTopicWordsAreNotKnown: a word the model saw only in off-topic lines ("mascota", in
// "la mascota del club") tells it nothing about any ficha, so it does not count as known.
func TestOffTopicWordsAreNotKnown(t *testing.T) {
	ix := bundled(t)
	if known := ix.Find(context.Background(), retrieval.Query{Text: "bono mascota como se pide"}, 5).Known; known >= 1 {
		t.Errorf("known %.2f: a word seen only off-topic counted as known", known)
	}
	if known := ix.Find(context.Background(), retrieval.Query{Text: "bono invierno como se pide"}, 5).Known; known < 1 {
		t.Errorf("known %.2f: the fichas' own words should all be known", known)
	}
}
