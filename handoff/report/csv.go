package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cell keeps a spreadsheet from reading text as a formula: what a citizen wrote may start
// with =, +, - or @.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// writeCSV writes the header and then the n rows that row makes; what names the table in
// errors.
func writeCSV(w io.Writer, what string, head []string, n int, row func(i int) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("%s csv: %w", what, err)
	}
	for i := range n {
		if err := cw.Write(row(i)); err != nil {
			return fmt.Errorf("%s csv: %w", what, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("%s csv: %w", what, err)
	}
	return nil
}

// WriteDaysCSV writes one row per day: the citizens' messages per channel and in all, the
// conversations, handoffs, handoff rate, waits (seconds) and abandoned handoffs.
func (r *Report) WriteDaysCSV(w io.Writer) error {
	head := []string{"date"}
	for _, c := range r.Channels {
		head = append(head, "messages_"+c)
	}
	head = append(head, "messages", "active_conversations", "started_conversations", "handoffs", "handoff_rate", "taken",
		"median_wait_s", "p90_wait_s", "abandoned", "still_waiting")
	return writeCSV(w, "days", head, len(r.Days), func(i int) []string {
		d := r.Days[i]
		row := []string{d.Date}
		for _, c := range r.Channels {
			row = append(row, strconv.Itoa(d.Inbound[c]))
		}
		return append(row, strconv.Itoa(d.Messages), strconv.Itoa(d.Active), strconv.Itoa(d.Started), strconv.Itoa(d.Handoffs),
			num(d.Rate), strconv.Itoa(d.Taken), num(d.Median), num(d.P90), strconv.Itoa(d.Abandoned), strconv.Itoa(d.Open))
	})
}

// WriteGroupsCSV writes one row per group of unanswered questions, largest first: how many,
// the key words, examples, the closest fichas and how the assistant replied.
func (r *Report) WriteGroupsCSV(w io.Writer) error {
	head := []string{"count", "words", "examples", "closest_fichas", "actions", "last"}
	return writeCSV(w, "groups", head, len(r.Groups), func(i int) []string {
		g := r.Groups[i]
		var fichas, actions []string
		for _, f := range g.Fichas {
			fichas = append(fichas, f.Slug)
		}
		for a, n := range g.Actions {
			actions = append(actions, a+"="+strconv.Itoa(n))
		}
		sort.Strings(actions)
		return []string{strconv.Itoa(g.Count), cell(strings.Join(g.Words, " ")), cell(strings.Join(g.Examples, " | ")),
			strings.Join(fichas, " "), strings.Join(actions, " "), g.Last.UTC().Format(time.RFC3339)}
	})
}
