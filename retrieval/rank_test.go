package retrieval_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

// A ranker reorders the first fused results, keeps scores in its order, gives the head
// probabilities that add up to one, and leaves alone a message the model reads as about
// nothing the catalogue holds.
func TestRankerReordersTheFusedHead(t *testing.T) {
	ix := bundled(t)
	if ix.Ranker() == nil {
		t.Fatal("the bundled index has no ranker: run make train")
	}
	ctx := context.Background()
	q := retrieval.Query{Text: "me quede sin pega y tengo 3 hijos"}
	shipped := ix.Find(ctx, q, 0)
	fusedIx := ix.With(retrieval.WithRanker(nil))
	fused := fusedIx.Find(ctx, q, 0)
	if len(fused.Results) < 3 {
		t.Fatalf("%d results", len(fused.Results))
	}
	// A ranker that trusts only the lexical score, upside down: the weakest candidate first.
	names := retrieval.RankFeatureNames()
	w := make([]float64, len(names))
	w[slices.Index(names, "lexical_rel")] = -20
	upside := ix.With(retrieval.WithRanker(&learn.Ranker{Weights: w}))
	got := upside.Find(ctx, q, 0)
	head := got.Results[:min(len(got.Results), retrieval.RankDepth)]
	if got.Results[0].Ficha.Slug == fused.Results[0].Ficha.Slug {
		t.Errorf("the upside-down ranker kept %s first", fused.Results[0].Ficha.Slug)
	}
	sum := 0.0
	for i, r := range got.Results {
		if i > 0 && r.Score > got.Results[i-1].Score {
			t.Fatalf("result %d scores %.3f above the one before (%.3f)", i, r.Score, got.Results[i-1].Score)
		}
		if i < len(head) {
			sum += r.Rank
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("the head's rank probabilities add up to %.6f", sum)
	}
	if shipped.Results[0].Rank <= 0 {
		t.Error("the shipped ranker gave the best result no probability")
	}
	// About nothing the catalogue holds: the fused order stands.
	off := retrieval.Query{Text: "cual es la capital de australia"}
	before := fusedIx.Find(ctx, off, 0)
	after := upside.Find(ctx, off, 0)
	if before.OffTopic < 0.3 {
		t.Skipf("the model reads %q as off-topic with only %.2f", off.Text, before.OffTopic)
	}
	for i := range min(len(before.Results), len(after.Results)) {
		if before.Results[i].Ficha.Slug != after.Results[i].Ficha.Slug {
			t.Fatalf("an off-topic message was reordered at %d: %s, was %s", i, after.Results[i].Ficha.Slug, before.Results[i].Ficha.Slug)
		}
	}
}
