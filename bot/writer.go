package bot

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/atiende/atiende/retrieval"
)

// Writer writes an answer in natural language from the sources it is given (a language
// model). The engine hands it only the retrieved fichas' sections, checks what comes back,
// and sends the extractive answer instead whenever the check fails.
type Writer interface {
	// Write returns the answer and the ids of the sources it used.
	Write(ctx context.Context, req WriteRequest) (text string, cited []string, err error)
}

// Source is one piece of a ficha the writer may use, with its id.
type Source struct {
	ID    string
	Title string
	URL   string
	Text  string
}

// WriteRequest is what the writer gets: the question, the last turns, the sources only.
type WriteRequest struct {
	Question string
	History  []string // the citizen's previous messages, oldest first
	Sources  []Source
	English  bool
	MaxChars int
}

// WriterStats counts the writer's outcomes since the engine started.
type WriterStats struct {
	Calls     int            `json:"calls"`
	Used      int            `json:"used"`
	Fallbacks int            `json:"fallbacks"`
	Reasons   map[string]int `json:"fallback_reasons"`
}

type writerState struct {
	w       Writer
	timeout time.Duration
	mu      sync.Mutex
	stats   WriterStats
}

// WithWriter makes the engine write its answers with w, within timeout (0: 8 s), checked.
func WithWriter(w Writer, timeout time.Duration) EngineOption {
	if timeout <= 0 {
		timeout = 8 * time.Second
	}
	return func(e *Engine) {
		e.writer = &writerState{w: w, timeout: timeout, stats: WriterStats{Reasons: map[string]int{}}}
	}
}

// WriterStats returns the writer's counts (zero without a writer).
func (e *Engine) WriterStats() WriterStats {
	if e.writer == nil {
		return WriterStats{Reasons: map[string]int{}}
	}
	e.writer.mu.Lock()
	defer e.writer.mu.Unlock()
	s := e.writer.stats
	s.Reasons = map[string]int{}
	for k, v := range e.writer.stats.Reasons {
		s.Reasons[k] = v
	}
	return s
}

func (ws *writerState) count(reason string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.stats.Calls++
	if reason == "" {
		ws.stats.Used++
		return
	}
	ws.stats.Fallbacks++
	ws.stats.Reasons[reason]++
}

// sources builds the writer's sources: the answered ficha's section (or summary), then the
// summaries of the next fichas retrieved.
func sources(f *retrieval.Ficha, aspect string, english bool, others []retrieval.Result, now time.Time) []Source {
	text := composeAnswer(f, aspect, english, 4000, now)
	out := []Source{{ID: "F1", Title: f.Title, URL: f.URL, Text: f.Summary + "\n" + text}}
	for _, r := range others {
		if r.Ficha.Slug == f.Slug || len(out) == 3 {
			continue
		}
		out = append(out, Source{ID: fmt.Sprintf("F%d", len(out)+1), Title: r.Ficha.Title, URL: r.Ficha.URL, Text: r.Ficha.Summary})
	}
	return out
}

var (
	numberRe = regexp.MustCompile(`\d[\d.,]*\d|\d`)
	linkRe   = regexp.MustCompile(`(?i)\bhttps?://[^\s)>\]]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cl|com|org|gob)\b(?:/[^\s)>\]]*)?`)
)

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// check says why a written answer may not be sent, or "" when it may: every source it cites
// was given, and every amount, date, number, percentage and link it states is in a cited
// source.
func check(text string, cited []string, given []Source, maxChars int) string {
	if strings.TrimSpace(text) == "" {
		return "empty"
	}
	if len([]rune(text)) > maxChars {
		return "too_long"
	}
	if len(cited) == 0 {
		return "no_citation"
	}
	var corpus strings.Builder
	for _, id := range cited {
		found := false
		for _, s := range given {
			if s.ID == id {
				found = true
				corpus.WriteString(s.Title + "\n" + s.URL + "\n" + s.Text + "\n")
			}
		}
		if !found {
			return "unknown_citation"
		}
	}
	src := corpus.String()
	var srcNumbers = map[string]bool{}
	for _, n := range numberRe.FindAllString(src, -1) {
		srcNumbers[digits(n)] = true
	}
	for _, n := range numberRe.FindAllString(text, -1) {
		if !srcNumbers[digits(n)] {
			return "unsupported_number"
		}
	}
	lowSrc := strings.ToLower(src)
	for _, l := range linkRe.FindAllString(text, -1) {
		l = strings.TrimRight(strings.ToLower(l), ".,;:")
		if !strings.Contains(lowSrc, strings.TrimPrefix(strings.TrimPrefix(l, "https://"), "http://")) {
			return "unsupported_link"
		}
	}
	return ""
}

// write asks the writer for the answer and returns it when it passes the check; otherwise
// the extractive text, with the reason.
func (e *Engine) write(ctx context.Context, f *retrieval.Ficha, aspect, question string, history []string, english bool, channel string,
	res []retrieval.Result, extractive string) (string, string) {
	ws := e.writer
	m := e.media[channel]
	max := cmp.Or(m.Written, m.Budget)
	srcs := sources(f, aspect, english, res, e.now())
	cctx, cancel := context.WithTimeout(ctx, ws.timeout)
	defer cancel()
	text, cited, err := ws.w.Write(cctx, WriteRequest{Question: question, History: history, Sources: srcs, English: english, MaxChars: max})
	reason := ""
	switch {
	case cctx.Err() != nil:
		reason = "timeout"
	case err != nil:
		reason = "error"
	default:
		if !strings.Contains(text, f.URL) {
			text = strings.TrimSpace(text) + "\n" + f.URL
		}
		reason = check(text, cited, srcs, max+len(f.URL)+1)
	}
	ws.count(reason)
	if reason != "" {
		return extractive, reason
	}
	return text, ""
}
