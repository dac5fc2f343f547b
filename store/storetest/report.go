package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
)

// reports exercises the aggregate queries of the reports over a small history: three
// conversations, turns an hour apart two days ago, one turn out of the range, handoffs that
// were taken and abandoned.
func reports(t *testing.T, setup func(t *testing.T) store.Store) {
	ctx := context.Background()
	h0 := time.Now().UTC().Truncate(time.Hour).Add(-48 * time.Hour)
	at := func(m int) time.Time { return h0.Add(time.Duration(m) * time.Minute) }
	type turn struct {
		conv     string
		min      int
		question string
		out      atiende.Message
	}
	fill := func(t *testing.T) store.Store {
		t.Helper()
		s := setup(t)
		for _, c := range []*atiende.Conversation{{ID: "w1", Channel: "web"}, {ID: "s1", Channel: "sms", Address: "+56911112222"}, {ID: "w2", Channel: "web"}} {
			if err := s.CreateConversation(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		turns := []turn{
			{"w2", -120, "viejo", atiende.Message{Action: "out_of_scope"}},
			{"w1", 10, "kiero saber dl bono invierno", atiende.Message{Action: "clarify", Fichas: []string{"bono-invierno", "bono-hijo"}, Score: 4.2}},
			{"w1", 20, "y cuanto es", atiende.Message{Action: "answer", Fichas: []string{"bono-invierno"}, Score: 9}},
			{"w1", 30, "y donde", atiende.Message{Action: "answer", Fichas: []string{"bono-invierno", "pgu"}, Score: 8}},
			{"s1", 70, "hola la pension", atiende.Message{Action: "answer", Fichas: []string{"pgu"}, Score: 2.5}},
			{"s1", 75, "quiero una persona", atiende.Message{Action: "handoff", Reason: "request"}},
			{"w2", 80, "no entiendo nada", atiende.Message{Action: "handoff", Reason: "repeated_failure", Fichas: []string{"licencia"}}},
		}
		err := s.Tx(ctx, func(tx store.Tx) error {
			for _, tr := range turns {
				in := &atiende.Message{ConversationID: tr.conv, Direction: atiende.Inbound, Text: tr.question, Processed: true, CreatedAt: at(tr.min)}
				if err := tx.InsertMessage(ctx, in); err != nil {
					return err
				}
				out := tr.out
				out.ConversationID, out.Direction, out.Text, out.Processed, out.CreatedAt = tr.conv, atiende.Outbound, "respuesta", true, at(tr.min).Add(time.Second)
				if err := tx.InsertMessage(ctx, &out); err != nil {
					return err
				}
			}
			// An agent's words are not the assistant's turns.
			if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: "s1", Direction: atiende.Outbound, Text: "hola, soy Ana", Action: "clarify",
				AgentID: 7, Processed: true, CreatedAt: at(85)}); err != nil {
				return err
			}
			for _, h := range []atiende.Handoff{
				{ConversationID: "w2", Reason: "repeated_failure", Status: atiende.HandoffResolved, Queue: "general", CreatedAt: at(-120)},
				{ConversationID: "s1", Reason: "request", Status: atiende.HandoffAssigned, Queue: "general", CreatedAt: at(75), AssignedAt: at(80), AgentID: 7},
				{ConversationID: "w2", Reason: "repeated_failure", Status: atiende.HandoffAbandoned, Queue: "general", CreatedAt: at(80), ClosedAt: at(110)},
			} {
				if err := tx.InsertHandoff(ctx, &h); err != nil {
					return err
				}
				if !h.AssignedAt.IsZero() || !h.ClosedAt.IsZero() {
					if err := tx.UpdateHandoff(ctx, &h); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	end := time.Now().UTC().Add(time.Hour)

	t.Run("ReportVolume", func(t *testing.T) {
		s := fill(t)
		// Buckets: before h0, the first hour, the second, the rest up to now.
		bounds := []time.Time{h0.Add(-3 * time.Hour), h0, h0.Add(time.Hour), h0.Add(2 * time.Hour), end}
		got, err := s.Volume(ctx, bounds)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.VolumeBucket{
			{Bucket: 0, Channel: "web", Inbound: 1, Active: 1, Handoffs: 1},
			{Bucket: 1, Channel: "web", Inbound: 3, Active: 1},
			{Bucket: 2, Channel: "sms", Inbound: 2, Active: 1, Handoffs: 1},
			{Bucket: 2, Channel: "web", Inbound: 1, Active: 1, Handoffs: 1},
			{Bucket: 3, Channel: "sms", Started: 1},
			{Bucket: 3, Channel: "web", Started: 2},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("volume\n got %+v\nwant %+v", got, want)
		}
		// Each bucket is half-open: the first hour alone.
		got, err = s.Volume(ctx, bounds[1:3])
		if err != nil || !reflect.DeepEqual(got, []store.VolumeBucket{{Bucket: 0, Channel: "web", Inbound: 3, Active: 1}}) {
			t.Errorf("first hour: %+v, %v", got, err)
		}
		for _, bad := range [][]time.Time{nil, {h0}, {h0, h0}, {h0.Add(time.Hour), h0}} {
			if _, err := s.Volume(ctx, bad); err == nil {
				t.Errorf("bounds %v: no error", bad)
			}
		}
	})

	t.Run("ReportHandoffWaits", func(t *testing.T) {
		s := fill(t)
		got, err := s.HandoffWaits(ctx, h0, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d handoffs, want 2 (the older one is out of range): %+v", len(got), got)
		}
		a, b := got[0], got[1]
		if a.Channel != "sms" || a.Reason != "request" || a.Status != atiende.HandoffAssigned || !a.CreatedAt.Equal(at(75)) || !a.AssignedAt.Equal(at(80)) || !a.ClosedAt.IsZero() {
			t.Errorf("first: %+v", a)
		}
		if b.Channel != "web" || b.Reason != "repeated_failure" || b.Status != atiende.HandoffAbandoned || !b.AssignedAt.IsZero() || !b.ClosedAt.Equal(at(110)) {
			t.Errorf("second: %+v", b)
		}
	})

	t.Run("ReportTopFichas", func(t *testing.T) {
		s := fill(t)
		got, err := s.TopFichas(ctx, h0, end, "answer", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.FichaCount{{Slug: "bono-invierno", Count: 2}, {Slug: "pgu", Count: 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("top fichas: got %+v, want %+v", got, want)
		}
		if got, _ := s.TopFichas(ctx, h0, end, "answer", 1); len(got) != 1 || got[0].Slug != "bono-invierno" {
			t.Errorf("limit 1: %+v", got)
		}
		if got, _ := s.TopFichas(ctx, h0, end, "clarify", 0); !reflect.DeepEqual(got, []store.FichaCount{{Slug: "bono-invierno", Count: 1}}) {
			t.Errorf("clarify (the agent's message not counted): %+v", got)
		}
	})

	t.Run("ReportUnanswered", func(t *testing.T) {
		s := fill(t)
		q := store.UnansweredQuery{From: h0, To: end, Actions: []string{"clarify", "out_of_scope"}, Reasons: []string{"repeated_failure"}, LowScore: 3, Limit: 10}
		got, err := s.Unanswered(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		type short struct {
			Conv, Channel, Question, Action, Reason string
			Score                                   float64
			Fichas                                  []string
		}
		var gs []short
		for _, u := range got {
			gs = append(gs, short{u.ConversationID, u.Channel, u.Question, u.Action, u.Reason, u.Score, u.Fichas})
			if u.MessageID == 0 || u.CreatedAt.IsZero() {
				t.Errorf("unanswered without id or time: %+v", u)
			}
		}
		want := []short{
			{"w1", "web", "kiero saber dl bono invierno", "clarify", "", 4.2, []string{"bono-invierno", "bono-hijo"}},
			{"s1", "sms", "hola la pension", "answer", "", 2.5, []string{"pgu"}},
			{"w2", "web", "no entiendo nada", "handoff", "repeated_failure", 0, []string{"licencia"}},
		}
		if !reflect.DeepEqual(gs, want) {
			t.Errorf("unanswered\n got %+v\nwant %+v", gs, want)
		}
		q.LowScore, q.Limit = 0, 0
		if got, _ := s.Unanswered(ctx, q); len(got) != 2 {
			t.Errorf("without a low score: %d turns, want 2", len(got))
		}
		q.Limit = 1
		if got, _ := s.Unanswered(ctx, q); len(got) != 1 || got[0].Question != "kiero saber dl bono invierno" {
			t.Errorf("limit 1: %+v", got)
		}
		q.From = h0.Add(-3 * time.Hour)
		q.Limit = 0
		if got, _ := s.Unanswered(ctx, q); len(got) != 3 || got[0].Question != "viejo" {
			t.Errorf("wider range: %+v", got)
		}
		// w1's third reply is word for word its second answer; the second followed a
		// clarification, and s1's answer is its conversation's first.
		q.From, q.Repeated = h0, true
		got, err = s.Unanswered(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[1].Question != "y donde" || got[1].Action != store.ActionRepeated || got[0].Action != "clarify" {
			t.Errorf("repeated answers: %+v", got)
		}
	})

	t.Run("MessageReasonAndScore", func(t *testing.T) {
		s := fill(t)
		ms, err := s.Messages(ctx, "w2", 0)
		if err != nil {
			t.Fatal(err)
		}
		last := ms[len(ms)-1]
		if last.Reason != "repeated_failure" || last.Action != "handoff" {
			t.Errorf("last message of w2: %+v", last)
		}
		ms, _ = s.Messages(ctx, "w1", 0)
		if ms[1].Score != 4.2 {
			t.Errorf("score: %+v", ms[1])
		}
	})
}

// agentRoles: an editor account is stored like the others; an unknown role is refused.
func agentRoles(t *testing.T, setup func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("AgentRoles", func(t *testing.T) {
		s := setup(t)
		err := s.Tx(ctx, func(tx store.Tx) error {
			for _, role := range []string{atiende.RoleAgent, atiende.RoleSupervisor, atiende.RoleEditor} {
				if err := tx.InsertAgent(ctx, &atiende.Agent{Username: role, Name: "Cuenta " + role, Role: role, PasswordHash: "x"}); err != nil {
					return err
				}
			}
			ed, err := tx.AgentByUsername(ctx, atiende.RoleEditor)
			if err != nil || ed.Role != atiende.RoleEditor {
				t.Errorf("editor: %+v %v", ed, err)
				return nil
			}
			return tx.InsertSession(ctx, &atiende.AgentSession{TokenHash: "e", AgentID: ed.ID, CSRF: "c", ExpiresAt: time.Now().Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(ctx, func(tx store.Tx) error {
			return tx.InsertAgent(ctx, &atiende.Agent{Username: "jefa", Name: "Jefa", Role: "boss", PasswordHash: "x"})
		})
		if err == nil {
			t.Error("an agent with role boss was stored")
		}
	})
}
