// Package events carries what happens in a conversation (an agent's message, a change of
// handoff status) to the server-sent-event streams that show it: in-process, and across
// replicas through a Relay (events/pgrelay, over Postgres LISTEN/NOTIFY).
package events

import (
	"sync"
)

// Event is one thing to show in a conversation's stream.
type Event struct {
	ID   int64  `json:"id"`             // the stored message's id, for Last-Event-ID; 0 when none
	Type string `json:"type"`           // "message" or "handoff"
	From string `json:"from,omitempty"` // "agent" for an agent's message
	Name string `json:"name,omitempty"` // the agent's first name
	Text string `json:"text,omitempty"`
	// Status of the handoff: "queued", "assigned", "resolved".
	Status string `json:"status,omitempty"`
}

// Hub fans events out to the subscribers of each conversation. A slow subscriber loses
// events rather than slowing the publisher; the stream replays stored messages on reconnect.
type Hub struct {
	mu     sync.Mutex
	subs   map[string]map[chan Event]struct{}
	relay  Relay
	closed bool
}

// Relay carries a published event to the hubs of every replica, this one included, which
// then Deliver it (events/pgrelay does it over Postgres LISTEN/NOTIFY).
type Relay interface {
	Send(topic string, e Event) error
}

// HubOption configures a hub at NewHub.
type HubOption func(*Hub)

// WithRelay makes Publish go through r, which brings the event back to this hub (and every
// other replica's) to Deliver.
func WithRelay(r Relay) HubOption { return func(h *Hub) { h.relay = r } }

// NewHub returns an empty hub; without WithRelay, Publish delivers in this process only.
func NewHub(opts ...HubOption) *Hub {
	h := &Hub{subs: map[string]map[chan Event]struct{}{}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Subscribe returns the conversation's events until cancel is called; the channel is
// closed when the hub is (the stream should end then).
func (h *Hub) Subscribe(conversationID string) (<-chan Event, func()) {
	ch := make(chan Event, 16)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	if h.subs[conversationID] == nil {
		h.subs[conversationID] = map[chan Event]struct{}{}
	}
	h.subs[conversationID][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs[conversationID], ch)
			if len(h.subs[conversationID]) == 0 {
				delete(h.subs, conversationID)
			}
			h.mu.Unlock()
		})
	}
}

// Publish sends the event to the conversation's subscribers, on every replica when the hub
// has a relay. When the relay fails, this replica's subscribers still get it.
func (h *Hub) Publish(conversationID string, e Event) {
	if h.relay != nil && h.relay.Send(conversationID, e) == nil {
		return
	}
	h.Deliver(conversationID, e)
}

// Deliver sends the event to this replica's subscribers of the conversation.
func (h *Hub) Deliver(conversationID string, e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[conversationID] {
		select {
		case ch <- e:
		default: // full: the subscriber catches up from storage on reconnect
		}
	}
}

// Close closes every subscriber's channel, and those of later subscriptions: the server
// calls it as it shuts down, so that the event streams end and the shutdown need not wait
// for them (browsers reconnect to another replica).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, chans := range h.subs {
		for ch := range chans {
			close(ch)
		}
	}
	h.subs = map[string]map[chan Event]struct{}{}
}

// Subscribers counts the open streams of a conversation.
func (h *Hub) Subscribers(conversationID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[conversationID])
}
