// Package postgres implements store.Store on Postgres through pgx v5, for production: any
// number of stateless replicas share one database (DATABASE_URL). It passes the same
// conformance suite as the SQLite store (store/storetest).
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store on Postgres.
type DB struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	lanes *store.Lanes
}

// backgroundLanes leaves a quarter of the pool (at least two connections, and those River
// takes for itself) to requests: jobs' transactions share the rest (store.Lanes).
func backgroundLanes(conns int32) *store.Lanes {
	n := int(conns)
	return store.NewLanes(n - max(2, n/4) - 2)
}

var _ store.Store = (*DB)(nil)

// DefaultMaxConns is the size of a replica's connection pool unless DATABASE_URL sets
// pool_max_conns.
const DefaultMaxConns = 16

// Open connects to the database at url and brings the schema up to date.
func Open(ctx context.Context, url string) (*DB, error) {
	// pgx's default pool (the larger of 4 and the CPU count) is small for a replica whose
	// turns hold a connection while they publish events through another one.
	pool, err := NewPool(ctx, url, DefaultMaxConns)
	if err != nil {
		return nil, err
	}
	s := &DB{pool: pool, now: func() time.Time { return time.Now().UTC() }, lanes: backgroundLanes(pool.Config().MaxConns)}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// NewPool connects a pool of conns connections (unless the URL sets pool_max_conns) and
// checks the database answers.
func NewPool(ctx context.Context, url string, conns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = conns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return pool, nil
}

// Pool returns the connection pool, for the job queue's driver.
func (s *DB) Pool() *pgxpool.Pool { return s.pool }

// Migrate applies the embedded migrations not yet applied; an advisory lock keeps replicas
// starting together from applying them twice.
func (s *DB) Migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7204220001)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS atiende_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migrate: %s: name must start with a version number", base)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM atiende_migrations WHERE version = $1`, v).Scan(&n); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if n > 0 {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("migrate: %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO atiende_migrations (version, applied_at) VALUES ($1, now())`, v); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
		return nil
	})
}

// Tx is a store.Tx on a pgx transaction.
type Tx struct {
	store.AfterCommitHooks
	q   pgx.Tx
	db  *DB // whose transaction it is (PgxTx)
	now func() time.Time
}

var _ store.Tx = (*Tx)(nil)

// PgxTx returns the pgx transaction inside tx, for the job queue to enqueue in it
// (queue.PostgresDB); ok is false when tx is not a transaction of this database, whose job
// would not commit or roll back with it.
func (s *DB) PgxTx(tx store.Tx) (pgx.Tx, bool) {
	t, ok := tx.(*Tx)
	if !ok || t.db != s {
		return nil, false
	}
	return t.q, true
}

// Tx implements store.Store.
func (s *DB) Tx(ctx context.Context, fn func(store.Tx) error) error {
	release, err := s.lanes.Enter(ctx)
	if err != nil {
		return err
	}
	var t *Tx
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { t = &Tx{q: tx, db: s, now: s.now}; return fn(t) })
	release()
	if err != nil {
		return err
	}
	t.Run()
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func jsonList(l []string) []byte {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return b
}

func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CreateConversation implements store.Store.
func (s *DB) CreateConversation(ctx context.Context, c *atiende.Conversation) error {
	return s.Tx(ctx, func(tx store.Tx) error { return tx.CreateConversation(ctx, c) })
}

// CreateConversation implements store.Tx.
func (t *Tx) CreateConversation(ctx context.Context, c *atiende.Conversation) error {
	if c.ID == "" {
		return errors.New("create conversation: empty id")
	}
	now := t.now()
	state := c.State
	if len(state) == 0 {
		state = json.RawMessage(`{}`)
	}
	_, err := t.q.Exec(ctx, `INSERT INTO conversations (id, channel, address, token_hash, state, version, optout, more, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $8)`, c.ID, c.Channel, c.Address, c.TokenHash, []byte(state), c.OptOut, jsonList(c.More), now)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("create conversation %s: %w", c.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	c.State, c.Version, c.CreatedAt, c.UpdatedAt = state, 1, now, now
	return nil
}

const conversationCols = `id, channel, address, token_hash, state, version, optout, more, created_at, updated_at`

func scanConversation(row pgx.Row) (*atiende.Conversation, error) {
	var c atiende.Conversation
	var state, more []byte
	if err := row.Scan(&c.ID, &c.Channel, &c.Address, &c.TokenHash, &state, &c.Version, &c.OptOut, &more, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.State = json.RawMessage(state)
	if err := json.Unmarshal(more, &c.More); err != nil {
		return nil, err
	}
	if len(c.More) == 0 {
		c.More = nil
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func conversation(ctx context.Context, q querier, id string) (*atiende.Conversation, error) {
	c, err := scanConversation(q.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "conversation "+id)
	}
	return c, nil
}

// Conversation implements store.Store.
func (s *DB) Conversation(ctx context.Context, id string) (*atiende.Conversation, error) {
	return conversation(ctx, s.pool, id)
}

// Conversation implements store.Tx.
func (t *Tx) Conversation(ctx context.Context, id string) (*atiende.Conversation, error) {
	return conversation(ctx, t.q, id)
}

// ConversationByAddress implements store.Tx.
func (t *Tx) ConversationByAddress(ctx context.Context, channel, address string) (*atiende.Conversation, error) {
	// "address <> ''" lets a generic plan use the partial index conversations_address.
	c, err := scanConversation(t.q.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE channel = $1 AND address = $2
		AND address <> '' ORDER BY created_at DESC LIMIT 1`, channel, address))
	if err != nil {
		return nil, notFound(err, "conversation of "+channel+" "+address)
	}
	return c, nil
}

// UpdateConversation implements store.Tx.
func (t *Tx) UpdateConversation(ctx context.Context, c *atiende.Conversation) error {
	state := c.State
	if len(state) == 0 {
		state = json.RawMessage(`{}`)
	}
	now := t.now()
	tag, err := t.q.Exec(ctx, `UPDATE conversations SET state = $1, optout = $2, more = $3, version = version + 1, updated_at = $4
		WHERE id = $5 AND version = $6`, []byte(state), c.OptOut, jsonList(c.More), now, c.ID, c.Version)
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", c.ID, err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := conversation(ctx, t.q, c.ID); err != nil {
			return err
		}
		return fmt.Errorf("update conversation %s: %w", c.ID, store.ErrConflict)
	}
	c.Version++
	c.UpdatedAt = now
	return nil
}

// InsertMessage implements store.Tx.
func (t *Tx) InsertMessage(ctx context.Context, m *atiende.Message) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t.now()
	}
	// A savepoint, so that a duplicate leaves the transaction usable for the caller to decide.
	err := pgx.BeginFunc(ctx, t.q, func(sp pgx.Tx) error {
		return sp.QueryRow(ctx, `INSERT INTO messages (conversation_id, direction, body, provider_id, action, aspect, fichas, processed, provider_at, num_media, agent_id, created_at, reason, score)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`, m.ConversationID, m.Direction, m.Text, nullable(m.ProviderID),
			m.Action, m.Aspect, jsonList(m.Fichas), m.Processed, nullTime(m.ProviderAt), m.NumMedia, m.AgentID, m.CreatedAt.UTC(), m.Reason, m.Score).Scan(&m.ID)
	})
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("message %s: %w", m.ProviderID, store.ErrDuplicate)
		}
		return fmt.Errorf("insert message: %w", err)
	}
	return nil
}

const messageCols = `id, conversation_id, direction, body, coalesce(provider_id, ''), action, aspect, fichas, processed, provider_at, num_media, agent_id, created_at, reason, score`

func scanMessage(row pgx.Row) (atiende.Message, error) {
	var m atiende.Message
	var fichas []byte
	var providerAt *time.Time
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Text, &m.ProviderID, &m.Action, &m.Aspect, &fichas, &m.Processed,
		&providerAt, &m.NumMedia, &m.AgentID, &m.CreatedAt, &m.Reason, &m.Score); err != nil {
		return m, err
	}
	if err := json.Unmarshal(fichas, &m.Fichas); err != nil {
		return m, err
	}
	if len(m.Fichas) == 0 {
		m.Fichas = nil
	}
	m.ProviderAt, m.CreatedAt = timeOf(providerAt), m.CreatedAt.UTC()
	return m, nil
}

func messages(ctx context.Context, q querier, sql string, args ...any) ([]atiende.Message, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []atiende.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PendingInbound implements store.Tx.
func (t *Tx) PendingInbound(ctx context.Context, conversationID string) ([]atiende.Message, error) {
	out, err := messages(ctx, t.q, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 AND direction = 'in' AND NOT processed
		ORDER BY coalesce(provider_at, created_at), id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("pending inbound of %s: %w", conversationID, err)
	}
	return out, nil
}

// SetProviderAt implements store.Tx.
func (t *Tx) SetProviderAt(ctx context.Context, messageID int64, at time.Time) error {
	if _, err := t.q.Exec(ctx, `UPDATE messages SET provider_at = $1 WHERE id = $2`, at.UTC(), messageID); err != nil {
		return fmt.Errorf("set provider time of message %d: %w", messageID, err)
	}
	return nil
}

// MarkProcessed implements store.Tx.
func (t *Tx) MarkProcessed(ctx context.Context, messageID int64) error {
	if _, err := t.q.Exec(ctx, `UPDATE messages SET processed = true WHERE id = $1`, messageID); err != nil {
		return fmt.Errorf("mark message %d processed: %w", messageID, err)
	}
	return nil
}

// CountInbound implements store.Tx.
func (t *Tx) CountInbound(ctx context.Context, conversationID string, from, to time.Time) (int, error) {
	var n int
	err := t.q.QueryRow(ctx, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'in' AND created_at >= $2 AND created_at <= $3`,
		conversationID, from.UTC(), to.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count inbound of %s: %w", conversationID, err)
	}
	return n, nil
}

// LastInbound implements store.Tx.
func (t *Tx) LastInbound(ctx context.Context, conversationID string) (time.Time, error) {
	var last *time.Time
	if err := t.q.QueryRow(ctx, `SELECT max(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'in'`, conversationID).Scan(&last); err != nil {
		return time.Time{}, fmt.Errorf("last inbound of %s: %w", conversationID, err)
	}
	return timeOf(last), nil
}

// MessageByProviderID implements store.Store.
func (s *DB) MessageByProviderID(ctx context.Context, providerID string) (*atiende.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE provider_id = $1`, providerID))
	if err != nil {
		return nil, notFound(err, "message "+providerID)
	}
	return &m, nil
}

// Messages implements store.Store.
func (s *DB) Messages(ctx context.Context, conversationID string, limit int) ([]atiende.Message, error) {
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	out, err := messages(ctx, s.pool, `SELECT * FROM (SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2) m ORDER BY id`,
		conversationID, lim)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", conversationID, err)
	}
	return out, nil
}

const handoffCols = `id, conversation_id, reason, priority, status, queue, agent_id, assigned_at, closed_at, callback_at, note, notified_at, created_at`

func scanHandoff(row pgx.Row) (atiende.Handoff, error) {
	var h atiende.Handoff
	var assigned, closed, callback, notified *time.Time
	err := row.Scan(&h.ID, &h.ConversationID, &h.Reason, &h.Priority, &h.Status, &h.Queue, &h.AgentID, &assigned, &closed, &callback, &h.Note, &notified, &h.CreatedAt)
	h.AssignedAt, h.ClosedAt, h.CallbackAt, h.NotifiedAt, h.CreatedAt = timeOf(assigned), timeOf(closed), timeOf(callback), timeOf(notified), h.CreatedAt.UTC()
	return h, err
}

func handoffs(ctx context.Context, q querier, sql string, args ...any) ([]atiende.Handoff, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []atiende.Handoff
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// InsertHandoff implements store.Tx.
func (t *Tx) InsertHandoff(ctx context.Context, h *atiende.Handoff) error {
	if h.CreatedAt.IsZero() {
		h.CreatedAt = t.now()
	}
	if h.Status == "" {
		h.Status = atiende.HandoffQueued
	}
	if h.Queue == "" {
		h.Queue = "general"
	}
	err := t.q.QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, priority, status, queue, agent_id, assigned_at, closed_at, callback_at, note, notified_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`, h.ConversationID, h.Reason, h.Priority, h.Status, h.Queue, h.AgentID,
		nullTime(h.AssignedAt), nullTime(h.ClosedAt), nullTime(h.CallbackAt), h.Note, nullTime(h.NotifiedAt), h.CreatedAt.UTC()).Scan(&h.ID)
	if err != nil {
		return fmt.Errorf("insert handoff: %w", err)
	}
	return nil
}

// Handoff implements store.Tx.
func (t *Tx) Handoff(ctx context.Context, id int64) (*atiende.Handoff, error) {
	h, err := scanHandoff(t.q.QueryRow(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE id = $1 FOR UPDATE`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprint("handoff ", id))
	}
	return &h, nil
}

// OpenHandoff implements store.Tx.
func (t *Tx) OpenHandoff(ctx context.Context, conversationID string) (*atiende.Handoff, error) {
	h, err := scanHandoff(t.q.QueryRow(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE conversation_id = $1 AND status IN ($2, $3, $4)
		ORDER BY id DESC LIMIT 1 FOR UPDATE`, conversationID, atiende.HandoffQueued, atiende.HandoffAssigned, atiende.HandoffCallback))
	if err != nil {
		return nil, notFound(err, "open handoff of "+conversationID)
	}
	return &h, nil
}

// UpdateHandoff implements store.Tx.
func (t *Tx) UpdateHandoff(ctx context.Context, h *atiende.Handoff) error {
	_, err := t.q.Exec(ctx, `UPDATE handoffs SET status = $1, reason = $2, priority = $3, queue = $4, agent_id = $5, assigned_at = $6, closed_at = $7,
		callback_at = $8, note = $9, notified_at = $10 WHERE id = $11`, h.Status, h.Reason, h.Priority, h.Queue, h.AgentID, nullTime(h.AssignedAt),
		nullTime(h.ClosedAt), nullTime(h.CallbackAt), h.Note, nullTime(h.NotifiedAt), h.ID)
	if err != nil {
		return fmt.Errorf("update handoff %d: %w", h.ID, err)
	}
	return nil
}

// HandoffsByStatus implements store.Tx.
func (t *Tx) HandoffsByStatus(ctx context.Context, statuses ...string) ([]atiende.Handoff, error) {
	out, err := handoffs(ctx, t.q, `SELECT `+handoffCols+` FROM handoffs WHERE status = ANY($1) ORDER BY priority DESC, created_at, id`, statuses)
	if err != nil {
		return nil, fmt.Errorf("handoffs by status: %w", err)
	}
	return out, nil
}

// Handoffs implements store.Store.
func (s *DB) Handoffs(ctx context.Context, conversationID string) ([]atiende.Handoff, error) {
	out, err := handoffs(ctx, s.pool, `SELECT `+handoffCols+` FROM handoffs WHERE conversation_id = $1 ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("handoffs of %s: %w", conversationID, err)
	}
	return out, nil
}

const agentCols = `id, username, name, role, password_hash, created_at`

func scanAgent(row pgx.Row) (atiende.Agent, error) {
	var a atiende.Agent
	err := row.Scan(&a.ID, &a.Username, &a.Name, &a.Role, &a.PasswordHash, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// InsertAgent implements store.Tx.
func (t *Tx) InsertAgent(ctx context.Context, a *atiende.Agent) error {
	a.CreatedAt = t.now()
	if a.Role == "" {
		a.Role = "agent"
	}
	err := pgx.BeginFunc(ctx, t.q, func(sp pgx.Tx) error {
		return sp.QueryRow(ctx, `INSERT INTO agents (username, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			a.Username, a.Name, a.Role, a.PasswordHash, a.CreatedAt).Scan(&a.ID)
	})
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("agent %s: %w", a.Username, store.ErrDuplicate)
		}
		return fmt.Errorf("insert agent: %w", err)
	}
	return nil
}

// AgentByUsername implements store.Tx.
func (t *Tx) AgentByUsername(ctx context.Context, username string) (*atiende.Agent, error) {
	a, err := scanAgent(t.q.QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE username = $1`, username))
	if err != nil {
		return nil, notFound(err, "agent "+username)
	}
	return &a, nil
}

// AgentByID implements store.Tx.
func (t *Tx) AgentByID(ctx context.Context, id int64) (*atiende.Agent, error) {
	a, err := scanAgent(t.q.QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprint("agent ", id))
	}
	return &a, nil
}

// Agents implements store.Tx.
func (t *Tx) Agents(ctx context.Context) ([]atiende.Agent, error) {
	rows, err := t.q.Query(ctx, `SELECT `+agentCols+` FROM agents ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	defer rows.Close()
	var out []atiende.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("agents: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertSession implements store.Tx.
func (t *Tx) InsertSession(ctx context.Context, s *atiende.AgentSession) error {
	if _, err := t.q.Exec(ctx, `INSERT INTO agent_sessions (token_hash, agent_id, csrf, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.AgentID, s.CSRF, s.ExpiresAt.UTC()); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByTokenHash implements store.Tx.
func (t *Tx) SessionByTokenHash(ctx context.Context, hash string, now time.Time) (*atiende.AgentSession, error) {
	var s atiende.AgentSession
	err := t.q.QueryRow(ctx, `SELECT token_hash, agent_id, csrf, expires_at FROM agent_sessions WHERE token_hash = $1`, hash).
		Scan(&s.TokenHash, &s.AgentID, &s.CSRF, &s.ExpiresAt)
	if err != nil {
		return nil, notFound(err, "session")
	}
	if !now.Before(s.ExpiresAt) {
		return nil, fmt.Errorf("session expired: %w", store.ErrNotFound)
	}
	return &s, nil
}

// DeleteSession implements store.Tx.
func (t *Tx) DeleteSession(ctx context.Context, hash string) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM agent_sessions WHERE token_hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

const deliveryCols = `id, message_id, conversation_id, channel, to_address, body, status, coalesce(provider_sid, ''), error_code, error_message,
	attempts, segments, encoding, created_at, updated_at`

func scanDelivery(row pgx.Row) (atiende.Delivery, error) {
	var d atiende.Delivery
	err := row.Scan(&d.ID, &d.MessageID, &d.ConversationID, &d.Channel, &d.To, &d.Body, &d.Status, &d.ProviderSID, &d.ErrorCode, &d.ErrorMessage,
		&d.Attempts, &d.Segments, &d.Encoding, &d.CreatedAt, &d.UpdatedAt)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

// InsertDelivery implements store.Tx.
func (t *Tx) InsertDelivery(ctx context.Context, d *atiende.Delivery) error {
	now := t.now()
	if d.Status == "" {
		d.Status = atiende.DeliveryPending
	}
	err := t.q.QueryRow(ctx, `INSERT INTO deliveries (message_id, conversation_id, channel, to_address, body, status, provider_sid, error_code, error_message,
		attempts, segments, encoding, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
		d.MessageID, d.ConversationID, d.Channel, d.To, d.Body, d.Status, nullable(d.ProviderSID), d.ErrorCode, d.ErrorMessage,
		d.Attempts, d.Segments, d.Encoding, now).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return nil
}

// Delivery implements store.Tx.
func (t *Tx) Delivery(ctx context.Context, id int64) (*atiende.Delivery, error) {
	d, err := scanDelivery(t.q.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprint("delivery ", id))
	}
	return &d, nil
}

// DeliveryByProviderSID implements store.Tx.
func (t *Tx) DeliveryByProviderSID(ctx context.Context, sid string) (*atiende.Delivery, error) {
	d, err := scanDelivery(t.q.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE provider_sid = $1`, sid))
	if err != nil {
		return nil, notFound(err, "delivery "+sid)
	}
	return &d, nil
}

// UnsentBefore implements store.Tx.
func (t *Tx) UnsentBefore(ctx context.Context, conversationID string, id int64) (int, error) {
	var n int
	err := t.q.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE conversation_id = $1 AND id < $2 AND status IN ($3, $4)`,
		conversationID, id, atiende.DeliveryPending, atiende.DeliverySending).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("unsent deliveries of %s: %w", conversationID, err)
	}
	return n, nil
}

// UpdateDelivery implements store.Tx.
func (t *Tx) UpdateDelivery(ctx context.Context, d *atiende.Delivery) error {
	now := t.now()
	_, err := t.q.Exec(ctx, `UPDATE deliveries SET status = $1, provider_sid = $2, error_code = $3, error_message = $4, attempts = $5, segments = $6,
		encoding = $7, updated_at = $8 WHERE id = $9`, d.Status, nullable(d.ProviderSID), d.ErrorCode, d.ErrorMessage, d.Attempts, d.Segments, d.Encoding, now, d.ID)
	if err != nil {
		return fmt.Errorf("update delivery %d: %w", d.ID, err)
	}
	d.UpdatedAt = now
	return nil
}

// Deliveries implements store.Store.
func (s *DB) Deliveries(ctx context.Context, conversationID string) ([]atiende.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE conversation_id = $1 ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", conversationID, err)
	}
	defer rows.Close()
	var out []atiende.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("deliveries of %s: %w", conversationID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Ping implements store.Store.
func (s *DB) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements store.Store.
func (s *DB) Close() error {
	s.pool.Close()
	return nil
}
