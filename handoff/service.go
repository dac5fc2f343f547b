package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/store"
)

// Tx is what the handoff service does in a transaction (store.Tx has the error contract).
//
// The conversation core hands the service its turn's transaction (Start, Held, Hold), and
// the service hands its own to a Deliverer and an Enqueuer, which do more in it. So the
// service is generic in the transaction's type T: it asks of T only these methods.
// cmd/atiende builds a Service[store.Tx]; the compiler checks there that store.Tx has them.
type Tx interface {
	// AfterCommit runs f once the transaction has committed, never when it rolls back.
	AfterCommit(f func())
	// Conversation returns the conversation, or store.ErrNotFound.
	Conversation(ctx context.Context, id string) (*atiende.Conversation, error)
	// InsertMessage stores a message and sets its ID and CreatedAt.
	InsertMessage(ctx context.Context, m *atiende.Message) error
	// InsertHandoff stores a handoff and sets its ID (CreatedAt now unless set).
	InsertHandoff(ctx context.Context, h *atiende.Handoff) error
	// Handoff returns a handoff read for update, or store.ErrNotFound.
	Handoff(ctx context.Context, id int64) (*atiende.Handoff, error)
	// OpenHandoff returns the conversation's open handoff (queued, assigned or callback),
	// or store.ErrNotFound.
	OpenHandoff(ctx context.Context, conversationID string) (*atiende.Handoff, error)
	// UpdateHandoff writes the handoff's status, reason, priority, queue, agent, times and
	// note.
	UpdateHandoff(ctx context.Context, h *atiende.Handoff) error
	// HandoffsByStatus returns the handoffs in those statuses: highest priority first, then
	// oldest.
	HandoffsByStatus(ctx context.Context, statuses ...string) ([]atiende.Handoff, error)
	// AgentReader names the agents of a packet's transcript (the backends' job).
	AgentReader
}

// Store is what the service needs of the store: its transactions, of type T, and the
// messages a backend's packet is built from.
type Store[T Tx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
	// Messages returns the last limit messages of a conversation, oldest first.
	Messages(ctx context.Context, conversationID string, limit int) ([]atiende.Message, error)
}

// Deliverer sends an agent's (or the service's) message on a channel that needs delivery
// jobs (SMS, WhatsApp), inside the transaction T that stores it (twilio.Outbox).
type Deliverer[T any] interface {
	// DeliverTx hands the stored message to the channel's delivery, in tx.
	DeliverTx(ctx context.Context, tx T, conv *atiende.Conversation, m *atiende.Message) error
}

// ConsoleTopic is the events topic the agents' consoles listen to.
const ConsoleTopic = "console"

// Config tunes the service; T is the store's transaction (cmd/atiende: store.Tx).
type Config[T Tx] struct {
	Hours Hours
	// AbandonAfter: a handoff nobody took in this long (while open) is closed as abandoned,
	// and the citizen is told (ATIENDE_HANDOFF_TIMEOUT, default 30 minutes).
	AbandonAfter time.Duration
	// NotifyEvery: while waiting, the citizen is told their place at most this often.
	NotifyEvery time.Duration
	// AvgHandle is how long an agent takes with a conversation, for the expected wait.
	AvgHandle time.Duration
	Now       func() time.Time
	// Backend, when set with Queue, also gets every new handoff (TaskRouter, a webhook),
	// through a job enqueued with the handoff and retried until the backend takes it; the
	// job's worker is added by Register before the queue starts.
	Backend Backend
	Queue   Enqueuer[T]
	// Deliverers send agents' words and the service's notices on the channels that need
	// delivery jobs (SMS, WhatsApp), by channel; a channel without one (the web) gets them
	// through the citizens' event streams.
	Deliverers map[string]Deliverer[T]
	// Observer, when set, hears of every claim (metrics).
	Observer Observer
}

// Service runs the handoff lifecycle: queued → assigned → resolved, abandoned, or callback,
// on a store whose transactions are of type T.
type Service[T Tx] struct {
	store      Store[T]
	cfg        Config[T]
	citizens   *events.Hub // the citizens' streams (web widget)
	console    *events.Hub // the agents' consoles
	deliverers map[string]Deliverer[T]
	backend    Backend     // besides the console; nil when none
	queue      Enqueuer[T] // for the backend's jobs
	log        *slog.Logger
}

// Observer hears how long citizens waited for a person (metrics). It must be quick and safe
// for concurrent use.
type Observer interface {
	// Claimed: an agent took a handoff of the queue after the citizen waited this long
	// (from the handoff's opening; out of hours, the night is part of it).
	Claimed(queue string, waited time.Duration)
}

// Errors of the agent actions.
var (
	ErrTaken      = errors.New("another agent has this conversation")
	ErrNotOpen    = errors.New("this handoff is closed")
	ErrNotYours   = errors.New("this conversation is assigned to another agent")
	ErrEmptyReply = errors.New("empty reply")
)

// New returns the service. citizens carries agent messages to web widgets; console carries
// queue changes to the agents' consoles.
func New[T Tx](st Store[T], cfg Config[T], citizens, console *events.Hub, log *slog.Logger) *Service[T] {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = 30 * time.Minute
	}
	if cfg.NotifyEvery <= 0 {
		cfg.NotifyEvery = 3 * time.Minute
	}
	if cfg.AvgHandle <= 0 {
		cfg.AvgHandle = 4 * time.Minute
	}
	if cfg.Hours.Loc == nil {
		cfg.Hours = DefaultHours(time.UTC, nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service[T]{store: st, cfg: cfg, citizens: citizens, console: console, deliverers: cfg.Deliverers, log: log}
	if cfg.Backend != nil && cfg.Queue != nil {
		s.backend, s.queue = cfg.Backend, cfg.Queue
	}
	return s
}

// Hours returns the call center's hours.
func (s *Service[T]) Hours() Hours { return s.cfg.Hours }

func (s *Service[T]) now() time.Time { return s.cfg.Now() }

// Start opens a handoff for the conversation, in the caller's transaction, and returns what
// to tell the citizen besides the engine's words: the place in the queue and the expected
// wait, or, out of hours, when a person will answer. A conversation already waiting keeps
// its handoff.
func (s *Service[T]) Start(ctx context.Context, tx T, conv *atiende.Conversation, reason, topic string) (*atiende.Handoff, string, error) {
	if h, err := tx.OpenHandoff(ctx, conv.ID); err == nil {
		if reason == bot.ReasonEmergency && h.Reason != bot.ReasonEmergency {
			// An emergency while the citizen waits for a person: the handoff becomes one, first
			// in line whatever the hour, as a new one would be; a callback for the next
			// opening would leave it unseen until then.
			h.Reason, h.Priority = reason, Priority(reason)
			if h.Status == atiende.HandoffCallback {
				h.Status, h.CallbackAt, h.Queue = atiende.HandoffQueued, time.Time{}, "general"
			}
			if err := tx.UpdateHandoff(ctx, h); err != nil {
				return nil, "", err
			}
			status := h.Status
			tx.AfterCommit(func() { s.console.Publish(ConsoleTopic, events.Event{Type: "queue", Status: status}) })
		}
		return h, s.waitingText(ctx, tx, h), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	now := s.now()
	h := &atiende.Handoff{ConversationID: conv.ID, Reason: reason, Priority: Priority(reason), Queue: QueueFor(topic), NotifiedAt: now, CreatedAt: now}
	if reason == bot.ReasonEmergency {
		h.Queue = "general"
	}
	if !s.cfg.Hours.IsOpen(now) && reason != bot.ReasonEmergency {
		h.Status, h.CallbackAt = atiende.HandoffCallback, s.cfg.Hours.NextOpen(now)
	}
	if err := tx.InsertHandoff(ctx, h); err != nil {
		return nil, "", err
	}
	if s.backend != nil && s.queue != nil {
		if err := s.queue.InsertTx(ctx, tx, NotifyArgs{HandoffID: h.ID}, nil); err != nil {
			return nil, "", err
		}
	}
	status := h.Status
	tx.AfterCommit(func() { s.console.Publish(ConsoleTopic, events.Event{Type: "queue", Status: status}) })
	return h, s.waitingText(ctx, tx, h), nil
}

// waitingText tells the citizen where they stand.
func (s *Service[T]) waitingText(ctx context.Context, tx T, h *atiende.Handoff) string {
	switch h.Status {
	case atiende.HandoffCallback:
		return fmt.Sprintf("Nuestro equipo atiende %s. Una persona le responderá por este mismo medio %s. Puede dejar su consulta escrita aquí.",
			s.cfg.Hours.Summary(), s.cfg.Hours.Describe(h.CallbackAt))
	case atiende.HandoffAssigned:
		return "Una persona de nuestro equipo ya tiene su conversación y le responderá por aquí."
	}
	place := s.place(ctx, tx, h)
	wait := time.Duration(place) * s.cfg.AvgHandle
	return fmt.Sprintf("Está en el lugar %d de la fila (espera aprox. %d min). Puede seguir escribiendo: la persona verá sus mensajes.",
		place, max(1, int(wait.Minutes())))
}

// place is the handoff's position among the queued ones it waits behind (1 = next).
func (s *Service[T]) place(ctx context.Context, tx T, h *atiende.Handoff) int {
	queued, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued)
	if err != nil {
		// Only the place the citizen is told is lost: the handoff itself stands.
		s.log.Warn("queue place unknown; the citizen is told 1", "handoff", h.ID, "error", err.Error())
		return 1
	}
	for i, q := range queued {
		if q.ID == h.ID {
			return i + 1
		}
	}
	return len(queued) + 1
}

// Held reports, in the caller's transaction, whether a person holds the conversation (an
// open handoff), writing nothing: Hold's answer without its notice.
func (s *Service[T]) Held(ctx context.Context, tx T, conv *atiende.Conversation) (bool, error) {
	_, err := tx.OpenHandoff(ctx, conv.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Hold decides, in the caller's transaction, whether a person holds the conversation. When
// one does, the engine stays silent; the reply, if not empty, is what the citizen is told
// (their place, at most every NotifyEvery). The caller has stored the citizen's message.
func (s *Service[T]) Hold(ctx context.Context, tx T, conv *atiende.Conversation) (bool, string, error) {
	h, err := tx.OpenHandoff(ctx, conv.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	convID := conv.ID
	tx.AfterCommit(func() { s.console.Publish(ConsoleTopic, events.Event{Type: "citizen", Text: convID}) })
	if h.Status == atiende.HandoffAssigned {
		return true, "", nil
	}
	now := s.now()
	if now.Sub(h.NotifiedAt) < s.cfg.NotifyEvery {
		return true, "", nil
	}
	h.NotifiedAt = now
	if err := tx.UpdateHandoff(ctx, h); err != nil {
		return false, "", err
	}
	return true, s.waitingText(ctx, tx, h), nil
}

// Claim gives a queued handoff to the agent.
func (s *Service[T]) Claim(ctx context.Context, agent *atiende.Agent, id int64) error {
	var convID, queue string
	var waited time.Duration
	err := s.store.Tx(ctx, func(tx T) error {
		h, err := tx.Handoff(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case h.Status == atiende.HandoffAssigned && h.AgentID == agent.ID:
			return nil
		case h.Status == atiende.HandoffAssigned:
			return ErrTaken
		case !h.Open():
			return ErrNotOpen
		}
		h.Status, h.AgentID, h.AssignedAt = atiende.HandoffAssigned, agent.ID, s.now()
		convID, queue, waited = h.ConversationID, h.Queue, h.AssignedAt.Sub(h.CreatedAt)
		return tx.UpdateHandoff(ctx, h)
	})
	if err != nil {
		return fmt.Errorf("claim handoff %d: %w", id, err)
	}
	if convID != "" {
		if s.cfg.Observer != nil {
			s.cfg.Observer.Claimed(queue, waited)
		}
		s.citizens.Publish(convID, events.Event{Type: "handoff", Status: atiende.HandoffAssigned, Name: agent.FirstName()})
		s.console.Publish(ConsoleTopic, events.Event{Type: "queue", Status: atiende.HandoffAssigned})
	}
	return nil
}

// Reply sends the agent's words to the citizen on their channel.
func (s *Service[T]) Reply(ctx context.Context, agent *atiende.Agent, id int64, text string) error {
	if len([]rune(text)) == 0 {
		return ErrEmptyReply
	}
	var m *atiende.Message
	err := s.store.Tx(ctx, func(tx T) error {
		h, err := tx.Handoff(ctx, id)
		if err != nil {
			return err
		}
		if h.Status != atiende.HandoffAssigned {
			return ErrNotOpen
		}
		if h.AgentID != agent.ID && agent.Role != atiende.RoleSupervisor {
			return ErrNotYours
		}
		conv, err := tx.Conversation(ctx, h.ConversationID)
		if err != nil {
			return err
		}
		m, err = s.send(ctx, tx, conv, text, ActionAgent, agent.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("reply to handoff %d: %w", id, err)
	}
	s.citizens.Publish(m.ConversationID, events.Event{ID: m.ID, Type: "message", From: "agent", Name: agent.FirstName(), Text: text})
	return nil
}

// ActionAgent marks messages agents write; ActionNotice, the service's own.
const (
	ActionAgent  = "agent"
	ActionNotice = "handoff_notice"
)

// send stores an outbound message and, on channels that need it, its delivery.
func (s *Service[T]) send(ctx context.Context, tx T, conv *atiende.Conversation, text, action string, agentID int64) (*atiende.Message, error) {
	m := &atiende.Message{ConversationID: conv.ID, Direction: atiende.Outbound, Text: text, Action: action, Processed: true, AgentID: agentID}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return nil, err
	}
	if d := s.deliverers[conv.Channel]; d != nil {
		if err := d.DeliverTx(ctx, tx, conv, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Transfer puts the handoff back in the queue, in another queue.
func (s *Service[T]) Transfer(ctx context.Context, agent *atiende.Agent, id int64, queue string) error {
	if !KnownQueue(queue) {
		return fmt.Errorf("transfer handoff %d: unknown queue %q", id, queue)
	}
	err := s.store.Tx(ctx, func(tx T) error {
		h, err := openByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if !MayAct(agent, h) {
			return ErrNotYours
		}
		h.Status, h.Queue, h.AgentID, h.AssignedAt = atiende.HandoffQueued, queue, 0, time.Time{}
		return tx.UpdateHandoff(ctx, h)
	})
	if err != nil {
		return fmt.Errorf("transfer handoff %d: %w", id, err)
	}
	s.console.Publish(ConsoleTopic, events.Event{Type: "queue", Status: atiende.HandoffQueued})
	return nil
}

// MayAct reports whether the agent may transfer or resolve the handoff: anyone while nobody
// holds it; once a person does, that person or a supervisor. A nil agent is the service itself
// (a handoff nobody took in time).
func MayAct(agent *atiende.Agent, h *atiende.Handoff) bool {
	return agent == nil || h.Status != atiende.HandoffAssigned || h.AgentID == agent.ID || agent.Role == atiende.RoleSupervisor
}

// openByID reads the handoff for update; ErrNotOpen when it is closed already.
func openByID[T Tx](ctx context.Context, tx T, id int64) (*atiende.Handoff, error) {
	h, err := tx.Handoff(ctx, id)
	if err != nil {
		return nil, err
	}
	if !h.Open() {
		return nil, ErrNotOpen
	}
	return h, nil
}

// Resolve closes the handoff with the agent's note; the assistant answers again, and the
// citizen is told so.
func (s *Service[T]) Resolve(ctx context.Context, agent *atiende.Agent, id int64, note string) error {
	return s.close(ctx, agent, id, atiende.HandoffResolved, note,
		"La persona que le atendió cerró la conversación. Si necesita algo más, escríbame: el asistente vuelve a responderle.")
}

func (s *Service[T]) close(ctx context.Context, agent *atiende.Agent, id int64, status, note, tell string) error {
	var m *atiende.Message
	err := s.store.Tx(ctx, func(tx T) error {
		h, err := openByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if !MayAct(agent, h) {
			return ErrNotYours
		}
		h.Status, h.ClosedAt, h.Note = status, s.now(), note
		if err := tx.UpdateHandoff(ctx, h); err != nil {
			return err
		}
		conv, err := tx.Conversation(ctx, h.ConversationID)
		if err != nil {
			return err
		}
		m, err = s.send(ctx, tx, conv, tell, ActionNotice, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s handoff %d: %w", status, id, err)
	}
	s.citizens.Publish(m.ConversationID, events.Event{ID: m.ID, Type: "handoff", Status: status, Text: tell})
	s.console.Publish(ConsoleTopic, events.Event{Type: "queue", Status: status})
	return nil
}

// Sweep abandons the handoffs nobody took in time, and moves callbacks whose time came into
// the queue. The server runs it every minute.
func (s *Service[T]) Sweep(ctx context.Context) error {
	var abandon []int64
	now := s.now()
	err := s.store.Tx(ctx, func(tx T) error {
		hs, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued, atiende.HandoffCallback)
		if err != nil {
			return err
		}
		for _, h := range hs {
			switch {
			case h.Status == atiende.HandoffCallback && !now.Before(h.CallbackAt):
				h.Status = atiende.HandoffQueued
				if err := tx.UpdateHandoff(ctx, &h); err != nil {
					return err
				}
			case h.Status == atiende.HandoffQueued && s.cfg.Hours.IsOpen(now) && now.Sub(maxTime(h.CreatedAt, h.CallbackAt)) > s.cfg.AbandonAfter:
				abandon = append(abandon, h.ID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range abandon {
		err := s.close(ctx, nil, id, atiende.HandoffAbandoned, "",
			"Lo sentimos: no alcanzamos a atenderle a tiempo. Puede escribirnos de nuevo o llamar al 101. El asistente vuelve a responderle.")
		if err != nil && !errors.Is(err, ErrNotOpen) {
			return err
		}
		s.log.Warn("handoff abandoned: nobody took it in time", "handoff", id)
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
