package retrieval

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// SyntheticTopic marks the fichas Synthesize makes; the server refuses to serve them.
const SyntheticTopic = "sintetico"

// Synthesize makes n fichas for benchmarks: deterministic for a seed, realistic-looking
// (titles, summaries and items recombined from the real fichas' words and sentences) and
// valid. They are marked with SyntheticTopic and never served to citizens.
func Synthesize(real []*Ficha, n int, seed uint64) []*Ficha {
	if len(real) == 0 || n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var words []string
	var sentences []Item
	for _, f := range real {
		for _, w := range strings.Fields(f.Title) {
			if len(w) > 3 {
				words = append(words, strings.Trim(w, "(),."))
			}
		}
		for _, a := range []string{AspectRequisitos, AspectMonto, AspectDocumentos, AspectFechas, AspectCosto, AspectComo} {
			sentences = append(sentences, f.Sections.Items(a)...)
		}
	}
	pick := func() string { return words[rng.IntN(len(words))] }
	items := func(k int) []Item {
		out := make([]Item, 0, k)
		for range k {
			out = append(out, sentences[rng.IntN(len(sentences))])
		}
		return out
	}
	day := Date{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	out := make([]*Ficha, 0, n)
	for i := range n {
		base := real[rng.IntN(len(real))]
		title := fmt.Sprintf("%s %s %s", base.Title, pick(), pick())
		f := &Ficha{
			Slug:        fmt.Sprintf("sintetica-%d", i+1),
			Title:       title,
			Institution: real[rng.IntN(len(real))].Institution,
			Topics:      append([]string{SyntheticTopic}, base.Topics...),
			Summary:     base.Summary + " " + real[rng.IntN(len(real))].Summary,
			Keywords:    []string{strings.ToLower(pick()), strings.ToLower(pick() + " " + pick())},
			URL:         fmt.Sprintf("https://sintetico.atiende.invalid/fichas/%d", i+1),
			ValidFrom:   day,
			Reviewed:    day,
			Sections: Sections{
				Requisitos: items(1 + rng.IntN(4)),
				Monto:      items(rng.IntN(3)),
				Como:       &Como{Online: items(1 + rng.IntN(2)), Office: items(rng.IntN(2)), Phone: items(rng.IntN(2))},
				Documentos: items(rng.IntN(3)),
				Fechas:     items(rng.IntN(3)),
				Costo:      items(rng.IntN(2)),
			},
		}
		out = append(out, f)
	}
	return out
}
