// Package pgtest gives tests a throwaway Postgres database, found or started through
// scripts/test-db.sh. Without a server the tests skip, except under CI=true, where they fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

var (
	once     sync.Once
	admin    string
	adminErr error
)

// AdminURL returns the URL of a Postgres the tests may create databases on.
func AdminURL(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "test-db.sh")
		cmd := exec.Command(script)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		admin, adminErr = strings.TrimSpace(string(out)), err
		if err == nil && admin == "" {
			adminErr = os.ErrNotExist
		}
	})
	if adminErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required under CI=true: scripts/test-db.sh: %v", adminErr)
		}
		t.Skipf("no Postgres (scripts/test-db.sh: %v); Postgres tests skipped", adminErr)
	}
	return admin
}

// Database creates a throwaway database and returns its URL; it is dropped after the test.
func Database(t testing.TB) string {
	t.Helper()
	adminURL := AdminURL(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	name := "atiende_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), adminURL)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// VectorDatabase is Database with the pgvector extension created, for the tests of the
// retrieval in Postgres. Without pgvector it skips, except under CI=true, where it fails.
func VectorDatabase(t testing.TB) string {
	t.Helper()
	dbURL := Database(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgvector is required under CI=true (scripts/ensure-pgvector.sh): %v", err)
		}
		t.Skipf("no pgvector (run scripts/ensure-pgvector.sh as root): %v", err)
	}
	return dbURL
}
