package main

import (
	"context"
	"fmt"
	"io"
	iofs "io/fs"
	"slices"
	"strings"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
)

// followPair is a two-turn conversation built from held-out texts: a question about one
// ficha, then a second message, and the ficha the second message is about.
type followPair struct {
	first, second string
	firstFicha    string
	want          string // the second turn's ficha: the first's for a follow-up, another for a switch
}

// followUpPairs builds the held-out follow-ups: each held-out line of followups.tsv (what
// citizens write in the middle of a conversation, "y donde lo pido", "se puede por internet?")
// after a held-out question, which should stay on that question's ficha; and held-out
// questions after another ficha's, which should move to their own. The questions are
// spread over the fichas by a fixed stride, so the pairs are the same from run to run.
// A third set asks after a held-out question about another ficha by one of its keywords
// alone ("y pasaporte?"): a switch in the fewest words.
func followUpPairs(fsys iofs.FS, ix *retrieval.Index, questions []eval.Case, heldOut func(string) bool) (stay, move, named []followPair, err error) {
	data, err := iofs.ReadFile(fsys, "followups.tsv")
	if err != nil {
		return nil, nil, nil, err
	}
	var qs []eval.Case
	for _, c := range questions {
		if len(c.Turns) == 1 && len(c.Turns[0].Expect.Fichas) == 1 {
			qs = append(qs, c)
		}
	}
	if len(qs) < 2 {
		return nil, nil, nil, nil
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || !heldOut(line) {
			continue
		}
		q := qs[(n*7919)%len(qs)]
		n++
		f := q.Turns[0].Expect.Fichas[0]
		stay = append(stay, followPair{first: q.Turns[0].User, second: line, firstFicha: f, want: f})
	}
	for i := 0; i < len(qs) && len(move) < 400; i += 3 {
		a, b := qs[i], qs[(i*104729+1)%len(qs)]
		fa, fb := a.Turns[0].Expect.Fichas[0], b.Turns[0].Expect.Fichas[0]
		if fa == fb {
			continue
		}
		move = append(move, followPair{first: a.Turns[0].User, second: b.Turns[0].User, firstFicha: fa, want: fb})
		if f, ok := ix.Ficha(fb); ok && len(f.Keywords) > 0 {
			named = append(named, followPair{first: a.Turns[0].User, second: "y " + f.Keywords[len(move)%len(f.Keywords)] + "?", firstFicha: fa, want: fb})
		}
	}
	return stay, move, named, nil
}

// followScore runs each pair through the engine and counts, among the pairs whose first turn
// found its ficha, the second turns that found theirs, and those that went to another ficha.
func followScore(ctx context.Context, e *bot.Engine, pairs []followPair) (first, right, other int, wrong []string) {
	for _, p := range pairs {
		r1, st := e.Turn(ctx, bot.State{}, p.first, bot.ChannelWeb)
		if r1.Ficha != p.firstFicha {
			continue
		}
		first++
		r2, _ := e.Turn(ctx, st, p.second, bot.ChannelWeb)
		switch {
		case r2.Ficha == p.want:
			right++
		case r2.Ficha != "":
			other++
			wrong = append(wrong, fmt.Sprintf("%q after %s: %s, want %s", p.second, p.firstFicha, r2.Ficha, p.want))
		default:
			wrong = append(wrong, fmt.Sprintf("%q after %s: %s, want %s", p.second, p.firstFicha, r2.Action, p.want))
		}
	}
	return first, right, other, wrong
}

// writeFollowDev reports the held-out follow-ups (followUpPairs) on the engine.
func writeFollowDev(ctx context.Context, w io.Writer, e *bot.Engine, stay, move, named []followPair, verbose bool) {
	for _, s := range []struct {
		name  string
		pairs []followPair
	}{{"follow-ups that stay", stay}, {"questions that move on", move}, {"keywords that move on", named}} {
		first, right, other, wrong := followScore(ctx, e, s.pairs)
		if first == 0 {
			continue
		}
		fmt.Fprintf(w, "held-out %s: %d pairs, first turn right in %d; second turn right %.3f, another ficha %.3f\n",
			s.name, len(s.pairs), first, float64(right)/float64(first), float64(other)/float64(first))
		if verbose {
			for _, x := range wrong {
				fmt.Fprintln(w, "  - "+x)
			}
		}
	}
}

// writeSeeAlsoDev reports, on the held-out questions, how often an answer names a second
// ficha below it (bot.Reply.Also), and whether that helped: the answered ficha was wrong and
// the one named below right (a citizen one tap from the answer), or the answer was right and
// the line is only more to read.
func writeSeeAlsoDev(ctx context.Context, w io.Writer, e *bot.Engine, cases []eval.Case) {
	var answers, fired, rescued, noise, wrongNone int
	for _, c := range cases {
		want := c.Turns[0].Expect.Fichas
		if len(want) == 0 || !slices.Contains(c.Tags, "dev-question") {
			continue
		}
		r, _ := e.Turn(ctx, bot.State{}, c.Turns[0].User, bot.ChannelWeb)
		if r.Action != bot.ActionAnswer || r.Ficha == "" {
			continue
		}
		answers++
		right := slices.Contains(want, e.Canonical(r.Ficha))
		switch {
		case r.Also == nil:
			if !right {
				wrongNone++
			}
		case right:
			fired++
			noise++
		default:
			fired++
			if slices.Contains(want, e.Canonical(r.Also.Slug)) {
				rescued++
			}
		}
	}
	fmt.Fprintf(w, "see also: %d of %d held-out answers name a second ficha; the answer wrong and the second right in %d, the answer right in %d; wrong answers with none named: %d\n",
		fired, answers, rescued, noise, wrongNone)
}
