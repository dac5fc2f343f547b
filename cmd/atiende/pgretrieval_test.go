package main

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/atiende/atiende/store/postgres/pgtest"
)

// TestPostgresRetrievalAgrees: on every shipped eval case, the engine on the catalogue in
// Postgres (full text + pgvector, fused) picks the same ficha as on the embedded index for at
// least 98% of turns, and Postgres' own hybrid ranking finds the expected ficha.
func TestPostgresRetrievalAgrees(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.VectorDatabase(t)
	cases, err := filepath.Glob("../../eval/cases/*.jsonl")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no eval cases: %v", err)
	}
	out, err := runCmd(t, map[string]string{"DATABASE_URL": dbURL}, append([]string{"eval", "--postgres", "--json"}, cases...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got postgresComparison
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a := got.Agreement
	t.Logf("agreement %d/%d = %.3f; differs: %v", a.Same, a.Turns, a.Rate, a.Differ)
	if a.Turns < 300 || a.Rate < 0.98 {
		t.Errorf("agreement %d/%d = %.3f, want at least 0.98 over the shipped cases", a.Same, a.Turns, a.Rate)
	}
	for _, m := range got.Modes {
		t.Logf("%s: hit@1 %.3f hit@3 %.3f over %d first turns", m.Mode, m.Hit1, m.Hit3, m.Turns)
		if m.Hit3 < 0.9 {
			t.Errorf("%s: hit@3 %.3f, want at least 0.9", m.Mode, m.Hit3)
		}
	}
}

// TestPostgresWithAModelServer: with ATIENDE_EMBEDDER=openai the catalogue's chunks in
// Postgres are the model server's vectors, stored under that embedder's name, and the Postgres
// path answers through them.
func TestPostgresWithAModelServer(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.VectorDatabase(t)
	fake, url := embedFake(t)
	env := map[string]string{"DATABASE_URL": dbURL, "ATIENDE_EMBEDDER": "openai", "ATIENDE_EMBED_BASE_URL": url, "ATIENDE_EMBED_MODEL": "emb-1"}
	cases := filepath.Join(t.TempDir(), "cases.jsonl")
	if err := os.WriteFile(cases, []byte(`{"id": "a", "turns": [{"user": "kiero saber dl bono invierno xfa", "expect": {"fichas": ["bono-invierno"]}}]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, env, "eval", "--postgres", "--json", cases)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got postgresComparison
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Agreement.Same != 1 || got.Report.HitAt1 != 1 {
		t.Errorf("agreement %+v, hit@1 %v", got.Agreement, got.Report.HitAt1)
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var embedder string
	var chunks int
	if err := conn.QueryRow(context.Background(), "SELECT value, (SELECT count(*) FROM catalogue_chunks) FROM catalogue_meta WHERE key = 'embedder'").Scan(&embedder, &chunks); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(embedder, "openai:emb-1/") || chunks < 286 {
		t.Errorf("catalogue_meta embedder %q, %d chunks", embedder, chunks)
	}
	texts := 0
	for _, r := range fake.Requests() {
		texts += len(r.Input)
	}
	if texts < chunks {
		t.Errorf("the server embedded %d texts for %d chunks", texts, chunks)
	}
}

func TestRetrievalSetting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string // part of the error; "" for none
	}{
		{map[string]string{}, ""},
		{map[string]string{"ATIENDE_RETRIEVAL": "postgres", "DATABASE_URL": "postgres://db/x"}, ""},
		{map[string]string{"ATIENDE_RETRIEVAL": "postgres"}, "needs DATABASE_URL"},
		{map[string]string{"ATIENDE_RETRIEVAL": "elastic"}, "want memory or postgres"},
	} {
		c, err := loadConfig(func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.want)
		case tc.want == "" && c.Retrieval != cmp.Or(tc.env["ATIENDE_RETRIEVAL"], "memory"):
			t.Errorf("%v: retrieval %q", tc.env, c.Retrieval)
		}
	}
}
