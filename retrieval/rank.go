package retrieval

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"github.com/atiende/atiende/retrieval/learn"
)

// RankDepth is how many of the fused results the ranker reorders: on our held-out questions
// the right ficha is among the first ten for 99% of them.
const RankDepth = 10

// rankOutside: from this probability that a message is about nothing the catalogue holds, or
// that it wants a person, the ranker leaves the fused order alone. It learned from questions
// about fichas; on a message about something else it prefers the ficha that shares the most
// words, which the engine would then answer ("en que año llego colon").
const rankOutside = 0.3

// RankerFile is the ranker's file in the catalogue (atiende train writes it).
const RankerFile = "model/ranker.txt"

// rankFeatureNames name RankFeatures' columns, in order.
var rankFeatureNames = []string{
	"prob", "log_prob", "lexical_rel", "log_lexical", "coverage", "title_coverage",
	"strong", "named", "lexical_rank", "prob_rank", "prob_rel", "fused_rel",
	"prob_known", "lexical_unknown", "no_lexical", "nearest", "nearest_rel", "nearest3",
	"nearest_rank", "qlex_rel", "qlex_log", "qlex_rank",
}

// RankFeatureNames lists the names of RankFeatures' columns.
func RankFeatureNames() []string { return slices.Clone(rankFeatureNames) }

// RankFeatures describes each of the first results of a fused Find (at most RankDepth) for
// the ranker: the model's probability and the lexical score, each absolute and relative to
// the best candidate's, their ranks, how much of the question and of the title the ficha
// matches, the model's probability weighed by how many of the question's words it knows, and
// how near the question comes to the ficha's citizens' questions (Nearest).
func RankFeatures(res []Result, known float64, nearest []Near) [][]float64 {
	res = res[:min(len(res), RankDepth)]
	if len(res) == 0 {
		return nil
	}
	near := make([]Near, len(res))
	copy(near, nearest)
	lex := make([]float64, len(res))
	prob := make([]float64, len(res))
	closest := make([]float64, len(res))
	qlex := make([]float64, len(res))
	maxScore := 0.0
	for i, r := range res {
		lex[i], prob[i], closest[i], qlex[i] = r.Lexical, r.Prob, near[i].Best, near[i].Lexical
		maxScore = max(maxScore, r.Score)
	}
	maxLex, maxProb, maxNear, maxQ := slices.Max(lex), slices.Max(prob), slices.Max(closest), slices.Max(qlex)
	lexRank, probRank, nearRank, qRank := places(lex), places(prob), places(closest), places(qlex)
	rel := func(v, m float64) float64 {
		if m <= 0 {
			return 0
		}
		return v / m
	}
	out := make([][]float64, len(res))
	for i, r := range res {
		noLex := 0.0
		if r.Lexical <= 0 {
			noLex = 1
		}
		out[i] = []float64{
			r.Prob,
			math.Log(r.Prob+1e-3) / 7,
			rel(r.Lexical, maxLex),
			math.Log1p(r.Lexical) / 3,
			r.Coverage,
			r.TitleCoverage,
			float64(min(r.Strong, 4)) / 4,
			float64(min(r.Named, 4)) / 4,
			1 / float64(1+lexRank[i]),
			1 / float64(1+probRank[i]),
			rel(r.Prob, maxProb),
			rel(r.Score, maxScore),
			r.Prob * known,
			rel(r.Lexical, maxLex) * (1 - known),
			noLex,
			near[i].Best,
			rel(near[i].Best, maxNear),
			near[i].Three,
			1 / float64(1+nearRank[i]),
			rel(near[i].Lexical, maxQ),
			math.Log1p(near[i].Lexical) / 3,
			1 / float64(1+qRank[i]),
		}
	}
	return out
}

// places gives each value its place, 0 for the highest, ties in their order; a value of 0 or
// less is placed last of all (RankDepth).
func places(v []float64) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
	out := make([]int, len(v))
	for place, i := range idx {
		out[i] = place
		if v[i] <= 0 {
			out[i] = RankDepth
		}
	}
	return out
}

// WithRanker makes Find reorder the first fused results with a ranker trained on held-out
// questions (atiende train); it reads the model's vectors, so it goes with WithModel. Nil
// leaves the fused order.
func WithRanker(r *learn.Ranker) IndexOption { return func(ix *Index) { ix.ranker = r } }

// Ranker is the ranker set with WithRanker, or nil.
func (ix *Index) Ranker() *learn.Ranker { return ix.ranker }

// rerank reorders the first RankDepth results by the ranker. Each keeps a Score on the fused
// scale: the best keeps its own, the others the best's times their probability relative to
// the best's under the ranker, so that the engine's "close to the best" reads the ranker.
func (ix *Index) rerank(text string, vec []float32, res []Result, known float64) []Result {
	if ix.ranker == nil || len(res) < 2 {
		return res
	}
	n := min(len(res), RankDepth)
	feats := RankFeatures(res, known, ix.nearestOf(text, vec, res[:n]))
	s := make([]float64, n)
	for i := range n {
		s[i] = ix.ranker.Score(feats[i])
	}
	best := slices.Max(s)
	top := res[0].Score
	head := slices.Clone(res[:n])
	sum := 0.0
	for i := range head {
		s[i] = math.Exp(s[i] - best) // at most 1, the best's
		head[i].Score = top * s[i]
		sum += s[i]
	}
	for i := range head {
		head[i].Rank = s[i] / sum
	}
	slices.SortStableFunc(head, func(a, b Result) int {
		return cmp.Or(cmp.Compare(b.Rank, a.Rank), strings.Compare(a.Ficha.Slug, b.Ficha.Slug))
	})
	// What lies below the reordered head stays below it.
	floor := head[n-1].Score
	out := append(head, res[n:]...)
	for i := n; i < len(out); i++ {
		out[i].Score = min(out[i].Score, floor*0.999)
	}
	return out
}

// Near is how close a question comes to a ficha's citizens' questions: as cosines of their
// vectors in the learned model, the nearest one's (Best) and the mean of the three nearest
// (Three); in words, the BM25 score of the nearest one (Lexical).
type Near struct{ Best, Three, Lexical float64 }

// Nearest reads, for each result, how near the text comes to its ficha's citizens'
// questions (Near): a nearest-neighbour reading beside the model's own probability, with or
// without a ranker. Zeros without a model.
func (ix *Index) Nearest(text string, res []Result) []Near {
	var vec []float32
	if ix.model != nil && len(ix.qvecs) == len(ix.fichas) { // nearestOf reads no vector otherwise
		vec = ix.model.Embed(ix.ModelText(text))
	}
	return ix.nearestOf(text, vec, res)
}

// nearestOf is Nearest of a text, given also its vector in the model (q: Embed of its
// ModelText; nil when the model knows none of its words).
func (ix *Index) nearestOf(text string, q []float32, res []Result) []Near {
	out := make([]Near, len(res))
	docs := make([]int, len(res))
	for i, r := range res {
		docs[i] = ix.bySlug[r.Ficha.Slug]
	}
	for i, s := range ix.questions.nearest(ix.analyze(text, false), docs) {
		out[i].Lexical = s
	}
	if ix.model == nil || len(ix.qvecs) != len(ix.fichas) {
		return out // no model: no vectors
	}
	if q == nil {
		return out
	}
	d := len(q)
	for i, r := range res {
		vs := ix.questionVectors(ix.bySlug[r.Ficha.Slug])
		var top [3]float32 // the three nearest, nearest first
		for j := 0; j+d <= len(vs); j += d {
			var s float32
			row := vs[j : j+d : j+d][:len(q)] // one length with q: no bounds to check
			for k, v := range q {
				s += v * row[k]
			}
			switch {
			case s > top[0]:
				top[0], top[1], top[2] = s, top[0], top[1]
			case s > top[1]:
				top[1], top[2] = s, top[1]
			case s > top[2]:
				top[2] = s
			}
		}
		out[i].Best, out[i].Three = float64(top[0]), float64(top[0]+top[1]+top[2])/3
	}
	return out
}

// WarmNearest makes every ficha's nearest-question vectors now, which Nearest would otherwise
// make the first time each ficha is a candidate (about a second for the bundled catalogue, a
// few to tens of milliseconds added to the turns that meet a ficha first). It is safe while the
// index serves.
func (ix *Index) WarmNearest() {
	if ix.model == nil || len(ix.qvecs) != len(ix.fichas) {
		return
	}
	for i := range ix.fichas {
		ix.questionVectors(i)
	}
}

// questionVectors returns the vectors of a ficha's citizens' questions, one after another,
// made the first time the ficha is a candidate: making all of them at once takes about a
// second, which the first citizen would wait.
func (ix *Index) questionVectors(i int) []float32 {
	if v := ix.qvecs[i].Load(); v != nil {
		return *v
	}
	var vs []float32
	for _, q := range ix.fichas[i].Questions {
		vs = append(vs, ix.model.Embed(ix.ModelText(q))...)
	}
	ix.qvecs[i].CompareAndSwap(nil, &vs) // two turns may make them at once: either is right
	return vs
}

// RankerDigest names what a ranker is trained from: the models trained on four fifths of the
// data (HeldOut), whose readings of the other fifth it learns from, its settings and its
// features. The fichas' texts also shape those readings; like the fichas model's own digest,
// this one changes with the fichas' titles, summaries, keywords and questions, not with
// their sections.
func RankerDigest(devFichas, devEmergency string, cfg learn.RankConfig) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%+v\n%s\n", devFichas, devEmergency, cfg, strings.Join(rankFeatureNames, " "))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// LoadRanker reads the ranker from fsys; nil, without error, when the file is absent.
func LoadRanker(fsys fs.FS) (*learn.Ranker, error) {
	data, err := fs.ReadFile(fsys, RankerFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := learn.ReadRanker(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RankerFile, err)
	}
	if len(r.Weights) != len(rankFeatureNames) {
		return nil, fmt.Errorf("%s: %d weights for %d features: run make train", RankerFile, len(r.Weights), len(rankFeatureNames))
	}
	return r, nil
}
