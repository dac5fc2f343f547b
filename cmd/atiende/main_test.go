package main

import (
	"net/http/httptest"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/atiende/atiende/bot/llm/llmtest"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/web/browsertest"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	return runCmdIn(t, env, "", args...)
}

// runCmdIn runs the command with stdin.
func runCmdIn(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

// TestChatHoldsMoreAsSMSDoes: atiende chat --channel sms shows what the SMS channel would
// send, and MAS gives the next held part, as on a phone, rather than asking the engine again.
func TestChatHoldsMoreAsSMSDoes(t *testing.T) {
	t.Parallel()
	out, err := runCmdIn(t, nil, "cuanto es la pgu\nMAS\n", "chat", "--channel", "sms")
	if err != nil {
		t.Fatal(err)
	}
	first, rest, ok := strings.Cut(out, "Responde MAS para seguir.")
	if !ok || !strings.Contains(first, "Pension Garantizada Universal") || !strings.Contains(rest, "[more · ") ||
		strings.Contains(rest, "Pension Garantizada Universal (PGU):") {
		t.Errorf("chat by SMS, then MAS:\n%s", out)
	}
}

func TestAskJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text, action, first, contains string
	}{
		{"cuanto es la pgu", "answer", "pension-garantizada-universal", "Pensión Garantizada Universal"},
		{"se me olvido la clave unica q hago", "answer", "recuperar-clave-unica", ""},
		{"bono", "clarify", "", ""},
		{"quiero hablar con una persona", "handoff", "", ""},
		{"me quiero morir", "emergency", "", "*4141"},
		{"siento que ya no vale la pena seguir", "emergency", "", "*4141"}, // heard only by the emergency model
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

// TestEmbeddedCatalogueReadOnce: the embedded catalogue's index is built once per process and
// shared by the commands run in it; a catalogue path is read again each time, so that a
// reload sees what changed in it.
func TestEmbeddedCatalogueReadOnce(t *testing.T) {
	t.Parallel()
	a, err := loadIndex(config{Embed: retrieval.EmbedderConfig{Provider: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := loadIndex(config{Embed: retrieval.EmbedderConfig{Provider: "none"}})
	if a != b {
		t.Error("the embedded catalogue was read twice")
	}
	path := filepath.Join(t.TempDir(), "fichas.json")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(oneFicha, "bono-zanahoria", "Bono Zanahoria")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config{Catalogue: path, Embed: retrieval.EmbedderConfig{Provider: "none"}}
	first, err := loadIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf(oneFicha, "subsidio-lechuga", "Subsidio Lechuga")), 0o644); err != nil {
		t.Fatal(err)
	}
	if second, err := loadIndex(cfg); err != nil || second == first || second.Fichas()[0].Slug != "subsidio-lechuga" {
		t.Errorf("a catalogue path read again: %v", err)
	}
}

func TestAskSMSReportsSegments(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	for _, args := range [][]string{{}, {"fly"}, {"ask"}, {"ask", "--channel", "fax", "hola"}, {"eval"}, {"catalogue"}} {
		if _, err := runCmd(t, nil, args...); !errors.As(err, new(usageError)) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestEvalBadFileExits2(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(path, []byte("{\"id\":\"a\",\"turns\":[{\"user\":\"x\"}]}\nnot json\n"), 0o644)
	_, err := runCmd(t, nil, "eval", "--cases", path)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("err = %v", err)
	}
}

func TestEvalJSONReport(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestEmbedderSetting: ATIENDE_EMBEDDER=local answers through the hybrid lift; a typo or an
// incomplete setting stops with an error naming the variable.
func TestEmbedderSetting(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, map[string]string{"ATIENDE_EMBEDDER": "local"}, "ask", "--json", "kiero saber dl bono invierno xfa")
	if err != nil || !strings.Contains(out, "bono-invierno") {
		t.Errorf("local embedder: %v %s", err, out)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ATIENDE_EMBEDDER": "locale"}, "ATIENDE_EMBEDDER=locale"},
		{map[string]string{"ATIENDE_EMBEDDER": "ollama"}, "ATIENDE_EMBED_MODEL"},
		{map[string]string{"ATIENDE_EMBEDDER": "openai", "ATIENDE_EMBED_MODEL": "m"}, "ATIENDE_EMBED_BASE_URL"},
		{map[string]string{"ATIENDE_EMBEDDER": "ollama", "ATIENDE_EMBED_MODEL": "m", "ATIENDE_EMBED_BASE_URL": "localhost:11434"}, "ATIENDE_EMBED_BASE_URL"},
		{map[string]string{"ATIENDE_EMBEDDER": "ollama", "ATIENDE_EMBED_MODEL": "m", "ATIENDE_EMBED_TIMEOUT": "soon"}, "ATIENDE_EMBED_TIMEOUT"},
	} {
		if _, err := runCmd(t, c.env, "ask", "hola"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %s", c.env, err, c.want)
		}
	}
}

// embedFake is a model server whose vectors are the local embedder's, so that retrieval
// through it ranks as the local mode does.
func embedFake(t *testing.T) (*llmtest.Fake, string) {
	t.Helper()
	fake := llmtest.NewEmbedder(func(text string) []float32 {
		v, _ := retrieval.HashEmbedder{Dims: 384}.EmbedQuery(context.Background(), text)
		return v
	})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

// TestServedEmbedderAnswers: ATIENDE_EMBEDDER=openai and =ollama embed the catalogue
// through the real langchaingo clients against fake servers at start, embed the question,
// and answer with the right ficha; eval --retrieval-modes measures the server's vectors.
func TestServedEmbedderAnswers(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{"openai", "ollama"} {
		t.Run(provider, func(t *testing.T) {
			fake, url := embedFake(t)
			env := map[string]string{"ATIENDE_EMBEDDER": provider, "ATIENDE_EMBED_BASE_URL": url, "ATIENDE_EMBED_MODEL": "emb-1", "ATIENDE_EMBED_API_KEY": "k"}
			const q = "kiero saber dl bono invierno xfa"
			out, err := runCmd(t, env, "ask", "--json", q)
			if err != nil {
				t.Fatal(err)
			}
			var o askOutput
			if err := json.Unmarshal([]byte(out), &o); err != nil || len(o.Fichas) == 0 || o.Fichas[0].Slug != "bono-invierno" {
				t.Fatalf("%v: %s", err, out)
			}
			reqs := fake.Requests()
			texts := 0
			for _, r := range reqs {
				texts += len(r.Input)
				if r.Model != "emb-1" {
					t.Errorf("model %q", r.Model)
				}
			}
			// The catalogue at start, then the question (as the index reads it) for the lift.
			if last := reqs[len(reqs)-1].Input; texts < 200 || len(last) != 1 || !strings.Contains(last[0], "invierno") {
				t.Errorf("%d texts embedded, the last %q", texts, last)
			}
			cases := filepath.Join(t.TempDir(), "cases.jsonl")
			if err := os.WriteFile(cases, []byte(`{"id": "a", "turns": [{"user": "bono de invierno", "expect": {"fichas": ["bono-invierno"]}}]}
{"id": "b", "turns": [{"user": "pencion garantisada universal", "expect": {"fichas": ["pension-garantizada-universal"]}}]}
`), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err = runCmd(t, env, "eval", "--retrieval-modes", "--json", "--cases", cases)
			if err != nil {
				t.Fatal(err)
			}
			var scores []eval.ModeScore
			if err := json.Unmarshal([]byte(out), &scores); err != nil || len(scores) != 3 || scores[1].Mode != "vector" || scores[1].Turns != 2 || scores[1].Hit3 != 1 {
				t.Fatalf("%v: %s", err, out)
			}
		})
	}
}

// TestUnreachableEmbedderIsAClearError: a model server that does not answer stops the
// command at start with an error naming it; nothing falls back to the lexical index.
//
// The address is freeAddr's: no other test of this process is given it, so nothing listens
// there.
func TestUnreachableEmbedderIsAClearError(t *testing.T) {
	t.Parallel()
	url := "http://" + freeAddr(t)
	for _, provider := range []string{"openai", "ollama"} {
		_, err := runCmd(t, map[string]string{"ATIENDE_EMBEDDER": provider, "ATIENDE_EMBED_BASE_URL": url, "ATIENDE_EMBED_MODEL": "emb-1"}, "ask", "bono invierno")
		if err == nil || !strings.Contains(err.Error(), "embed the catalogue") || !strings.Contains(err.Error(), provider+" server "+url) {
			t.Errorf("%s: %v", provider, err)
		}
	}
}

// TestUnreachablePostgresIsAClearError: a DATABASE_URL that does not answer stops the
// command with an error naming Postgres, never a fallback to the SQLite file.
func TestUnreachablePostgresIsAClearError(t *testing.T) {
	t.Parallel()
	_, err := runCmd(t, map[string]string{"DATABASE_URL": "postgres://atiende@127.0.0.1:1/atiende?connect_timeout=2", "ATIENDE_DATA_DIR": t.TempDir()}, "migrate")
	if err == nil || !strings.Contains(err.Error(), "open postgres") {
		t.Errorf("err = %v", err)
	}
}

// asMain is set in the environment of the servers the end-to-end tests start: the test
// binary itself, run as the command (TestMain).
const asMain = "ATIENDE_TEST_AS_MAIN"

// TestMain lets this package's test binary be the server its end-to-end tests start: with
// asMain set it runs main on its arguments, as the built command would, from the same
// code. A `go build` of the command for the tests cost a link of some 80 MB first (about
// 8 s of wall time on 2 cores), which every test that starts a server waited for.
func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// binary is the program the tests run as the command: this test binary (TestMain).
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the command")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// server is "atiende serve" on a free port: run by run() in this process (startServer), or
// in a process of its own (startProcessAt: this test binary run as main, TestMain) for a test
// that signals or kills it.
type server struct {
	base string
	cmd  *exec.Cmd // nil for a server in this process
	logs *syncBuffer
	// For a server in this process: cancel ends its context (what SIGTERM does to the
	// command), wait waits up to d for run to return and returns its error (stop does both).
	cancel context.CancelFunc
	wait   func(d time.Duration) error
}

// stop stops a server in this process as SIGTERM would stop the command, and waits for it.
func (s *server) stop() error {
	s.cancel()
	return s.wait(30 * time.Second)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServer serves in this process, with a fresh data directory, until the test ends. A
// server in this process reads the embedded catalogue and models the process has already
// read (embeddedIndex): a process of its own reads them again, about 2 s of CPU per start
// (docs/performance.md).
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	return startServerIn(t, t.TempDir(), env...)
}

// startServerIn serves in this process with the data directory given.
// alwaysOpen is the environment of a call center open at every hour of every day, holidays
// too: the bundled list closes it on Chile's holidays, and a test that queues a handoff for a
// person failed on one (2026-12-08) though nothing but the date had changed.
func alwaysOpen(t *testing.T) []string {
	t.Helper()
	none, err := filepath.Abs(filepath.Join("testdata", "no-holidays.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return []string{"ATIENDE_HOURS=1-7 00:00-24:00", "ATIENDE_HOLIDAYS=" + none}
}

func startServerIn(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	return startServerAt(t, freeAddr(t), dataDir, env...)
}

// startServerAt serves in this process on addr, with the data directory given.
func startServerAt(t *testing.T, addr, dataDir string, env ...string) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the server")
	}
	m := envMap(env)
	m["ATIENDE_ADDR"], m["ATIENDE_DATA_DIR"] = addr, dataDir
	getenv := func(k string) string { // what a process of its own would see: os.Environ and env
		if v, ok := m[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	s := &server{base: "http://" + addr, logs: &syncBuffer{}}
	go func() {
		defer close(done)
		runErr = run(ctx, []string{"serve"}, getenv, strings.NewReader(""), io.Discard, s.logs)
	}()
	s.cancel = cancel
	s.wait = func(d time.Duration) error {
		select {
		case <-done:
			return runErr
		case <-time.After(d):
			return fmt.Errorf("serve still running %s after its context ended", d)
		}
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop: %v\n%s", err, tail(s.logs.String(), 2000))
		}
	})
	waitFor(t, func() bool {
		select {
		case <-done:
			t.Fatalf("serve ended at start: %v\n%s", runErr, s.logs.String())
		default:
		}
		return s.healthy()
	}, s.logs)
	return s
}

// healthy reports whether the server answers /healthz.
func (s *server) healthy() bool {
	resp, err := http.Get(s.base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// handedOut holds the addresses freeAddr has given in this process: none is given twice, so
// that a test may stop its server and start it again on the same address (or keep one
// free) while other tests run beside it.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// freeAddr returns a loopback address with a port free at the time of the call, and never
// given before in this process (handedOut).
//
// The port is below the kernel's ephemeral range: one from ":0" may be handed, between this
// check and the child's bind, to an outgoing connection of another package's test (a
// Postgres client, Chromium), and the child then fails with "address already in use".
func freeAddr(t *testing.T) string {
	t.Helper()
	low := 32768 // Linux's default start of the range
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	from := max(1024, low-12000)
	if low-from < 1000 { // a range that starts low: take what ":0" gives
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 200 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(from+rand.IntN(low-from)))
		if handedOut.addrs[addr] {
			continue
		}
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			handedOut.addrs[addr] = true
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// startProcessAt serves in a process of its own on addr, with the data directory given: for a
// test that signals or kills its server, and may start it again on the same data and address.
func startProcessAt(t *testing.T, addr, dataDir string, env ...string) *server {
	t.Helper()
	bin := binary(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), asMain+"=1", "ATIENDE_ADDR="+addr, "ATIENDE_DATA_DIR="+dataDir), env...)
	s := &server{base: "http://" + addr, cmd: cmd, logs: &syncBuffer{}}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, s.healthy, s.logs)
	return s
}

func (s *server) post(t *testing.T, path, token, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(body))
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

// ask opens a session and asks one question.
func (s *server) ask(t *testing.T, text string) map[string]any {
	t.Helper()
	sess := s.post(t, "/api/v1/chat/sessions", "", "{}")
	body, _ := json.Marshal(map[string]string{"text": text})
	return s.post(t, fmt.Sprintf("/api/v1/chat/sessions/%s/messages", sess["id"]), sess["token"].(string), string(body))
}

// TestServeEndToEnd serves the command (a process of its own) on a free port with a fresh
// data directory, converses over HTTP, and stops it with SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	s := startProcessAt(t, freeAddr(t), t.TempDir())
	r := s.ask(t, "cuanto es la pgu")
	if r["action"] != "answer" || !strings.Contains(r["reply"].(string), "chileatiende.gob.cl") {
		t.Errorf("reply: %v", r)
	}
	// The server reads with the emergency model (loaded beside the index): no pattern holds it.
	if r := s.ask(t, "mi vecino se desplomo y no reacciona"); r["action"] != "emergency" {
		t.Errorf("an emergency only the model hears: %v", r)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
}

const oneFicha = `[{"slug":"%s","title":"%s","institution":"Instituto","topics":["pruebas"],"summary":"Un beneficio de prueba.",
 "url":"https://example.gob.cl/x","valid_from":"2025-01-01","reviewed":"2026-11-27","sections":{"costo":["Es gratuito."]}}]`

// TestReloadOnSIGHUP: a changed catalogue is served after SIGHUP; a broken one is refused and
// the previous one keeps answering.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "fichas.json")
	os.WriteFile(path, []byte(fmt.Sprintf(oneFicha, "bono-zanahoria", "Bono Zanahoria")), 0o644)
	s := startProcessAt(t, freeAddr(t), t.TempDir(), "ATIENDE_CATALOGUE="+path)
	if r := s.ask(t, "bono zanahoria"); r["action"] != "answer" {
		t.Fatalf("before reload: %v", r)
	}
	os.WriteFile(path, []byte(fmt.Sprintf(oneFicha, "subsidio-lechuga", "Subsidio Lechuga")), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(s.logs.String(), "catalogue reloaded") }, s.logs)
	if r := s.ask(t, "subsidio lechuga"); r["action"] != "answer" {
		t.Errorf("after reload: %v", r)
	}
	os.WriteFile(path, []byte(`[{"slug": "broken"`), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(s.logs.String(), "catalogue reload refused") }, s.logs)
	if r := s.ask(t, "subsidio lechuga"); r["action"] != "answer" {
		t.Errorf("after a refused reload: %v", r)
	}
}

// waitFor is the package's one way to wait for what nothing announces (a server up, a
// reply at the fake Twilio, a job done, a metric moved): it asks cond every 25 ms until it
// holds, and fails the test with the server's logs after 2 min, a bound only a broken
// server reaches: a server that loads its models while a dozen others start beside it on two
// busy cores took more than 30 s to say anything. Where the test can be told (a fake's handler,
// a channel), it waits on that instead.
func waitFor(t *testing.T, cond func() bool, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; logs:\n%s", logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestServeRefusesSyntheticCatalogue(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "synth.json")
	if _, err := runCmd(t, nil, "catalogue", "synth", "--n", "3", "--out", path); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"serve"}, func(k string) string {
		return map[string]string{"ATIENDE_CATALOGUE": path, "ATIENDE_ADDR": "127.0.0.1:0", "ATIENDE_DATA_DIR": t.TempDir()}[k]
	}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "synthetic") {
		t.Errorf("err = %v", err)
	}
}

func TestCatalogueStatsJSON(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, nil, "catalogue", "stats", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Fichas  int      `json:"fichas"`
		Slugs   []string `json:"slugs"`
		Offices int      `json:"offices"`
		Regions int      `json:"regions"`
		Links   *float64 `json:"specific_links"`
		Sources *float64 `json:"with_sources"`
		Recent  *float64 `json:"reviewed_last_6_months"`
		Common  int      `json:"most_common_reviewed_count"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Fichas < 250 || len(st.Slugs) != st.Fichas || st.Offices < 80 || st.Regions != 16 {
		t.Errorf("%+v", st)
	}
	if st.Links == nil || *st.Links <= 0 || *st.Links > 1 || st.Sources == nil || st.Recent == nil || st.Common < 1 || st.Common > st.Fichas {
		t.Errorf("the facts' figures: %s", out)
	}
}

// Stats of a catalogue file of one's own count its fichas, not the bundled ones.
func TestCatalogueStatsOfAPath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "synth.json")
	if _, err := runCmd(t, nil, "catalogue", "synth", "--n", "3", "--out", path); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, nil, "catalogue", "stats", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Fichas int `json:"fichas"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Fichas != 3 {
		t.Errorf("stats of a 3-ficha file: %d fichas (%v)", st.Fichas, err)
	}
}

func TestCatalogueImportCLI(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "imported.json")
	report, err := runCmd(t, nil, "catalogue", "import", "--format", "chileatiende", "../../retrieval/testdata/chileatiende/list.json", "--out", out)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("err = %v, want exit 1 for the skipped records", err)
	}
	for _, want := range []string{`record 3 (id "8"): skipped: titulo`, "4 records: 2 imported, 2 skipped"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if v, err := runCmd(t, nil, "catalogue", "validate", out); err != nil || !strings.HasPrefix(v, "ok: 2 fichas") {
		t.Errorf("imported file: %v %s", err, v)
	}
}

func TestCatalogueSynthIsDeterministicAndValid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, p := range []string{a, b} {
		if _, err := runCmd(t, nil, "catalogue", "synth", "--n", "300", "--seed", "7", "--out", p); err != nil {
			t.Fatal(err)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Error("the same seed gave two catalogues")
	}
	if v, err := runCmd(t, nil, "catalogue", "validate", a); err != nil || !strings.HasPrefix(v, "ok: 300 fichas") {
		t.Errorf("synthetic catalogue: %v %s", err, v)
	}
}

// TestEvalInLLMMode runs the eval against a fake OpenAI-compatible server and reports the
// model's fallbacks.
func TestEvalInLLMMode(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(system, user string) (string, time.Duration) {
		if strings.Contains(llmtest.Between(user, "<consulta>", "</consulta>"), "bono") {
			return "Son $123.456.\nFUENTES: F1", 0 // invented: discarded
		}
		return "Encontré esta información en la ficha.\nFUENTES: F1", 0
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "cases.jsonl")
	os.WriteFile(path, []byte(`{"id":"a","turns":[{"user":"cuanto es la pgu","expect":{"action":"answer"}}]}
{"id":"b","turns":[{"user":"cuanto es el bono de invierno","expect":{"action":"answer"}}]}
`), 0o644)
	out, err := runCmd(t, map[string]string{"ATIENDE_LLM": "openai", "ATIENDE_LLM_BASE_URL": srv.URL, "ATIENDE_LLM_MODEL": "m"}, "eval", "--cases", path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		LLM struct {
			Calls, Used, Fallbacks int
			Reasons                map[string]int `json:"fallback_reasons"`
		} `json:"llm"`
		Judge struct {
			DangerCalls int `json:"danger_calls"`
			Errors      int `json:"errors"`
		} `json:"judge"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.LLM.Calls != 2 || rep.LLM.Used != 1 || rep.LLM.Fallbacks != 1 || rep.LLM.Reasons["unsupported_number"] != 1 {
		t.Errorf("llm report: %+v", rep.LLM)
	}
	// The second opinion is on by default; this fake answers it out of form: no opinion.
	// "cuanto es la pgu" has one word besides function words: it is not asked about.
	if rep.Judge.DangerCalls != 1 || rep.Judge.Errors != 1 {
		t.Errorf("judge report: %+v", rep.Judge)
	}
}

// The settings of atiende train, --seed among them, only try things on held-out data: the
// bundled models are trained with learn.DefaultConfig, whatever the flags say.
func TestTrainSettingsOnlyWithDev(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--seed", "4"}, {"--dropout", "0.1"}} {
		out, err := runCmd(t, nil, append([]string{"train", "--catalogue", t.TempDir()}, args...)...)
		if err == nil || !strings.Contains(err.Error()+out, "only try settings with --dev") {
			t.Errorf("train %v: %v\n%s", args, err, out)
		}
	}
	if out, err := runCmd(t, nil, "train", "--catalogue", t.TempDir(), "--dump", filepath.Join(t.TempDir(), "d.tsv")); err == nil || !strings.Contains(err.Error(), "--dump") {
		t.Errorf("train --dump without --dev: %v\n%s", err, out)
	}
	// A fold other than the ranker's is for --dev only, and there are five.
	if out, err := runCmd(t, nil, "train", "--catalogue", t.TempDir(), "--fold", "2"); err == nil || !strings.Contains(err.Error(), "--fold") {
		t.Errorf("train --fold 2 without --dev: %v\n%s", err, out)
	}
	if out, err := runCmd(t, nil, "train", "--dev", "--catalogue", t.TempDir(), "--fold", "5"); err == nil || !strings.Contains(err.Error(), "0 to 4") {
		t.Errorf("train --dev --fold 5: %v\n%s", err, out)
	}
}

// TestTrainCachedReadsBack: a model trained for the held-out fifth is the model as read back
// from its file, the same whether this run trained it or found it in the cache (and the same
// without a cache): a file keeps the input vectors as bytes, and the engine reads files.
func TestTrainCachedReadsBack(t *testing.T) {
	t.Parallel()
	data := []learn.Example{
		{Text: "cuanto es la pgu", Label: "pgu"}, {Text: "pension garantizada universal monto", Label: "pgu"},
		{Text: "invierno calefaccion aporte", Label: "invierno"}, {Text: "aporte invierno mayo", Label: "invierno"},
	}
	cfg := learn.Config{Dim: 8, Epochs: 20, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 1}
	dir := t.TempDir()
	trained, err := trainCached(data, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := trainCached(data, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := trainCached(data, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"monto pgu", "aporte invierno", "algo que no sabe"} {
		a, b, c := trained.Predict(text), cached.Predict(text), bare.Predict(text)
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
			t.Errorf("%q: trained %v, cached %v, without a cache %v", text, a, b, c)
		}
	}
}

// TestQueryRecorderKeepsTheQuestion: the ranker's data keep the engine's search for an
// answer (a query with the whole message), not a reading it takes of the message alone before
// it (the scope model's, ahead of a sure emergency), nor a choice among options.
func TestQueryRecorderKeepsTheQuestion(t *testing.T) {
	t.Parallel()
	ix, err := embeddedIndex()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := &queryRecorder{Index: ix}
	rec.Find(ctx, retrieval.Query{Text: "cuanto es la pgu"}, 1)
	rec.Find(ctx, retrieval.Query{Text: "cuanto es la pgu", Whole: "cuanto es la pgu", Only: []string{"pension-garantizada-universal"}}, 1)
	if rec.first != nil {
		t.Fatalf("recorded %+v, want no question yet", *rec.first)
	}
	rec.Find(ctx, retrieval.Query{Text: "es la pgu", Whole: "cuanto es la pgu"}, 5)
	rec.Find(ctx, retrieval.Query{Text: "otra", Whole: "otra"}, 5)
	if rec.first == nil || rec.first.Whole != "cuanto es la pgu" {
		t.Errorf("recorded %v, want the first search with the whole message", rec.first)
	}
}

// TestDumpLines: the held-out dump has a header and, for each turn, as many fields; the
// index's readings are there (the first three candidates name the ficha asked for).
func TestDumpLines(t *testing.T) {
	t.Parallel()
	ix, err := embeddedIndex()
	if err != nil {
		t.Fatal(err)
	}
	det, err := embeddedDetector()
	if err != nil {
		t.Fatal(err)
	}
	cases := []eval.Case{
		{Tags: []string{"dev-question"}, Turns: []eval.Turn{{User: "cuanto es la pgu\tpor favor", Expect: eval.Expect{Fichas: []string{"pension-garantizada-universal"}}}}},
		{Tags: []string{"dev-offtopic"}, Turns: []eval.Turn{{User: "que hora es en españa", Expect: eval.Expect{Action: eval.Strings{"out_of_scope"}}}}},
	}
	path := filepath.Join(t.TempDir(), "dump.tsv")
	if err := writeDump(context.Background(), path, ix, engineOver(ix, det), cases); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want a header and 2:\n%s", len(lines), b)
	}
	header := strings.Split(lines[0], "\t")
	for _, l := range lines[1:] {
		if f := strings.Split(l, "\t"); len(f) != len(header) {
			t.Errorf("%d fields, the header has %d: %q", len(f), len(header), l)
		}
	}
	field := func(line, name string) string {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no %q in the header %q", name, lines[0])
		}
		return strings.Split(line, "\t")[i]
	}
	if top := field(lines[1], "top3"); !strings.Contains(top, "pension-garantizada-universal") {
		t.Errorf("the PGU question's first candidates: %q", top)
	}
	if a := field(lines[2], "action"); a != "out_of_scope" {
		t.Errorf("an off-topic question's action: %q", a)
	}
}

// TestCatalogueQuestionsAsCases: eval --catalogue-questions runs each question of the
// catalogue's fichas as a case expecting its own ficha, every question once.
func TestCatalogueQuestionsAsCases(t *testing.T) {
	t.Parallel()
	ix, err := embeddedIndex()
	if err != nil {
		t.Fatal(err)
	}
	cases := catalogueQuestions(ix)
	n := 0
	for _, f := range ix.Fichas() {
		n += len(f.Questions)
	}
	if len(cases) != n || n < 5000 {
		t.Fatalf("%d cases of %d questions", len(cases), n)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		f, ok := ix.Ficha(c.Turns[0].Expect.Fichas[0])
		if !ok || !slices.Contains(f.Questions, c.Turns[0].User) || seen[c.ID] {
			t.Fatalf("case %s: %q expects %v", c.ID, c.Turns[0].User, c.Turns[0].Expect.Fichas)
		}
		seen[c.ID] = true
	}
}
