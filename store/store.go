// Package store is the persistence contract of the domain types of package atiende
// (conversations, their messages and the engine's state, deliveries, handoffs, agents and
// their sessions): the Store and Tx interfaces, their errors (ErrNotFound, ErrConflict,
// ErrDuplicate), and the rows of the reports' aggregate queries, which are only the store's
// and the reports' business. sqlite implements it for the embedded default, postgres for
// production; storetest holds the conformance suite every implementation must pass.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atiende/atiende"
)

// Errors of the Store contract.
var (
	// ErrNotFound: no conversation (or message) with that id.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the conversation changed since it was read (its version moved on); read it
	// again and redo the turn.
	ErrConflict = errors.New("conversation changed concurrently")
	// ErrDuplicate: a message with that provider id is already stored; nothing was written.
	ErrDuplicate = errors.New("duplicate message")
)

// Tx is a store transaction: what fn does through it commits together or not at all.
// Implementations also expose their driver's transaction for the job queue to enqueue in it.
type Tx interface {
	// AfterCommit runs f once the transaction has committed, never when it rolls back: for
	// what others should learn only when it is true, such as events to the live streams.
	AfterCommit(f func())
	// Conversation returns the conversation, or ErrNotFound.
	Conversation(ctx context.Context, id string) (*atiende.Conversation, error)
	// ConversationByAddress returns the latest conversation of a channel address, or
	// ErrNotFound.
	ConversationByAddress(ctx context.Context, channel, address string) (*atiende.Conversation, error)
	// CreateConversation is Store.CreateConversation inside the transaction.
	CreateConversation(ctx context.Context, c *atiende.Conversation) error
	// UpdateConversation writes State, OptOut and More if the stored version is
	// still c.Version, and bumps it (c.Version too); otherwise ErrConflict.
	UpdateConversation(ctx context.Context, c *atiende.Conversation) error
	// InsertMessage stores a message and sets its ID and CreatedAt; ErrDuplicate when its
	// provider id is already stored (nothing written).
	InsertMessage(ctx context.Context, m *atiende.Message) error
	// PendingInbound returns the conversation's inbound messages not yet processed, in the
	// order the provider stamped them (then arrival).
	PendingInbound(ctx context.Context, conversationID string) ([]atiende.Message, error)
	// SetProviderAt records the provider's stamp of a message.
	SetProviderAt(ctx context.Context, messageID int64, at time.Time) error
	// MarkProcessed records that an inbound message had its turn.
	MarkProcessed(ctx context.Context, messageID int64) error
	// CountInbound counts the inbound messages of a conversation stored from from to to,
	// both included.
	CountInbound(ctx context.Context, conversationID string, from, to time.Time) (int, error)
	// LastInbound is when the citizen last wrote (zero if never): WhatsApp's 24-hour window
	// runs from it.
	LastInbound(ctx context.Context, conversationID string) (time.Time, error)
	// InsertHandoff stores a handoff request (CreatedAt now unless set).
	InsertHandoff(ctx context.Context, h *atiende.Handoff) error
	// Handoff returns a handoff, or ErrNotFound. It is read for update: another transaction
	// reading the same handoff waits until this one ends, then sees what it wrote, so two
	// agents (or two replicas' sweeps) cannot both take or close it.
	Handoff(ctx context.Context, id int64) (*atiende.Handoff, error)
	// OpenHandoff returns the conversation's open handoff (queued, assigned or callback), or
	// ErrNotFound.
	OpenHandoff(ctx context.Context, conversationID string) (*atiende.Handoff, error)
	// UpdateHandoff writes Status, Reason, Priority, Queue, AgentID, AssignedAt, ClosedAt,
	// CallbackAt, Note and NotifiedAt.
	UpdateHandoff(ctx context.Context, h *atiende.Handoff) error
	// HandoffsByStatus returns the handoffs in those statuses: highest priority first, then
	// oldest.
	HandoffsByStatus(ctx context.Context, statuses ...string) ([]atiende.Handoff, error)
	// InsertAgent stores an agent; ErrDuplicate when the username is taken.
	InsertAgent(ctx context.Context, a *atiende.Agent) error
	// AgentByUsername and AgentByID return an agent, or ErrNotFound.
	AgentByUsername(ctx context.Context, username string) (*atiende.Agent, error)
	AgentByID(ctx context.Context, id int64) (*atiende.Agent, error)
	// Agents lists every agent.
	Agents(ctx context.Context) ([]atiende.Agent, error)
	// InsertSession, SessionByTokenHash and DeleteSession keep console sessions; an expired
	// session is ErrNotFound.
	InsertSession(ctx context.Context, s *atiende.AgentSession) error
	SessionByTokenHash(ctx context.Context, hash string, now time.Time) (*atiende.AgentSession, error)
	DeleteSession(ctx context.Context, hash string) error
	// InsertDelivery stores a delivery and sets its ID and times.
	InsertDelivery(ctx context.Context, d *atiende.Delivery) error
	// Delivery returns a delivery, or ErrNotFound.
	Delivery(ctx context.Context, id int64) (*atiende.Delivery, error)
	// DeliveryByProviderSID returns the delivery the provider knows by sid, or ErrNotFound.
	DeliveryByProviderSID(ctx context.Context, sid string) (*atiende.Delivery, error)
	// UnsentBefore counts the conversation's deliveries older than id still pending or
	// sending: replies reach the citizen in the order they were written.
	UnsentBefore(ctx context.Context, conversationID string, id int64) (int, error)
	// UpdateDelivery writes Status, ProviderSID, ErrorCode, ErrorMessage, Attempts, Segments
	// and Encoding.
	UpdateDelivery(ctx context.Context, d *atiende.Delivery) error
}

// Store is the persistence the channels need.
type Store interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(Tx) error) error
	// Deliveries returns a conversation's deliveries, oldest first.
	Deliveries(ctx context.Context, conversationID string) ([]atiende.Delivery, error)
	// CreateConversation stores a new conversation; c.ID must be set and unused. It sets
	// CreatedAt, UpdatedAt and Version (1).
	CreateConversation(ctx context.Context, c *atiende.Conversation) error
	// Conversation returns the conversation, or ErrNotFound.
	Conversation(ctx context.Context, id string) (*atiende.Conversation, error)
	// MessageByProviderID returns the message with that provider id, or ErrNotFound.
	MessageByProviderID(ctx context.Context, providerID string) (*atiende.Message, error)
	// Messages returns the last limit messages of a conversation, oldest first (all when
	// limit <= 0).
	Messages(ctx context.Context, conversationID string, limit int) ([]atiende.Message, error)
	// Handoffs returns the conversation's handoff requests, oldest first.
	Handoffs(ctx context.Context, conversationID string) ([]atiende.Handoff, error)
	// Anonymise erases what identifies the citizen in every conversation whose last activity
	// (its last update and its latest message) is before cutoff, and returns how many it
	// erased. The conversation's address, session token, state and pending SMS parts go, and
	// so do the text of its messages, deliveries and handoff notes and the provider ids that
	// would fetch them again from Twilio; the rows stay, with their times, directions,
	// actions, fichas, statuses, segments, reasons and queues, for the statistics. Nothing is
	// left waiting on an erased conversation: unprocessed messages are marked processed,
	// pending deliveries skipped and open handoffs abandoned, so the jobs that name them find
	// nothing to do. A conversation is erased once; concurrent calls (several replicas) share
	// the work without waiting on each other. It works in batches, each its own transaction.
	Anonymise(ctx context.Context, cutoff time.Time) (int, error)
	// Ping checks the store can serve.
	Ping(ctx context.Context) error

	// Reports (supervisors' and editors' pages, handoff/report). Each reads the range
	// [from, to) by creation time; none writes.

	// Volume counts, per bucket and channel, the citizens' messages, the conversations they
	// came from, the conversations started and the handoffs requested. The n+1 instants of
	// bounds, ascending, delimit n buckets [bounds[i], bounds[i+1]) (days in a time zone, say);
	// bounds out of order are an error. Buckets and channels with nothing are left out; the
	// rest come ordered by bucket, then channel.
	Volume(ctx context.Context, bounds []time.Time) ([]VolumeBucket, error)
	// HandoffWaits returns the handoffs requested in the range with their channel, oldest
	// first.
	HandoffWaits(ctx context.Context, from, to time.Time) ([]HandoffWait, error)
	// TopFichas counts the bot's turns with action by the first ficha they showed, most first
	// (then by slug), at most limit (all when limit <= 0).
	TopFichas(ctx context.Context, from, to time.Time, action string, limit int) ([]FichaCount, error)
	// Unanswered returns the bot's turns that did not answer (see UnansweredQuery), each with
	// the citizen's message before it, oldest first, at most q.Limit (all when it is <= 0).
	Unanswered(ctx context.Context, q UnansweredQuery) ([]UnansweredTurn, error)
	// Close releases the store.
	Close() error
}

// Reports: what the aggregate queries of Store return.

// VolumeBucket is one bucket of time of one channel's traffic.
type VolumeBucket struct {
	Bucket   int // the index of the bucket's start in the bounds
	Channel  string
	Inbound  int // citizens' messages
	Active   int // conversations with a citizen's message
	Started  int // conversations started
	Handoffs int // handoffs requested
}

// CheckBounds returns an error unless bounds delimit at least one bucket, in ascending order.
func CheckBounds(bounds []time.Time) error {
	if len(bounds) < 2 {
		return errors.New("bounds: want at least two instants")
	}
	for i := 1; i < len(bounds); i++ {
		if !bounds[i].After(bounds[i-1]) {
			return fmt.Errorf("bounds: %s is not after %s", bounds[i].Format(time.RFC3339), bounds[i-1].Format(time.RFC3339))
		}
	}
	return nil
}

// HandoffWait is a handoff as the reports read it: how long it waited for an agent.
type HandoffWait struct {
	ID         int64
	Channel    string
	Reason     string
	Status     string
	CreatedAt  time.Time
	AssignedAt time.Time // zero if no agent took it
	ClosedAt   time.Time
}

// FichaCount is how many turns showed a ficha first.
type FichaCount struct {
	Slug  string
	Count int
}

// UnansweredQuery says which bot turns did not answer: those whose action is in Actions, a
// handoff whose reason is in Reasons, an answer whose score is above 0 and below LowScore
// (0: no score counts as low), and, with Repeated, an answer word for word the same as the
// assistant's answer just before it in the conversation (its Action reads ActionRepeated).
type UnansweredQuery struct {
	From, To time.Time
	Actions  []string
	Reasons  []string
	LowScore float64
	Repeated bool
	Limit    int
}

// ActionRepeated is the Action of an UnansweredTurn that repeated the previous answer.
const ActionRepeated = "repeated"

// UnansweredTurn is one bot turn that did not answer, with the question it got.
type UnansweredTurn struct {
	MessageID      int64
	ConversationID string
	Channel        string
	Question       string // the citizen's last message before the turn; "" if none
	Action         string
	Reason         string
	Score          float64
	Fichas         []string
	CreatedAt      time.Time
}

// InBatches calls batch until it reports fewer than size rows done, and returns the total:
// for bulk work (Anonymise) split into transactions of size rows each.
func InBatches(size int, batch func() (int, error)) (int, error) {
	total := 0
	for {
		n, err := batch()
		total += n
		if err != nil || n < size {
			return total, err
		}
	}
}

// AfterCommitHooks keeps a transaction's AfterCommit functions; the stores embed it in their
// Tx and call Run after a successful commit.
type AfterCommitHooks struct{ after []func() }

// AfterCommit implements Tx.
func (h *AfterCommitHooks) AfterCommit(f func()) { h.after = append(h.after, f) }

// Run calls the functions in the order they were added.
func (h *AfterCommitHooks) Run() {
	for _, f := range h.after {
		f()
	}
}
