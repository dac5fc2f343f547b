package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
)

// exerciseRetention checks Store.Anonymise: what it erases, what it keeps for statistics,
// that it leaves no work pending, spares recent conversations, and shares the work between
// concurrent callers.
func exerciseRetention(t *testing.T, setup func(t *testing.T) store.Store) {
	ctx := context.Background()
	// smsConversation writes a conversation the way the Twilio channel does: an answered
	// turn with a sent delivery, then a message still waiting for its turn with a pending
	// delivery before it, and an open handoff.
	smsConversation := func(t *testing.T, s store.Store, id, address string) {
		t.Helper()
		err := s.Tx(ctx, func(tx store.Tx) error {
			c := &atiende.Conversation{ID: id, Channel: "sms", Address: address, State: []byte(`{"slug":"pgu"}`), More: []string{"resto"}}
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			in := &atiende.Message{ConversationID: id, Direction: atiende.Inbound, Text: "mi rut es 12.345.678-5", ProviderID: "SMin-" + id, Processed: true}
			out := &atiende.Message{ConversationID: id, Direction: atiende.Outbound, Text: "la PGU es...", Action: "answer", Aspect: "monto", Fichas: []string{"pgu"}, Processed: true}
			for _, m := range []*atiende.Message{in, out} {
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
			}
			sent := &atiende.Delivery{MessageID: out.ID, ConversationID: id, Channel: "sms", To: address, Body: out.Text, Segments: 1}
			if err := tx.InsertDelivery(ctx, sent); err != nil {
				return err
			}
			sent.Status, sent.ProviderSID, sent.ErrorMessage = atiende.DeliverySent, "SMout-"+id, "nota de "+address
			if err := tx.UpdateDelivery(ctx, sent); err != nil {
				return err
			}
			if err := tx.InsertDelivery(ctx, &atiende.Delivery{MessageID: out.ID, ConversationID: id, Channel: "sms", To: address, Body: "parte 2"}); err != nil {
				return err
			}
			if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: id, Direction: atiende.Inbound, Text: "y mi caso?", ProviderID: "SMwait-" + id}); err != nil {
				return err
			}
			h := &atiende.Handoff{ConversationID: id, Reason: "personal_case", Status: atiende.HandoffQueued, Queue: "ips"}
			if err := tx.InsertHandoff(ctx, h); err != nil {
				return err
			}
			h.Note = "llamar al " + address
			return tx.UpdateHandoff(ctx, h)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// pause lets the clock pass a cutoff, whatever the store's time resolution.
	pause := func() time.Time {
		time.Sleep(20 * time.Millisecond)
		at := time.Now().UTC()
		time.Sleep(20 * time.Millisecond)
		return at
	}

	t.Run("AnonymiseErasesOldConversations", func(t *testing.T) {
		s := setup(t)
		smsConversation(t, s, "old", "+56911111111")
		smsConversation(t, s, "revived", "+56922222222")
		cutoff := pause()
		smsConversation(t, s, "new", "+56933333333")
		// An old conversation with a message after the cutoff is active: the webhook stores
		// the message before any turn updates the conversation.
		if err := s.Tx(ctx, func(tx store.Tx) error {
			return tx.InsertMessage(ctx, &atiende.Message{ConversationID: "revived", Direction: atiende.Inbound, Text: "hola de nuevo", ProviderID: "SMlate"})
		}); err != nil {
			t.Fatal(err)
		}
		before, err := s.Messages(ctx, "old", 0)
		if err != nil {
			t.Fatal(err)
		}

		n, err := s.Anonymise(ctx, cutoff)
		if err != nil || n != 1 {
			t.Fatalf("Anonymise = %d, %v; want 1 (only the old conversation)", n, err)
		}

		c, err := s.Conversation(ctx, "old")
		if err != nil {
			t.Fatalf("the anonymised conversation is gone: %v", err)
		}
		if c.Address != "" || len(c.TokenHash) != 0 || len(c.More) != 0 || !sameJSON(c.State, `{}`) {
			t.Errorf("conversation keeps identifying data: %+v", c)
		}
		err = s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.ConversationByAddress(ctx, "sms", "+56911111111"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("still found by address: %v", err)
			}
			if p, err := tx.PendingInbound(ctx, "old"); err != nil || len(p) != 0 {
				return fmt.Errorf("pending inbound left: %d %v", len(p), err)
			}
			if n, err := tx.UnsentBefore(ctx, "old", 1<<40); err != nil || n != 0 {
				return fmt.Errorf("unsent deliveries left: %d %v", n, err)
			}
			if _, err := tx.OpenHandoff(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("handoff still open: %v", err)
			}
			if _, err := tx.DeliveryByProviderSID(ctx, "SMout-old"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("delivery still found by provider sid: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		if _, err := s.MessageByProviderID(ctx, "SMin-old"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("message still found by provider id: %v", err)
		}
		after, err := s.Messages(ctx, "old", 0)
		if err != nil || len(after) != len(before) {
			t.Fatalf("messages: %d before, %d after (%v): the rows stay for statistics", len(before), len(after), err)
		}
		for i, m := range after {
			b := before[i]
			if m.Text != "" || m.ProviderID != "" {
				t.Errorf("message %d keeps its text or provider id: %+v", i, m)
			}
			if m.Direction != b.Direction || m.Action != b.Action || m.Aspect != b.Aspect || fmt.Sprint(m.Fichas) != fmt.Sprint(b.Fichas) || !m.CreatedAt.Equal(b.CreatedAt) {
				t.Errorf("message %d lost what statistics need: %+v, was %+v", i, m, b)
			}
		}
		ds, err := s.Deliveries(ctx, "old")
		if err != nil || len(ds) != 2 {
			t.Fatalf("deliveries: %+v %v", ds, err)
		}
		if ds[0].Status != atiende.DeliverySent || ds[0].Segments != 1 || ds[1].Status != atiende.DeliverySkipped {
			t.Errorf("delivery statuses: %s (%d segments), %s; want sent (1), skipped", ds[0].Status, ds[0].Segments, ds[1].Status)
		}
		for _, d := range ds {
			if d.Body != "" || d.To != "" || d.ProviderSID != "" || d.ErrorMessage != "" {
				t.Errorf("delivery keeps identifying data: %+v", d)
			}
		}
		hs, err := s.Handoffs(ctx, "old")
		if err != nil || len(hs) != 1 {
			t.Fatalf("handoffs: %+v %v", hs, err)
		}
		if h := hs[0]; h.Status != atiende.HandoffAbandoned || h.ClosedAt.IsZero() || h.Note != "" || h.Reason != "personal_case" || h.Queue != "ips" {
			t.Errorf("handoff: %+v; want abandoned, closed, without note, reason and queue kept", h)
		}

		for _, id := range []string{"new", "revived"} {
			c, err := s.Conversation(ctx, id)
			if err != nil || c.Address == "" || len(c.More) != 1 {
				t.Errorf("%s conversation touched: %+v %v", id, c, err)
			}
			ms, err := s.Messages(ctx, id, 0)
			if err != nil || len(ms) == 0 || ms[0].Text == "" {
				t.Errorf("%s messages touched: %+v %v", id, ms, err)
			}
			hs, err := s.Handoffs(ctx, id)
			if err != nil || len(hs) != 1 || hs[0].Status != atiende.HandoffQueued || hs[0].Note == "" {
				t.Errorf("%s handoff touched: %+v %v", id, hs, err)
			}
		}
		if n, err := s.Anonymise(ctx, cutoff); err != nil || n != 0 {
			t.Errorf("second run = %d, %v; want 0: a conversation is anonymised once", n, err)
		}
		// The citizen writes again: a new conversation, as for a new number.
		err = s.Tx(ctx, func(tx store.Tx) error {
			return tx.CreateConversation(ctx, &atiende.Conversation{ID: "old-again", Channel: "sms", Address: "+56911111111"})
		})
		if err != nil {
			t.Errorf("a new conversation for the anonymised address: %v", err)
		}
	})

	t.Run("AnonymiseConcurrently", func(t *testing.T) {
		s := setup(t)
		const conversations, callers = 40, 4
		for i := range conversations {
			smsConversation(t, s, fmt.Sprintf("c%02d", i), fmt.Sprintf("+5691000%04d", i))
		}
		cutoff := pause()
		var wg sync.WaitGroup
		counts := make([]int, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() { counts[i], errs[i] = s.Anonymise(ctx, cutoff) })
		}
		wg.Wait()
		total := 0
		for i := range callers {
			if errs[i] != nil {
				t.Errorf("caller %d: %v", i, errs[i])
			}
			total += counts[i]
		}
		if total != conversations {
			t.Errorf("anonymised %d conversations in all (%v); want each of the %d once", total, counts, conversations)
		}
	})
}
