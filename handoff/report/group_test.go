package report_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
)

func bundled(t testing.TB) *retrieval.Index {
	t.Helper()
	ix, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestGroupTurns(t *testing.T) {
	ix := bundled(t)
	for _, tc := range []struct {
		name      string
		questions []string
		want      [][]string // the groups' examples, largest group first
		words     []string   // the first group's words
	}{
		{
			name:      "misspelled and reworded",
			questions: []string{"kiero saber dl bono invierno", "bono de invierno como lo cobro", "como saco la licencia de conducir"},
			want:      [][]string{{"bono de invierno como lo cobro", "kiero saber dl bono invierno"}, {"como saco la licencia de conducir"}},
			words:     []string{"bono", "invierno"},
		},
		{
			name:      "accents, case and sound-alike spellings",
			questions: []string{"Certificado de Nacimiento", "sertificado nasimiento", "certificado de matrimonio"},
			want:      [][]string{{"sertificado nasimiento", "Certificado de Nacimiento"}, {"certificado de matrimonio"}},
			words:     []string{"certificado", "nacimiento"},
		},
		{
			name:      "a shared word alone is not enough",
			questions: []string{"bono por hijo", "bono de invierno", "subsidio de arriendo"},
			want:      [][]string{{"subsidio de arriendo"}, {"bono de invierno"}, {"bono por hijo"}},
		},
		{
			name:      "a lone word joins only itself; two shared of four is enough",
			questions: []string{"el bono para mascotas", "bono", "bono mascota como se pide", "bono", "bono invierno cobro", "bono invierno monto"},
			// Three groups of two: the most recent first.
			want: [][]string{{"bono invierno monto", "bono invierno cobro"}, {"bono"}, {"bono mascota como se pide", "el bono para mascotas"}},
		},
		{
			name:      "questions without key words together, repeats counted once as examples",
			questions: []string{"?", "hola", "?", "pasaporte vencido"},
			want:      [][]string{{"?", "hola"}, {"pasaporte vencido"}},
			words:     nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var turns []store.UnansweredTurn
			t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
			for i, q := range tc.questions {
				turns = append(turns, store.UnansweredTurn{MessageID: int64(i + 1), Question: q, Action: "clarify", CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
			}
			gs := report.GroupTurns(turns, ix, 5)
			var got [][]string
			total := 0
			for _, g := range gs {
				got = append(got, g.Examples)
				total += g.Count
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("groups\n got %q\nwant %q", got, tc.want)
			}
			if total != len(tc.questions) {
				t.Errorf("counted %d questions, want %d", total, len(tc.questions))
			}
			if tc.words != nil && !reflect.DeepEqual(gs[0].Words, tc.words) {
				t.Errorf("words of the first group: %q, want %q", gs[0].Words, tc.words)
			}
			// The same input groups the same way.
			if again := report.GroupTurns(turns, ix, 5); !reflect.DeepEqual(again, gs) {
				t.Error("grouping is not deterministic")
			}
		})
	}
}

func TestGroupClosestFichas(t *testing.T) {
	ix := bundled(t)
	turns := []store.UnansweredTurn{
		{Question: "bono invierno", Action: "clarify", Fichas: []string{"bono-invierno", "aguinaldo-navidad"}},
		{Question: "el bono de invierno", Action: "handoff", Reason: "repeated_failure", Fichas: []string{"bono-invierno"}},
		{Question: "bono invierno cuando pagan", Action: "out_of_scope"},
	}
	gs := report.GroupTurns(turns, ix, 2)
	if len(gs) != 1 {
		t.Fatalf("%d groups, want 1", len(gs))
	}
	g := gs[0]
	if g.Count != 3 || !reflect.DeepEqual(g.Actions, map[string]int{"clarify": 1, "handoff": 1, "out_of_scope": 1}) {
		t.Errorf("count %d, actions %v", g.Count, g.Actions)
	}
	if len(g.Examples) != 2 || g.Examples[0] != "bono invierno cuando pagan" {
		t.Errorf("examples: %q", g.Examples)
	}
	if len(g.Fichas) != 2 || g.Fichas[0].Slug != "bono-invierno" || g.Fichas[0].Count != 2 {
		t.Errorf("closest fichas: %+v", g.Fichas)
	}
	if _, ok := ix.Ficha("bono-invierno"); ok && !strings.Contains(strings.ToLower(g.Fichas[0].Title), "invierno") {
		t.Errorf("title of the closest ficha: %+v", g.Fichas[0])
	}
}
