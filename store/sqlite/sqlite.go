// Package sqlite implements store.Store on an embedded SQLite file, through the pure-Go
// driver modernc.org/sqlite (no cgo). It is the default of "make run": one file under
// ATIENDE_DATA_DIR, nothing else to install. The job queue (River) shares the database.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store on SQLite.
type DB struct {
	db  *sql.DB
	now func() time.Time
	// lanes lets one job's transaction wait for the one connection at a time: a request
	// then waits behind at most one job's, not behind every job running (store.Lanes).
	lanes *store.Lanes
}

var _ store.Store = (*DB)(nil)

// Open opens (creating it if needed) the SQLite file at path and brings its schema up to
// date. SQLite allows one writer at a time, and River asks for a single connection: the
// pool holds one, so work queues in the process instead of failing with SQLITE_BUSY.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	reg, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	drv := reg.Driver()
	reg.Close()
	db := sql.OpenDB(cachingConnector{dsn: "file:" + path + "?" + q.Encode(), driver: drv})
	db.SetMaxOpenConns(1)
	s := &DB{db: db, now: func() time.Time { return time.Now().UTC() }, lanes: store.NewLanes(1)}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// SQL returns the database handle, for the job queue's driver.
func (s *DB) SQL() *sql.DB { return s.db }

// Migrate applies the embedded migrations not yet applied, each in its own transaction.
func (s *DB) Migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s: name must start with a version number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = s.sqlTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", base, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, ts(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

func (s *DB) sqlTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Tx is a store.Tx on an SQLite transaction.
type Tx struct {
	store.AfterCommitHooks
	q   *sql.Tx
	db  *DB // whose transaction it is (SQLTx)
	now func() time.Time
}

var _ store.Tx = (*Tx)(nil)

// SQLTx returns the database/sql transaction inside tx, for the job queue to enqueue in it
// (queue.SQLiteDB); ok is false when tx is not a transaction of this database, whose job
// would not commit or roll back with it.
func (s *DB) SQLTx(tx store.Tx) (*sql.Tx, bool) {
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
	err = s.sqlTx(ctx, func(tx *sql.Tx) error { t = &Tx{q: tx, db: s, now: s.now}; return fn(t) })
	release()
	if err != nil {
		return err
	}
	t.Run()
	return nil
}

// reader is what the read queries need: the pool or a transaction.
type reader interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func isUnique(err error) bool {
	var se *sqlite3.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
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
	_, err := t.q.ExecContext(ctx, `INSERT INTO conversations (id, channel, address, token_hash, state, version, created_at, updated_at, optout, more)
		VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`, c.ID, c.Channel, c.Address, c.TokenHash, string(state), ts(now), ts(now), c.OptOut, jsonList(c.More))
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("create conversation %s: %w", c.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	c.State, c.Version, c.CreatedAt, c.UpdatedAt = state, 1, now, now
	return nil
}

const conversationCols = `id, channel, address, token_hash, state, version, created_at, updated_at, optout, more`

func scanConversation(row *sql.Row) (*atiende.Conversation, error) {
	var c atiende.Conversation
	var state, created, updated, more string
	if err := row.Scan(&c.ID, &c.Channel, &c.Address, &c.TokenHash, &state, &c.Version, &created, &updated, &c.OptOut, &more); err != nil {
		return nil, err
	}
	c.State, c.CreatedAt, c.UpdatedAt = json.RawMessage(state), parseTS(created), parseTS(updated)
	if err := json.Unmarshal([]byte(more), &c.More); err != nil {
		return nil, fmt.Errorf("more: %w", err)
	}
	if len(c.More) == 0 {
		c.More = nil
	}
	return &c, nil
}

func conversation(ctx context.Context, q reader, id string) (*atiende.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("conversation %s: %w", id, err)
	}
	return c, nil
}

// Conversation implements store.Store.
func (s *DB) Conversation(ctx context.Context, id string) (*atiende.Conversation, error) {
	return conversation(ctx, s.db, id)
}

// Conversation implements store.Tx.
func (t *Tx) Conversation(ctx context.Context, id string) (*atiende.Conversation, error) {
	return conversation(ctx, t.q, id)
}

// conversationByAddressSQL repeats the partial index's condition (address <> ”): without it
// SQLite cannot use conversations_address and scans every conversation, every webhook.
var conversationByAddressSQL = `SELECT ` + conversationCols + ` FROM conversations
		WHERE channel = ? AND address = ? AND address <> '' ORDER BY created_at DESC LIMIT 1`

// ConversationByAddress implements store.Tx.
func (t *Tx) ConversationByAddress(ctx context.Context, channel, address string) (*atiende.Conversation, error) {
	c, err := scanConversation(t.q.QueryRowContext(ctx, conversationByAddressSQL, channel, address))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("conversation of %s %s: %w", channel, address, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("conversation of %s: %w", channel, err)
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
	res, err := t.q.ExecContext(ctx, `UPDATE conversations SET state = ?, optout = ?, more = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, string(state), c.OptOut, jsonList(c.More), ts(now), c.ID, c.Version)
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", c.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update conversation %s: %w", c.ID, err)
	}
	if n == 0 {
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
	res, err := t.q.ExecContext(ctx, `INSERT INTO messages (conversation_id, direction, body, provider_id, action, aspect, fichas, created_at, processed, provider_at, num_media, agent_id, reason, score)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ConversationID, m.Direction, m.Text, nullable(m.ProviderID), m.Action, m.Aspect, jsonList(m.Fichas),
		ts(m.CreatedAt), m.Processed, ts(m.ProviderAt), m.NumMedia, m.AgentID, m.Reason, m.Score)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("message %s: %w", m.ProviderID, store.ErrDuplicate)
		}
		return fmt.Errorf("insert message: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert message: its id: %w", err)
	}
	return nil
}

const messageCols = `id, conversation_id, direction, body, coalesce(provider_id, ''), action, aspect, fichas, created_at, processed, provider_at, num_media, agent_id, reason, score`

func scanMessage(sc interface{ Scan(...any) error }) (atiende.Message, error) {
	var m atiende.Message
	var fichas, created, providerAt string
	if err := sc.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Text, &m.ProviderID, &m.Action, &m.Aspect, &fichas, &created,
		&m.Processed, &providerAt, &m.NumMedia, &m.AgentID, &m.Reason, &m.Score); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(fichas), &m.Fichas); err != nil {
		return m, fmt.Errorf("message %d: fichas: %w", m.ID, err)
	}
	if len(m.Fichas) == 0 {
		m.Fichas = nil
	}
	m.CreatedAt, m.ProviderAt = parseTS(created), parseTS(providerAt)
	return m, nil
}

func messages(ctx context.Context, q reader, query string, args ...any) ([]atiende.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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
	out, err := messages(ctx, t.q, `SELECT `+messageCols+` FROM messages WHERE conversation_id = ? AND direction = 'in' AND processed = 0
		ORDER BY CASE WHEN provider_at = '' THEN created_at ELSE provider_at END, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("pending inbound of %s: %w", conversationID, err)
	}
	return out, nil
}

// SetProviderAt implements store.Tx.
func (t *Tx) SetProviderAt(ctx context.Context, messageID int64, at time.Time) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE messages SET provider_at = ? WHERE id = ?`, ts(at), messageID); err != nil {
		return fmt.Errorf("set provider time of message %d: %w", messageID, err)
	}
	return nil
}

// MarkProcessed implements store.Tx.
func (t *Tx) MarkProcessed(ctx context.Context, messageID int64) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE messages SET processed = 1 WHERE id = ?`, messageID); err != nil {
		return fmt.Errorf("mark message %d processed: %w", messageID, err)
	}
	return nil
}

// CountInbound implements store.Tx.
func (t *Tx) CountInbound(ctx context.Context, conversationID string, from, to time.Time) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'in' AND created_at >= ? AND created_at <= ?`,
		conversationID, ts(from), ts(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count inbound of %s: %w", conversationID, err)
	}
	return n, nil
}

// LastInbound implements store.Tx.
func (t *Tx) LastInbound(ctx context.Context, conversationID string) (time.Time, error) {
	var last sql.NullString
	err := t.q.QueryRowContext(ctx, `SELECT max(created_at) FROM messages WHERE conversation_id = ? AND direction = 'in'`, conversationID).Scan(&last)
	if err != nil {
		return time.Time{}, fmt.Errorf("last inbound of %s: %w", conversationID, err)
	}
	return parseTS(last.String), nil
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
	res, err := t.q.ExecContext(ctx, `INSERT INTO handoffs (conversation_id, reason, priority, status, created_at, queue, agent_id, assigned_at, closed_at, callback_at, note, notified_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.ConversationID, h.Reason, h.Priority, h.Status, ts(h.CreatedAt), h.Queue, h.AgentID,
		ts(h.AssignedAt), ts(h.ClosedAt), ts(h.CallbackAt), h.Note, ts(h.NotifiedAt))
	if err != nil {
		return fmt.Errorf("insert handoff: %w", err)
	}
	if h.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert handoff: its id: %w", err)
	}
	return nil
}

const handoffCols = `id, conversation_id, reason, priority, status, created_at, queue, agent_id, assigned_at, closed_at, callback_at, note, notified_at`

func scanHandoff(sc interface{ Scan(...any) error }) (atiende.Handoff, error) {
	var h atiende.Handoff
	var created, assigned, closed, callback, notified string
	err := sc.Scan(&h.ID, &h.ConversationID, &h.Reason, &h.Priority, &h.Status, &created, &h.Queue, &h.AgentID, &assigned, &closed, &callback, &h.Note, &notified)
	h.CreatedAt, h.AssignedAt, h.ClosedAt, h.CallbackAt, h.NotifiedAt = parseTS(created), parseTS(assigned), parseTS(closed), parseTS(callback), parseTS(notified)
	return h, err
}

func handoffs(ctx context.Context, q reader, query string, args ...any) ([]atiende.Handoff, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

func oneHandoff(ctx context.Context, q reader, what, query string, args ...any) (*atiende.Handoff, error) {
	h, err := scanHandoff(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("handoff %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("handoff %s: %w", what, err)
	}
	return &h, nil
}

// Handoff implements store.Tx.
func (t *Tx) Handoff(ctx context.Context, id int64) (*atiende.Handoff, error) {
	return oneHandoff(ctx, t.q, fmt.Sprint(id), `SELECT `+handoffCols+` FROM handoffs WHERE id = ?`, id)
}

// OpenHandoff implements store.Tx.
func (t *Tx) OpenHandoff(ctx context.Context, conversationID string) (*atiende.Handoff, error) {
	return oneHandoff(ctx, t.q, "of "+conversationID, `SELECT `+handoffCols+` FROM handoffs WHERE conversation_id = ? AND status IN (?, ?, ?)
		ORDER BY id DESC LIMIT 1`, conversationID, atiende.HandoffQueued, atiende.HandoffAssigned, atiende.HandoffCallback)
}

// UpdateHandoff implements store.Tx.
func (t *Tx) UpdateHandoff(ctx context.Context, h *atiende.Handoff) error {
	_, err := t.q.ExecContext(ctx, `UPDATE handoffs SET status = ?, reason = ?, priority = ?, queue = ?, agent_id = ?, assigned_at = ?, closed_at = ?, callback_at = ?,
		note = ?, notified_at = ? WHERE id = ?`, h.Status, h.Reason, h.Priority, h.Queue, h.AgentID, ts(h.AssignedAt), ts(h.ClosedAt), ts(h.CallbackAt), h.Note,
		ts(h.NotifiedAt), h.ID)
	if err != nil {
		return fmt.Errorf("update handoff %d: %w", h.ID, err)
	}
	return nil
}

// HandoffsByStatus implements store.Tx.
func (t *Tx) HandoffsByStatus(ctx context.Context, statuses ...string) ([]atiende.Handoff, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = st
	}
	out, err := handoffs(ctx, t.q, `SELECT `+handoffCols+` FROM handoffs WHERE status IN (?`+strings.Repeat(", ?", len(statuses)-1)+`)
		ORDER BY priority DESC, created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("handoffs by status: %w", err)
	}
	return out, nil
}

const agentCols = `id, username, name, role, password_hash, created_at`

func scanAgent(sc interface{ Scan(...any) error }) (atiende.Agent, error) {
	var a atiende.Agent
	var created string
	err := sc.Scan(&a.ID, &a.Username, &a.Name, &a.Role, &a.PasswordHash, &created)
	a.CreatedAt = parseTS(created)
	return a, err
}

// InsertAgent implements store.Tx.
func (t *Tx) InsertAgent(ctx context.Context, a *atiende.Agent) error {
	a.CreatedAt = t.now()
	if a.Role == "" {
		a.Role = "agent"
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO agents (username, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		a.Username, a.Name, a.Role, a.PasswordHash, ts(a.CreatedAt))
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("agent %s: %w", a.Username, store.ErrDuplicate)
		}
		return fmt.Errorf("insert agent: %w", err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert agent: its id: %w", err)
	}
	return nil
}

func (t *Tx) agent(ctx context.Context, what, where string, arg any) (*atiende.Agent, error) {
	a, err := scanAgent(t.q.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("agent %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", what, err)
	}
	return &a, nil
}

// AgentByUsername implements store.Tx.
func (t *Tx) AgentByUsername(ctx context.Context, username string) (*atiende.Agent, error) {
	return t.agent(ctx, username, "username = ?", username)
}

// AgentByID implements store.Tx.
func (t *Tx) AgentByID(ctx context.Context, id int64) (*atiende.Agent, error) {
	return t.agent(ctx, fmt.Sprint(id), "id = ?", id)
}

// Agents implements store.Tx.
func (t *Tx) Agents(ctx context.Context) ([]atiende.Agent, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY name`)
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
	_, err := t.q.ExecContext(ctx, `INSERT INTO agent_sessions (token_hash, agent_id, csrf, expires_at) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.AgentID, s.CSRF, ts(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByTokenHash implements store.Tx.
func (t *Tx) SessionByTokenHash(ctx context.Context, hash string, now time.Time) (*atiende.AgentSession, error) {
	var s atiende.AgentSession
	var expires string
	err := t.q.QueryRowContext(ctx, `SELECT token_hash, agent_id, csrf, expires_at FROM agent_sessions WHERE token_hash = ?`, hash).
		Scan(&s.TokenHash, &s.AgentID, &s.CSRF, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s.ExpiresAt = parseTS(expires)
	if !now.Before(s.ExpiresAt) {
		return nil, fmt.Errorf("session expired: %w", store.ErrNotFound)
	}
	return &s, nil
}

// DeleteSession implements store.Tx.
func (t *Tx) DeleteSession(ctx context.Context, hash string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM agent_sessions WHERE token_hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// MessageByProviderID implements store.Store.
func (s *DB) MessageByProviderID(ctx context.Context, providerID string) (*atiende.Message, error) {
	m, err := scanMessage(s.db.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE provider_id = ?`, providerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %s: %w", providerID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", providerID, err)
	}
	return &m, nil
}

// Messages implements store.Store.
func (s *DB) Messages(ctx context.Context, conversationID string, limit int) ([]atiende.Message, error) {
	if limit <= 0 {
		limit = -1
	}
	out, err := messages(ctx, s.db, `SELECT * FROM (SELECT `+messageCols+` FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
		conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", conversationID, err)
	}
	return out, nil
}

// Handoffs implements store.Store.
func (s *DB) Handoffs(ctx context.Context, conversationID string) ([]atiende.Handoff, error) {
	out, err := handoffs(ctx, s.db, `SELECT `+handoffCols+` FROM handoffs WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("handoffs of %s: %w", conversationID, err)
	}
	return out, nil
}

const deliveryCols = `id, message_id, conversation_id, channel, to_address, body, status, coalesce(provider_sid, ''), error_code, error_message,
	attempts, segments, encoding, created_at, updated_at`

func scanDelivery(sc interface{ Scan(...any) error }) (atiende.Delivery, error) {
	var d atiende.Delivery
	var created, updated string
	err := sc.Scan(&d.ID, &d.MessageID, &d.ConversationID, &d.Channel, &d.To, &d.Body, &d.Status, &d.ProviderSID, &d.ErrorCode, &d.ErrorMessage,
		&d.Attempts, &d.Segments, &d.Encoding, &created, &updated)
	d.CreatedAt, d.UpdatedAt = parseTS(created), parseTS(updated)
	return d, err
}

// InsertDelivery implements store.Tx.
func (t *Tx) InsertDelivery(ctx context.Context, d *atiende.Delivery) error {
	now := t.now()
	if d.Status == "" {
		d.Status = atiende.DeliveryPending
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO deliveries (message_id, conversation_id, channel, to_address, body, status, provider_sid, error_code, error_message,
		attempts, segments, encoding, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.MessageID, d.ConversationID, d.Channel, d.To, d.Body, d.Status, nullable(d.ProviderSID), d.ErrorCode, d.ErrorMessage,
		d.Attempts, d.Segments, d.Encoding, ts(now), ts(now))
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert delivery: its id: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return nil
}

func delivery(ctx context.Context, q reader, where string, arg any) (*atiende.Delivery, error) {
	d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("delivery %v: %w", arg, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("delivery %v: %w", arg, err)
	}
	return &d, nil
}

// Delivery implements store.Tx.
func (t *Tx) Delivery(ctx context.Context, id int64) (*atiende.Delivery, error) {
	return delivery(ctx, t.q, "id = ?", id)
}

// DeliveryByProviderSID implements store.Tx.
func (t *Tx) DeliveryByProviderSID(ctx context.Context, sid string) (*atiende.Delivery, error) {
	return delivery(ctx, t.q, "provider_sid = ?", sid)
}

// UnsentBefore implements store.Tx.
func (t *Tx) UnsentBefore(ctx context.Context, conversationID string, id int64) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE conversation_id = ? AND id < ? AND status IN (?, ?)`,
		conversationID, id, atiende.DeliveryPending, atiende.DeliverySending).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("unsent deliveries of %s: %w", conversationID, err)
	}
	return n, nil
}

// UpdateDelivery implements store.Tx.
func (t *Tx) UpdateDelivery(ctx context.Context, d *atiende.Delivery) error {
	now := t.now()
	_, err := t.q.ExecContext(ctx, `UPDATE deliveries SET status = ?, provider_sid = ?, error_code = ?, error_message = ?, attempts = ?, segments = ?,
		encoding = ?, updated_at = ? WHERE id = ?`, d.Status, nullable(d.ProviderSID), d.ErrorCode, d.ErrorMessage, d.Attempts, d.Segments, d.Encoding, ts(now), d.ID)
	if err != nil {
		return fmt.Errorf("update delivery %d: %w", d.ID, err)
	}
	d.UpdatedAt = now
	return nil
}

// Deliveries implements store.Store.
func (s *DB) Deliveries(ctx context.Context, conversationID string) ([]atiende.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE conversation_id = ? ORDER BY id`, conversationID)
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
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *DB) Close() error { return s.db.Close() }
