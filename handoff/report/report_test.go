package report_test

import (
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

// TestBuild reads a known history back as days in Santiago's time zone.
func TestBuild(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	yesterday := func(h, m int) time.Time {
		return today.AddDate(0, 0, -1).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	err = db.Tx(ctx, func(tx store.Tx) error {
		for _, c := range []*atiende.Conversation{{ID: "w1", Channel: "web"}, {ID: "w2", Channel: "web"}, {ID: "w3", Channel: "web"}, {ID: "s1", Channel: "sms", Address: "+56911112222"}} {
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
		}
		turns := []struct {
			conv string
			at   time.Time
			q    string
			out  atiende.Message
		}{
			{"w1", today.AddDate(0, 0, -20), "hace mucho", atiende.Message{Action: "answer", Fichas: []string{"bono-invierno"}, Score: 9}},
			{"w1", yesterday(9, 0), "bono invierno", atiende.Message{Action: "answer", Fichas: []string{"bono-invierno"}, Score: 9}},
			{"w1", yesterday(9, 5), "y cuanto es", atiende.Message{Action: "answer", Fichas: []string{"bono-invierno"}, Score: 9}},
			{"s1", yesterday(9, 30), "cuanto es la pgu", atiende.Message{Action: "answer", Fichas: []string{"pension-garantizada-universal"}, Score: 9}},
			{"w2", yesterday(10, 0), "kiero saber dl bono invierno", atiende.Message{Action: "clarify", Fichas: []string{"bono-invierno", "aguinaldo-navidad"}, Score: 5}},
			{"w3", yesterday(10, 30), "bono de invierno como lo cobro", atiende.Message{Action: "out_of_scope"}},
			{"w1", yesterday(11, 0), "licencia de conducir", atiende.Message{Action: "handoff", Reason: "repeated_failure"}},
			{"s1", today, "hola", atiende.Message{Action: "greet"}},
		}
		for _, tr := range turns {
			if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: tr.conv, Direction: atiende.Inbound, Text: tr.q, Processed: true, CreatedAt: tr.at}); err != nil {
				return err
			}
			out := tr.out
			out.ConversationID, out.Direction, out.Text, out.Processed, out.CreatedAt = tr.conv, atiende.Outbound, "respuesta a "+tr.q, true, tr.at.Add(time.Second)
			if err := tx.InsertMessage(ctx, &out); err != nil {
				return err
			}
		}
		for _, h := range []atiende.Handoff{
			{ConversationID: "s1", Reason: "request", Status: atiende.HandoffResolved, CreatedAt: yesterday(9, 40), AssignedAt: yesterday(9, 42), AgentID: 1},
			{ConversationID: "w1", Reason: "repeated_failure", Status: atiende.HandoffAssigned, CreatedAt: yesterday(11, 0), AssignedAt: yesterday(11, 10), AgentID: 1},
			{ConversationID: "w3", Reason: "repeated_failure", Status: atiende.HandoffAbandoned, CreatedAt: yesterday(10, 31), ClosedAt: yesterday(11, 1)},
		} {
			if err := tx.InsertHandoff(ctx, &h); err != nil {
				return err
			}
			if err := tx.UpdateHandoff(ctx, &h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ix := bundled(t)
	r, err := report.Build(ctx, db, ix, report.Options{Days: 14, Now: now, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Days) != 14 || r.Days[13].Date != today.Format(time.DateOnly) || !r.To.Equal(today.AddDate(0, 0, 1)) || r.TimeZone != "America/Santiago" {
		t.Fatalf("days: %d, last %s, to %v, zone %s", len(r.Days), r.Days[len(r.Days)-1].Date, r.To, r.TimeZone)
	}
	y, d := r.Days[12], r.Days[13]
	if !reflect.DeepEqual(y.Inbound, map[string]int{"web": 5, "sms": 1}) || y.Active != 4 || y.Handoffs != 3 || y.Rate != 0.75 {
		t.Errorf("yesterday: %+v", y)
	}
	if y.Taken != 2 || y.Median != 120 || y.P90 != 600 || y.Abandoned != 1 {
		t.Errorf("yesterday's waits: %+v", y.Waits)
	}
	if d.Messages != 1 || d.Started != 4 || d.Handoffs != 0 || d.Rate != 0 {
		t.Errorf("today: %+v", d)
	}
	if r.Total.Messages != 7 || r.Total.Handoffs != 3 || !reflect.DeepEqual(r.Channels, []string{"sms", "web"}) {
		t.Errorf("total: %+v, channels %v", r.Total, r.Channels)
	}
	if want := []report.Count{{"repeated_failure", 2}, {"request", 1}}; !reflect.DeepEqual(r.Reasons, want) {
		t.Errorf("reasons: %+v", r.Reasons)
	}
	if len(r.Fichas) != 2 || r.Fichas[0].Slug != "bono-invierno" || r.Fichas[0].Count != 2 || r.Fichas[0].Title == "" || r.Fichas[1].Count != 1 {
		t.Errorf("top fichas: %+v", r.Fichas)
	}
	if r.Unanswered != 3 || r.Truncated || len(r.Groups) != 2 || r.Groups[0].Count != 2 || r.Groups[0].Fichas[0].Slug != "bono-invierno" {
		t.Errorf("unanswered: %d, groups %+v", r.Unanswered, r.Groups)
	}
	// Thirty days reach the old turn; a low score bound adds the answers below it.
	r, err = report.Build(ctx, db, ix, report.Options{Days: 30, Now: now, Location: loc, LowScore: 10, MaxTurns: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Messages != 8 || r.Unanswered != 4 || !r.Truncated {
		t.Errorf("30 days: %d messages, %d unanswered, truncated %v", r.Total.Messages, r.Unanswered, r.Truncated)
	}
	for _, bad := range []report.Options{{Days: 91}, {Days: -1}, {LowScore: -1}} {
		if _, err := report.Build(ctx, db, ix, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		} else if bad.Days != 0 && !errors.Is(err, report.ErrDays) {
			t.Errorf("%+v: %v, want ErrDays", bad, err)
		}
	}
}

func TestGroupsCSVQuotesFormulas(t *testing.T) {
	r := &report.Report{Groups: []report.Group{{Count: 2, Words: []string{"bono"}, Examples: []string{"=HYPERLINK(\"http://x\")", "bono"},
		Actions: map[string]int{"out_of_scope": 1, "clarify": 1}}}}
	var b strings.Builder
	if err := r.WriteGroupsCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%q %v", rows, err)
	}
	if got := rows[1]; got[0] != "2" || got[2] != `'=HYPERLINK("http://x") | bono` || got[4] != "clarify=1 out_of_scope=1" {
		t.Errorf("row: %q", got)
	}
}

// TestBuildEmpty: a new installation has a report of empty days, not an error.
func TestBuildEmpty(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := report.Build(ctx, db, bundled(t), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Days) != report.DefaultDays || r.Total.Messages != 0 || r.Total.Rate != 0 || r.Total.Median != 0 || len(r.Groups) != 0 || len(r.Channels) != 0 {
		t.Errorf("empty report: %+v", r)
	}
	var b strings.Builder
	if err := r.WriteDaysCSV(&b); err != nil || strings.Count(b.String(), "\n") != report.DefaultDays+1 {
		t.Errorf("days csv of an empty report: %v %q", err, b.String())
	}
}
