package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot/llm/llmtest"
	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/jackc/pgx/v5"
)

// inProcess is a server in this process (startServer) as the ops tests use it: they stop it
// themselves (cancel, then wait) and read status codes with get, do, ask and sms.
type inProcess struct{ *server }

// serveInProcess serves with the settings in env, on a free port, until the test ends.
func serveInProcess(t *testing.T, env map[string]string) *inProcess {
	t.Helper()
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	return &inProcess{startServerIn(t, cmp.Or(env["ATIENDE_DATA_DIR"], t.TempDir()), kv...)}
}

func (p *inProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// do posts a JSON body (with a bearer token when given) and decodes the JSON answer.
func (p *inProcess) do(t *testing.T, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// ask opens a web session and asks one question.
func (p *inProcess) ask(t *testing.T, text string) (int, map[string]any) {
	t.Helper()
	_, sess := p.do(t, "/api/v1/chat/sessions", "", "{}")
	body, _ := json.Marshal(map[string]string{"text": text})
	return p.do(t, fmt.Sprintf("/api/v1/chat/sessions/%s/messages", sess["id"]), sess["token"].(string), string(body))
}

func (p *inProcess) sms(t *testing.T, sid, from, text string) int {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {e2eAccount}, "From": {from}, "To": {"+56229999999"}, "Body": {text}, "NumMedia": {"0"}}
	return postWebhook(t, p.base, form)
}

func envMap(kv []string) map[string]string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return m
}

// TestMetricsAfterRealTurns runs web turns, SMS webhooks (one reply delivered, one refused
// by Twilio for good) and a handoff on the real server, then scrapes /metrics: the turn,
// request, delivery, job and handoff series moved by exactly what happened, and Go's and
// the process's collectors are there. The JSON logs of the same run hold the citizens'
// phone numbers masked only.
func TestMetricsAfterRealTurns(t *testing.T) {
	t.Parallel()
	fake := twiliotest.New(e2eAccount, e2eToken)
	fake.SetReply(func(_ int, m twiliotest.Message) (int, int) {
		if m.To == "+56933334444" {
			return 400, 21610 // unsubscribed: refused for good
		}
		return 0, 0
	})
	api := httptest.NewServer(fake)
	defer api.Close()
	env := envMap(append(append(twilioEnv(api.URL, t.TempDir()), "ATIENDE_TWILIO_SETTLE=0s"), alwaysOpen(t)...))
	p := serveInProcess(t, env)

	if code, r := p.ask(t, "cuanto es la pgu"); code != 200 || r["action"] != "answer" {
		t.Fatalf("web turn: %d %v", code, r)
	}
	if code, r := p.ask(t, "quiero hablar con una persona"); code != 200 || r["action"] != "handoff" {
		t.Fatalf("web handoff: %d %v", code, r)
	}
	if code := p.sms(t, "SM000000000000000000000000000e7a01", "+56911112222", "cuanto es la pgu"); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	if code := p.sms(t, "SM000000000000000000000000000e7a02", "+56933334444", "cuanto es la pgu"); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	want := []string{
		`atiende_turns_total{action="answer",channel="web"} 1`,
		`atiende_turns_total{action="handoff",channel="web"} 1`,
		`atiende_turns_total{action="answer",channel="sms"} 2`,
		`atiende_turn_duration_seconds_count{channel="sms"} 2`,
		`atiende_http_request_duration_seconds_count{code="200",method="POST",route="/webhooks/twilio/messaging"} 2`,
		`atiende_http_request_duration_seconds_count{code="200",method="POST",route="/api/v1/chat/sessions/:id/messages"} 2`,
		`atiende_delivery_failures_total{channel="sms",reason="rejected"} 1`,
		`atiende_jobs_total{kind="turn",outcome="completed"} 2`,
		`atiende_jobs_total{kind="deliver",outcome="completed"} 1`,
		`atiende_jobs_total{kind="deliver",outcome="cancelled"} 1`,
		`atiende_handoffs_waiting{queue="general"} 1`,
	}
	// The SMS turns and deliveries run in jobs after the webhooks answered: wait for the
	// series to move. What is still missing is logged each time it changes.
	var body, lastMissing string
	waitFor(t, func() bool {
		var code int
		code, body = p.get(t, "/metrics")
		var missing []string
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				missing = append(missing, w)
			}
		}
		if m := fmt.Sprintf("/metrics (%d) lacks %q", code, missing); len(missing) > 0 && m != lastMissing {
			t.Log(m)
			lastMissing = m
		}
		return code == 200 && len(missing) == 0
	}, p.logs)
	for _, re := range []string{
		`atiende_retrieval_duration_seconds_count [1-9]`,
		`go_goroutines [1-9]`,
		`process_start_time_seconds \d`,
		`atiende_handoff_wait_seconds_count\{queue="salud"\} 0`,
		`atiende_delivery_failures_total\{channel="whatsapp",reason="gave_up"\} 0`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	if n := len(fake.Sent()); n != 1 {
		t.Errorf("%d replies sent, want 1", n)
	}

	// Logs: the webhooks and the refused delivery logged the numbers, masked.
	logs := p.logs.String()
	for _, raw := range []string{"56911112222", "56933334444"} {
		if strings.Contains(logs, raw) {
			t.Errorf("the logs hold %s:\n%s", raw, grepLines(logs, raw))
		}
	}
	for _, masked := range []string{`"from":"+569****2222"`, `"from":"+569****4444"`, `"to":"+569****4444"`} {
		if !strings.Contains(logs, masked) {
			t.Errorf("the logs lack %s:\n%s", masked, logs)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestGracefulShutdown: while a web turn and an SMS turn job wait for a slow language model,
// the server is told to stop (its context cancelled, as SIGTERM does). During the drain
// delay /readyz is 503 and /healthz 200; the web request then completes with its answer,
// the SMS turn job finishes and stores its reply, an open event stream is ended, and serve
// returns nil well within ATIENDE_SHUTDOWN_TIMEOUT.
//
// Not parallel: it bounds how soon /readyz turns and how long the drain takes, and a
// test running beside it would stretch both.
func TestGracefulShutdown(t *testing.T) {
	const slow = 1500 * time.Millisecond
	asked := make(chan struct{}, 16) // a token for each request, as it starts to wait
	llm := llmtest.New(func(system, user string) (string, time.Duration) {
		select {
		case asked <- struct{}{}:
		default:
		}
		return "Encontré esta información en la ficha.\nFUENTES: F1", slow
	})
	model := httptest.NewServer(llm)
	defer model.Close()
	twilioFake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(twilioFake)
	defer api.Close()
	dataDir := t.TempDir()
	env := envMap(append(twilioEnv(api.URL, dataDir), "ATIENDE_TWILIO_SETTLE=0s", "ATIENDE_DRAIN_DELAY=600ms",
		"ATIENDE_SHUTDOWN_TIMEOUT=10s", "ATIENDE_LLM=openai", "ATIENDE_LLM_BASE_URL="+model.URL, "ATIENDE_LLM_MODEL=m"))
	p := serveInProcess(t, env)

	// A widget's event stream is open too: it never goes idle, so the shutdown must end it.
	_, sess := p.do(t, "/api/v1/chat/sessions", "", "{}")
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/chat/sessions/%s/events?token=%s", p.base, sess["id"], sess["token"]))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("event stream: %v %v", err, resp)
	}
	streamEnded := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); resp.Body.Close(); close(streamEnded) }()

	type answer struct {
		code int
		r    map[string]any
	}
	web := make(chan answer, 1)
	go func() {
		code, r := p.ask(t, "cuanto es la pgu")
		web <- answer{code, r}
	}()
	if code := p.sms(t, "SM0000000000000000000000000000510a", "+56955556666", "cuanto es la pgu"); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	timeout := time.After(20 * time.Second)
	for range 2 { // both turns are now waiting for the model
		select {
		case <-asked:
		case <-timeout:
			t.Fatalf("the model got %d requests:\n%s", len(llm.Requests()), p.logs.String())
		}
	}
	stopped := time.Now()
	p.cancel()

	// Within the drain delay (600 ms; the server still serves): /readyz turns to 503. The
	// 400 ms bound is what is tested, so this polls /readyz itself, every 10 ms.
	for code, body := p.get(t, "/readyz"); code != 503; code, body = p.get(t, "/readyz") {
		if time.Since(stopped) > 400*time.Millisecond {
			t.Fatalf("/readyz while draining = %d %s, want 503", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := p.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz while draining = %d, want 200", code)
	}
	a := <-web
	if a.code != 200 || a.r["action"] != "answer" {
		t.Errorf("the request in flight at shutdown got %d %v", a.code, a.r)
	}
	if err := p.wait(8 * time.Second); err != nil {
		t.Fatalf("serve: %v\n%s", err, p.logs.String())
	}
	select {
	case <-streamEnded:
	case <-time.After(time.Second):
		t.Error("the event stream is still open after serve returned")
	}
	if took := time.Since(stopped); took < slow-200*time.Millisecond {
		t.Errorf("serve returned %s after the stop, before the slow turns could finish", took)
	}
	if !strings.Contains(p.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no \"stopped\" in the logs:\n%s", p.logs.String())
	}
	// The SMS turn job finished: its reply is stored (its delivery job waits for the next start).
	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var conv *atiende.Conversation
	err = db.Tx(context.Background(), func(tx store.Tx) error {
		var err error
		conv, err = tx.ConversationByAddress(context.Background(), "sms", "+56955556666")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := db.Messages(context.Background(), conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || !msgs[0].Processed || msgs[1].Direction != atiende.Outbound || msgs[1].Action != "answer" {
		t.Errorf("the SMS conversation after shutdown: %+v", msgs)
	}
}

// TestReadyzFollowsPostgres: a server on Postgres is ready; when the database refuses
// connections (to superusers too) and drops the open ones, /readyz says 503 (and /healthz still 200); when the
// database is back, /readyz is 200 again, without a restart.
func TestReadyzFollowsPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.VectorDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	p := serveInProcess(t, map[string]string{"DATABASE_URL": dbURL})
	if code, body := p.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz on a live database = %d %s", code, body)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(fmt.Sprintf(`ALTER DATABASE %q ALLOW_CONNECTIONS false`, name))
	defer admin.Exec(context.Background(), fmt.Sprintf(`ALTER DATABASE %q ALLOW_CONNECTIONS true`, name))
	exec(fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND pid <> pg_backend_pid()`, name))
	waitReady := func(want int) {
		t.Helper()
		waitFor(t, func() bool { code, _ := p.get(t, "/readyz"); return code == want }, p.logs)
	}
	waitReady(503)
	// A negative (the 503 holds, no pool reconnects behind it) has no event to wait for:
	// this pause is part of what is tested.
	time.Sleep(500 * time.Millisecond)
	if code, _ := p.get(t, "/readyz"); code != 503 {
		t.Errorf("/readyz half a second later = %d: the database is still closed", code)
	}
	if code, _ := p.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz with the database down = %d, want 200", code)
	}
	exec(fmt.Sprintf(`ALTER DATABASE %q ALLOW_CONNECTIONS true`, name))
	waitReady(200)
}
