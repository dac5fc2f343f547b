package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/atiende/atiende/store"
	"github.com/jackc/pgx/v5"
)

// retentionBatch is how many conversations one transaction of Anonymise erases.
const retentionBatch = 500

// Anonymise implements store.Store. Each batch locks its conversations with FOR UPDATE SKIP
// LOCKED: replicas running retention at once take different conversations and never wait
// on each other, and a conversation another replica erased meanwhile no longer matches
// (anonymised_at is rechecked on the locked row).
func (s *DB) Anonymise(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := store.InBatches(retentionBatch, func() (int, error) { return s.anonymiseBatch(ctx, cutoff) })
	if err != nil {
		return n, fmt.Errorf("anonymise conversations before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n, nil
}

func (s *DB) anonymiseBatch(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT c.id FROM conversations c
			WHERE c.anonymised_at IS NULL AND c.updated_at < $1
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.created_at >= $1)
			ORDER BY c.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`, cutoff.UTC(), retentionBatch)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if n = len(ids); n == 0 {
			return nil
		}
		now := s.now()
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE conversations SET address = '', token_hash = NULL, state = '{}', more = '[]', version = version + 1, anonymised_at = $2
			WHERE id = ANY($1)`, ids, now)
		batch.Queue(`UPDATE messages SET body = '', provider_id = NULL, processed = true WHERE conversation_id = ANY($1)`, ids)
		batch.Queue(`UPDATE deliveries SET body = '', to_address = '', provider_sid = NULL, error_message = '',
			status = CASE WHEN status IN ('pending', 'sending') THEN 'skipped' ELSE status END WHERE conversation_id = ANY($1)`, ids)
		batch.Queue(`UPDATE handoffs SET note = '',
			closed_at = CASE WHEN status IN ('queued', 'assigned', 'callback') THEN $2 ELSE closed_at END,
			status = CASE WHEN status IN ('queued', 'assigned', 'callback') THEN 'abandoned' ELSE status END WHERE conversation_id = ANY($1)`, ids, now)
		return tx.SendBatch(ctx, batch).Close()
	})
	return n, err
}
