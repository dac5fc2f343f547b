package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openCached(t *testing.T) *sql.DB {
	t.Helper()
	reg, err := sql.Open("sqlite", "")
	if err != nil {
		t.Fatal(err)
	}
	drv := reg.Driver()
	reg.Close()
	db := sql.OpenDB(cachingConnector{dsn: "file:" + filepath.Join(t.TempDir(), "c.db"), driver: drv})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func cached(t *testing.T, db *sql.DB) (n int, has func(string) bool) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	keys := map[string]bool{}
	_ = conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		c.mu.Lock()
		defer c.mu.Unlock()
		for k := range c.byKey {
			keys[k] = true
		}
		return nil
	})
	return len(keys), func(q string) bool { return keys[q] }
}

func TestStatementCacheReusesAndStaysCorrect(t *testing.T) {
	db := openCached(t)
	const ins = `INSERT INTO t (v) VALUES (?)`
	const sel = `SELECT id, v FROM t WHERE id >= ? ORDER BY id`
	for i := range 5 {
		if _, err := db.Exec(ins, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A constraint failure leaves the statement usable.
	if _, err := db.Exec(ins, "v1"); err == nil {
		t.Fatal("a duplicate value was inserted")
	}
	if _, err := db.Exec(ins, "v5"); err != nil {
		t.Fatalf("insert after a constraint failure: %v", err)
	}
	// The same query while its rows are open runs apart, and both read right.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.Query(sel, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var id int
		var v string
		if err := outer.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM (`+sel+`)`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.Query(sel, id)
		if err != nil {
			t.Fatal(err)
		}
		var m int
		for inner.Next() {
			m++
		}
		inner.Close()
		if m != n {
			t.Fatalf("nested run of the same query read %d rows, want %d", m, n)
		}
		got = append(got, v)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[v0 v1 v2 v3 v4 v5]" {
		t.Fatalf("outer rows %v", got)
	}
	if _, has := cached(t, db); !has(ins) || !has(sel) {
		t.Fatal("the statements run are not cached")
	}
}

func TestStatementCacheIsBounded(t *testing.T) {
	db := openCached(t)
	for i := range stmtCacheSize + 50 {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT %d`, i)).Scan(&n); err != nil || n != i {
			t.Fatalf("SELECT %d: %d, %v", i, n, err)
		}
	}
	n, has := cached(t, db)
	if n > stmtCacheSize {
		t.Fatalf("%d statements cached, want at most %d", n, stmtCacheSize)
	}
	if has(`SELECT 0`) || !has(fmt.Sprintf(`SELECT %d`, stmtCacheSize+49)) {
		t.Fatal("the cache does not keep the most recently used")
	}
}
