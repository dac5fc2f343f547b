package report

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
)

// Similar is the least Jaccard similarity of two questions' key-word sets for the second
// to join the first's group.
const Similar = 0.5

// Group is questions the assistant could not answer that share their key words.
type Group struct {
	// Words are the group's key words as citizens write them (respelled), most shared first.
	Words    []string       `json:"words"`
	Count    int            `json:"count"`
	Examples []string       `json:"examples"` // distinct questions, most recent first
	Actions  map[string]int `json:"actions"`  // how the assistant replied: clarify, out_of_scope, handoff
	// Fichas are the fichas the assistant found closest for these questions, most often first.
	Fichas []Ficha   `json:"closest_fichas"`
	Last   time.Time `json:"last"`
	seed   set
	words  map[string]map[string]int // key → written word → times
	slugs  map[string]int            // slug → turns that showed it
	rank   map[string]int            // slug → its best place among a turn's fichas
	seen   map[string]bool
	recent []string
}

type set map[string]bool

// jaccard is |a ∩ b| / |a ∪ b|, and the size of the intersection.
func jaccard(a, b set) (float64, int) {
	if len(a) == 0 && len(b) == 0 {
		return 1, 0
	}
	in := 0
	for k := range a {
		if b[k] {
			in++
		}
	}
	return float64(in) / float64(len(a)+len(b)-in), in
}

// similar: a question joins a group when its key words and the group's first question's have
// a Jaccard similarity of at least Similar and share two words, or are the same words: a
// lone "bono" is not "bono mascota".
func similar(a, b set) (float64, bool) {
	j, in := jaccard(a, b)
	return j, j >= Similar && (in >= 2 || j == 1)
}

// keyWords normalizes a question as retrieval does (folded, split, respelled by the
// glossary), drops the words that carry no meaning, and keys the rest (stem, spelled as it
// sounds): "kiero saber dl bono invierno" → bono, invierno.
func keyWords(cat Catalogue, text string) (set, map[string]string) {
	keys, written := set{}, map[string]string{}
	for _, w := range strings.Fields(cat.Normalize(text)) {
		for _, x := range retrieval.Words(w) {
			if retrieval.IsStopword(x) || len(x) < 2 {
				continue
			}
			k := retrieval.Key(x)
			keys[k] = true
			if _, ok := written[k]; !ok {
				written[k] = x
			}
		}
	}
	return keys, written
}

// GroupTurns groups the turns by their questions, in order: each question joins the group
// whose first question's key words it is most similar to (see similar; the earliest group on
// a tie), or starts a group. Questions without key words form one group
// with no words. Groups come largest first, then most recent, then by words; the result
// depends only on the turns and their order.
func GroupTurns(turns []store.UnansweredTurn, cat Catalogue, examples int) []Group {
	var gs []*Group
	var empty *Group
	type keyed struct {
		keys    set
		written map[string]string
	}
	memo := map[string]keyed{} // the same questions come back often
	for _, t := range turns {
		k, ok := memo[t.Question]
		if !ok {
			k.keys, k.written = keyWords(cat, t.Question)
			memo[t.Question] = k
		}
		keys, written := k.keys, k.written
		var g *Group
		if len(keys) == 0 {
			if empty == nil {
				empty = newGroup(keys)
				gs = append(gs, empty)
			}
			g = empty
		} else {
			best := 0.0
			for _, x := range gs {
				if x == empty {
					continue
				}
				if s, ok := similar(keys, x.seed); ok && s > best {
					g, best = x, s
				}
			}
			if g == nil {
				g = newGroup(keys)
				gs = append(gs, g)
			}
		}
		g.add(t, written)
	}
	out := make([]Group, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.finish(cat, examples))
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if !a.Last.Equal(b.Last) {
			return a.Last.After(b.Last)
		}
		return strings.Join(a.Words, " ") < strings.Join(b.Words, " ")
	})
	return out
}

func newGroup(seed set) *Group {
	return &Group{seed: seed, Actions: map[string]int{}, words: map[string]map[string]int{}, slugs: map[string]int{}, rank: map[string]int{}, seen: map[string]bool{}}
}

func (g *Group) add(t store.UnansweredTurn, written map[string]string) {
	g.Count++
	g.Actions[t.Action]++
	if t.CreatedAt.After(g.Last) {
		g.Last = t.CreatedAt
	}
	for k, w := range written {
		if g.words[k] == nil {
			g.words[k] = map[string]int{}
		}
		g.words[k][w]++
	}
	for i, s := range t.Fichas {
		if r, ok := g.rank[s]; !ok || i < r {
			g.rank[s] = i
		}
		g.slugs[s]++
	}
	// recent holds each distinct question once, where it was last asked.
	if q := strings.TrimSpace(t.Question); q != "" {
		if g.seen[q] {
			g.recent = slices.DeleteFunc(g.recent, func(x string) bool { return x == q })
		}
		g.seen[q] = true
		g.recent = append(g.recent, q)
	}
}

// finish picks the words shared by more than half the questions (the seed's at least), the
// most recent examples and the closest fichas.
func (g *Group) finish(cat Catalogue, examples int) Group {
	type kw struct {
		key, word string
		n         int
	}
	var kws []kw
	for k, ws := range g.words {
		n, best, bn := 0, "", 0
		for w, c := range ws {
			n += c
			if c > bn || c == bn && w < best {
				best, bn = w, c
			}
		}
		if 2*n > g.Count || g.seed[k] {
			kws = append(kws, kw{k, best, n})
		}
	}
	sort.Slice(kws, func(i, j int) bool {
		if kws[i].n != kws[j].n {
			return kws[i].n > kws[j].n
		}
		return kws[i].word < kws[j].word
	})
	for _, x := range kws {
		g.Words = append(g.Words, x.word)
	}
	for i := len(g.recent) - 1; i >= 0 && len(g.Examples) < examples; i-- {
		g.Examples = append(g.Examples, g.recent[i])
	}
	closest := counts(g.slugs)
	sort.SliceStable(closest, func(i, j int) bool {
		a, b := closest[i], closest[j]
		return a.Count > b.Count || a.Count == b.Count && g.rank[a.Key] < g.rank[b.Key]
	})
	for i, c := range closest {
		if i == 3 {
			break
		}
		g.Fichas = append(g.Fichas, ficha(cat, c.Key, c.Count))
	}
	return *g
}
