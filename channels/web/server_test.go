package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/bot/bottest"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

type bundle struct {
	srv      *httptest.Server
	store    testStore
	engine   *bot.Engine
	handoffs *handoff.Service[store.Tx]
	core     *conversation.Core[store.Tx]
	web      *web.Server[store.Tx]
}

// testStore is the store as these tests use it: the chat's, and what they check besides.
type testStore interface {
	web.Store[store.Tx]
	Handoffs(ctx context.Context, conversationID string) ([]atiende.Handoff, error)
	Close() error
}

var (
	ixOnce sync.Once
	ix     *retrieval.Index
)

// loadIndex loads the bundled catalogue once for all the tests.
func loadIndex() {
	ixOnce.Do(func() {
		var err error
		if ix, err = retrieval.Bundled(catalogue.FS, ""); err != nil {
			panic(err)
		}
	})
}

func setup(t *testing.T, opts ...func(*web.Config[store.Tx])) *bundle {
	t.Helper()
	loadIndex()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, events.NewHub(), events.NewHub(), nil)
	cfg := web.Config[store.Tx]{Engine: bot.New(ix, nil), Store: db}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Core == nil {
		cfg.Core = newCore(t, db, cfg.Engine, hs)
	}
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &bundle{srv: srv, store: db, engine: cfg.Engine, handoffs: hs, core: cfg.Core, web: s}
}

// newCore is the conversation core the server runs its turns on.
func newCore(t testing.TB, db conversation.Store[store.Tx], engine *bot.Engine, hs *handoff.Service[store.Tx]) *conversation.Core[store.Tx] {
	t.Helper()
	core, err := conversation.New(conversation.Config[store.Tx]{Store: db, Engine: engine, Handoffs: hs})
	if err != nil {
		t.Fatal(err)
	}
	return core
}

func (b *bundle) do(t *testing.T, method, path, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (b *bundle) session(t *testing.T) (string, string) {
	t.Helper()
	code, out := b.do(t, "POST", "/api/v1/chat/sessions", "", []byte(`{}`))
	if code != http.StatusCreated {
		t.Fatalf("create session: %d %v", code, out)
	}
	return out["id"].(string), out["token"].(string)
}

func msg(text string) []byte {
	b, _ := json.Marshal(map[string]string{"text": text})
	return b
}

func TestConversationOverHTTP(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	code, out := b.do(t, "POST", path, token, msg("cuanto es la pgu"))
	if code != 200 || out["action"] != "answer" || out["aspect"] != "monto" {
		t.Fatalf("%d %v", code, out)
	}
	fichas := out["fichas"].([]any)
	first := fichas[0].(map[string]any)
	if first["slug"] != "pension-garantizada-universal" || !strings.HasPrefix(first["url"].(string), "https://") {
		t.Errorf("fichas: %v", fichas)
	}
	if !strings.Contains(out["reply"].(string), "Pensión Garantizada Universal") {
		t.Errorf("reply: %v", out["reply"])
	}
	// The follow-up uses the state stored by the first turn.
	code, out = b.do(t, "POST", path, token, msg("y los requisitos?"))
	if code != 200 || out["aspect"] != "requisitos" || out["fichas"].([]any)[0].(map[string]any)["slug"] != "pension-garantizada-universal" {
		t.Errorf("follow-up: %d %v", code, out)
	}
	msgs, err := b.store.Messages(context.Background(), id, 0)
	if err != nil || len(msgs) != 4 || msgs[0].Text != "cuanto es la pgu" || msgs[1].Action != "answer" || msgs[1].Score <= 0 {
		t.Errorf("stored: %d messages, %v", len(msgs), err)
	}
	code, out = b.do(t, "POST", path, token, msg("bono"))
	if code != 200 || out["action"] != "clarify" || len(out["options"].([]any)) < 2 {
		t.Errorf("clarify: %v", out)
	}
}

func TestHandoffIsRecorded(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	code, out := b.do(t, "POST", "/api/v1/chat/sessions/"+id+"/messages", token, msg("me quiero morir"))
	if code != 200 || out["action"] != "emergency" || !strings.Contains(out["reply"].(string), "*4141") {
		t.Fatalf("%d %v", code, out)
	}
	hs, err := b.store.Handoffs(context.Background(), id)
	if err != nil || len(hs) != 1 || hs[0].Reason != bot.ReasonEmergency || hs[0].Priority < 100 {
		t.Errorf("handoffs: %+v %v", hs, err)
	}
	// The reply keeps the handoff's reason, for the reports.
	if ms, err := b.store.Messages(context.Background(), id, 0); err != nil || len(ms) != 2 || ms[1].Reason != bot.ReasonEmergency {
		t.Errorf("stored reply: %+v %v", ms, err)
	}
}

func TestBadRequests(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	for _, c := range []struct {
		name  string
		path  string
		token string
		body  []byte
		code  int
	}{
		{"no token", path, "", msg("hola"), 401},
		{"wrong token", path, "not-the-token", msg("hola"), 401},
		{"unknown session", "/api/v1/chat/sessions/nope/messages", token, msg("hola"), 404},
		{"not json", path, token, []byte("hola"), 400},
		{"empty body", path, token, nil, 400},
		{"empty text", path, token, msg("   "), 400},
		{"unknown field", path, token, []byte(`{"txt":"hola"}`), 400},
		{"not utf-8", path, token, []byte("{\"text\":\"\xff\xfe\"}"), 400},
		{"a NUL in the text", path, token, []byte(`{"text":"hola\u0000pgu"}`), 400},
		{"trailing data", path, token, []byte(`{"text":"hola"} {"text":"otra"}`), 400},
		{"text too long", path, token, msg(strings.Repeat("a", 2001)), 413},
		{"body too big", path, token, msg(strings.Repeat("a", 70000)), 413},
		{"bad channel", "/api/v1/chat/sessions", "", []byte(`{"channel":"fax"}`), 400},
	} {
		code, out := b.do(t, "POST", c.path, c.token, c.body)
		if code != c.code {
			t.Errorf("%s: status %d, want %d (%v)", c.name, code, c.code, out)
			continue
		}
		if msg, _ := out["error"].(string); msg == "" {
			t.Errorf("%s: no error message", c.name)
		}
	}
	msgs, _ := b.store.Messages(context.Background(), id, 0)
	if len(msgs) != 0 {
		t.Errorf("refused requests stored %d messages", len(msgs))
	}
	if code, _ := b.do(t, "POST", path, token, msg(strings.Repeat("á", 2000))); code != 200 {
		t.Errorf("2000 characters (4000 bytes) refused: %d", code)
	}
}

func TestClientIDMakesRetriesIdempotent(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	body := []byte(`{"text":"cuanto es la pgu","client_id":"abc-1"}`)
	_, first := b.do(t, "POST", path, token, body)
	code, again := b.do(t, "POST", path, token, body)
	if code != 200 || again["reply"] != first["reply"] || again["action"] != "answer" {
		t.Fatalf("retry: %d %v", code, again)
	}
	if again["fichas"].([]any)[0].(map[string]any)["slug"] != "pension-garantizada-universal" {
		t.Errorf("retry fichas: %v", again["fichas"])
	}
	msgs, _ := b.store.Messages(context.Background(), id, 0)
	if len(msgs) != 2 {
		t.Errorf("a retried message ran %d turns", len(msgs)/2)
	}
}

func TestConcurrentMessagesOfOneSession(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, out := b.do(t, "POST", path, token, msg("cuanto es la pgu")); code != 200 {
				t.Errorf("%d %v", code, out)
			}
		}()
	}
	wg.Wait()
	msgs, _ := b.store.Messages(context.Background(), id, 0)
	c, _ := b.store.Conversation(context.Background(), id)
	if len(msgs) != 16 || c.Version != 9 {
		t.Errorf("%d messages, version %d; want 16 and 9", len(msgs), c.Version)
	}
}

func TestPagesAndHealth(t *testing.T) {
	b := setup(t)
	for path, want := range map[string]string{"/": "widget.js", "/widget.js": "attachShadow", "/healthz": "ok", "/readyz": "ready"} {
		resp, err := http.Get(b.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(buf.String(), want) {
			t.Errorf("%s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	if code, out := b.do(t, "GET", "/nope", "", nil); code != 404 || out["error"] == nil {
		t.Errorf("unknown route: %d %v", code, out)
	}
}

// TestWidgetIsSmall keeps the widget's weight in check: what a host page loads, and what
// the chat frame loads when opened.
func TestWidgetIsSmall(t *testing.T) {
	b := setup(t)
	total := 0
	for path, max := range map[string]int{"/widget.js": 6 << 10, "/widget/frame": 2 << 10, "/widget/frame.js": 16 << 10, "/widget/frame.css": 4 << 10} {
		resp, err := http.Get(b.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || buf.Len() > max {
			t.Errorf("%s: %d, %d bytes (budget %d)", path, resp.StatusCode, buf.Len(), max)
		}
		total += buf.Len()
	}
	t.Logf("widget: %d bytes uncompressed in all", total)
}

func TestFrameHeaders(t *testing.T) {
	b := setup(t)
	resp, err := http.Get(b.srv.URL + "/widget/frame")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'self'", "script-src 'self'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/widget/check", nil)
	req.Header.Set("Origin", "https://otro.example.com")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("check from a foreign origin: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// check asks widget/check with these headers ("" leaves one out) and returns the status.
	check := func(headers ...string) int {
		req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/widget/check", nil)
		for i := 0; i+1 < len(headers); i += 2 {
			if headers[i+1] != "" {
				req.Header.Set(headers[i], headers[i+1])
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Our own host: over https, or over http when the server is itself plain http; an http
	// page of our host is refused when a proxy says the server is reached over https.
	host := strings.TrimPrefix(b.srv.URL, "http://")
	for _, c := range []struct {
		origin, proto string
		want          int
	}{{"http://" + host, "", 200}, {"https://" + host, "", 200}, {"http://" + host, "https", 403}, {"https://" + host, "https", 200}, {"ftp://" + host, "", 403}} {
		if got := check("Origin", c.origin, "X-Forwarded-Proto", c.proto); got != c.want {
			t.Errorf("check from %s (forwarded %q): %d, want %d", c.origin, c.proto, got, c.want)
		}
	}
	// Same-origin (the demo page): the browser sends no Origin but says where the request is from.
	for _, c := range []struct {
		site string
		want int
	}{{"same-origin", 200}, {"cross-site", 403}, {"", 403}} {
		if got := check("Sec-Fetch-Site", c.site); got != c.want {
			t.Errorf("check without Origin, Sec-Fetch-Site %q: %d, want %d", c.site, got, c.want)
		}
	}
}

func TestWebRateLimit(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	for i := range 15 {
		if code, out := b.do(t, "POST", path, token, msg("hola")); code != 200 {
			t.Fatalf("message %d: %d %v", i+1, code, out)
		}
	}
	if code, _ := b.do(t, "POST", path, token, msg("hola")); code != 429 {
		t.Errorf("16th message in a minute: %d", code)
	}
}

func TestTranscriptAndEvents(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	b.do(t, "POST", "/api/v1/chat/sessions/"+id+"/messages", token, msg("cuanto es la pgu"))
	code, out := b.do(t, "GET", "/api/v1/chat/sessions/"+id+"/messages", token, nil)
	ms, _ := out["messages"].([]any)
	if code != 200 || len(ms) != 2 || ms[0].(map[string]any)["from"] != "citizen" || ms[1].(map[string]any)["from"] != "bot" {
		t.Fatalf("transcript: %d %v", code, out)
	}
	if code, _ := b.do(t, "GET", "/api/v1/chat/sessions/"+id+"/messages", "wrong", nil); code != 401 {
		t.Errorf("transcript with a wrong token: %d", code)
	}
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/chat/sessions/"+id+"/messages", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the transcript may be cached: %v", err)
	} else {
		resp.Body.Close()
	}
	// The event stream opens with the token in the query (EventSource sends no headers).
	resp, err := http.Get(b.srv.URL + "/api/v1/chat/sessions/" + id + "/events?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 64)
	n, _ := resp.Body.Read(first)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || !strings.Contains(string(first[:n]), "retry:") {
		t.Errorf("stream: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), first[:n])
	}
}

// TestSlowEngineHoldsNoConnection: while one citizen's turn waits for a slow engine (a
// language model), SQLite's one connection stays free for another's new session.
func TestSlowEngineHoldsNoConnection(t *testing.T) {
	loadIndex()
	// The engine answers only when the test opens the gate (or after 10 s, when a session
	// that waited for the turn's connection would show it by taking that long).
	const limit = 1500 * time.Millisecond // the request must take less, on a busy machine too
	entered := make(chan struct{}, 1)
	release, open := bottest.Gate(t, 10*time.Second)
	slow := bot.New(bottest.SlowRetriever{Index: ix, Entered: entered, Release: release}, nil)
	b := setup(t, func(c *web.Config[store.Tx]) { c.Engine = slow })
	id, token := b.session(t)
	done := make(chan int, 1)
	go func() {
		code, _ := b.do(t, "POST", "/api/v1/chat/sessions/"+id+"/messages", token, msg("cuanto es la pgu"))
		done <- code
	}()
	select {
	case <-entered: // the turn is in the engine
	case <-time.After(10 * time.Second):
		t.Fatal("the turn never reached the engine")
	}
	start := time.Now()
	b.session(t)
	took := time.Since(start)
	open()
	if took > limit {
		t.Errorf("a new session waited %s while another conversation's turn was in the engine", took)
	}
	if code := <-done; code != 200 {
		t.Fatalf("the slow turn: %d", code)
	}
}

// TestReplayNamesTheAgent: a stream reopened after a drop (Last-Event-ID) replays the agent's
// words it missed with the agent's first name, as they came live and as a reload shows them.
func TestReplayNamesTheAgent(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	id, token := b.session(t)
	b.do(t, "POST", "/api/v1/chat/sessions/"+id+"/messages", token, msg("quiero hablar con una persona"))
	agent := &atiende.Agent{Username: "camila", Name: "Camila Soto", Role: atiende.RoleAgent, PasswordHash: "x"}
	var waiting []atiende.Handoff
	if err := b.store.Tx(ctx, func(tx store.Tx) error {
		if err := tx.InsertAgent(ctx, agent); err != nil {
			return err
		}
		var err error
		waiting, err = tx.HandoffsByStatus(ctx, atiende.HandoffQueued)
		return err
	}); err != nil || len(waiting) != 1 {
		t.Fatalf("handoffs waiting: %d %v", len(waiting), err)
	}
	hs := b.handoffs
	if err := hs.Claim(ctx, agent, waiting[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := hs.Reply(ctx, agent, waiting[0].ID, "Hola, soy Camila."); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/chat/sessions/"+id+"/events?token="+token, nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			var e events.Event
			if err := json.Unmarshal([]byte(data), &e); err != nil || e.From != "agent" {
				continue
			}
			if e.Name != "Camila" || e.Text != "Hola, soy Camila." {
				t.Errorf("replayed: %+v, want Camila's words with her name", e)
			}
			return
		}
	}
	t.Fatal("the stream ended without replaying the agent's words")
}
