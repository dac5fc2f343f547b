// Package conversation is the conversation core: one citizen message's life, written once
// for every channel. It keeps the turns of a conversation in order (a striped lock in the
// process, the conversation's version across processes), keeps the engine silent while a
// person holds the conversation (emergencies still break through), asks the engine outside
// any database transaction, opens the handoff the reply asks for, writes the reply and the
// new state, and hands the reply to the channel's delivery, all in one transaction.
//
// A channel (channels/web, channels/twilio) is an adapter: it parses and authenticates the
// request, then calls Core.Turn with a Channel that says which message the turn is for,
// renders text for the channel and delivers it (docs/architecture.md).
package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/store"
)

// Tx is what the core does in a turn's transaction (store.Tx has the error contract).
//
// The core passes the transaction on to the handoff service and to the channel, which do
// more in it (open a handoff, count messages, enqueue a delivery's job). So the core is
// generic in the transaction's type T: it asks of T only these methods, and hands the same
// T to its Handoffs and its Channel, which ask of it what they need. cmd/atiende builds a
// Core[store.Tx]; the compiler checks there that store.Tx has every method each part asks.
type Tx interface {
	// Conversation returns the conversation, or store.ErrNotFound.
	Conversation(ctx context.Context, id string) (*atiende.Conversation, error)
	// UpdateConversation writes State, OptOut and More if the stored version is still
	// c.Version, and bumps it; otherwise store.ErrConflict.
	UpdateConversation(ctx context.Context, c *atiende.Conversation) error
	// InsertMessage stores a message and sets its ID; store.ErrDuplicate when its provider
	// id is already stored.
	InsertMessage(ctx context.Context, m *atiende.Message) error
	// MarkProcessed records that an inbound message had its turn.
	MarkProcessed(ctx context.Context, messageID int64) error
}

// Store is what the core needs of the store: its transactions, of type T.
type Store[T Tx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
}

// Engine is what the core needs of the dialogue engine (bot.Engine).
type Engine interface {
	// Turn answers the text in the conversation's state; it never fails.
	Turn(ctx context.Context, st bot.State, text, channel string) (bot.Reply, bot.State)
	// IsEmergency reports whether the text is an emergency: it breaks through a person's hold.
	IsEmergency(text string) bool
	// TopicOf is the topic of a ficha, which chooses the handoff's queue.
	TopicOf(slug string) string
}

var _ Engine = (*bot.Engine)(nil)

// Handoffs is what the core needs of the handoff service (handoff.Service), in the turn's
// transaction T.
type Handoffs[T any] interface {
	// Held reports whether a person holds the conversation, writing nothing.
	Held(ctx context.Context, tx T, conv *atiende.Conversation) (bool, error)
	// Hold reports whether a person holds the conversation (the engine stays silent) and
	// what to tell the citizen, if anything; it may record that the citizen was told.
	Hold(ctx context.Context, tx T, conv *atiende.Conversation) (bool, string, error)
	// Start opens a handoff in the transaction (or returns the open one) and what to tell
	// the citizen.
	Start(ctx context.Context, tx T, conv *atiende.Conversation, reason, topic string) (*atiende.Handoff, string, error)
}

// Channel is the adapter a message came on, as one turn needs it, in the turn's
// transaction T.
type Channel[T any] interface {
	// Next returns, in the turn's transaction, the message the turn is for, or nil when
	// none waits (the turn is then Done). It may refuse the message with an error, which
	// the turn returns, writing nothing. Next may be called more than once for one turn
	// (the engine is asked between two transactions) and must answer from what tx reads.
	Next(ctx context.Context, tx T, conv *atiende.Conversation) (*Inbound, error)
	// Render turns text into what the channel sends first, and the parts it holds back
	// for later (SMS and WhatsApp: MAS); whole asks for all of it at once.
	Render(conv *atiende.Conversation, text string, whole bool) (first string, more []string)
	// DeliverTx hands the stored reply to the channel's delivery, in the transaction
	// (SMS: a delivery and its job). A channel that answers in the request (the web chat)
	// does nothing.
	DeliverTx(ctx context.Context, tx T, conv *atiende.Conversation, m *atiende.Message) error
}

// Inbound is a citizen's message as the core handles it.
type Inbound struct {
	// ID is the message's id when it is already stored and waits for its turn (SMS: the
	// webhook stored it); 0 when the turn stores it (the web chat).
	ID   int64
	Text string
	// ProviderID, for a message the turn stores, makes it unique: a second turn of the same
	// message fails with store.ErrDuplicate and writes nothing. ReplyProviderID is the
	// reply's, so that a retry finds it.
	ProviderID, ReplyProviderID string
	// Waiting is how many messages of the conversation wait after this one (SMS).
	Waiting int
	// Note goes before the engine's reply (SMS: that photos cannot be read).
	Note string
	// Answer, when set, is the channel's own answer (SMS: an opt-out, the rate limit, MAS):
	// neither the hold nor the engine is asked.
	Answer *Answer
}

// Answer is a reply a channel gives by itself; an empty Text answers nothing.
type Answer struct {
	Text, Action, Aspect string
}

// Result is what one turn did.
type Result struct {
	// Done: no message waited; nothing was written.
	Done bool
	// Waiting is how many messages of the conversation waited after this one.
	Waiting int
	// Held: a person holds the conversation; the engine was not asked.
	Held bool
	// Reply is the engine's reply (zero when held or answered by the channel).
	Reply bot.Reply
	// Text is what the citizen is told ("" for nothing), as stored.
	Text   string
	Action string
	// Message is the reply stored; nil when nothing is said.
	Message *atiende.Message
}

// ActionHeld marks the reply given while a person holds the conversation.
const ActionHeld = "held"

// Config is what the core needs.
type Config[T Tx] struct {
	Store    Store[T]
	Engine   Engine
	Handoffs Handoffs[T]
	// Logger; nil logs nothing.
	Logger *slog.Logger
	// Attempts bounds how often a turn is redone when the conversation changed under it
	// (another replica's turn); default 20.
	Attempts int
}

// Core runs the turns of every conversation, in transactions of type T.
type Core[T Tx] struct {
	store    Store[T]
	engine   Engine
	handoffs Handoffs[T]
	log      *slog.Logger
	attempts int
	// locks keeps the turns of one conversation one at a time in this process: a slot of
	// one token per stripe, taken with a select so that a caller whose context ends (a
	// webhook's deadline, a shutdown) stops waiting behind a slow turn.
	locks [256]chan struct{}
}

// New builds the core.
func New[T Tx](cfg Config[T]) (*Core[T], error) {
	if cfg.Store == nil || cfg.Engine == nil || cfg.Handoffs == nil {
		return nil, errors.New("conversation: Store, Engine and Handoffs are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 20
	}
	c := &Core[T]{store: cfg.Store, engine: cfg.Engine, handoffs: cfg.Handoffs, log: cfg.Logger, attempts: cfg.Attempts}
	for i := range c.locks {
		c.locks[i] = make(chan struct{}, 1)
	}
	return c, nil
}

// lock waits for the turn of the conversation id in this process, or for ctx to end; the
// function it returns gives the turn back.
func (c *Core[T]) lock(ctx context.Context, id string) (unlock func(), err error) {
	h := fnv.New32a()
	h.Write([]byte(id))
	slot := c.locks[h.Sum32()%uint32(len(c.locks))]
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the conversation's turn: %w", context.Cause(ctx))
	}
}

// question is what the engine is asked for one message of a conversation at one version.
type question struct {
	version   int64
	messageID int64
	text      string
	channel   string
	state     bot.State
}

// answer is the engine's answer to a question: used only while the conversation is still
// at that version and the message the same, so it is the answer the turn would have got
// inside its transaction.
type answer struct {
	question
	reply bot.Reply
	next  bot.State
}

// Turn handles the message ch gives for the conversation convID: one transaction decides
// what needs no engine (the channel's own answer, the silence while a person holds the
// conversation) and writes it; otherwise the engine answers outside any transaction, and a
// second transaction writes the message, the reply, the new state and the handoff, and
// hands the reply to delivery, if the conversation has not changed meanwhile. When it has
// (another replica's turn), the turn is read and answered again, at most Config.Attempts
// times; then the error wraps store.ErrConflict.
//
// Errors: store.ErrNotFound when the conversation does not exist, store.ErrDuplicate when
// the message's ProviderID is already stored (nothing written), and what ch.Next returns.
func (c *Core[T]) Turn(ctx context.Context, convID string, ch Channel[T]) (Result, error) {
	unlock, err := c.lock(ctx, convID)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	var ans *answer
	for attempt := 1; ; attempt++ {
		var res Result
		var ask *question
		err := c.store.Tx(ctx, func(tx T) error {
			var err error
			res, ask, err = c.step(ctx, tx, convID, ch, ans)
			return err
		})
		switch {
		case errors.Is(err, store.ErrConflict) && attempt < c.attempts:
			// Another replica saved a turn of this conversation: read it again and redo.
			ans = nil
			if err := pause(ctx, attempt); err != nil {
				return Result{}, err
			}
			continue
		case err != nil:
			return Result{}, fmt.Errorf("turn of conversation %s: %w", convID, err)
		case ask == nil:
			return res, nil
		case attempt >= c.attempts:
			return Result{}, fmt.Errorf("turn of conversation %s: changed under %d answers: %w", convID, attempt, store.ErrConflict)
		}
		// The engine answers outside any transaction: no connection waits for it.
		r, next := c.engine.Turn(ctx, ask.state, ask.text, ask.channel)
		ans = &answer{question: *ask, reply: r, next: next}
	}
}

// pause waits a little before the attempt after a conflict, longer each time up to 50 ms:
// the other replica's turn is then likely done.
func pause(ctx context.Context, attempt int) error {
	d := time.Duration(min(attempt-1, 5)) * 10 * time.Millisecond
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// step is one transaction of a turn. It writes the turn and returns its result, or writes
// nothing and returns the question the engine must answer first. ans, when it still fits
// the conversation and the message, is the engine's answer.
func (c *Core[T]) step(ctx context.Context, tx T, convID string, ch Channel[T], ans *answer) (Result, *question, error) {
	conv, err := tx.Conversation(ctx, convID)
	if err != nil {
		return Result{}, nil, err
	}
	in, err := ch.Next(ctx, tx, conv)
	if err != nil || in == nil {
		return Result{Done: in == nil}, nil, err
	}
	if in.Answer != nil {
		if err := c.record(ctx, tx, in, conv); err != nil {
			return Result{}, nil, err
		}
		res, err := c.write(ctx, tx, ch, conv, in, in.Answer.Text, in.Answer.Action, in.Answer.Aspect, nil)
		return res, nil, err
	}
	fits := ans != nil && ans.version == conv.Version && ans.messageID == in.ID && ans.text == in.Text && ans.channel == conv.Channel
	if !fits {
		// Without the engine's answer, the turn is written here only if a person holds the
		// conversation and it is no emergency: then the engine is not asked.
		held, err := c.handoffs.Held(ctx, tx, conv)
		if err != nil {
			return Result{}, nil, err
		}
		if !held || c.engine.IsEmergency(in.Text) {
			return Result{}, &question{version: conv.Version, messageID: in.ID, text: in.Text, channel: conv.Channel, state: c.state(conv)}, nil
		}
	}
	if err := c.record(ctx, tx, in, conv); err != nil {
		return Result{}, nil, err
	}
	// A person holds the conversation: the engine stays silent, but for emergencies.
	held, notice, err := c.handoffs.Hold(ctx, tx, conv)
	if err != nil {
		return Result{}, nil, err
	}
	if held && (!fits || !c.engine.IsEmergency(in.Text)) {
		text := ""
		if notice != "" {
			text, _ = ch.Render(conv, notice, true)
		}
		res, err := c.write(ctx, tx, ch, conv, in, text, ActionHeld, "general", nil)
		res.Held = true
		return res, nil, err
	}
	if !fits {
		// Held said a person holds the conversation and Hold, in the same transaction, not.
		return Result{}, nil, errors.New("conversation: the hold changed within one transaction")
	}
	r := ans.reply
	body := r.Text
	if in.Note != "" {
		body = in.Note + "\n" + body
	}
	text, more := ch.Render(conv, body, false)
	state, err := json.Marshal(ans.next)
	if err != nil {
		return Result{}, nil, fmt.Errorf("encode state: %w", err)
	}
	conv.State, conv.More = state, more
	if r.Action == bot.ActionOptout {
		conv.OptOut = true
	}
	if r.Handoff != "" {
		h, tell, err := c.handoffs.Start(ctx, tx, conv, r.Handoff, c.engine.TopicOf(ans.state.Slug))
		if err != nil {
			return Result{}, nil, err
		}
		if h.Status == atiende.HandoffCallback && r.Handoff != bot.ReasonEmergency {
			body = tell // out of hours: when a person will answer is what matters
		} else {
			// An emergency keeps its lines whatever the handoff says: a callback opened
			// earlier (Start returns the open one) must not replace them.
			body += "\n" + tell
		}
		// What happens next is said whole, not held behind MAS.
		text, _ = ch.Render(conv, body, true)
		conv.More = nil
	}
	res, err := c.write(ctx, tx, ch, conv, in, text, r.Action, r.Aspect, &r)
	return res, nil, err
}

// record stores the citizen's message, or marks the stored one handled.
func (c *Core[T]) record(ctx context.Context, tx T, in *Inbound, conv *atiende.Conversation) error {
	if in.ID != 0 {
		return tx.MarkProcessed(ctx, in.ID)
	}
	m := &atiende.Message{ConversationID: conv.ID, Direction: atiende.Inbound, Text: in.Text, ProviderID: in.ProviderID, Processed: true}
	return tx.InsertMessage(ctx, m)
}

// write saves the conversation and, when text says something, the reply to in and its
// delivery. r is the engine's reply, when it was asked.
func (c *Core[T]) write(ctx context.Context, tx T, ch Channel[T], conv *atiende.Conversation, in *Inbound, text, action, aspect string, r *bot.Reply) (Result, error) {
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return Result{}, err
	}
	res := Result{Text: text, Action: action, Waiting: in.Waiting}
	if r != nil {
		res.Reply = *r
	}
	if text == "" {
		return res, nil
	}
	out := &atiende.Message{ConversationID: conv.ID, Direction: atiende.Outbound, Text: text, Action: action, Aspect: aspect,
		ProviderID: in.ReplyProviderID, Processed: true}
	if r != nil {
		out.Reason = r.Handoff
		for _, h := range r.Fichas {
			out.Fichas = append(out.Fichas, h.Slug)
		}
		if len(r.Fichas) > 0 {
			out.Score = r.Fichas[0].Score
		}
	}
	if err := tx.InsertMessage(ctx, out); err != nil {
		return Result{}, err
	}
	if err := ch.DeliverTx(ctx, tx, conv, out); err != nil {
		return Result{}, err
	}
	res.Message = out
	return res, nil
}

// state is the engine's state saved with the conversation; unreadable, a fresh one.
func (c *Core[T]) state(conv *atiende.Conversation) bot.State {
	var st bot.State
	if len(conv.State) > 0 {
		if err := json.Unmarshal(conv.State, &st); err != nil {
			c.log.Warn("conversation state unreadable; starting afresh", "conversation", conv.ID, "error", err.Error())
			return bot.State{}
		}
	}
	return st
}
