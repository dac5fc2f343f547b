package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/atiende/atiende/store"
)

// retentionBatch is how many conversations one transaction of Anonymise erases.
const retentionBatch = 500

// Anonymise implements store.Store. SQLite has one writer at a time, so a batch is chosen
// and erased in one transaction that nobody else writes into meanwhile. Times are compared
// with julianday: the stored RFC 3339 strings do not sort as text when their fractions
// differ in length.
func (s *DB) Anonymise(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := store.InBatches(retentionBatch, func() (int, error) { return s.anonymiseBatch(ctx, cutoff) })
	if err != nil {
		return n, fmt.Errorf("anonymise conversations before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n, nil
}

func (s *DB) anonymiseBatch(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.sqlTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.id FROM conversations c
			WHERE c.anonymised_at = '' AND julianday(c.updated_at) < julianday(?1)
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND julianday(m.created_at) >= julianday(?1))
			ORDER BY c.updated_at LIMIT ?2`, ts(cutoff), retentionBatch)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n = len(ids); n == 0 {
			return nil
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
		stamped := append([]any{ts(s.now())}, ids...)
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`UPDATE conversations SET address = '', token_hash = NULL, state = '{}', more = '[]', version = version + 1, anonymised_at = ?
				WHERE id IN ` + in, stamped},
			{`UPDATE messages SET body = '', provider_id = NULL, processed = 1 WHERE conversation_id IN ` + in, ids},
			{`UPDATE deliveries SET body = '', to_address = '', provider_sid = NULL, error_message = '',
				status = CASE WHEN status IN ('pending', 'sending') THEN 'skipped' ELSE status END WHERE conversation_id IN ` + in, ids},
			{`UPDATE handoffs SET note = '',
				closed_at = CASE WHEN status IN ('queued', 'assigned', 'callback') THEN ? ELSE closed_at END,
				status = CASE WHEN status IN ('queued', 'assigned', 'callback') THEN 'abandoned' ELSE status END WHERE conversation_id IN ` + in, stamped},
		} {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
