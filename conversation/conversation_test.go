package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

// txCounter is the store with a count of its open transactions, so that a test can see
// whether the engine was asked inside one.
type txCounter struct {
	*sqlite.DB
	open atomic.Int32
}

func (s *txCounter) Tx(ctx context.Context, fn func(store.Tx) error) error {
	s.open.Add(1)
	defer s.open.Add(-1)
	return s.DB.Tx(ctx, fn)
}

// engine answers "re: <text>", counts its calls and notes whether a transaction was open
// during any of them. before, when set, runs at the start of every call.
type engine struct {
	st       *txCounter
	calls    atomic.Int32
	inTx     atomic.Bool
	reply    bot.Reply // Action, Handoff; Text is "re: <text>"
	before   func(call int32)
	inFlight atomic.Int32
	overlap  atomic.Bool
}

func (e *engine) Turn(ctx context.Context, st bot.State, text, channel string) (bot.Reply, bot.State) {
	n := e.calls.Add(1)
	if e.inFlight.Add(1) > 1 {
		e.overlap.Store(true)
	}
	defer e.inFlight.Add(-1)
	if e.st.open.Load() > 0 {
		e.inTx.Store(true)
	}
	if e.before != nil {
		e.before(n)
	}
	r := e.reply
	if r.Action == "" {
		r.Action = bot.ActionAnswer
	}
	if e.IsEmergency(text) {
		r = bot.Reply{Action: bot.ActionEmergency, Handoff: bot.ReasonEmergency}
	}
	r.Text = "re: " + text
	st.Turns++
	return r, st
}

func (e *engine) IsEmergency(text string) bool { return strings.Contains(text, "matar") }
func (e *engine) TopicOf(string) string        { return "" }

// handoffs holds the conversation while held is set.
type handoffs struct {
	held    atomic.Bool
	notice  string
	status  string // of the handoff Start opens
	started atomic.Int32
}

func (h *handoffs) Held(context.Context, store.Tx, *atiende.Conversation) (bool, error) {
	return h.held.Load(), nil
}

func (h *handoffs) Hold(context.Context, store.Tx, *atiende.Conversation) (bool, string, error) {
	if !h.held.Load() {
		return false, "", nil
	}
	return true, h.notice, nil
}

func (h *handoffs) Start(ctx context.Context, tx store.Tx, conv *atiende.Conversation, reason, topic string) (*atiende.Handoff, string, error) {
	h.started.Add(1)
	hf := &atiende.Handoff{ConversationID: conv.ID, Reason: reason, Priority: 1}
	if err := tx.InsertHandoff(ctx, hf); err != nil {
		return nil, "", err
	}
	if h.status != "" {
		hf.Status = h.status
	}
	return hf, "Le atenderá una persona.", nil
}

// channel is a web-like channel: every message new, shown as it is, delivered by
// recording it.
type channel struct {
	text, providerID string
	mu               sync.Mutex
	delivered        []string
}

func (c *channel) Next(context.Context, store.Tx, *atiende.Conversation) (*conversation.Inbound, error) {
	in := &conversation.Inbound{Text: c.text, ProviderID: c.providerID}
	if c.providerID != "" {
		in.ReplyProviderID = c.providerID + ":reply"
	}
	return in, nil
}

func (c *channel) Render(_ *atiende.Conversation, text string, _ bool) (string, []string) {
	return text, nil
}

func (c *channel) DeliverTx(_ context.Context, tx store.Tx, _ *atiende.Conversation, m *atiende.Message) error {
	text := m.Text
	tx.AfterCommit(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.delivered = append(c.delivered, text)
	})
	return nil
}

type bundle struct {
	store    *txCounter
	engine   *engine
	handoffs *handoffs
	core     *conversation.Core[store.Tx]
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &txCounter{DB: db}
	b := &bundle{store: st, engine: &engine{st: st}, handoffs: &handoffs{notice: "Está en la fila."}}
	b.core, err = conversation.New(conversation.Config[store.Tx]{Store: st, Engine: b.engine, Handoffs: b.handoffs, Attempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) conv(t *testing.T, id string) {
	t.Helper()
	if err := b.store.CreateConversation(context.Background(), &atiende.Conversation{ID: id, Channel: bot.ChannelWeb}); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) messages(t *testing.T, id string) []atiende.Message {
	t.Helper()
	ms, err := b.store.Messages(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestEngineOutsideTransaction: the engine is asked while no transaction is open, and the
// turn then writes the message, the reply, the new state and the delivery together.
func TestEngineOutsideTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	ch := &channel{text: "cuanto es la pgu"}
	res, err := b.core.Turn(context.Background(), "c1", ch)
	if err != nil {
		t.Fatal(err)
	}
	if b.engine.calls.Load() != 1 || b.engine.inTx.Load() {
		t.Errorf("engine calls %d, inside a transaction: %v; want 1, false", b.engine.calls.Load(), b.engine.inTx.Load())
	}
	if res.Text != "re: cuanto es la pgu" || res.Action != bot.ActionAnswer || res.Held || res.Message == nil {
		t.Errorf("result %+v", res)
	}
	ms := b.messages(t, "c1")
	if len(ms) != 2 || ms[0].Direction != atiende.Inbound || ms[0].Text != "cuanto es la pgu" || ms[1].Text != "re: cuanto es la pgu" {
		t.Errorf("stored %+v", ms)
	}
	if len(ch.delivered) != 1 || ch.delivered[0] != "re: cuanto es la pgu" {
		t.Errorf("delivered %q", ch.delivered)
	}
	conv, err := b.store.Conversation(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if conv.Version != 2 || !strings.Contains(string(conv.State), `"turns":1`) {
		t.Errorf("conversation after the turn: version %d, state %s", conv.Version, conv.State)
	}
}

// TestHoldAndEmergency: while a person holds the conversation the engine is not asked and
// the citizen gets the hold's notice; an emergency still breaks through, answered by the
// engine outside any transaction.
func TestHoldAndEmergency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	b.handoffs.held.Store(true)
	res, err := b.core.Turn(context.Background(), "c1", &channel{text: "hola?"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Held || res.Action != conversation.ActionHeld || res.Text != "Está en la fila." || b.engine.calls.Load() != 0 {
		t.Errorf("held: %+v, engine calls %d; want the notice and no engine", res, b.engine.calls.Load())
	}
	res, err = b.core.Turn(context.Background(), "c1", &channel{text: "me quiero matar"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Held || res.Action != bot.ActionEmergency || b.engine.calls.Load() != 1 || b.engine.inTx.Load() {
		t.Errorf("emergency while held: %+v, engine calls %d (in a transaction: %v); want the engine's answer, outside",
			res, b.engine.calls.Load(), b.engine.inTx.Load())
	}
	if !strings.HasPrefix(res.Text, "re: me quiero matar\n") || b.handoffs.started.Load() != 1 {
		t.Errorf("emergency reply %q, handoffs started %d; want the engine's words and the handoff's", res.Text, b.handoffs.started.Load())
	}
	if ms := b.messages(t, "c1"); len(ms) != 4 || ms[1].Action != conversation.ActionHeld || ms[3].Action != bot.ActionEmergency {
		t.Errorf("stored %+v", ms)
	}
}

// TestHoldTakenWhileEngineAnswers: a person takes the conversation while the engine is
// answering; the answer is not sent, the hold's notice is.
func TestHoldTakenWhileEngineAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	b.engine.before = func(int32) { b.handoffs.held.Store(true) }
	res, err := b.core.Turn(context.Background(), "c1", &channel{text: "hola"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Held || res.Text != "Está en la fila." {
		t.Errorf("result %+v; want the hold's notice", res)
	}
}

// TestRetryOnVersionConflict: another replica saves a turn of the conversation while the
// engine answers; the turn is read and answered again on the fresh state, and writes once.
func TestRetryOnVersionConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	ctx := context.Background()
	bump := func() {
		if err := b.store.DB.Tx(ctx, func(tx store.Tx) error {
			c, err := tx.Conversation(ctx, "c1")
			if err != nil {
				return err
			}
			c.State = []byte(`{"turns":41}`)
			return tx.UpdateConversation(ctx, c)
		}); err != nil {
			t.Error(err)
		}
	}
	b.engine.before = func(call int32) {
		if call == 1 {
			bump()
		}
	}
	res, err := b.core.Turn(ctx, "c1", &channel{text: "hola"})
	if err != nil {
		t.Fatal(err)
	}
	if b.engine.calls.Load() != 2 || res.Text != "re: hola" {
		t.Errorf("engine calls %d, result %+v; want the turn answered again", b.engine.calls.Load(), res)
	}
	conv, err := b.store.Conversation(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if conv.Version != 3 || !strings.Contains(string(conv.State), `"turns":42`) {
		t.Errorf("version %d state %s; want the other turn's state and this one on top", conv.Version, conv.State)
	}
	if ms := b.messages(t, "c1"); len(ms) != 2 {
		t.Errorf("stored %d messages, want the message and one reply", len(ms))
	}

	// A conversation that never stops changing gives up with ErrConflict, writing nothing.
	b.engine.before = func(int32) { bump() }
	_, err = b.core.Turn(ctx, "c1", &channel{text: "otra"})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("err = %v, want ErrConflict", err)
	}
	if ms := b.messages(t, "c1"); len(ms) != 2 {
		t.Errorf("stored %d messages after giving up, want 2", len(ms))
	}
}

// TestDuplicateMessage: a message whose provider id is stored is ErrDuplicate and writes
// nothing more.
func TestDuplicateMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	ch := &channel{text: "hola", providerID: "web:c1:1"}
	if _, err := b.core.Turn(context.Background(), "c1", ch); err != nil {
		t.Fatal(err)
	}
	if _, err := b.core.Turn(context.Background(), "c1", ch); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("err = %v, want ErrDuplicate", err)
	}
	if ms := b.messages(t, "c1"); len(ms) != 2 || ms[1].ProviderID != "web:c1:1:reply" {
		t.Errorf("stored %+v", ms)
	}
}

// TestHandoffText: a handoff's words follow the engine's; out of hours (callback) they
// replace them.
func TestHandoffText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, want string
	}{
		{atiende.HandoffQueued, "re: una persona\nLe atenderá una persona."},
		{atiende.HandoffCallback, "Le atenderá una persona."},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.conv(t, "c1")
			b.handoffs.status = tc.status
			b.engine.reply = bot.Reply{Action: bot.ActionHandoff, Handoff: bot.ReasonRequest}
			res, err := b.core.Turn(context.Background(), "c1", &channel{text: "una persona"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != tc.want || res.Message == nil || res.Message.Reason != bot.ReasonRequest {
				t.Errorf("result %+v, want %q", res, tc.want)
			}
		})
	}
}

// TestTurnsOfOneConversationInOrder: concurrent turns of one conversation run one at a
// time in the process: none overlaps in the engine and none conflicts.
func TestTurnsOfOneConversationInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := b.core.Turn(context.Background(), "c1", &channel{text: fmt.Sprint("pregunta ", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if b.engine.overlap.Load() || b.engine.calls.Load() != 8 {
		t.Errorf("overlapping turns: %v, engine calls %d; want none and 8", b.engine.overlap.Load(), b.engine.calls.Load())
	}
	if ms := b.messages(t, "c1"); len(ms) != 16 {
		t.Errorf("stored %d messages, want 16", len(ms))
	}
}

// TestEmergencyWithCallbackOpen: out of hours a citizen waits for a callback (the open
// handoff Start returns); an emergency then keeps the engine's lines, the callback's words
// after them.
func TestEmergencyWithCallbackOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	b.handoffs.held.Store(true)
	b.handoffs.status = atiende.HandoffCallback
	res, err := b.core.Turn(context.Background(), "c1", &channel{text: "me quiero matar"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != bot.ActionEmergency || res.Text != "re: me quiero matar\nLe atenderá una persona." {
		t.Errorf("result %+v; want the emergency's words, then the handoff's", res)
	}
}

// TestWaitingTurnHonoursItsContext: a turn waiting behind a slow turn of the same
// conversation stops waiting when its context ends (a webhook's deadline, a shutdown), with
// the context's error, and the slow turn still completes.
func TestWaitingTurnHonoursItsContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conv(t, "c1")
	inside, release := make(chan struct{}), make(chan struct{})
	b.engine.before = func(call int32) {
		if call == 1 {
			close(inside)
			<-release
		}
	}
	slow := make(chan error, 1)
	go func() {
		_, err := b.core.Turn(context.Background(), "c1", &channel{text: "primera"})
		slow <- err
	}()
	<-inside
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := b.core.Turn(ctx, "c1", &channel{text: "segunda"})
		waiting <- err
	}()
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiting turn: %v; want context.Canceled", err)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("the slow turn: %v", err)
	}
	if n := b.engine.calls.Load(); n != 1 {
		t.Errorf("engine asked %d times; want once (the cancelled turn never reached it)", n)
	}
}
