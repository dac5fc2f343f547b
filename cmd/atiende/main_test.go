package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestAskJSON(t *testing.T) {
	for _, c := range []struct {
		text, action, first, contains string
	}{
		{"cuanto es la pgu", "answer", "pension-garantizada-universal", "Pensión Garantizada Universal"},
		{"se me olvido la clave unica q hago", "answer", "recuperar-clave-unica", ""},
		{"bono", "clarify", "", ""},
		{"quiero hablar con una persona", "handoff", "", ""},
		{"me quiero morir", "emergency", "", "*4141"},
	} {
		out, err := runCmd(t, nil, "ask", "--json", c.text)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		var o askOutput
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("%q: %v\n%s", c.text, err, out)
		}
		if o.Action != c.action {
			t.Errorf("%q: action %s, want %s", c.text, o.Action, c.action)
		}
		if c.first != "" && (len(o.Fichas) == 0 || o.Fichas[0].Slug != c.first) {
			t.Errorf("%q: fichas %+v, want %s first", c.text, o.Fichas, c.first)
		}
		if !strings.Contains(o.Reply, c.contains) {
			t.Errorf("%q: reply lacks %q: %s", c.text, c.contains, o.Reply)
		}
	}
}

func TestAskSMSReportsSegments(t *testing.T) {
	out, err := runCmd(t, nil, "ask", "--channel", "sms", "--json", "kiero saber dl bono invierno xfa")
	if err != nil {
		t.Fatal(err)
	}
	var o askOutput
	json.Unmarshal([]byte(out), &o)
	if o.Segments < 1 || o.Encoding != "GSM-7" || o.Fichas[0].Slug != "bono-invierno" {
		t.Errorf("%+v", o)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"fly"}, {"ask"}, {"ask", "--channel", "fax", "hola"}, {"eval"}, {"catalogue"}} {
		if _, err := runCmd(t, nil, args...); !errors.As(err, new(usageError)) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestEvalBadFileExits2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(path, []byte("{\"id\":\"a\",\"turns\":[{\"user\":\"x\"}]}\nnot json\n"), 0o644)
	_, err := runCmd(t, nil, "eval", "--cases", path)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("err = %v", err)
	}
}

func TestEvalJSONReport(t *testing.T) {
	out, err := runCmd(t, nil, "eval", "--cases", "../../eval/cases/handoff.jsonl", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"cases", "turns", "hit_at_1", "hit_at_3", "mrr", "action_accuracy", "aspect_accuracy", "contains_pass",
		"handoff_precision", "handoff_recall", "emergency_recall", "sms_segments_mean", "sms_ucs2_share", "latency_ms", "by_tag", "failures"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %s", k)
		}
	}
}

func TestCatalogueValidate(t *testing.T) {
	out, err := runCmd(t, nil, "catalogue", "validate")
	if err != nil || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("bundled: %v %s", err, out)
	}
	_, err = runCmd(t, nil, "catalogue", "validate", "../../retrieval/testdata/bad")
	if err == nil || !strings.Contains(err.Error(), "fichas.json:13") {
		t.Errorf("bad catalogue: %v", err)
	}
	// ATIENDE_CATALOGUE replaces the bundled catalogue everywhere.
	_, err = runCmd(t, map[string]string{"ATIENDE_CATALOGUE": "../../retrieval/testdata/bad"}, "ask", "hola")
	if err == nil || !strings.Contains(err.Error(), "load catalogue") {
		t.Errorf("ask with a bad ATIENDE_CATALOGUE: %v", err)
	}
}

func TestPostgresNotYetIsRefused(t *testing.T) {
	_, err := runCmd(t, map[string]string{"DATABASE_URL": "postgres://x", "ATIENDE_DATA_DIR": t.TempDir()}, "migrate")
	if err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("err = %v", err)
	}
}

// TestServeEndToEnd builds the real binary, serves on a free port with a fresh data
// directory, converses over HTTP, and stops it with SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "atiende")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dataDir := t.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "ATIENDE_ADDR="+addr, "ATIENDE_DATA_DIR="+dataDir)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	post := func(path, token, body string) map[string]any {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
		return m
	}
	s := post("/api/v1/chat/sessions", "", "{}")
	r := post(fmt.Sprintf("/api/v1/chat/sessions/%s/messages", s["id"]), s["token"].(string), `{"text":"cuanto es la pgu"}`)
	if r["action"] != "answer" || !strings.Contains(r["reply"].(string), "chileatiende.gob.cl") {
		t.Errorf("reply: %v", r)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "atiende.db")); err != nil {
		t.Errorf("no database file: %v", err)
	}
}
