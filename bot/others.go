package bot

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/atiende/atiende/retrieval"
)

// minTitled is how many fichas' titles must begin with the word the citizen named for it to
// be a kind of the catalogue («Bono …», «Subsidio …», «Certificado …», «Programa …»), the
// share from which retrieval, too, takes a word of titles as naming a kind of thing. A word
// fewer titles begin with («Beneficio por Años Cotizados») names no kind: the options are
// then the fichas of the same topics.
const minTitled = 3

// others picks, after an answer about the ficha cur, the fichas a citizen asking for other
// things of a kind ("otros bonos", "hay otros beneficios?") may want, likeliest first, from
// the catalogue's structure rather than from the words alone:
//
//   - when the titles of several fichas begin with a word the citizen named, those fichas
//     (the other bonos, the other certificados); otherwise those that share a topic with cur;
//   - never cur itself, nor the fichas just offered (asking again shows the next ones);
//   - first those that share more of cur's topics, then those the search finds closest to cur
//     (its title and keywords as the question), then the rest in the catalogue's order.
func (e *Engine) others(ctx context.Context, cur *retrieval.Ficha, kind string, offered []string) []*retrieval.Ficha {
	skip := func(f *retrieval.Ficha) bool { return f.Slug == cur.Slug || slices.Contains(offered, f.Slug) }
	heads := map[string]bool{}
	for _, w := range retrieval.Words(kind) {
		if !retrieval.IsStopword(w) {
			heads[retrieval.Key(w)] = true
		}
	}
	var pool []*retrieval.Ficha
	titled := 0
	for _, f := range e.r.Fichas() {
		if w := retrieval.Words(f.Title); len(w) > 0 && heads[retrieval.Key(w[0])] {
			titled++
			if !skip(f) {
				pool = append(pool, f)
			}
		}
	}
	if titled < minTitled {
		pool = pool[:0]
		for _, f := range e.r.Fichas() {
			if shared(f, cur) > 0 && !skip(f) {
				pool = append(pool, f)
			}
		}
	}
	if len(pool) == 0 {
		return nil
	}
	slugs := make([]string, len(pool))
	for i, f := range pool {
		slugs[i] = f.Slug
	}
	near := map[string]int{}
	about := strings.Join(append([]string{cur.Title}, cur.Keywords...), " ")
	for i, r := range e.r.Find(ctx, retrieval.Query{Text: about, Only: slugs}, 0).Results {
		near[r.Ficha.Slug] = len(pool) - i
	}
	slices.SortStableFunc(pool, func(a, b *retrieval.Ficha) int {
		return cmp.Or(cmp.Compare(shared(b, cur), shared(a, cur)), cmp.Compare(near[b.Slug], near[a.Slug]))
	})
	return pool
}

// shared is how many topics two fichas have in common.
func shared(a, b *retrieval.Ficha) int {
	n := 0
	for _, t := range a.Topics {
		if slices.Contains(b.Topics, t) {
			n++
		}
	}
	return n
}

// offerOthers offers the fichas others picked, at most maxOptions, under a lead line that says
// they are besides the ficha just answered.
func (e *Engine) offerOthers(st State, cur *retrieval.Ficha, fichas []*retrieval.Ficha, aspect string, english bool) (Reply, State) {
	res := make([]retrieval.Result, 0, min(len(fichas), maxOptions))
	for _, f := range fichas[:min(len(fichas), maxOptions)] {
		res = append(res, retrieval.Result{Ficha: f})
	}
	r, st := e.clarify(st, res, aspect, english)
	r.Text = composeList(r.Options, msgBesides.with(cur.Title), msgChooseHow, english)
	return r, st
}
