package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueriesOfEveryMessageUseIndexes: a query a webhook or a turn runs must not scan a
// table that grows with every conversation.
func TestQueriesOfEveryMessageUseIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+conversationByAddressSQL, "sms", "+56911111111")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN conversations") {
			t.Fatalf("ConversationByAddress scans every conversation: %v", plan)
		}
	}
	if !strings.Contains(strings.Join(plan, "\n"), "conversations_address") {
		t.Fatalf("ConversationByAddress does not use conversations_address: %v", plan)
	}
}
