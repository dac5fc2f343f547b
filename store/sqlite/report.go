package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atiende/atiende/store"
)

// collect reads every row of a report's query with scan; what names the query in errors.
func collect[T any](what string, rows *sql.Rows, err error, scan func(*sql.Rows, *T) error) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Volume implements store.Store. Times are stored as RFC 3339 text in UTC, so the buckets'
// bounds compare as text. CROSS JOIN keeps the few buckets as the outer loop, each a range
// of the created_at index, rather than a scan of every message against every bucket.
func (s *DB) Volume(ctx context.Context, bounds []time.Time) ([]store.VolumeBucket, error) {
	if err := store.CheckBounds(bounds); err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	pairs := make([][2]string, len(bounds)-1)
	for i := range pairs {
		pairs[i] = [2]string{ts(bounds[i]), ts(bounds[i+1])}
	}
	b, _ := json.Marshal(pairs)
	rows, err := s.db.QueryContext(ctx, `WITH b AS (SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi FROM json_each(?1))
	SELECT i, channel, sum(inbound), sum(active), sum(started), sum(handoffs) FROM (
		SELECT b.i AS i, c.channel AS channel, count(*) AS inbound, count(DISTINCT m.conversation_id) AS active, 0 AS started, 0 AS handoffs
			FROM b CROSS JOIN messages m ON m.created_at >= b.lo AND m.created_at < b.hi JOIN conversations c ON c.id = m.conversation_id
			WHERE m.direction = 'in' GROUP BY 1, 2
		UNION ALL
		SELECT b.i, c.channel, 0, 0, count(*), 0
			FROM b CROSS JOIN conversations c ON c.created_at >= b.lo AND c.created_at < b.hi GROUP BY 1, 2
		UNION ALL
		SELECT b.i, c.channel, 0, 0, 0, count(*)
			FROM b CROSS JOIN handoffs h ON h.created_at >= b.lo AND h.created_at < b.hi JOIN conversations c ON c.id = h.conversation_id GROUP BY 1, 2
	) GROUP BY i, channel ORDER BY i, channel`, string(b))
	return collect("volume", rows, err, func(r *sql.Rows, v *store.VolumeBucket) error {
		return r.Scan(&v.Bucket, &v.Channel, &v.Inbound, &v.Active, &v.Started, &v.Handoffs)
	})
}

// HandoffWaits implements store.Store.
func (s *DB) HandoffWaits(ctx context.Context, from, to time.Time) ([]store.HandoffWait, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.id, c.channel, h.reason, h.status, h.created_at, h.assigned_at, h.closed_at
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE h.created_at >= ? AND h.created_at < ? ORDER BY h.created_at, h.id`, ts(from), ts(to))
	return collect("handoff waits", rows, err, func(r *sql.Rows, w *store.HandoffWait) error {
		var created, assigned, closed string
		if err := r.Scan(&w.ID, &w.Channel, &w.Reason, &w.Status, &created, &assigned, &closed); err != nil {
			return err
		}
		w.CreatedAt, w.AssignedAt, w.ClosedAt = parseTS(created), parseTS(assigned), parseTS(closed)
		return nil
	})
}

// TopFichas implements store.Store.
func (s *DB) TopFichas(ctx context.Context, from, to time.Time, action string, limit int) ([]store.FichaCount, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT json_extract(fichas, '$[0]') AS slug, count(*) AS n FROM messages
		WHERE direction = 'out' AND agent_id = 0 AND action = ? AND fichas <> '[]' AND created_at >= ? AND created_at < ?
		GROUP BY slug ORDER BY n DESC, slug LIMIT ?`, action, ts(from), ts(to), limit)
	return collect("top fichas", rows, err, func(r *sql.Rows, f *store.FichaCount) error { return r.Scan(&f.Slug, &f.Count) })
}

// Unanswered implements store.Store.
func (s *DB) Unanswered(ctx context.Context, q store.UnansweredQuery) ([]store.UnansweredTurn, error) {
	if q.Limit <= 0 {
		q.Limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, o.conversation_id, c.channel,
			coalesce((SELECT i.body FROM messages i WHERE i.conversation_id = o.conversation_id AND i.direction = 'in' AND i.id < o.id
				ORDER BY i.id DESC LIMIT 1), ''),
			CASE WHEN o.repeated THEN ?8 ELSE o.action END, o.reason, o.score, o.fichas, o.created_at
		FROM (SELECT m.*, (?7 AND m.action = 'answer'
				AND (SELECT p.action FROM messages p WHERE p.conversation_id = m.conversation_id AND p.direction = 'out' AND p.agent_id = 0 AND p.id < m.id ORDER BY p.id DESC LIMIT 1) = 'answer'
				AND (SELECT p.body FROM messages p WHERE p.conversation_id = m.conversation_id AND p.direction = 'out' AND p.agent_id = 0 AND p.id < m.id ORDER BY p.id DESC LIMIT 1) = m.body) AS repeated
			FROM messages m WHERE m.direction = 'out' AND m.agent_id = 0 AND m.created_at >= ?1 AND m.created_at < ?2) o
		JOIN conversations c ON c.id = o.conversation_id
		WHERE o.action IN (SELECT value FROM json_each(?3)) OR o.reason IN (SELECT value FROM json_each(?4))
			OR (o.score > 0 AND o.score < ?5) OR o.repeated
		ORDER BY o.id LIMIT ?6`, ts(q.From), ts(q.To), jsonList(q.Actions), jsonList(q.Reasons), q.LowScore, q.Limit, q.Repeated, store.ActionRepeated)
	return collect("unanswered", rows, err, func(r *sql.Rows, u *store.UnansweredTurn) error {
		var fichas, created string
		if err := r.Scan(&u.MessageID, &u.ConversationID, &u.Channel, &u.Question, &u.Action, &u.Reason, &u.Score, &fichas, &created); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(fichas), &u.Fichas); err != nil {
			return fmt.Errorf("message %d: fichas: %w", u.MessageID, err)
		}
		if len(u.Fichas) == 0 {
			u.Fichas = nil
		}
		u.CreatedAt = parseTS(created)
		return nil
	})
}
