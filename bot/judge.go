package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atiende/atiende/retrieval"
)

// Judge is a language model asked for a second opinion (issue 14, item 6). It is optional:
// the engine reaches its targets without one.
//
//   - On emergencies it can only add one, never remove one: it is asked about a message the
//     engine is not sure is an emergency, and the kinds it names go at the top of the reply,
//     above the answer, as for any emergency the engine is unsure of. A sure emergency never
//     reaches it.
//   - Among the fichas the engine is unsure of, it may choose the one that answers; the
//     engine then answers it and offers the others beside it. It can only choose among the
//     candidates it was given.
type Judge interface {
	// Danger returns the kinds of emergency (EmergencySuicide, …) the citizen's message
	// speaks of; none for a message without danger.
	Danger(ctx context.Context, text string) ([]string, error)
	// Choose returns the ID of the candidate that answers the question, or "" for none.
	Choose(ctx context.Context, question string, candidates []Source) (string, error)
}

// JudgeStats counts the judge's outcomes since the engine started.
type JudgeStats struct {
	DangerCalls int `json:"danger_calls"`
	Added       int `json:"emergencies_added"`
	ChooseCalls int `json:"choose_calls"`
	Chosen      int `json:"chosen"`
	Errors      int `json:"errors"`
}

type judgeState struct {
	j       Judge
	timeout time.Duration
	mu      sync.Mutex
	stats   JudgeStats
}

// WithJudge makes the engine ask j for a second opinion, within timeout (0: 8 s).
func WithJudge(j Judge, timeout time.Duration) EngineOption {
	if timeout <= 0 {
		timeout = 8 * time.Second
	}
	return func(e *Engine) { e.judge = &judgeState{j: j, timeout: timeout} }
}

// JudgeStats returns the judge's counts (zero without a judge).
func (e *Engine) JudgeStats() JudgeStats {
	if e.judge == nil {
		return JudgeStats{}
	}
	e.judge.mu.Lock()
	defer e.judge.mu.Unlock()
	return e.judge.stats
}

func (js *judgeState) count(f func(*JudgeStats)) {
	js.mu.Lock()
	defer js.mu.Unlock()
	f(&js.stats)
}

// judgeMinWords: a message with fewer words other than function words ("1", "gracias", "y
// el monto?") is not sent for a second opinion on danger.
const judgeMinWords = 2

// askDanger starts the judge's reading of a message the engine is not sure is an emergency;
// the returned function waits for it and gives the kinds it adds (none on an error or a
// timeout: the engine's own reading stands). It runs beside the rest of the turn.
func (e *Engine) askDanger(ctx context.Context, text, norm string) func() []string {
	if e.judge == nil || contentWords(norm) < judgeMinWords {
		return func() []string { return nil }
	}
	js := e.judge
	cctx, cancel := context.WithTimeout(ctx, js.timeout)
	done := make(chan []string, 1)
	go func() {
		kinds, err := js.j.Danger(cctx, text)
		var out []string
		for _, k := range urgency { // only kinds the engine has lines for, most urgent first
			if slices.Contains(kinds, k) {
				out = append(out, k)
			}
		}
		js.count(func(s *JudgeStats) {
			s.DangerCalls++
			if err != nil || cctx.Err() != nil {
				s.Errors++
				out = nil
			} else if len(out) > 0 {
				s.Added++
			}
		})
		done <- out
	}()
	return func() []string {
		defer cancel()
		return <-done
	}
}

// contentWords counts the words of a normalised text other than function words.
func contentWords(norm string) int {
	n := 0
	for _, w := range strings.Fields(norm) {
		if !retrieval.IsStopword(w) {
			n++
		}
	}
	return n
}

// judgeChoice asks the judge which of the candidates the engine is unsure of answers the
// question, and returns the results with that one first; ok is false when the judge chose
// none, failed, or named something it was not given.
func (e *Engine) judgeChoice(tc turnCtx, res []retrieval.Result) ([]retrieval.Result, bool) {
	if e.judge == nil || tc.extractive || tc.injected || len(res) == 0 {
		return res, false
	}
	js := e.judge
	n := min(len(res), unsureOptions)
	cands := make([]Source, n)
	for i, r := range res[:n] {
		cands[i] = Source{ID: "F" + string(rune('1'+i)), Title: r.Ficha.Title, URL: r.Ficha.URL, Text: r.Ficha.Summary}
	}
	cctx, cancel := context.WithTimeout(tc.ctx, js.timeout)
	defer cancel()
	id, err := js.j.Choose(cctx, tc.text, cands)
	pick := -1
	for i, c := range cands {
		if c.ID == id {
			pick = i
		}
	}
	js.count(func(s *JudgeStats) {
		s.ChooseCalls++
		switch {
		case err != nil || cctx.Err() != nil:
			s.Errors++
			pick = -1
		case pick >= 0:
			s.Chosen++
		}
	})
	if pick < 0 {
		return res, false
	}
	out := append([]retrieval.Result{res[pick]}, res[:pick]...)
	return append(out, res[pick+1:]...), true
}
