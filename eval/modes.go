package eval

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/atiende/atiende/bot"
)

// Ranker ranks fichas (by slug, best first) for a citizen's text.
type Ranker func(ctx context.Context, text string) ([]string, error)

// ModeScore is how one ranking did on the cases' first turns that name their fichas.
type ModeScore struct {
	Mode  string  `json:"mode"`
	Turns int     `json:"turns"`
	Hit1  float64 `json:"hit_at_1"`
	Hit3  float64 `json:"hit_at_3"`
	MRR   float64 `json:"mrr"`
}

// CompareRankers scores each ranker, in the order of names, on the first turn of every case
// whose expectation names fichas: retrieval alone, before the engine's decisions. Later
// turns are left out because their meaning depends on the conversation's state.
func CompareRankers(ctx context.Context, cases []Case, names []string, rankers map[string]Ranker) ([]ModeScore, error) {
	var out []ModeScore
	for _, name := range names {
		rank := rankers[name]
		s := ModeScore{Mode: name}
		for _, c := range cases {
			if len(c.Turns) == 0 || len(c.Turns[0].Expect.Fichas) == 0 {
				continue
			}
			got, err := rank(ctx, c.Turns[0].User)
			if err != nil {
				return nil, fmt.Errorf("%s: case %s: %w", name, c.ID, err)
			}
			s.Turns++
			for i, slug := range got[:min(10, len(got))] {
				if slices.Contains(c.Turns[0].Expect.Fichas, slug) {
					if i == 0 {
						s.Hit1++
					}
					if i < 3 {
						s.Hit3++
					}
					s.MRR += 1 / float64(i+1)
					break
				}
			}
		}
		if s.Turns > 0 {
			s.Hit1 /= float64(s.Turns)
			s.Hit3 /= float64(s.Turns)
			s.MRR /= float64(s.Turns)
		}
		out = append(out, s)
	}
	return out, nil
}

// WriteModes prints the comparison as a table.
func WriteModes(w io.Writer, scores []ModeScore) {
	fmt.Fprintf(w, "%-8s %6s %8s %8s %6s\n", "mode", "turns", "hit@1", "hit@3", "MRR")
	for _, s := range scores {
		fmt.Fprintf(w, "%-8s %6d %8.3f %8.3f %6.3f\n", s.Mode, s.Turns, s.Hit1, s.Hit3, s.MRR)
	}
}

// Agreement is how often two engines (two retrieval paths) pick the same ficha.
type Agreement struct {
	Turns int     `json:"turns"`
	Same  int     `json:"same"`
	Rate  float64 `json:"rate"`
	// Differ lists the turns where they differ: "case#turn: text: a-slug vs b-slug".
	Differ []string `json:"differ"`
}

// Agree runs every case through both engines, each keeping its own conversation state, and
// compares the ficha each reply is grounded on, turn by turn ("" when a reply names none:
// two replies without a ficha agree).
func Agree(ctx context.Context, a, b *bot.Engine, cases []Case) Agreement {
	ag := Agreement{Differ: []string{}}
	for _, c := range cases {
		channel := cmp.Or(c.Channel, bot.ChannelWeb)
		var sa, sb bot.State
		for i, t := range c.Turns {
			var ra, rb bot.Reply
			ra, sa = a.Turn(ctx, sa, t.User, channel)
			rb, sb = b.Turn(ctx, sb, t.User, channel)
			ag.Turns++
			if ra.Ficha == rb.Ficha {
				ag.Same++
				continue
			}
			ag.Differ = append(ag.Differ, fmt.Sprintf("%s#%d: %q: %s vs %s", c.ID, i+1, t.User, cmp.Or(ra.Ficha, "none"), cmp.Or(rb.Ficha, "none")))
		}
	}
	if ag.Turns > 0 {
		ag.Rate = round(float64(ag.Same) / float64(ag.Turns))
	}
	return ag
}
