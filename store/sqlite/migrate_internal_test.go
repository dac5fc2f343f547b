package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
)

// TestEditorRoleMigrationKeepsAgents upgrades a database made by migrations 0001–0004 with an
// agent and a session: the agent keeps its id and role, the editor role becomes valid, and
// agent_sessions still refers to the rebuilt agents table.
func TestEditorRoleMigrationKeepsAgents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	raw, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v, name := range names[:4] {
		body, _ := migrations.ReadFile(name)
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, '')`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	now := ts(time.Now())
	for _, stmt := range []string{
		`INSERT INTO agents (id, username, name, role, password_hash, created_at) VALUES (7, 'sofia', 'Sofía Díaz', 'supervisor', 'h', '` + now + `')`,
		`INSERT INTO agent_sessions VALUES ('tok', 7, 'csrf', '` + ts(time.Now().Add(time.Hour)) + `')`,
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO agents (username, name, role, password_hash, created_at) VALUES ('e', 'E', 'editor', 'h', '`+now+`')`); err == nil {
		t.Fatal("the old schema took an editor")
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(ctx, func(tx store.Tx) error {
		a, err := tx.AgentByID(ctx, 7)
		if err != nil || a.Username != "sofia" || a.Role != atiende.RoleSupervisor {
			return fmt.Errorf("agent after the migration: %+v %v", a, err)
		}
		// Dropping the old table cascaded to its sessions: everyone signs in again once.
		if _, err := tx.SessionByTokenHash(ctx, "tok", time.Now()); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("old session: %v, want ErrNotFound", err)
		}
		ed := &atiende.Agent{Username: "elena", Name: "Elena", Role: atiende.RoleEditor, PasswordHash: "h"}
		if err := tx.InsertAgent(ctx, ed); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, &atiende.AgentSession{TokenHash: "t2", AgentID: ed.ID, CSRF: "c", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		// The foreign key points at the new table: a session of nobody is refused.
		if err := tx.InsertSession(ctx, &atiende.AgentSession{TokenHash: "t3", AgentID: 999, CSRF: "c", ExpiresAt: time.Now().Add(time.Hour)}); err == nil {
			return errors.New("a session of an unknown agent was stored")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
