package learn

import (
	"slices"
	"testing"
)

// TestIdsOfIsFeatures: the allocation-free path a prediction takes finds the same features,
// in the same order, as the one training takes: the first time a known word is met and
// later, from the n-grams it kept.
func TestIdsOfIsFeatures(t *testing.T) {
	ex := []Example{{Text: "mi guagua nacio ayer en el hospital #ahora", Label: "a"}, {Text: "me echaron de la pega ñandú", Label: "b"}}
	m, err := Train(ex, Config{Dim: 4, Epochs: 1, LR: 0.1, MinCount: 1, MinN: 3, MaxN: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for pass := range 2 {
		for _, text := range []string{"mi guagua nacio", "me echaron de la pega ñandú #ahora", "a de", "pega pega", "#ahora guagua", "xyz", "guaguita naciò"} {
			want := m.ids(Features(text, 3, 5))
			if got := m.idsOf(text); !slices.Equal(got, want) {
				t.Errorf("pass %d, %q: %v, want %v", pass, text, got, want)
			}
		}
	}
	if m.grams[m.feats["w:guagua"]].Load() == nil {
		t.Error("a known word's n-grams were not kept")
	}
}
