package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestReportMigrationsKeepOldRows upgrades a database made by 0001 with an agent and a bot
// turn: the turn reads with reason "" and score 0, the agent keeps its role, and editors
// become valid.
func TestReportMigrationsKeepOldRows(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	first, _ := migrations.ReadFile(names[0])
	now := time.Now().UTC()
	for _, stmt := range []string{
		`CREATE TABLE atiende_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`,
		string(first),
		`INSERT INTO atiende_migrations VALUES (1, now())`,
		`INSERT INTO agents (id, username, name, role, password_hash, created_at) VALUES (7, 'sofia', 'Sofía', 'supervisor', 'h', now())`,
		`INSERT INTO conversations (id, channel, created_at, updated_at) VALUES ('c1', 'web', now(), now())`,
		`INSERT INTO messages (conversation_id, direction, body, action, fichas, created_at) VALUES ('c1', 'out', 'r', 'clarify', '["bono-invierno"]', now())`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	conn.Close(ctx)

	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := db.Messages(ctx, "c1", 0)
	if err != nil || len(ms) != 1 || ms[0].Reason != "" || ms[0].Score != 0 || ms[0].Action != "clarify" {
		t.Fatalf("old message: %+v %v", ms, err)
	}
	turns, err := db.Unanswered(ctx, store.UnansweredQuery{From: now.Add(-time.Hour), To: now.Add(time.Hour), Actions: []string{"clarify"}})
	if err != nil || len(turns) != 1 || turns[0].Question != "" {
		t.Errorf("old turn as unanswered: %+v %v", turns, err)
	}
	err = db.Tx(ctx, func(tx store.Tx) error {
		if a, err := tx.AgentByID(ctx, 7); err != nil || a.Role != atiende.RoleSupervisor {
			return fmt.Errorf("old agent: %+v %v", a, err)
		}
		return tx.InsertAgent(ctx, &atiende.Agent{Username: "elena", Name: "Elena", Role: atiende.RoleEditor, PasswordHash: "h"})
	})
	if err != nil {
		t.Fatal(err)
	}
}
