// Package storetest is the conformance suite of store.Store: every implementation's tests
// call Exercise, so that all of them keep the same contract.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/atiende/atiende/store"
)

// Exercise runs the suite. open returns an empty store for one test; the suite closes it.
func Exercise(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	setup := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	newConv := func(t *testing.T, s store.Store, id string) *store.Conversation {
		t.Helper()
		c := &store.Conversation{ID: id, Channel: "web", TokenHash: []byte{1, 2, 3}}
		if err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	turn := func(c *store.Conversation, n int) *store.Turn {
		return &store.Turn{
			ConversationID: c.ID, Version: c.Version, State: json.RawMessage(fmt.Sprintf(`{"turns":%d}`, n)),
			In:  store.Message{Direction: store.Inbound, Text: fmt.Sprintf("pregunta %d", n), ProviderID: fmt.Sprintf("%s-in-%d", c.ID, n)},
			Out: store.Message{Direction: store.Outbound, Text: fmt.Sprintf("respuesta %d", n), Action: "answer", Aspect: "monto", Fichas: []string{"a", "b"}},
		}
	}

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
		if got.Channel != "web" || string(got.TokenHash) != string([]byte{1, 2, 3}) || string(got.State) != "{}" || got.Version != 1 {
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
		if err := s.CreateConversation(ctx, &store.Conversation{ID: "c1", Channel: "web"}); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("err = %v, want ErrDuplicate", err)
		}
	})

	t.Run("SaveTurn", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		tr := turn(c, 1)
		tr.Handoff = &store.Handoff{Reason: "request", Priority: 1}
		if err := s.SaveTurn(ctx, tr); err != nil {
			t.Fatal(err)
		}
		if tr.In.ID == 0 || tr.Out.ID <= tr.In.ID || tr.Handoff.ID == 0 || tr.Handoff.Status != store.HandoffQueued {
			t.Errorf("ids not set: in %d out %d handoff %+v", tr.In.ID, tr.Out.ID, tr.Handoff)
		}
		got, err := s.Conversation(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || string(got.State) != `{"turns":1}` {
			t.Errorf("after turn: version %d state %s", got.Version, got.State)
		}
		msgs, err := s.Messages(ctx, "c1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].Direction != store.Inbound || msgs[1].Text != "respuesta 1" || msgs[1].Action != "answer" ||
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
		if err := s.SaveTurn(ctx, turn(c, 1)); err != nil {
			t.Fatal(err)
		}
		stale := turn(c, 2) // still version 1
		if err := s.SaveTurn(ctx, stale); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		msgs, _ := s.Messages(ctx, "c1", 0)
		if len(msgs) != 2 {
			t.Errorf("a conflicting turn wrote messages: %d", len(msgs))
		}
	})

	t.Run("SaveTurnUnknownConversation", func(t *testing.T) {
		s := setup(t)
		if err := s.SaveTurn(ctx, turn(&store.Conversation{ID: "ghost", Version: 1}, 1)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("SaveTurnDuplicateProviderID", func(t *testing.T) {
		s := setup(t)
		c := newConv(t, s, "c1")
		if err := s.SaveTurn(ctx, turn(c, 1)); err != nil {
			t.Fatal(err)
		}
		c, _ = s.Conversation(ctx, "c1")
		again := turn(c, 1) // same provider id, fresh version
		again.Handoff = &store.Handoff{Reason: "request"}
		if err := s.SaveTurn(ctx, again); !errors.Is(err, store.ErrDuplicate) {
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
			if err := s.SaveTurn(ctx, turn(c, i)); err != nil {
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
				switch err := s.SaveTurn(ctx, tr); {
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
}
