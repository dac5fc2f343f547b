package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestReportCommand: what the web chat stored reaches `atiende report`, as JSON and as the
// unanswered questions' CSV; a bad option is a usage error.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServerIn(t, dataDir)
	s.ask(t, "cuanto es la pgu")
	s.ask(t, "receta de empanadas de pino")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ATIENDE_DATA_DIR": dataDir}
	out, err := runCmd(t, env, "report", "--days", "7")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "pension-garantizada-universal") {
		t.Errorf("the report lacks the ficha answered:\n%s", out)
	}
	out, err = runCmd(t, env, "report", "--csv", "unanswered")
	if err != nil || !strings.Contains(out, "empanadas") {
		t.Errorf("unanswered CSV: %v\n%s", err, out)
	}
	if _, err := runCmd(t, env, "report", "--days", "400"); err == nil {
		t.Error("--days 400 accepted")
	}
	if _, err := runCmd(t, env, "report", "--csv", "xlsx"); err == nil {
		t.Error("--csv xlsx accepted")
	}
}
