package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atiende/atiende/store"
)

// Volume implements store.Store.
func (s *DB) Volume(ctx context.Context, from, to time.Time) ([]store.VolumeHour, error) {
	rows, err := s.pool.Query(ctx, `SELECT h, channel, sum(inbound)::int, sum(started)::int, sum(handoffs)::int FROM (
		SELECT date_trunc('hour', m.created_at AT TIME ZONE 'UTC') AS h, c.channel AS channel, count(*) AS inbound, 0 AS started, 0 AS handoffs
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.direction = 'in' AND m.created_at >= $1 AND m.created_at < $2 GROUP BY 1, 2
		UNION ALL
		SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC'), channel, 0, count(*), 0
			FROM conversations WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2
		UNION ALL
		SELECT date_trunc('hour', h.created_at AT TIME ZONE 'UTC'), c.channel, 0, 0, count(*)
			FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
			WHERE h.created_at >= $1 AND h.created_at < $2 GROUP BY 1, 2
	) x GROUP BY h, channel ORDER BY h, channel`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	defer rows.Close()
	var out []store.VolumeHour
	for rows.Next() {
		var v store.VolumeHour
		if err := rows.Scan(&v.Hour, &v.Channel, &v.Inbound, &v.Started, &v.Handoffs); err != nil {
			return nil, fmt.Errorf("volume: %w", err)
		}
		// A timestamp without time zone, read as the UTC it was truncated in.
		v.Hour = time.Date(v.Hour.Year(), v.Hour.Month(), v.Hour.Day(), v.Hour.Hour(), 0, 0, 0, time.UTC)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	return out, nil
}

// HandoffWaits implements store.Store.
func (s *DB) HandoffWaits(ctx context.Context, from, to time.Time) ([]store.HandoffWait, error) {
	rows, err := s.pool.Query(ctx, `SELECT h.id, c.channel, h.reason, h.status, h.created_at, h.assigned_at, h.closed_at
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE h.created_at >= $1 AND h.created_at < $2 ORDER BY h.created_at, h.id`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("handoff waits: %w", err)
	}
	defer rows.Close()
	var out []store.HandoffWait
	for rows.Next() {
		var w store.HandoffWait
		var assigned, closed *time.Time
		if err := rows.Scan(&w.ID, &w.Channel, &w.Reason, &w.Status, &w.CreatedAt, &assigned, &closed); err != nil {
			return nil, fmt.Errorf("handoff waits: %w", err)
		}
		w.CreatedAt, w.AssignedAt, w.ClosedAt = w.CreatedAt.UTC(), timeOf(assigned), timeOf(closed)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("handoff waits: %w", err)
	}
	return out, nil
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
	if err != nil {
		return nil, fmt.Errorf("top fichas: %w", err)
	}
	defer rows.Close()
	var out []store.FichaCount
	for rows.Next() {
		var f store.FichaCount
		if err := rows.Scan(&f.Slug, &f.Count); err != nil {
			return nil, fmt.Errorf("top fichas: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top fichas: %w", err)
	}
	return out, nil
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
			o.action, o.reason, o.score, o.fichas, o.created_at
		FROM messages o JOIN conversations c ON c.id = o.conversation_id
		WHERE o.direction = 'out' AND o.agent_id = 0 AND o.created_at >= $1 AND o.created_at < $2
			AND (o.action = ANY($3) OR o.reason = ANY($4) OR (o.score > 0 AND o.score < $5))
		ORDER BY o.id LIMIT $6`, q.From.UTC(), q.To.UTC(), actions, reasons, q.LowScore, limitOf(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("unanswered: %w", err)
	}
	defer rows.Close()
	var out []store.UnansweredTurn
	for rows.Next() {
		var u store.UnansweredTurn
		var fichas []byte
		if err := rows.Scan(&u.MessageID, &u.ConversationID, &u.Channel, &u.Question, &u.Action, &u.Reason, &u.Score, &fichas, &u.CreatedAt); err != nil {
			return nil, fmt.Errorf("unanswered: %w", err)
		}
		if err := json.Unmarshal(fichas, &u.Fichas); err != nil {
			return nil, fmt.Errorf("unanswered: message %d: fichas: %w", u.MessageID, err)
		}
		if len(u.Fichas) == 0 {
			u.Fichas = nil
		}
		u.CreatedAt = u.CreatedAt.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unanswered: %w", err)
	}
	return out, nil
}
