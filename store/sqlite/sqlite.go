// Package sqlite implements store.Store on an embedded SQLite file, through the pure-Go
// driver modernc.org/sqlite (no cgo). It is the default of "make run": one file under
// ATIENDE_DATA_DIR, nothing else to install.
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
}

var _ store.Store = (*DB)(nil)

// Open opens (creating it if needed) the SQLite file at path and brings its schema up to
// date. Use ":memory:" only in tests, with a single connection.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	s := &DB{db: db, now: func() time.Time { return time.Now().UTC() }}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

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
		err = s.tx(ctx, func(tx *sql.Tx) error {
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
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, s.now().Format(time.RFC3339Nano))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

func (s *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
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

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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

// CreateConversation implements store.Store.
func (s *DB) CreateConversation(ctx context.Context, c *store.Conversation) error {
	if c.ID == "" {
		return errors.New("create conversation: empty id")
	}
	now := s.now()
	state := c.State
	if len(state) == 0 {
		state = json.RawMessage(`{}`)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO conversations (id, channel, address, token_hash, state, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, c.ID, c.Channel, c.Address, c.TokenHash, string(state), ts(now), ts(now))
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("create conversation %s: %w", c.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	c.State, c.Version, c.CreatedAt, c.UpdatedAt = state, 1, now, now
	return nil
}

// Conversation implements store.Store.
func (s *DB) Conversation(ctx context.Context, id string) (*store.Conversation, error) {
	var c store.Conversation
	var state, created, updated string
	err := s.db.QueryRowContext(ctx, `SELECT id, channel, address, token_hash, state, version, created_at, updated_at
		FROM conversations WHERE id = ?`, id).Scan(&c.ID, &c.Channel, &c.Address, &c.TokenHash, &state, &c.Version, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("conversation %s: %w", id, err)
	}
	c.State, c.CreatedAt, c.UpdatedAt = json.RawMessage(state), parseTS(created), parseTS(updated)
	return &c, nil
}

// SaveTurn implements store.Store.
func (s *DB) SaveTurn(ctx context.Context, t *store.Turn) error {
	now := s.now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET state = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			string(t.State), ts(now), t.ConversationID, t.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM conversations WHERE id = ?`, t.ConversationID).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return store.ErrNotFound
			}
			return store.ErrConflict
		}
		for _, m := range []*store.Message{&t.In, &t.Out} {
			m.ConversationID, m.CreatedAt = t.ConversationID, now
			fichas, _ := json.Marshal(orEmpty(m.Fichas))
			res, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, direction, body, provider_id, action, aspect, fichas, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ConversationID, m.Direction, m.Text, nullable(m.ProviderID), m.Action, m.Aspect, string(fichas), ts(now))
			if err != nil {
				if isUnique(err) {
					return store.ErrDuplicate
				}
				return err
			}
			m.ID, _ = res.LastInsertId()
		}
		if h := t.Handoff; h != nil {
			h.ConversationID, h.CreatedAt = t.ConversationID, now
			if h.Status == "" {
				h.Status = store.HandoffQueued
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO handoffs (conversation_id, reason, priority, status, created_at) VALUES (?, ?, ?, ?, ?)`,
				t.ConversationID, h.Reason, h.Priority, h.Status, ts(now))
			if err != nil {
				return err
			}
			h.ID, _ = res.LastInsertId()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save turn of %s: %w", t.ConversationID, err)
	}
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const messageCols = `id, conversation_id, direction, body, coalesce(provider_id, ''), action, aspect, fichas, created_at`

func scanMessage(sc interface{ Scan(...any) error }) (store.Message, error) {
	var m store.Message
	var fichas, created string
	if err := sc.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Text, &m.ProviderID, &m.Action, &m.Aspect, &fichas, &created); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(fichas), &m.Fichas); err != nil {
		return m, fmt.Errorf("message %d: fichas: %w", m.ID, err)
	}
	if len(m.Fichas) == 0 {
		m.Fichas = nil
	}
	m.CreatedAt = parseTS(created)
	return m, nil
}

// MessageByProviderID implements store.Store.
func (s *DB) MessageByProviderID(ctx context.Context, providerID string) (*store.Message, error) {
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
func (s *DB) Messages(ctx context.Context, conversationID string, limit int) ([]store.Message, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT * FROM (SELECT `+messageCols+` FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
		conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", conversationID, err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages of %s: %w", conversationID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages of %s: %w", conversationID, err)
	}
	return out, nil
}

// Handoffs implements store.Store.
func (s *DB) Handoffs(ctx context.Context, conversationID string) ([]store.Handoff, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, conversation_id, reason, priority, status, created_at FROM handoffs WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("handoffs of %s: %w", conversationID, err)
	}
	defer rows.Close()
	var out []store.Handoff
	for rows.Next() {
		var h store.Handoff
		var created string
		if err := rows.Scan(&h.ID, &h.ConversationID, &h.Reason, &h.Priority, &h.Status, &created); err != nil {
			return nil, fmt.Errorf("handoffs of %s: %w", conversationID, err)
		}
		h.CreatedAt = parseTS(created)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Ping implements store.Store.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *DB) Close() error { return s.db.Close() }
