package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/atiende/atiende/store/postgres/pgtest"
)

// TestPostgresRetrievalAgrees: on every shipped eval case, the engine on the catalogue in
// Postgres (full text + pgvector, fused) picks the same ficha as on the embedded index for at
// least 98% of turns, and Postgres' own hybrid ranking finds the expected ficha.
func TestPostgresRetrievalAgrees(t *testing.T) {
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
