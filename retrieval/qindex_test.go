package retrieval_test

import (
	"context"
	"testing"

	"github.com/atiende/atiende/retrieval"
)

// The nearest citizens' question in words: a ficha with one question that holds both of a
// message's words is nearer than one whose questions hold each word apart, though the two
// fichas' questions fields hold the same words; a ficha none of whose questions shares a word
// is not near at all.
func TestNearestQuestionInWords(t *testing.T) {
	together := &retrieval.Ficha{Slug: "together", Title: "Uno", Questions: []string{
		"se me llovio el techo de la casa", "otra cosa distinta"}}
	apart := &retrieval.Ficha{Slug: "apart", Title: "Dos", Questions: []string{
		"el techo del colegio", "mucha lluvia en el sur, llovio harto"}}
	none := &retrieval.Ficha{Slug: "none", Title: "Tres techo", Questions: []string{"nada que ver aqui"}}
	ix := retrieval.NewIndex([]*retrieval.Ficha{together, apart, none}, nil)
	found := ix.Find(context.Background(), retrieval.Query{Text: "se llovio el techo"}, 0)
	near := ix.Nearest("se llovio el techo", found.Results)
	by := map[string]float64{}
	for i, r := range found.Results {
		by[r.Ficha.Slug] = near[i].Lexical
	}
	if len(by) != 3 {
		t.Fatalf("results %v", by)
	}
	if !(by["together"] > by["apart"] && by["apart"] > 0) {
		t.Errorf("one question with both words should be nearest: %v", by)
	}
	if by["none"] != 0 {
		t.Errorf("a ficha whose questions share no word is near: %v", by)
	}
}
