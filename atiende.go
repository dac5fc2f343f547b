// Package atiende holds the domain types the conversation core and its parts speak: a
// citizen's conversation, its messages, the deliveries of the replies, the handoffs to a
// person, and the call center's agents and their console sessions, with their constants.
// It imports no other package of ours: every other package may use it, and the store
// (package store and its implementations) keeps these types (docs/architecture.md).
package atiende

import (
	"encoding/json"
	"time"
)

// Directions of a message.
const (
	Inbound  = "in"
	Outbound = "out"
)

// Conversation is one citizen's conversation on one channel.
type Conversation struct {
	ID      string
	Channel string // web, sms, whatsapp
	Address string // the citizen's address on the channel (a phone number); empty on the web
	// TokenHash is the SHA-256 of the web session's bearer token; the token itself is never
	// stored.
	TokenHash []byte
	State     json.RawMessage // the engine's state, JSON
	Version   int64           // bumped by every saved turn
	CreatedAt time.Time
	UpdatedAt time.Time

	// OptOut: the citizen asked for no more messages (SMS, WhatsApp).
	OptOut bool
	// More holds the rest of a long SMS reply, sent when the citizen answers MAS.
	More []string
}

// Message is one message in or out of a conversation.
type Message struct {
	ID             int64
	ConversationID string
	Direction      string // Inbound or Outbound
	Text           string
	// ProviderID identifies the message at its source (Twilio's MessageSid, a web client's
	// id); unique when set, so a retried delivery is stored once.
	ProviderID string
	Action     string   // outbound: the engine's action
	Aspect     string   // outbound: the aspect answered
	Fichas     []string // outbound: slugs retrieved, best first
	CreatedAt  time.Time

	// Processed is false for an inbound message still waiting for its turn.
	Processed bool
	// ProviderAt is when the provider stamped the message (Twilio's date_created); inbound
	// messages are handled in that order.
	ProviderAt time.Time
	// NumMedia counts the photos, voice notes or files attached.
	NumMedia int
	// AgentID is the agent who wrote an outbound message; 0 for the bot.
	AgentID int64
	// Reason is the handoff reason of a bot turn whose action is handoff; "" otherwise.
	Reason string
	// Score is the retrieval score of the first ficha of a bot turn; 0 when none.
	Score float64
}

// Delivery statuses. A delivery is pending until a job takes it, sending while an attempt
// is under way, sent once the provider accepted it, then as the provider's callbacks say.
const (
	DeliveryPending = "pending"
	DeliverySending = "sending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliverySkipped = "skipped" // not sent on purpose (opt-out, closed WhatsApp window)
)

// Delivery is one outbound message on its way to the citizen's channel.
type Delivery struct {
	ID             int64
	MessageID      int64
	ConversationID string
	Channel        string
	To             string
	Body           string
	Status         string
	ProviderSID    string
	ErrorCode      int
	ErrorMessage   string
	Attempts       int
	Segments       int
	Encoding       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Handoff is a request for a person to take the conversation.
type Handoff struct {
	ID             int64
	ConversationID string
	Reason         string
	Priority       int // higher first; emergencies highest
	Status         string
	Queue          string
	AgentID        int64     // who took it; 0 while queued
	AssignedAt     time.Time // when an agent took it
	ClosedAt       time.Time // resolved or abandoned
	CallbackAt     time.Time // out of hours: when the citizen was told a person would answer
	Note           string    // the agent's note on resolving
	NotifiedAt     time.Time // the last time the citizen was told their place in the queue
	CreatedAt      time.Time
}

// Handoff statuses: queued → assigned → resolved, or abandoned (nobody answered in time),
// or callback (asked out of hours: waits for the next opening).
const (
	HandoffQueued    = "queued"
	HandoffAssigned  = "assigned"
	HandoffResolved  = "resolved"
	HandoffAbandoned = "abandoned"
	HandoffCallback  = "callback"
)

// Open reports whether the handoff still holds the conversation: the bot stays silent.
func (h *Handoff) Open() bool {
	return h.Status == HandoffQueued || h.Status == HandoffAssigned || h.Status == HandoffCallback
}

// Agent is a person of the call center who works handoffs in the console.
type Agent struct {
	ID           int64
	Username     string
	Name         string
	Role         string // RoleAgent, RoleSupervisor or RoleEditor
	PasswordHash string
	CreatedAt    time.Time
}

// Roles of the console's accounts: agents work the queue, supervisors also see the
// supervision page and the reports, editors (of the catalogue) see only the reports.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleEditor     = "editor"
)

// FirstName is the name the citizen sees.
func (a *Agent) FirstName() string {
	for i, r := range a.Name {
		if r == ' ' {
			return a.Name[:i]
		}
	}
	return a.Name
}

// AgentSession is a signed-in console session; the token itself is never stored.
type AgentSession struct {
	TokenHash string
	AgentID   int64
	CSRF      string
	ExpiresAt time.Time
}
