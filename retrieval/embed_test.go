package retrieval_test

import (
	"context"
	"math"
	"testing"

	"github.com/atiende/atiende/retrieval"
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestHashEmbedder(t *testing.T) {
	ctx := context.Background()
	e := retrieval.HashEmbedder{Dims: 256}
	docs, err := e.EmbedDocuments(ctx, []string{"bono de invierno", "bono de invierno", "licencia de conducir"})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || len(docs[0]) != 256 {
		t.Fatalf("shape %d×%d", len(docs), len(docs[0]))
	}
	if c := cosine(docs[0], docs[1]); c < 0.9999 {
		t.Errorf("not deterministic: cosine %f", c)
	}
	q, _ := e.EmbedQuery(ctx, "bono d imbierno")
	if near, far := cosine(q, docs[0]), cosine(q, docs[2]); near <= far+0.2 {
		t.Errorf("a misspelled query is not nearer its ficha: %f vs %f", near, far)
	}
	z, _ := e.EmbedQuery(ctx, "de la")
	for _, x := range z {
		if x != 0 {
			t.Fatal("stopwords alone should embed to the zero vector")
		}
	}
}

func TestVectorsAndFusion(t *testing.T) {
	ix := bundled(t)
	ctx := context.Background()
	vs, err := retrieval.LocalVectors(ctx, ix)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vs.Search(ctx, "kiero saber dl bono invierno xfa", 5)
	if err != nil || len(got) == 0 || got[0].Slug != "bono-invierno" {
		t.Fatalf("vector search: %v %v", got, err)
	}
	a, b := ix.Fichas()[0], ix.Fichas()[1]
	c := ix.Fichas()[2]
	// b is second in both lists, a first in one only, c first in the other only.
	fused := retrieval.FuseRRF([]*retrieval.Ficha{a, b}, []*retrieval.Ficha{c, b})
	if len(fused) != 3 || fused[0] != b {
		t.Errorf("fused order: %s %s %s", fused[0].Slug, fused[1].Slug, fused[2].Slug)
	}
}

// TestVectorsLiftScores: with vectors, Find keeps the lexical candidates and only lifts
// their fused scores (never lowers them), so the engine's thresholds keep their meaning.
func TestVectorsLiftScores(t *testing.T) {
	ctx := context.Background()
	// The ranker rescales the head it reorders; the lift is measured on the fused scores.
	plain := bundled(t).With(retrieval.WithRanker(nil))
	vs, err := retrieval.LocalVectors(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	lifted := plain.With(retrieval.WithVectors(vs, 0.5))
	q := retrieval.Query{Text: "requisitos para el subsidio de arriendo"}
	a, b := plain.Find(context.Background(), q, 0), lifted.Find(context.Background(), q, 0)
	if len(a.Results) != len(b.Results) || len(a.Results) < 2 {
		t.Fatalf("candidates %d vs %d", len(a.Results), len(b.Results))
	}
	before := map[string]float64{}
	for _, r := range a.Results {
		before[r.Ficha.Slug] = r.Score
	}
	lift := false
	for i, r := range b.Results {
		if r.Score < before[r.Ficha.Slug] {
			t.Errorf("%s lowered: %f < %f", r.Ficha.Slug, r.Score, before[r.Ficha.Slug])
		}
		lift = lift || r.Score > before[r.Ficha.Slug]
		if i > 0 && r.Score > b.Results[i-1].Score {
			t.Errorf("not sorted at %d", i)
		}
	}
	if !lift {
		t.Error("no score was lifted")
	}
}
