package retrieval

import (
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/atiende/atiende/retrieval/learn"
)

// Neighbours is a third reading of danger: the lines of the emergency model's training data
// nearest a message in words, word pairs and character n-grams (TF-IDF, cosine), and how much
// of their likeness is on emergencies. Where the models weigh every word they saw, it looks
// for the few lines written most like the message: a short cry told in words the models give
// little weight ("the house is on fire") has a neighbour that says the same.
type Neighbours struct {
	post    map[uint64][]nposting
	label   []string
	idf     map[uint64]float32
	n       float64
	minN    int
	maxN    int
	common  int       // a feature on more lines than this is left out of the postings
	scratch sync.Pool // of *[]float32, one score a line
}

type nposting struct {
	line int32
	w    float32
}

// neighboursK is how many nearest lines vote.
const neighboursK = 7

// NewNeighbours indexes the examples (texts as Detector.Text reads them, labelled with a kind
// or NoEmergency). Examples weighing less than one (a few words cut from a question) are left
// out: they stand for no message.
func NewNeighbours(examples []learn.Example) *Neighbours {
	nb := &Neighbours{post: map[uint64][]nposting{}, idf: map[uint64]float32{}, minN: 3, maxN: 5}
	df := map[uint64]int{}
	var lines [][]uint64
	for _, e := range examples {
		if e.Weight > 0 && e.Weight < 1 {
			continue
		}
		f := featureHashes(e.Text, nb.minN, nb.maxN)
		if len(f) == 0 {
			continue
		}
		for _, x := range f {
			df[x]++
		}
		lines = append(lines, f)
		nb.label = append(nb.label, e.Label)
	}
	nb.n = float64(len(lines))
	nb.common = max(50, len(lines)/20)
	for x, c := range df {
		nb.idf[x] = float32(math.Log(nb.n/float64(1+c)) + 1)
	}
	for i, f := range lines {
		var norm float64
		for _, x := range f {
			norm += float64(nb.idf[x] * nb.idf[x])
		}
		inv := float32(1 / math.Sqrt(norm))
		for _, x := range f {
			if df[x] <= nb.common {
				nb.post[x] = append(nb.post[x], nposting{line: int32(i), w: nb.idf[x] * inv})
			}
		}
	}
	return nb
}

// featureHashes returns the hashes of the text's features as learn.Features lists them
// (words, pairs of neighbouring words, character n-grams of each word), sorted and without
// repeats: a line is a set of features here. Hashes, not strings: indexing the bank builds no
// string per feature.
func featureHashes(text string, minN, maxN int) []uint64 {
	var out []uint64
	learn.EachFeature(text, minN, maxN, func(kind byte, a, b string) { out = append(out, fnv64(kind, a, b)) })
	slices.Sort(out)
	return slices.Compact(out)
}

// fnv64 is FNV-1a of the feature as Features writes it: kind, ':', a, and for a pair of
// words a space and b.
func fnv64(kind byte, a, b string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * prime
	h = (h ^ ':') * prime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * prime
	}
	if kind == 'b' {
		h = (h ^ ' ') * prime
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * prime
		}
	}
	return h
}

// Near returns the share of the nearest lines' likeness that is on emergencies, the kind
// most of that share names, and the likeness of the nearest line (0 to 1).
func (nb *Neighbours) Near(text string) (share float64, kind string, top float64) {
	if nb == nil || nb.n == 0 {
		return 0, "", 0
	}
	f := featureHashes(text, nb.minN, nb.maxN)
	var norm float64
	for _, x := range f {
		if w, ok := nb.idf[x]; ok {
			norm += float64(w * w)
		}
	}
	if norm == 0 {
		return 0, "", 0
	}
	inv := float32(1 / math.Sqrt(norm))
	sp, _ := nb.scratch.Get().(*[]float32)
	if sp == nil {
		s := make([]float32, len(nb.label))
		sp = &s
	}
	score := *sp
	defer func() {
		clear(score)
		nb.scratch.Put(sp)
	}()
	var touched []int32
	for _, x := range f {
		w := nb.idf[x] * inv
		for _, p := range nb.post[x] {
			if score[p.line] == 0 {
				touched = append(touched, p.line)
			}
			score[p.line] += w * p.w
		}
	}
	type hit struct {
		line int32
		s    float32
	}
	hits := make([]hit, 0, len(touched))
	for _, l := range touched {
		hits = append(hits, hit{l, score[l]})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].s != hits[j].s {
			return hits[i].s > hits[j].s
		}
		return hits[i].line < hits[j].line
	})
	hits = hits[:min(len(hits), neighboursK)]
	if len(hits) == 0 {
		return 0, "", 0
	}
	var all, em float64
	kinds := map[string]float64{}
	for _, h := range hits {
		all += float64(h.s)
		if l := nb.label[h.line]; IsEmergency(l) {
			em += float64(h.s)
			kinds[l] += float64(h.s)
		}
	}
	best := 0.0
	for k, v := range kinds {
		if v > best || v == best && k < kind {
			kind, best = k, v
		}
	}
	return em / all, kind, float64(hits[0].s)
}
