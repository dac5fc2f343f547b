package retrieval

import (
	"math"
	"sort"
	"sync"
)

// questionIndex is a BM25 index over the fichas' citizens' questions one by one: the nearest
// question in words, where the questions field of the ficha's BM25F entry only says how many
// of the words some question of the ficha holds. A question that shares two rare words with
// one citizen's question is nearer that ficha than one that meets each word in a different
// question. It is a nearest-neighbour reading in words, beside the model's in vectors
// (Nearest), for the ranker.
type questionIndex struct {
	postings map[string][]qposting
	ficha    []int32   // the ficha of each question
	length   []float32 // each question's words
	avg      float64
	idf      map[string]float64
	scratch  sync.Pool // of *[]float32, one score a question
}

type qposting struct {
	q  int32
	tf float32
}

// newQuestionIndex indexes every ficha's questions with the index's analysis (stems, no
// stopwords); keys caches the stems NewIndex already made.
func newQuestionIndex(fichas []*Ficha, keys stems) *questionIndex {
	qi := &questionIndex{postings: map[string][]qposting{}, idf: map[string]float64{}}
	var total float64
	for d, f := range fichas {
		for _, text := range f.Questions {
			q := int32(len(qi.ficha))
			tf := map[string]float32{}
			n := 0
			for _, k := range keys.of(text) {
				if k == "" {
					continue
				}
				tf[k]++
				n++
			}
			for k, c := range tf {
				qi.postings[k] = append(qi.postings[k], qposting{q: q, tf: c})
			}
			qi.ficha = append(qi.ficha, int32(d))
			qi.length = append(qi.length, float32(n))
			total += float64(n)
		}
	}
	if len(qi.ficha) == 0 {
		return qi
	}
	qi.avg = math.Max(1, total/float64(len(qi.ficha)))
	n := float64(len(qi.ficha))
	for k, ps := range qi.postings {
		sort.Slice(ps, func(i, j int) bool { return ps[i].q < ps[j].q })
		df := float64(len(ps))
		qi.idf[k] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	qi.scratch.New = func() any { s := make([]float32, len(qi.ficha)); return &s }
	return qi
}

// nearest returns, for each of the fichas (indexes into the catalogue), the BM25 score of its
// question nearest the analysed query: 0 when none of its questions shares a word with it.
func (qi *questionIndex) nearest(a Analysis, fichas []int) []float64 {
	out := make([]float64, len(fichas))
	if qi == nil || len(qi.ficha) == 0 || len(fichas) == 0 {
		return out
	}
	want := make(map[int32]int, len(fichas))
	for i, d := range fichas {
		want[int32(d)] = i
	}
	sp := qi.scratch.Get().(*[]float32)
	defer qi.scratch.Put(sp)
	score := *sp
	var touched []int32
	for _, t := range a.Terms {
		if !t.Known || t.Group < 0 {
			continue
		}
		idf := qi.idf[t.Key]
		for _, p := range qi.postings[t.Key] {
			if _, ok := want[qi.ficha[p.q]]; !ok {
				continue
			}
			tf := float64(p.tf)
			norm := (1 - bb) + bb*float64(qi.length[p.q])/qi.avg
			s := float32(t.Weight * idf * tf / (tf + k1*norm))
			if score[p.q] == 0 {
				touched = append(touched, p.q)
			}
			score[p.q] += s
		}
	}
	for _, q := range touched {
		i := want[qi.ficha[q]]
		out[i] = math.Max(out[i], float64(score[q]))
		score[q] = 0
	}
	return out
}
