package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

// queryRecorder is the index as the engine sees it, keeping the first question a turn asks of
// it (the citizen's own words, before any context or choice among options): a query with the
// whole message (Query.Whole), as the engine's search for an answer has. A reading the engine
// takes of the message alone (the scope model's, before a sure emergency) is not a question.
type queryRecorder struct {
	*retrieval.Index
	first *retrieval.Query
}

func (r *queryRecorder) Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found {
	if r.first == nil && len(q.Only) == 0 && q.Context == "" && q.Whole != "" {
		c := q
		r.first = &c
	}
	return r.Index.Find(ctx, q, k)
}

// rankCase is one held-out question's candidates for the ranker.
type rankCase struct {
	c     eval.Case
	group learn.RankGroup
}

// rankData runs each case that expects a ficha through an engine over ix, without a ranker,
// and keeps the fused candidates of the question the engine asked, with the one
// the case expects.
func rankData(ctx context.Context, ix *retrieval.Index, det *retrieval.Detector, cases []eval.Case) []rankCase {
	if ix.Ranker() != nil {
		ix = ix.With(retrieval.WithRanker(nil))
	}
	rec := &queryRecorder{Index: ix}
	e := bot.New(rec, nil, withDetector(det)...)
	var out []rankCase
	for _, c := range cases {
		if len(c.Turns) != 1 || len(c.Turns[0].Expect.Fichas) == 0 {
			continue
		}
		rec.first = nil
		eval.Run(ctx, e, []eval.Case{c})
		if rec.first == nil {
			continue // answered without asking the index (an emergency, a greeting)
		}
		found := ix.Find(ctx, *rec.first, 0)
		head := found.Results[:min(len(found.Results), retrieval.RankDepth)]
		text := rec.first.Whole
		if text == "" {
			text = rec.first.Text
		}
		g := learn.RankGroup{Features: retrieval.RankFeatures(head, found.Known, ix.Nearest(text, head)), Right: -1}
		for i, r := range found.Results[:min(len(found.Results), retrieval.RankDepth)] {
			if r.Ficha.Slug == c.Turns[0].Expect.Fichas[0] {
				g.Right = i
				break
			}
		}
		out = append(out, rankCase{c: c, group: g})
	}
	return out
}

// rankFold splits the held-out questions in two halves, apart from the fifth that --dev holds out.
func rankFold(text string) int {
	h := fnv.New32a()
	h.Write([]byte("rank/" + text))
	return int(h.Sum32() % 2)
}

// rankDev trains the ranker on one half of the held-out questions and measures it on the
// other, both ways: the share whose right ficha comes first, before and after, and the
// engine's hit@1. It returns the ranker trained on all of them; ix has none.
func rankDev(ctx context.Context, ix *retrieval.Index, det *retrieval.Detector, cases []eval.Case, stdout io.Writer) (*learn.Ranker, error) {
	data := rankData(ctx, ix, det, cases)
	var halves [2][]learn.RankGroup
	var halfCases [2][]eval.Case
	var all []learn.RankGroup
	for _, d := range data {
		f := rankFold(d.c.Turns[0].User)
		halves[f] = append(halves[f], d.group)
		halfCases[f] = append(halfCases[f], d.c)
		all = append(all, d.group)
	}
	var firstBefore, firstAfter, n, among float64
	var engineBefore, engineAfter float64
	for f := range 2 {
		r, err := learn.TrainRanker(halves[1-f], learn.DefaultRankConfig)
		if err != nil {
			return nil, err
		}
		for _, g := range halves[f] {
			n++
			if g.Right >= 0 {
				among++
			}
			if g.Right == 0 {
				firstBefore++
			}
			if g.Right >= 0 && best(r, g.Features) == g.Right {
				firstAfter++
			}
		}
		engineBefore += eval.Run(ctx, engineOver(ix, det), halfCases[f]).HitAt1 * float64(len(halfCases[f]))
		engineAfter += eval.Run(ctx, engineOver(ix.With(retrieval.WithRanker(r)), det), halfCases[f]).HitAt1 * float64(len(halfCases[f]))
	}
	r, err := learn.TrainRanker(all, learn.DefaultRankConfig)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "ranker, trained on one half of %.0f held-out questions and measured on the other (both ways):\n", n)
	fmt.Fprintf(stdout, "  right ficha among the first %d candidates %.3f\n", retrieval.RankDepth, among/n)
	fmt.Fprintf(stdout, "  right ficha first among the candidates %.3f → %.3f; engine hit@1 %.3f → %.3f\n", firstBefore/n, firstAfter/n, engineBefore/n, engineAfter/n)
	fmt.Fprintf(stdout, "  weights (trained on all):")
	for i, name := range retrieval.RankFeatureNames() {
		fmt.Fprintf(stdout, " %s=%.2f", name, r.Weights[i])
	}
	fmt.Fprintln(stdout)
	return r, nil
}

func best(r *learn.Ranker, xs [][]float64) int {
	b, bs := -1, 0.0
	for i, x := range xs {
		if s := r.Score(x); b < 0 || s > bs {
			b, bs = i, s
		}
	}
	return b
}

// engineOver is the engine as it runs: over ix, with the emergency model.
func engineOver(ix *retrieval.Index, det *retrieval.Detector) *bot.Engine {
	return bot.New(ix, nil, withDetector(det)...)
}

// withDetector is the option that gives an engine det, none when det is nil (the bundled
// model stays).
func withDetector(det *retrieval.Detector) []bot.EngineOption {
	if det == nil {
		return nil
	}
	return []bot.EngineOption{bot.WithEmergencyModel(det)}
}
