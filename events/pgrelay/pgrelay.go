// Package pgrelay carries events between replicas over Postgres LISTEN/NOTIFY: a hub's
// Publish becomes a NOTIFY, and every replica's listener (this one's too) delivers the event
// to its local subscribers. A notification is only a nudge to show something at once: what
// it shows is already stored, and the streams replay it on reconnect, so an event lost while
// the listener reconnects costs a delay, never a message.
package pgrelay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/atiende/atiende/events"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxPayload is below Postgres's 8000-byte limit on a NOTIFY payload.
const maxPayload = 7900

// Relay listens on one connection for the channels of the hubs attached to it.
type Relay struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	mu   sync.Mutex
	hubs map[string]*events.Hub // by channel
}

// New returns a relay on the pool's database; make its hubs (Hub), then Start.
func New(pool *pgxpool.Pool, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{pool: pool, log: log, hubs: map[string]*events.Hub{}}
}

// Hub returns a hub whose events are relayed on the Postgres channel (a plain lowercase
// identifier) to the hubs of that channel in every replica, this one included.
func (r *Relay) Hub(channel string) *events.Hub {
	hub := events.NewHub(events.WithRelay(sender{r: r, channel: channel}))
	r.mu.Lock()
	r.hubs[channel] = hub
	r.mu.Unlock()
	return hub
}

type notification struct {
	Topic string       `json:"t"`
	Event events.Event `json:"e"`
}

type sender struct {
	r       *Relay
	channel string
}

// Send notifies every replica; the caller delivers locally when it fails.
func (s sender) Send(topic string, e events.Event) error {
	payload, err := json.Marshal(notification{Topic: topic, Event: e})
	if err != nil {
		return err
	}
	if len(payload) > maxPayload {
		s.r.log.Warn("event too large to relay; shown on this replica only", "channel", s.channel, "bytes", len(payload))
		return fmt.Errorf("event of %d bytes is over the NOTIFY limit", len(payload))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.r.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, string(payload)); err != nil {
		s.r.log.Error("event relay failed; shown on this replica only", "channel", s.channel, "error", err.Error())
		return err
	}
	return nil
}

// Start opens the listening connection (so events published after Start returns are
// received) and keeps it, reconnecting after failures, until ctx ends.
func (r *Relay) Start(ctx context.Context) error {
	conn, err := r.listen(ctx)
	if err != nil {
		return err
	}
	go r.run(ctx, conn)
	return nil
}

func (r *Relay) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("event relay: %w", err)
	}
	r.mu.Lock()
	channels := make([]string, 0, len(r.hubs))
	for ch := range r.hubs {
		channels = append(channels, ch)
	}
	r.mu.Unlock()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("event relay: listen %s: %w", ch, err)
		}
	}
	return conn, nil
}

func (r *Relay) run(ctx context.Context, conn *pgx.Conn) {
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				conn.Close(context.Background())
				conn = nil
				if ctx.Err() != nil {
					return
				}
				r.log.Error("event relay lost its connection; reconnecting", "error", err.Error())
				break
			}
			r.deliver(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		var err error
		if conn, err = r.listen(ctx); err != nil {
			r.log.Error("event relay cannot reconnect", "error", err.Error())
		}
	}
}

func (r *Relay) deliver(n *pgconn.Notification) {
	r.mu.Lock()
	hub := r.hubs[n.Channel]
	r.mu.Unlock()
	if hub == nil {
		return
	}
	var msg notification
	if err := json.Unmarshal([]byte(n.Payload), &msg); err != nil {
		r.log.Error("event relay: unreadable notification", "channel", n.Channel, "error", err.Error())
		return
	}
	hub.Deliver(msg.Topic, msg.Event)
}
