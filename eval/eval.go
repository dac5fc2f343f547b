// Package eval runs evaluation cases (../shared/eval/FORMAT.md, docs/eval.md) through the
// dialogue engine and reports how well it did: retrieval hits, actions, aspects, the reply's
// content, handoffs and emergencies, SMS cost and latency, overall and by tag.
package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/retrieval"
)

// Case is one conversation to evaluate.
type Case struct {
	ID      string   `json:"id"`
	Channel string   `json:"channel,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Turns   []Turn   `json:"turns"`
}

// Turn is what the citizen writes and what is expected of the reply.
type Turn struct {
	User   string `json:"user"`
	Expect Expect `json:"expect"`
}

// Expect holds a turn's expectations; every field is optional.
type Expect struct {
	Action      Strings  `json:"action,omitempty"`
	Fichas      []string `json:"fichas,omitempty"`
	Aspect      string   `json:"aspect,omitempty"`
	ContainsAny []string `json:"contains_any,omitempty"`
	ContainsAll []string `json:"contains_all,omitempty"`
	NotContains []string `json:"not_contains,omitempty"`
}

// Strings is a JSON string or list of strings.
type Strings []string

// UnmarshalJSON accepts "x" or ["x", "y"].
func (s *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings")
	}
	*s = many
	return nil
}

var (
	actions = []string{bot.ActionGreet, bot.ActionAnswer, bot.ActionClarify, bot.ActionHandoff, bot.ActionEmergency,
		bot.ActionOutOfScope, bot.ActionOptout, bot.ActionGoodbye}
	aspects  = []string{"requisitos", "monto", "como", "documentos", "fechas", "costo", "general"}
	channelz = []string{"", bot.ChannelWeb, bot.ChannelSMS, bot.ChannelWhatsApp}
)

// CaseError is a case line that cannot be used.
type CaseError struct {
	File string
	Line int
	Msg  string
}

func (e *CaseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadCases reads JSON Lines cases. Blank lines are skipped; a line that does not parse, or
// that breaks the format, is an error with its line number.
func ReadCases(name string, r io.Reader) ([]Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	var cases []Case
	ids := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, &CaseError{name, n, "not a case: " + strings.TrimPrefix(err.Error(), "json: ")}
		}
		if msg := check(c); msg != "" {
			return nil, &CaseError{name, n, msg}
		}
		if prev, ok := ids[c.ID]; ok {
			return nil, &CaseError{name, n, fmt.Sprintf("id %q already used on line %d", c.ID, prev)}
		}
		ids[c.ID] = n
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, &CaseError{name, n + 1, err.Error()}
	}
	return cases, nil
}

func check(c Case) string {
	switch {
	case c.ID == "":
		return "id: required"
	case !slices.Contains(channelz, c.Channel):
		return fmt.Sprintf("channel: %q is not web, sms or whatsapp", c.Channel)
	case len(c.Turns) == 0:
		return "turns: at least one"
	}
	for i, t := range c.Turns {
		for _, a := range t.Expect.Action {
			if !slices.Contains(actions, a) {
				return fmt.Sprintf("turns[%d].expect.action: %q is not an action", i, a)
			}
		}
		if t.Expect.Aspect != "" && !slices.Contains(aspects, t.Expect.Aspect) {
			return fmt.Sprintf("turns[%d].expect.aspect: %q is not an aspect", i, t.Expect.Aspect)
		}
	}
	return ""
}

// Report is the outcome of an evaluation, as FORMAT.md specifies.
type Report struct {
	Cases            int     `json:"cases"`
	Turns            int     `json:"turns"`
	HitAt1           float64 `json:"hit_at_1"`
	HitAt3           float64 `json:"hit_at_3"`
	MRR              float64 `json:"mrr"`
	ActionAccuracy   float64 `json:"action_accuracy"`
	AspectAccuracy   float64 `json:"aspect_accuracy"`
	ContainsPass     float64 `json:"contains_pass"`
	HandoffPrecision float64 `json:"handoff_precision"`
	HandoffRecall    float64 `json:"handoff_recall"`
	EmergencyRecall  float64 `json:"emergency_recall"`
	// LookalikeAlarm is the share of turns of cases tagged "lookalike" (violent or deathly
	// words, no danger) whose reply gave the emergency lines.
	LookalikeAlarm float64 `json:"lookalike_alarm"`
	// OrdinaryAlarm is the share of the other turns that expect a ficha and no emergency (an
	// ordinary question, not a look-alike) whose reply gave the emergency lines.
	OrdinaryAlarm float64 `json:"ordinary_alarm"`
	// OtherAlarm is the share of the turns that expect neither a ficha nor an emergency
	// (off-topic, a greeting, a request for a person), not look-alikes, whose reply gave the
	// emergency lines.
	OtherAlarm float64 `json:"other_alarm"`
	// InScopeOutOfScope is the share of turns that expect a ficha and got "out_of_scope":
	// the citizen leaves with nothing though the catalogue has the answer.
	InScopeOutOfScope float64            `json:"in_scope_out_of_scope"`
	SMSSegmentsMean   float64            `json:"sms_segments_mean"`
	SMSUCS2Share      float64            `json:"sms_ucs2_share"`
	Latency           Latency            `json:"latency_ms"`
	ByTag             map[string]TagStat `json:"by_tag"`
	Failures          []Failure          `json:"failures"`
	// LLM counts the language model's answers used and discarded (only with a model).
	LLM *bot.WriterStats `json:"llm,omitempty"`
	// Judge counts the language model's second opinions (only with a model).
	Judge *bot.JudgeStats `json:"judge,omitempty"`
}

// Latency percentiles of one turn, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// TagStat breaks the main figures down for one tag. A figure is null when no turn of the
// tag had that expectation.
type TagStat struct {
	Turns          int      `json:"turns"`
	HitAt1         *float64 `json:"hit_at_1"`
	ActionAccuracy *float64 `json:"action_accuracy"`
	AspectAccuracy *float64 `json:"aspect_accuracy"`
}

// HitAt1Value is HitAt1, 0 when no turn of the tag expected a ficha.
func (s TagStat) HitAt1Value() float64 {
	if s.HitAt1 == nil {
		return 0
	}
	return *s.HitAt1
}

// Failure is one turn that missed an expectation.
type Failure struct {
	ID    string `json:"id"`
	Turn  int    `json:"turn"`
	Why   string `json:"why"`
	User  string `json:"user"`
	Reply string `json:"reply"`
}

// ratio counts successes over trials.
type ratio struct{ ok, n float64 }

func (r *ratio) add(ok bool) {
	r.n++
	if ok {
		r.ok++
	}
}

func (r ratio) value() float64 {
	if r.n == 0 {
		return 0
	}
	return round(r.ok / r.n)
}

// ptr is the value, or nil when there were no trials.
func (r ratio) ptr() *float64 {
	if r.n == 0 {
		return nil
	}
	v := r.value()
	return &v
}

func round(x float64) float64 { return math.Round(x*10000) / 10000 }

type tally struct {
	turns                      int
	hit1, hit3, action, aspect ratio
	contains                   ratio
	mrr                        float64
	mrrN                       int
}

// Run evaluates the cases on the engine. Each case is a fresh conversation.
func Run(ctx context.Context, e *bot.Engine, cases []Case) Report {
	var all tally
	tags := map[string]*tally{}
	var hoTP, hoFP, hoFN, emTP, emFN float64
	var alarms, ordinary, other, inScopeOOS ratio
	var segs, ucs2, smsN float64
	var lat []float64
	rep := Report{Cases: len(cases), Failures: []Failure{}}
	for _, c := range cases {
		channel := c.Channel
		if channel == "" {
			channel = bot.ChannelWeb
		}
		var st bot.State
		for i, t := range c.Turns {
			start := time.Now()
			var r bot.Reply
			r, st = e.Turn(ctx, st, t.User, channel)
			out := channels.Render(channel, r.Text)
			lat = append(lat, float64(time.Since(start).Microseconds())/1000)
			rep.Turns++
			if channel == bot.ChannelSMS {
				smsN++
				segs += float64(out.Segments)
				if out.Encoding == channels.UCS2 {
					ucs2++
				}
			}
			var why []string
			tt := []*tally{&all}
			for _, tag := range c.Tags {
				if tags[tag] == nil {
					tags[tag] = &tally{}
				}
				tt = append(tt, tags[tag])
			}
			for _, x := range tt {
				x.turns++
			}
			ex := t.Expect
			if len(ex.Fichas) > 0 {
				// A ficha merged into another is expected as the one that holds it now.
				canon := make([]string, len(ex.Fichas))
				for i, s := range ex.Fichas {
					canon[i] = e.Canonical(s)
				}
				ex.Fichas = canon
			}
			lines := len(r.Emergency) > 0 // the reply gave the emergency lines
			if slices.Contains(c.Tags, "lookalike") {
				alarms.add(lines)
			} else if len(ex.Fichas) > 0 && !slices.Contains(ex.Action, bot.ActionEmergency) {
				ordinary.add(lines)
			} else if len(ex.Fichas) == 0 && len(ex.Action) > 0 && !slices.Contains(ex.Action, bot.ActionEmergency) {
				other.add(lines)
			}
			if len(ex.Fichas) > 0 {
				inScopeOOS.add(r.Action == bot.ActionOutOfScope)
				h1 := slices.Contains(ex.Fichas, r.Ficha)
				rank := 0
				for j, h := range r.Fichas {
					if slices.Contains(ex.Fichas, h.Slug) {
						rank = j + 1
						break
					}
				}
				h3 := rank > 0 && rank <= 3
				for _, x := range tt {
					x.hit1.add(h1)
					x.hit3.add(h3)
					if rank > 0 {
						x.mrr += 1 / float64(rank)
					}
					x.mrrN++
				}
				if !h1 {
					got := r.Ficha
					if got == "" {
						got = "no ficha"
					}
					why = append(why, fmt.Sprintf("expected ficha %s got %s", strings.Join(ex.Fichas, "|"), got))
				}
			}
			if len(ex.Action) > 0 {
				ok := slices.Contains(ex.Action, r.Action)
				for _, x := range tt {
					x.action.add(ok)
				}
				if !ok {
					why = append(why, fmt.Sprintf("expected %s got %s", strings.Join(ex.Action, "|"), r.Action))
				}
				wantHO := slices.Contains(ex.Action, bot.ActionHandoff)
				gotHO := r.Action == bot.ActionHandoff
				switch {
				case wantHO && gotHO:
					hoTP++
				case gotHO && !wantHO:
					hoFP++
				case wantHO && !gotHO && len(ex.Action) == 1:
					hoFN++
				}
				// An emergency is recognised when the reply gives its lines, with or without
				// the answer to a question beside it.
				if slices.Contains(ex.Action, bot.ActionEmergency) && len(ex.Action) == 1 {
					if lines {
						emTP++
					} else {
						emFN++
					}
				}
			}
			if ex.Aspect != "" {
				ok := r.Aspect == ex.Aspect
				for _, x := range tt {
					x.aspect.add(ok)
				}
				if !ok {
					why = append(why, fmt.Sprintf("expected aspect %s got %s", ex.Aspect, r.Aspect))
				}
			}
			if len(ex.ContainsAny)+len(ex.ContainsAll)+len(ex.NotContains) > 0 {
				msg := checkText(out.Text, ex)
				all.contains.add(msg == "")
				if msg != "" {
					why = append(why, msg)
				}
			}
			if len(why) > 0 {
				rep.Failures = append(rep.Failures, Failure{ID: c.ID, Turn: i + 1, Why: strings.Join(why, "; "), User: t.User, Reply: out.Text})
			}
		}
	}
	rep.HitAt1, rep.HitAt3 = all.hit1.value(), all.hit3.value()
	if all.mrrN > 0 {
		rep.MRR = round(all.mrr / float64(all.mrrN))
	}
	rep.ActionAccuracy, rep.AspectAccuracy, rep.ContainsPass = all.action.value(), all.aspect.value(), all.contains.value()
	rep.HandoffPrecision = ratio{hoTP, hoTP + hoFP}.value()
	rep.HandoffRecall = ratio{hoTP, hoTP + hoFN}.value()
	rep.EmergencyRecall = ratio{emTP, emTP + emFN}.value()
	rep.LookalikeAlarm, rep.OrdinaryAlarm, rep.OtherAlarm, rep.InScopeOutOfScope = alarms.value(), ordinary.value(), other.value(), inScopeOOS.value()
	if smsN > 0 {
		rep.SMSSegmentsMean = round(segs / smsN)
		rep.SMSUCS2Share = round(ucs2 / smsN)
	}
	rep.Latency = latency(lat)
	rep.ByTag = map[string]TagStat{}
	for tag, x := range tags {
		rep.ByTag[tag] = TagStat{Turns: x.turns, HitAt1: x.hit1.ptr(), ActionAccuracy: x.action.ptr(), AspectAccuracy: x.aspect.ptr()}
	}
	return rep
}

func checkText(text string, ex Expect) string {
	t := retrieval.Fold(text)
	has := func(s string) bool { return strings.Contains(t, retrieval.Fold(s)) }
	if len(ex.ContainsAny) > 0 && !slices.ContainsFunc(ex.ContainsAny, has) {
		return fmt.Sprintf("reply contains none of %q", ex.ContainsAny)
	}
	for _, s := range ex.ContainsAll {
		if !has(s) {
			return fmt.Sprintf("reply lacks %q", s)
		}
	}
	for _, s := range ex.NotContains {
		if has(s) {
			return fmt.Sprintf("reply contains %q", s)
		}
	}
	return ""
}

func latency(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	sort.Float64s(ms)
	p := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(ms)))) - 1
		return math.Round(ms[max(0, min(i, len(ms)-1))]*1000) / 1000
	}
	return Latency{P50: p(0.50), P95: p(0.95), P99: p(0.99)}
}

// WriteText prints the report as a readable table.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "cases %d, turns %d\n\n", r.Cases, r.Turns)
	rows := []struct {
		name string
		v    float64
	}{
		{"hit@1", r.HitAt1}, {"hit@3", r.HitAt3}, {"MRR", r.MRR}, {"action accuracy", r.ActionAccuracy},
		{"aspect accuracy", r.AspectAccuracy}, {"contains pass", r.ContainsPass}, {"handoff precision", r.HandoffPrecision},
		{"handoff recall", r.HandoffRecall}, {"emergency recall", r.EmergencyRecall},
		{"look-alike alarms", r.LookalikeAlarm}, {"ordinary alarms", r.OrdinaryAlarm}, {"other alarms", r.OtherAlarm}, {"in scope → out", r.InScopeOutOfScope}, {"SMS segments (mean)", r.SMSSegmentsMean},
		{"SMS UCS-2 share", r.SMSUCS2Share},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-20s %8.3f\n", row.name, row.v)
	}
	fmt.Fprintf(w, "%-20s p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n\n", "latency", r.Latency.P50, r.Latency.P95, r.Latency.P99)
	if r.LLM != nil {
		fmt.Fprintf(w, "language model: %d calls, %d answers used, %d fallbacks %v\n\n", r.LLM.Calls, r.LLM.Used, r.LLM.Fallbacks, r.LLM.Reasons)
	}
	if r.Judge != nil {
		fmt.Fprintf(w, "second opinion: %d readings of danger (%d added an emergency), %d choices asked (%d made), %d errors\n\n",
			r.Judge.DangerCalls, r.Judge.Added, r.Judge.ChooseCalls, r.Judge.Chosen, r.Judge.Errors)
	}
	var tags []string
	for t := range r.ByTag {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	fmt.Fprintf(w, "%-18s %6s %8s %8s %8s\n", "tag", "turns", "hit@1", "action", "aspect")
	cell := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *v)
	}
	for _, t := range tags {
		s := r.ByTag[t]
		fmt.Fprintf(w, "%-18s %6d %8s %8s %8s\n", t, s.Turns, cell(s.HitAt1), cell(s.ActionAccuracy), cell(s.AspectAccuracy))
	}
	fmt.Fprintf(w, "\n%d failing turns\n", len(r.Failures))
	for _, f := range r.Failures {
		fmt.Fprintf(w, "- %s #%d %q: %s\n", f.ID, f.Turn, f.User, f.Why)
	}
}
