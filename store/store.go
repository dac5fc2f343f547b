// Package store keeps conversations, their messages, the engine's state and handoff
// requests. Store is the one interface; sqlite implements it for the embedded default and a
// Postgres implementation follows it in production. storetest holds the conformance suite
// every implementation must pass.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
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
}

// Handoff is a request for a person to take the conversation.
type Handoff struct {
	ID             int64
	ConversationID string
	Reason         string
	Priority       int // higher first; emergencies highest
	Status         string
	CreatedAt      time.Time
}

// Handoff statuses.
const HandoffQueued = "queued"

// Turn is everything one turn writes, in one transaction.
type Turn struct {
	ConversationID string
	// Version is the conversation's version when the turn read it; the save fails with
	// ErrConflict if it moved on.
	Version int64
	State   json.RawMessage
	In      Message
	Out     Message
	Handoff *Handoff // optional
}

// Store is the persistence the channels need.
type Store interface {
	// CreateConversation stores a new conversation; c.ID must be set and unused. It sets
	// CreatedAt, UpdatedAt and Version (1).
	CreateConversation(ctx context.Context, c *Conversation) error
	// Conversation returns the conversation, or ErrNotFound.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// SaveTurn writes the inbound and outbound messages, the new state and the handoff, if
	// any, atomically. It returns ErrNotFound for an unknown conversation, ErrConflict when
	// the version moved on, ErrDuplicate when the inbound provider id is already stored; in
	// every error case nothing is written. On success it sets the messages' ids and times.
	SaveTurn(ctx context.Context, t *Turn) error
	// MessageByProviderID returns the message with that provider id, or ErrNotFound.
	MessageByProviderID(ctx context.Context, providerID string) (*Message, error)
	// Messages returns the last limit messages of a conversation, oldest first (all when
	// limit <= 0).
	Messages(ctx context.Context, conversationID string, limit int) ([]Message, error)
	// Handoffs returns the conversation's handoff requests, oldest first.
	Handoffs(ctx context.Context, conversationID string) ([]Handoff, error)
	// Ping checks the store can serve.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}
