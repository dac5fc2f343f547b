package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atiende/atiende/store"
	"github.com/jackc/pgx/v5"
)

// collect reads every row of a report's query with scan; what names the query in errors.
func collect[T any](what string, rows pgx.Rows, err error, scan func(pgx.Rows, *T) error) ([]T, error) {
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

// Volume implements store.Store.
func (s *DB) Volume(ctx context.Context, bounds []time.Time) ([]store.VolumeBucket, error) {
	if err := store.CheckBounds(bounds); err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	lo, hi := make([]time.Time, len(bounds)-1), make([]time.Time, len(bounds)-1)
	for i := range lo {
		lo[i], hi[i] = bounds[i].UTC(), bounds[i+1].UTC()
	}
	rows, err := s.pool.Query(ctx, `WITH b AS (SELECT (t.i - 1)::int AS i, t.lo, t.hi FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS t(lo, hi, i))
	SELECT i, channel, sum(inbound)::int, sum(active)::int, sum(started)::int, sum(handoffs)::int FROM (
		SELECT b.i AS i, c.channel AS channel, count(*) AS inbound, count(DISTINCT m.conversation_id) AS active, 0 AS started, 0 AS handoffs
			FROM b JOIN messages m ON m.created_at >= b.lo AND m.created_at < b.hi JOIN conversations c ON c.id = m.conversation_id
			WHERE m.direction = 'in' GROUP BY 1, 2
		UNION ALL
		SELECT b.i, c.channel, 0, 0, count(*), 0
			FROM b JOIN conversations c ON c.created_at >= b.lo AND c.created_at < b.hi GROUP BY 1, 2
		UNION ALL
		SELECT b.i, c.channel, 0, 0, 0, count(*)
			FROM b JOIN handoffs h ON h.created_at >= b.lo AND h.created_at < b.hi JOIN conversations c ON c.id = h.conversation_id GROUP BY 1, 2
	) x GROUP BY i, channel ORDER BY i, channel COLLATE "C"`, lo, hi)
	return collect("volume", rows, err, func(r pgx.Rows, v *store.VolumeBucket) error {
		return r.Scan(&v.Bucket, &v.Channel, &v.Inbound, &v.Active, &v.Started, &v.Handoffs)
	})
}

// HandoffWaits implements store.Store.
func (s *DB) HandoffWaits(ctx context.Context, from, to time.Time) ([]store.HandoffWait, error) {
	rows, err := s.pool.Query(ctx, `SELECT h.id, c.channel, h.reason, h.status, h.created_at, h.assigned_at, h.closed_at
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE h.created_at >= $1 AND h.created_at < $2 ORDER BY h.created_at, h.id`, from.UTC(), to.UTC())
	return collect("handoff waits", rows, err, func(r pgx.Rows, w *store.HandoffWait) error {
		var assigned, closed *time.Time
		if err := r.Scan(&w.ID, &w.Channel, &w.Reason, &w.Status, &w.CreatedAt, &assigned, &closed); err != nil {
			return err
		}
		w.CreatedAt, w.AssignedAt, w.ClosedAt = w.CreatedAt.UTC(), timeOf(assigned), timeOf(closed)
		return nil
	})
}

func limitOf(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// TopFichas implements store.Store.
func (s *DB) TopFichas(ctx context.Context, from, to time.Time, action string, limit int) ([]store.FichaCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT fichas->>0 AS slug, count(*)::int AS n FROM messages
		WHERE direction = 'out' AND agent_id = 0 AND action = $1 AND jsonb_array_length(fichas) > 0 AND created_at >= $2 AND created_at < $3
		GROUP BY 1 ORDER BY n DESC, (fichas->>0) COLLATE "C" LIMIT $4`, action, from.UTC(), to.UTC(), limitOf(limit))
	return collect("top fichas", rows, err, func(r pgx.Rows, f *store.FichaCount) error { return r.Scan(&f.Slug, &f.Count) })
}

// Unanswered implements store.Store.
func (s *DB) Unanswered(ctx context.Context, q store.UnansweredQuery) ([]store.UnansweredTurn, error) {
	actions, reasons := q.Actions, q.Reasons
	if actions == nil {
		actions = []string{}
	}
	if reasons == nil {
		reasons = []string{}
	}
	rows, err := s.pool.Query(ctx, `SELECT o.id, o.conversation_id, c.channel,
			coalesce((SELECT i.body FROM messages i WHERE i.conversation_id = o.conversation_id AND i.direction = 'in' AND i.id < o.id
				ORDER BY i.id DESC LIMIT 1), ''),
			CASE WHEN o.repeated THEN $8 ELSE o.action END, o.reason, o.score, o.fichas, o.created_at
		FROM (SELECT m.*, coalesce(($7::boolean AND m.action = 'answer'
				AND (SELECT p.action FROM messages p WHERE p.conversation_id = m.conversation_id AND p.direction = 'out' AND p.agent_id = 0 AND p.id < m.id ORDER BY p.id DESC LIMIT 1) = 'answer'
				AND (SELECT p.body FROM messages p WHERE p.conversation_id = m.conversation_id AND p.direction = 'out' AND p.agent_id = 0 AND p.id < m.id ORDER BY p.id DESC LIMIT 1) = m.body), false) AS repeated
			FROM messages m WHERE m.direction = 'out' AND m.agent_id = 0 AND m.created_at >= $1 AND m.created_at < $2) o
		JOIN conversations c ON c.id = o.conversation_id
		WHERE o.action = ANY($3) OR o.reason = ANY($4) OR (o.score > 0 AND o.score < $5) OR o.repeated
		ORDER BY o.id LIMIT $6`, q.From.UTC(), q.To.UTC(), actions, reasons, q.LowScore, limitOf(q.Limit), q.Repeated, store.ActionRepeated)
	return collect("unanswered", rows, err, func(r pgx.Rows, u *store.UnansweredTurn) error {
		var fichas []byte
		if err := r.Scan(&u.MessageID, &u.ConversationID, &u.Channel, &u.Question, &u.Action, &u.Reason, &u.Score, &fichas, &u.CreatedAt); err != nil {
			return err
		}
		if err := json.Unmarshal(fichas, &u.Fichas); err != nil {
			return fmt.Errorf("message %d: fichas: %w", u.MessageID, err)
		}
		if len(u.Fichas) == 0 {
			u.Fichas = nil
		}
		u.CreatedAt = u.CreatedAt.UTC()
		return nil
	})
}
