// Package storetest is the conformance suite of store.Store: every implementation's tests
// call Exercise, so that all of them keep the same contract.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
)

// sameJSON compares JSON by value: a store may keep it in another spacing (Postgres jsonb).
func sameJSON(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// turnRecord is what one turn of the conversation core (conversation/) writes: the
// citizen's message, the reply, the new state and, at times, a handoff.
type turnRecord struct {
	ConversationID string
	Version        int64
	State          json.RawMessage
	In, Out        atiende.Message
	Handoff        *atiende.Handoff
}

// saveTurn writes a turn's records through the Tx primitives, as the core's second
// transaction does (without the engine, the hold or a channel, which are the core's and
// tested there): the conversation's version must not have moved, and everything commits or
// nothing does.
func saveTurn(ctx context.Context, s store.Store, t *turnRecord) error {
	return s.Tx(ctx, func(tx store.Tx) error {
		c, err := tx.Conversation(ctx, t.ConversationID)
		if err != nil {
			return err
		}
		if c.Version != t.Version {
			return store.ErrConflict
		}
		c.State = t.State
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		for _, m := range []*atiende.Message{&t.In, &t.Out} {
			m.ConversationID, m.Processed = t.ConversationID, true
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		if t.Handoff != nil {
			t.Handoff.ConversationID = t.ConversationID
			return tx.InsertHandoff(ctx, t.Handoff)
		}
		return nil
	})
}

// Exercise runs the suite. open returns an empty store for one test; the suite closes it.
func Exercise(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	setup := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	newConv := func(t *testing.T, s store.Store, id string) *atiende.Conversation {
		t.Helper()
		c := &atiende.Conversation{ID: id, Channel: "web", TokenHash: []byte{1, 2, 3}}
		if err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	turn := func(c *atiende.Conversation, n int) *turnRecord {
		return &turnRecord{
			ConversationID: c.ID, Version: c.Version, State: json.RawMessage(fmt.Sprintf(`{"turns":%d}`, n)),
			In:  atiende.Message{Direction: atiende.Inbound, Text: fmt.Sprintf("pregunta %d", n), ProviderID: fmt.Sprintf("%s-in-%d", c.ID, n)},
			Out: atiende.Message{Direction: atiende.Outbound, Text: fmt.Sprintf("respuesta %d", n), Action: "answer", Aspect: "monto", Fichas: []string{"a", "b"}},
		}
	}

	reports(t, setup)
	agentRoles(t, setup)

	t.Run("ConversationRoundTrip", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		if c.Version != 1 || c.CreatedAt.IsZero() {
			t.Fatalf("created conversation: version %d, created %v", c.Version, c.CreatedAt)
		}
		got, err := s.Conversation(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Channel != "web" || string(got.TokenHash) != string([]byte{1, 2, 3}) || !sameJSON(got.State, "{}") || got.Version != 1 {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("ConversationNotFound", func(t *testing.T) {
		s := setup(t)
		if _, err := s.Conversation(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("ConversationDuplicateID", func(t *testing.T) {
		s := setup(t)
		newConv(t, s, "c1")
		if err := s.CreateConversation(ctx, &atiende.Conversation{ID: "c1", Channel: "web"}); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("err = %v, want ErrDuplicate", err)
		}
	})

	t.Run("SaveTurn", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		tr := turn(c, 1)
		tr.Handoff = &atiende.Handoff{Reason: "request", Priority: 1}
		if err := saveTurn(ctx, s, tr); err != nil {
			t.Fatal(err)
		}
		if tr.In.ID == 0 || tr.Out.ID <= tr.In.ID || tr.Handoff.ID == 0 || tr.Handoff.Status != atiende.HandoffQueued {
			t.Errorf("ids not set: in %d out %d handoff %+v", tr.In.ID, tr.Out.ID, tr.Handoff)
		}
		got, err := s.Conversation(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || !sameJSON(got.State, `{"turns":1}`) {
			t.Errorf("after turn: version %d state %s", got.Version, got.State)
		}
		msgs, err := s.Messages(ctx, "c1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].Direction != atiende.Inbound || msgs[1].Text != "respuesta 1" || msgs[1].Action != "answer" ||
			msgs[1].Aspect != "monto" || len(msgs[1].Fichas) != 2 || msgs[0].ProviderID != "c1-in-1" {
			t.Errorf("messages: %+v", msgs)
		}
		hs, err := s.Handoffs(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || hs[0].Reason != "request" || hs[0].Priority != 1 {
			t.Errorf("handoffs: %+v", hs)
		}
	})

	t.Run("SaveTurnStaleVersion", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		if err := saveTurn(ctx, s, turn(c, 1)); err != nil {
			t.Fatal(err)
		}
		stale := turn(c, 2) // still version 1
		if err := saveTurn(ctx, s, stale); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		msgs, _ := s.Messages(ctx, "c1", 0)
		if len(msgs) != 2 {
			t.Errorf("a conflicting turn wrote messages: %d", len(msgs))
		}
	})

	t.Run("SaveTurnUnknownConversation", func(t *testing.T) {
		s := setup(t)
		if err := saveTurn(ctx, s, turn(&atiende.Conversation{ID: "ghost", Version: 1}, 1)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("SaveTurnDuplicateProviderID", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		if err := saveTurn(ctx, s, turn(c, 1)); err != nil {
			t.Fatal(err)
		}
		c, _ = s.Conversation(ctx, "c1")
		again := turn(c, 1) // same provider id, fresh version
		again.Handoff = &atiende.Handoff{Reason: "request"}
		if err := saveTurn(ctx, s, again); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("err = %v, want ErrDuplicate", err)
		}
		got, _ := s.Conversation(ctx, "c1")
		msgs, _ := s.Messages(ctx, "c1", 0)
		hs, _ := s.Handoffs(ctx, "c1")
		if got.Version != 2 || len(msgs) != 2 || len(hs) != 0 {
			t.Errorf("a duplicate turn wrote something: version %d, %d messages, %d handoffs", got.Version, len(msgs), len(hs))
		}
		m, err := s.MessageByProviderID(ctx, "c1-in-1")
		if err != nil || m.Text != "pregunta 1" {
			t.Errorf("MessageByProviderID = %+v, %v", m, err)
		}
		if _, err := s.MessageByProviderID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("MessagesLimitKeepsLatest", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		for i := 1; i <= 5; i++ {
			if err := saveTurn(ctx, s, turn(c, i)); err != nil {
				t.Fatal(err)
			}
			c.Version++
		}
		msgs, err := s.Messages(ctx, "c1", 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 || msgs[0].Text != "respuesta 4" || msgs[2].Text != "respuesta 5" {
			t.Errorf("last 3 = %+v", msgs)
		}
	})

	t.Run("ConcurrentTurnsOneWins", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		var ok, conflict atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := turn(c, 100+i)
				switch err := saveTurn(ctx, s, tr); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrConflict):
					conflict.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || conflict.Load() != 7 {
			t.Errorf("ok %d, conflicts %d; want 1 and 7", ok.Load(), conflict.Load())
		}
	})

	t.Run("TxRollsBackOnError", func(t *testing.T) {
		s := setup(t)
		boom := errors.New("boom")
		err := s.Tx(ctx, func(tx store.Tx) error {
			if err := tx.CreateConversation(ctx, &atiende.Conversation{ID: "c1", Channel: "sms", Address: "+569"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if _, err := s.Conversation(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rolled-back conversation exists: %v", err)
		}
	})

	t.Run("AfterCommitOnlyOnCommit", func(t *testing.T) {
		s := setup(t)
		var ran []string
		boom := errors.New("boom")
		s.Tx(ctx, func(tx store.Tx) error {
			tx.AfterCommit(func() { ran = append(ran, "rolled back") })
			return boom
		})
		err := s.Tx(ctx, func(tx store.Tx) error {
			tx.AfterCommit(func() {
				// Committed: what the transaction wrote is there to read.
				_, err := s.Conversation(ctx, "c1")
				ran = append(ran, fmt.Sprintf("committed, conversation readable: %v", err == nil))
			})
			if len(ran) != 0 {
				t.Error("AfterCommit ran before the commit")
			}
			return tx.CreateConversation(ctx, &atiende.Conversation{ID: "c1", Channel: "sms", Address: "+569"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"committed, conversation readable: true"}; !slices.Equal(ran, want) {
			t.Errorf("ran %q, want %q", ran, want)
		}
	})
	t.Run("ConversationByAddressAndUpdate", func(t *testing.T) {
		s := setup(t)
		err := s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.ConversationByAddress(ctx, "sms", "+56911112222"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("before create: %v", err)
			}
			c := &atiende.Conversation{ID: "c1", Channel: "sms", Address: "+56911112222"}
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			got, err := tx.ConversationByAddress(ctx, "sms", "+56911112222")
			if err != nil {
				return err
			}
			got.OptOut, got.More, got.State = true, []string{"resto 1", "resto 2"}, json.RawMessage(`{"slug":"x"}`)
			if err := tx.UpdateConversation(ctx, got); err != nil {
				return err
			}
			if got.Version != 2 {
				return fmt.Errorf("version after update %d", got.Version)
			}
			stale := *got
			stale.Version = 1
			if err := tx.UpdateConversation(ctx, &stale); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("stale update: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Conversation(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if !c.OptOut || len(c.More) != 2 || c.More[1] != "resto 2" || !sameJSON(c.State, `{"slug":"x"}`) {
			t.Errorf("after update: %+v", c)
		}
	})

	t.Run("PendingInboundInProviderOrder", func(t *testing.T) {
		s := setup(t)
		t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		var ids []int64
		err := s.Tx(ctx, func(tx store.Tx) error {
			if err := tx.CreateConversation(ctx, &atiende.Conversation{ID: "c1", Channel: "sms", Address: "+569"}); err != nil {
				return err
			}
			// Arrive as b, a, c; stamped a < b < c.
			for _, m := range []atiende.Message{
				{Text: "b", ProviderID: "SMb", ProviderAt: t0.Add(2 * time.Second)},
				{Text: "a", ProviderID: "SMa", ProviderAt: t0.Add(1 * time.Second)},
				{Text: "c", ProviderID: "SMc"},
			} {
				m.ConversationID, m.Direction = "c1", atiende.Inbound
				m.CreatedAt = t0.Add(time.Duration(len(ids)+1) * time.Hour)
				if err := tx.InsertMessage(ctx, &m); err != nil {
					return err
				}
				ids = append(ids, m.ID)
			}
			dup := atiende.Message{ConversationID: "c1", Direction: atiende.Inbound, Text: "a again", ProviderID: "SMa"}
			if err := tx.InsertMessage(ctx, &dup); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("duplicate provider id: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(ctx, func(tx store.Tx) error {
			p, err := tx.PendingInbound(ctx, "c1")
			if err != nil {
				return err
			}
			if len(p) != 3 || p[0].Text != "a" || p[1].Text != "b" || p[2].Text != "c" {
				return fmt.Errorf("order %+v", p)
			}
			if err := tx.MarkProcessed(ctx, p[0].ID); err != nil {
				return err
			}
			if err := tx.SetProviderAt(ctx, p[2].ID, t0); err != nil {
				return err
			}
			p, err = tx.PendingInbound(ctx, "c1")
			if err != nil {
				return err
			}
			if len(p) != 2 || p[0].Text != "c" || p[1].Text != "b" {
				return fmt.Errorf("after processing a and stamping c first: %+v", p)
			}
			n, err := tx.CountInbound(ctx, "c1", t0.Add(90*time.Minute), t0.Add(150*time.Minute))
			if err != nil || n != 1 {
				return fmt.Errorf("count from 1h30 to 2h30: %d %v", n, err)
			}
			last, err := tx.LastInbound(ctx, "c1")
			if err != nil || !last.Equal(t0.Add(3*time.Hour)) {
				return fmt.Errorf("last inbound %v %v", last, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Deliveries", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		if err := saveTurn(ctx, s, turn(c, 1)); err != nil {
			t.Fatal(err)
		}
		msgs, _ := s.Messages(ctx, "c1", 0)
		var id int64
		err := s.Tx(ctx, func(tx store.Tx) error {
			d := &atiende.Delivery{MessageID: msgs[1].ID, ConversationID: "c1", Channel: "sms", To: "+569", Body: "hola", Segments: 1, Encoding: "GSM-7"}
			if err := tx.InsertDelivery(ctx, d); err != nil {
				return err
			}
			if d.Status != atiende.DeliveryPending || d.ID == 0 {
				return fmt.Errorf("inserted %+v", d)
			}
			id = d.ID
			d.Status, d.ProviderSID, d.Attempts = atiende.DeliverySent, "SM123", 1
			return tx.UpdateDelivery(ctx, d)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(ctx, func(tx store.Tx) error {
			d, err := tx.DeliveryByProviderSID(ctx, "SM123")
			if err != nil {
				return err
			}
			if d.ID != id || d.Status != atiende.DeliverySent || d.Attempts != 1 || d.Encoding != "GSM-7" {
				return fmt.Errorf("by sid: %+v", d)
			}
			later := &atiende.Delivery{MessageID: msgs[1].ID, ConversationID: "c1", Channel: "sms", To: "+569", Body: "chao"}
			if err := tx.InsertDelivery(ctx, later); err != nil {
				return err
			}
			if n, err := tx.UnsentBefore(ctx, "c1", later.ID); err != nil || n != 0 {
				return fmt.Errorf("unsent before a delivery after a sent one: %d %v", n, err)
			}
			again := &atiende.Delivery{MessageID: msgs[1].ID, ConversationID: "c1", Channel: "sms", To: "+569", Body: "otra"}
			if err := tx.InsertDelivery(ctx, again); err != nil {
				return err
			}
			if n, err := tx.UnsentBefore(ctx, "c1", again.ID); err != nil || n != 1 {
				return fmt.Errorf("unsent before: %d %v", n, err)
			}
			if _, err := tx.Delivery(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("unknown delivery: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := s.Deliveries(ctx, "c1")
		if err != nil || len(ds) != 3 || ds[0].ProviderSID != "SM123" {
			t.Errorf("deliveries: %+v %v", ds, err)
		}
	})

	t.Run("HandoffClaimedOnce", func(t *testing.T) {
		s := setup(t)
		newConv(t, s, "c1")
		h := &atiende.Handoff{ConversationID: "c1", Reason: "request", Queue: "general"}
		if err := s.Tx(ctx, func(tx store.Tx) error { return tx.InsertHandoff(ctx, h) }); err != nil {
			t.Fatal(err)
		}
		// Two agents claim at once: each reads the handoff, sees it queued, and takes it
		// unless it is taken already. Exactly one may win.
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for agent := int64(1); agent <= 2; agent++ {
			wg.Go(func() {
				err := s.Tx(ctx, func(tx store.Tx) error {
					got, err := tx.Handoff(ctx, h.ID)
					if err != nil {
						return err
					}
					if got.Status != atiende.HandoffQueued {
						return nil
					}
					time.Sleep(100 * time.Millisecond) // both read before either writes, unless reads wait
					got.Status, got.AgentID = atiende.HandoffAssigned, agent
					mu.Lock()
					won++
					mu.Unlock()
					return tx.UpdateHandoff(ctx, got)
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d agents took the handoff", won)
		}
	})
	t.Run("HandoffLifecycle", func(t *testing.T) {
		s := setup(t)
		for _, id := range []string{"c1", "c2", "c3"} {
			newConv(t, s, id)
		}
		err := s.Tx(ctx, func(tx store.Tx) error {
			for _, h := range []atiende.Handoff{
				{ConversationID: "c1", Reason: "request", Priority: 10, Queue: "salud"},
				{ConversationID: "c2", Reason: "emergency", Priority: 100, Queue: "salud"},
				{ConversationID: "c3", Reason: "request", Priority: 10, Status: atiende.HandoffCallback},
			} {
				if err := tx.InsertHandoff(ctx, &h); err != nil {
					return err
				}
			}
			q, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued)
			if err != nil {
				return err
			}
			if len(q) != 2 || q[0].ConversationID != "c2" || q[1].Queue != "salud" {
				return fmt.Errorf("queue order: %+v", q)
			}
			open, err := tx.OpenHandoff(ctx, "c1")
			if err != nil || !open.Open() {
				return fmt.Errorf("open handoff: %+v %v", open, err)
			}
			a := &atiende.Agent{Username: "maria", Name: "María José Pérez", PasswordHash: "x"}
			if err := tx.InsertAgent(ctx, a); err != nil {
				return err
			}
			if err := tx.InsertAgent(ctx, &atiende.Agent{Username: "maria", Name: "Otra", PasswordHash: "y"}); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("duplicate username: %v", err)
			}
			at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			open.Status, open.AgentID, open.AssignedAt = atiende.HandoffAssigned, a.ID, at
			open.Reason, open.Priority = "emergency", open.Priority+7 // an emergency told while waiting
			if err := tx.UpdateHandoff(ctx, open); err != nil {
				return err
			}
			got, err := tx.Handoff(ctx, open.ID)
			if err != nil || got.Status != atiende.HandoffAssigned || got.AgentID != a.ID || !got.AssignedAt.Equal(at) ||
				got.Reason != "emergency" || got.Priority != open.Priority {
				return fmt.Errorf("after claim: %+v %v", got, err)
			}
			got.Status, got.ClosedAt, got.Note = atiende.HandoffResolved, at.Add(time.Minute), "resuelto"
			if err := tx.UpdateHandoff(ctx, got); err != nil {
				return err
			}
			if _, err := tx.OpenHandoff(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("a resolved handoff is still open: %v", err)
			}
			byName, err := tx.AgentByUsername(ctx, "maria")
			if err != nil || byName.FirstName() != "María" || byName.Role != "agent" {
				return fmt.Errorf("agent: %+v %v", byName, err)
			}
			sess := &atiende.AgentSession{TokenHash: "h1", AgentID: a.ID, CSRF: "c", ExpiresAt: at.Add(time.Hour)}
			if err := tx.InsertSession(ctx, sess); err != nil {
				return err
			}
			if got, err := tx.SessionByTokenHash(ctx, "h1", at); err != nil || got.AgentID != a.ID {
				return fmt.Errorf("session: %+v %v", got, err)
			}
			if _, err := tx.SessionByTokenHash(ctx, "h1", at.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("expired session: %v", err)
			}
			if err := tx.DeleteSession(ctx, "h1"); err != nil {
				return err
			}
			if _, err := tx.SessionByTokenHash(ctx, "h1", at); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("deleted session: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	exerciseRetention(t, setup)
}
