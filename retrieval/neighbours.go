package retrieval

import (
	"math"
	"slices"
	"sync"

	"github.com/atiende/atiende/retrieval/learn"
)

// Neighbours is a third reading of danger: the lines of the emergency model's training data
// nearest a message in words, word pairs and character n-grams (TF-IDF, cosine), and how much
// of their likeness is on emergencies. Where the models weigh every word they saw, it looks
// for the few lines written most like the message: a short cry told in words the models give
// little weight ("the house is on fire") has a neighbour that says the same.
type Neighbours struct {
	row     map[uint64]int32 // a feature's row in idf and start
	idf     []float32        // by row
	start   []int32          // the postings of row r are post[start[r]:start[r+1]]
	post    []nposting       // by row, then by line
	label   []string
	n       float64
	minN    int
	maxN    int
	common  int       // a feature on more lines than this has no postings
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
	nb := &Neighbours{minN: 3, maxN: 5}
	var lines [][]uint64
	total := 0
	for _, e := range examples {
		if e.Weight > 0 && e.Weight < 1 {
			continue
		}
		f := featureHashes(e.Text, nb.minN, nb.maxN)
		if len(f) == 0 {
			continue
		}
		lines = append(lines, f)
		nb.label = append(nb.label, e.Label)
		total += len(f)
	}
	// The features once each, sorted, with the number of lines each is on: one sort of every
	// line's features, rather than a map entry and a slice grown for each.
	all := make([]uint64, 0, total)
	for _, f := range lines {
		all = append(all, f...)
	}
	slices.Sort(all)
	var df []int32
	nb.row = make(map[uint64]int32, total/8)
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j] == all[i] {
			j++
		}
		nb.row[all[i]] = int32(len(df))
		df = append(df, int32(j-i))
		i = j
	}
	nb.n = float64(len(lines))
	nb.common = max(50, len(lines)/20)
	nb.idf = make([]float32, len(df))
	nb.start = make([]int32, len(df)+1)
	for r, c := range df {
		nb.idf[r] = float32(math.Log(nb.n/float64(1+c)) + 1)
		n := int32(0)
		if int(c) <= nb.common {
			n = c
		}
		nb.start[r+1] = nb.start[r] + n
	}
	nb.post = make([]nposting, nb.start[len(df)])
	next := slices.Clone(nb.start[:len(df)])
	rows := make([]int32, 0, 64)
	for i, f := range lines {
		rows = rows[:0]
		var norm float64
		for _, x := range f {
			r := nb.row[x]
			rows = append(rows, r)
			norm += float64(nb.idf[r] * nb.idf[r])
		}
		inv := float32(1 / math.Sqrt(norm))
		for _, r := range rows {
			if int(df[r]) <= nb.common {
				nb.post[next[r]] = nposting{line: int32(i), w: nb.idf[r] * inv}
				next[r]++
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
	rows := make([]int32, 0, len(f))
	for _, x := range f {
		if r, ok := nb.row[x]; ok {
			rows = append(rows, r)
			norm += float64(nb.idf[r] * nb.idf[r])
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
	for _, r := range rows {
		w := nb.idf[r] * inv
		for _, p := range nb.post[nb.start[r]:nb.start[r+1]] {
			if score[p.line] == 0 {
				touched = append(touched, p.line)
			}
			score[p.line] += w * p.w
		}
	}
	// The neighboursK nearest, nearest first (ties: the earlier line), kept by insertion as
	// the touched lines go by: thousands of lines are touched, and sorting them all to keep
	// seven was a tenth of a turn (docs/performance.md, thirty-first session).
	type hit struct {
		line int32
		s    float32
	}
	before := func(a, b hit) bool { return a.s > b.s || a.s == b.s && a.line < b.line }
	var nearest [neighboursK]hit
	n := 0
	for _, l := range touched {
		h := hit{l, score[l]}
		if n == neighboursK && !before(h, nearest[n-1]) {
			continue
		}
		i := min(n, neighboursK-1)
		for i > 0 && before(h, nearest[i-1]) {
			nearest[i] = nearest[i-1]
			i--
		}
		nearest[i] = h
		n = min(n+1, neighboursK)
	}
	hits := nearest[:n]
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
