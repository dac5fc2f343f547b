// Package report builds the report for supervisors and catalogue editors: volume by channel
// and day, the handoff rate and its reasons, how long handoffs waited for an agent, the fichas
// the assistant answered from most, and the questions it could not answer, grouped by their
// key words so that editors see which fichas are missing. The console renders it as a page
// with charts, JSON and CSV.
package report

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
)

// Source is the store's part the report reads: its four aggregate queries (package store
// says what each returns and its errors).
type Source interface {
	Volume(ctx context.Context, bounds []time.Time) ([]store.VolumeBucket, error)
	HandoffWaits(ctx context.Context, from, to time.Time) ([]store.HandoffWait, error)
	TopFichas(ctx context.Context, from, to time.Time, action string, limit int) ([]store.FichaCount, error)
	Unanswered(ctx context.Context, q store.UnansweredQuery) ([]store.UnansweredTurn, error)
}

// Catalogue gives the fichas (their titles, review dates and items) and the glossary's
// respelling of citizens' words.
type Catalogue interface {
	Ficha(slug string) (*retrieval.Ficha, bool)
	Fichas() []*retrieval.Ficha
	Normalize(text string) string
}

var _ Catalogue = (*retrieval.Live)(nil)

// Limits of Options.
const (
	MaxDays         = 90
	DefaultDays     = 14
	DefaultMaxTurns = 5000
)

// Errors of Build's options.
var (
	// ErrDays: Options.Days is out of range.
	ErrDays = fmt.Errorf("days must be between 1 and %d", MaxDays)
	// ErrLowScore: Options.LowScore is negative or not a number.
	ErrLowScore = errors.New("low score must be a number, 0 or more")
)

// Options say what to report on.
type Options struct {
	// Days is how many days, today included (default DefaultDays, at most MaxDays).
	Days int
	// Now is the end of today's data (default the current time).
	Now time.Time
	// Location is the time zone of the days (default UTC): the call center's.
	Location *time.Location
	// LowScore, when above 0, also counts as unanswered the answers whose best ficha scored
	// below it (retrieval's BM25F score; see docs/reports.md).
	LowScore float64
	// MaxTurns bounds the unanswered turns read (default DefaultMaxTurns); the report says
	// when it was reached.
	MaxTurns int
	// TopFichas is how many of the fichas shown most to list (default 10).
	TopFichas int
	// Examples is how many questions each group shows (default 3).
	Examples int
}

// Day is one day of the report, in Options.Location.
type Day struct {
	Date     string         `json:"date"` // 2006-01-02
	Inbound  map[string]int `json:"inbound"`
	Messages int            `json:"messages"` // citizens' messages, every channel
	Active   int            `json:"active"`   // conversations with a citizen's message
	Started  int            `json:"started"`  // conversations started
	Handoffs int            `json:"handoffs"`
	// Rate is Handoffs / Active: the share of the day's conversations handed to a person.
	Rate float64 `json:"handoff_rate"`
	Waits
}

// Waits is how long the handoffs requested in a period waited for the agent who took them.
type Waits struct {
	Taken     int     `json:"taken"`         // handoffs an agent claimed
	Median    float64 `json:"median_wait_s"` // seconds, nearest rank; 0 when none was taken
	P90       float64 `json:"p90_wait_s"`    // seconds, nearest rank
	Abandoned int     `json:"abandoned"`     // nobody took them in time
	Open      int     `json:"still_waiting"` // queued or waiting for a callback now
	waits     []time.Duration
}

// Count is a value and how many times it happened.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Ficha is a ficha of the catalogue and how many turns showed it.
type Ficha struct {
	Slug  string `json:"slug"`
	Title string `json:"title"` // "" when the catalogue no longer has it
	URL   string `json:"url"`
	Count int    `json:"count"`
}

// Stale is a ficha an editor should check: its review is older than StaleAfter, or one of
// its items is past its valid_until.
type Stale struct {
	Slug     string   `json:"slug"`
	Title    string   `json:"title"`
	URL      string   `json:"url"`
	Reviewed string   `json:"reviewed"` // YYYY-MM-DD, "" when never
	Why      []string `json:"why"`      // in Spanish, for the editor
	Asked    int      `json:"asked"`    // answers given from it in the period
}

// StaleAfter: a review older than this many months is due again.
const StaleAfter = 6

// Report is the whole report.
type Report struct {
	From     time.Time `json:"from"` // the first day's midnight
	To       time.Time `json:"to"`   // the midnight after the last day
	TimeZone string    `json:"time_zone"`
	Channels []string  `json:"channels"`
	Days     []Day     `json:"days"`
	Total    Day       `json:"total"` // Date empty; Active is the sum of the days'
	Reasons  []Count   `json:"handoff_reasons"`
	Fichas   []Ficha   `json:"top_fichas"`
	// Unanswered counts the turns that did not answer; Groups are those turns by question.
	Unanswered int     `json:"unanswered"`
	Truncated  bool    `json:"truncated"` // Options.MaxTurns was reached
	Groups     []Group `json:"unanswered_groups"`
	// Stale lists the fichas due for a check, the most asked first.
	Stale []Stale `json:"stale_fichas"`
}

// unanswered says which turns did not answer: a clarification (the question fit several
// fichas or none well), out of scope (nothing found, or not the catalogue's business), a
// handoff because the assistant failed twice, and an answer repeated word for word (the
// citizen asked again and got the same text: "otro bono" answered with the same bono).
func unanswered() store.UnansweredQuery {
	return store.UnansweredQuery{Actions: []string{bot.ActionClarify, bot.ActionOutOfScope}, Reasons: []string{bot.ReasonFailure}, Repeated: true}
}

// Build reads the report from the store.
func Build(ctx context.Context, src Source, cat Catalogue, o Options) (*Report, error) {
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Days < 1 || o.Days > MaxDays {
		return nil, ErrDays
	}
	if o.LowScore < 0 || math.IsNaN(o.LowScore) || math.IsInf(o.LowScore, 0) {
		return nil, ErrLowScore
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxTurns <= 0 {
		o.MaxTurns = DefaultMaxTurns
	}
	if o.TopFichas <= 0 {
		o.TopFichas = 10
	}
	if o.Examples <= 0 {
		o.Examples = 3
	}
	now := o.Now.In(o.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, o.Location)
	bounds := make([]time.Time, o.Days+1)
	for i := range bounds {
		// AddDate keeps midnight across daylight-saving changes.
		bounds[i] = today.AddDate(0, 0, i-o.Days+1)
	}
	from, to := bounds[0], bounds[o.Days]
	r := &Report{From: from, To: to, TimeZone: o.Location.String(), Days: make([]Day, o.Days)}
	for i := range r.Days {
		r.Days[i] = Day{Date: bounds[i].Format(time.DateOnly), Inbound: map[string]int{}}
	}
	r.Total.Inbound = map[string]int{}

	vol, err := src.Volume(ctx, bounds)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	channels := map[string]bool{}
	for _, v := range vol {
		if v.Bucket < 0 || v.Bucket >= o.Days {
			return nil, fmt.Errorf("report: volume: bucket %d of %d", v.Bucket, o.Days)
		}
		d := &r.Days[v.Bucket]
		channels[v.Channel] = true
		for _, x := range []*Day{d, &r.Total} {
			x.Inbound[v.Channel] += v.Inbound
			x.Messages += v.Inbound
			x.Active += v.Active
			x.Started += v.Started
			x.Handoffs += v.Handoffs
		}
	}
	for c := range channels {
		r.Channels = append(r.Channels, c)
	}
	sort.Strings(r.Channels)

	hs, err := src.HandoffWaits(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	reasons := map[string]int{}
	for _, h := range hs {
		reasons[h.Reason]++
		i := sort.Search(len(bounds), func(i int) bool { return bounds[i].After(h.CreatedAt) }) - 1
		if i < 0 || i >= o.Days {
			continue
		}
		for _, w := range []*Waits{&r.Days[i].Waits, &r.Total.Waits} {
			w.add(h)
		}
	}
	for i := range r.Days {
		r.Days[i].finish()
	}
	r.Total.finish()
	r.Reasons = counts(reasons)

	// Every ficha answered from, most first: the top ones are listed, and all of them say how
	// much a stale ficha is used.
	asked, err := src.TopFichas(ctx, from, to, bot.ActionAnswer, 0)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, f := range asked[:min(len(asked), o.TopFichas)] {
		r.Fichas = append(r.Fichas, ficha(cat, f.Slug, f.Count))
	}
	r.Stale = staleFichas(cat, asked, o.Now)

	q := unanswered()
	q.From, q.To, q.LowScore, q.Limit = from, to, o.LowScore, o.MaxTurns
	turns, err := src.Unanswered(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Unanswered, r.Truncated = len(turns), len(turns) == o.MaxTurns
	r.Groups = GroupTurns(turns, cat, o.Examples)
	return r, nil
}

func (w *Waits) add(h store.HandoffWait) {
	switch {
	case !h.AssignedAt.IsZero():
		w.Taken++
		w.waits = append(w.waits, h.AssignedAt.Sub(h.CreatedAt))
	case h.Status == atiende.HandoffAbandoned:
		w.Abandoned++
	case h.Status == atiende.HandoffQueued || h.Status == atiende.HandoffCallback:
		w.Open++
	}
}

func (d *Day) finish() {
	if d.Active > 0 {
		d.Rate = float64(d.Handoffs) / float64(d.Active)
	}
	slices.Sort(d.waits)
	d.Median, d.P90 = percentile(d.waits, 0.5).Seconds(), percentile(d.waits, 0.9).Seconds()
}

// percentile is the nearest-rank percentile of sorted durations; 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// counts sorts a tally: most first, then by key.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func ficha(cat Catalogue, slug string, n int) Ficha {
	f := Ficha{Slug: slug, Count: n}
	if x, ok := cat.Ficha(slug); ok {
		f.Title, f.URL = x.Title, x.URL
	}
	return f
}

// staleFichas lists the fichas whose review is older than StaleAfter months or that hold an
// item past its valid_until, the most asked first.
func staleFichas(cat Catalogue, asked []store.FichaCount, now time.Time) []Stale {
	n := make(map[string]int, len(asked))
	for _, a := range asked {
		n[a.Slug] = a.Count
	}
	due := now.AddDate(0, -StaleAfter, 0)
	out := []Stale{}
	for _, f := range cat.Fichas() {
		var why []string
		reviewed := ""
		if f.Reviewed.IsZero() {
			why = append(why, "nunca revisada")
		} else {
			reviewed = f.Reviewed.Format(time.DateOnly)
			if f.Reviewed.Before(due) {
				why = append(why, fmt.Sprintf("revisada hace más de %d meses", StaleAfter))
			}
		}
		for _, a := range []string{retrieval.AspectRequisitos, retrieval.AspectMonto, retrieval.AspectComo,
			retrieval.AspectDocumentos, retrieval.AspectFechas, retrieval.AspectCosto} {
			for _, it := range f.Sections.Items(a) {
				if it.Expired(now) {
					why = append(why, fmt.Sprintf("%s: un dato venció el %s", a, it.ValidUntil.Format(time.DateOnly)))
				}
			}
		}
		if len(why) > 0 {
			out = append(out, Stale{Slug: f.Slug, Title: f.Title, URL: f.URL, Reviewed: reviewed, Why: why, Asked: n[f.Slug]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Asked != out[j].Asked {
			return out[i].Asked > out[j].Asked
		}
		return out[i].Slug < out[j].Slug
	})
	return out
}
