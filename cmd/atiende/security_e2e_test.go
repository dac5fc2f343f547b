package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

// lengthless hides a body's length, so that the client sends it chunked.
type lengthless struct{ io.Reader }

// TestEveryPOSTRouteLimitsItsBody: the real server, Twilio on, answers an oversized body
// with 413 on each of its POST routes, in the format of the route's surface (a JSON error
// for the chat's API, the console's page, an empty TwiML for the webhooks), whether the
// client announces the size or streams it chunked, signed in or not.
func TestEveryPOSTRouteLimitsItsBody(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(twiliotest.New(e2eAccount, e2eToken))
	defer api.Close()
	dir := t.TempDir()
	s := startServerIn(t, dir, twilioEnv(api.URL, dir)...)
	big := strings.Repeat("a", 100<<10)
	for _, path := range []string{
		"/api/v1/chat/sessions",
		"/api/v1/chat/sessions/x/messages",
		"/webhooks/twilio/messaging",
		"/webhooks/twilio/status",
		"/agent/login",
		"/agent/logout",
		"/agent/h/1/claim",
		"/agent/h/1/reply",
		"/agent/h/1/transfer",
		"/agent/h/1/resolve",
	} {
		for _, chunked := range []bool{false, true} {
			t.Run(path+"/chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
				var body io.Reader = strings.NewReader("text=" + big)
				if chunked {
					body = lengthless{body}
				}
				req, _ := http.NewRequest("POST", s.base+path, body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				var ok bool
				switch {
				case strings.HasPrefix(path, "/api/"):
					var out struct{ Error string }
					ok = json.Unmarshal(b, &out) == nil && out.Error != ""
				case strings.HasPrefix(path, "/agent/"):
					ok = strings.Contains(string(b), "<h1>Demasiado grande</h1>")
				default:
					ok = string(b) == string(httperr.EmptyTwiML)
				}
				if resp.StatusCode != http.StatusRequestEntityTooLarge || !ok {
					t.Errorf("%d %s %q; want 413 in the surface's format", resp.StatusCode, resp.Header.Get("Content-Type"), b)
				}
			})
		}
	}
}

// TestSecurityHeadersOfTheServer: the headers of the pages the binary serves, the agent
// console's included, and the per-IP rate limit as ATIENDE_RATE_IP sets it.
func TestSecurityHeadersOfTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, "ATIENDE_WIDGET_ORIGINS=https://www.chileatiende.gob.cl", "ATIENDE_RATE_IP=2/min")
	for _, tc := range []struct {
		path, csp, frameOptions, referrer string
	}{
		{"/", "frame-ancestors 'none'", "DENY", "strict-origin-when-cross-origin"},
		{"/widget/frame", "frame-ancestors 'self' https://www.chileatiende.gob.cl", "", "strict-origin-when-cross-origin"},
		{"/agent/login", "form-action 'self'", "DENY", "same-origin"},
		{"/agent/static/console.css", "frame-ancestors 'none'", "DENY", "same-origin"},
	} {
		resp, err := http.Get(s.base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if csp := h.Values("Content-Security-Policy"); len(csp) != 1 || !strings.Contains(csp[0], tc.csp) {
			t.Errorf("%s: CSP %q; want one containing %q", tc.path, csp, tc.csp)
		}
		if h.Get("X-Frame-Options") != tc.frameOptions || h.Get("Referrer-Policy") != tc.referrer || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Frame-Options %q, Referrer-Policy %q, nosniff %q", tc.path, h.Get("X-Frame-Options"), h.Get("Referrer-Policy"), h.Get("X-Content-Type-Options"))
		}
	}
	var codes []int
	for range 3 {
		resp, err := http.Post(s.base+"/api/v1/chat/sessions", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 201 || codes[1] != 201 || codes[2] != 429 {
		t.Errorf("sessions from one IP at ATIENDE_RATE_IP=2/min: %v; want 201 201 429", codes)
	}
}

// TestRetentionCommand: "atiende retention" anonymises the conversations idle past
// ATIENDE_RETENTION_DAYS and keeps the others; 0 keeps everything; a bad value is an error.
func TestRetentionCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old", "recent"} {
		err := db.Tx(ctx, func(tx store.Tx) error {
			if err := tx.CreateConversation(ctx, &atiende.Conversation{ID: id, Channel: "sms", Address: "+5699" + id}); err != nil {
				return err
			}
			return tx.InsertMessage(ctx, &atiende.Message{ConversationID: id, Direction: atiende.Inbound, Text: "mi rut es 12.345.678-5", Processed: true})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// "old" was last active 400 days ago.
	then := time.Now().UTC().AddDate(0, 0, -400).Format(time.RFC3339Nano)
	for _, q := range []string{`UPDATE conversations SET created_at = ?1, updated_at = ?1 WHERE id = 'old'`, `UPDATE messages SET created_at = ?1 WHERE conversation_id = 'old'`} {
		if _, err := db.SQL().ExecContext(ctx, q, then); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	env := map[string]string{"ATIENDE_DATA_DIR": dir}
	if out, err := runCmd(t, map[string]string{"ATIENDE_DATA_DIR": dir, "ATIENDE_RETENTION_DAYS": "0"}, "retention"); err != nil || !strings.Contains(out, "nothing anonymised") {
		t.Errorf("retention off: %q %v", out, err)
	}
	if _, err := runCmd(t, map[string]string{"ATIENDE_DATA_DIR": dir, "ATIENDE_RETENTION_DAYS": "un año"}, "retention"); err == nil || !strings.Contains(err.Error(), "ATIENDE_RETENTION_DAYS") {
		t.Errorf("bad ATIENDE_RETENTION_DAYS: %v", err)
	}
	out, err := runCmd(t, env, "retention")
	if err != nil || !strings.Contains(out, "anonymised 1 conversations") {
		t.Fatalf("retention: %q %v", out, err)
	}
	db, err = sqlite.Open(ctx, filepath.Join(dir, "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, erased := range map[string]bool{"old": true, "recent": false} {
		ms, err := db.Messages(ctx, id, 0)
		if err != nil || len(ms) != 1 {
			t.Fatalf("%s: %d messages, %v: the rows stay", id, len(ms), err)
		}
		if got := ms[0].Text == ""; got != erased {
			t.Errorf("%s: text %q; erased want %v", id, ms[0].Text, erased)
		}
	}
}

// TestShutdownEndsEventStreams: an open event stream (the widget's) neither outlives the
// server nor holds its shutdown until the deadline: on SIGTERM the stream ends at once and
// the server exits cleanly.
//
// The bounds are half the shutdown timeout (20 s here): a stream that held the shutdown
// would take all of it; a busy CI machine (2 cores, the browser tests beside) once took
// 5.3 s from SIGTERM to exit.
//
// Not parallel: it bounds how long the shutdown takes.
func TestShutdownEndsEventStreams(t *testing.T) {
	const bound = 10 * time.Second
	s := startProcessAt(t, freeAddr(t), t.TempDir(), "ATIENDE_SHUTDOWN_TIMEOUT=20s")
	sess := s.post(t, "/api/v1/chat/sessions", "", "{}")
	resp, err := http.Get(s.base + "/api/v1/chat/sessions/" + sess["id"].(string) + "/events?token=" + sess["token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 16)
	if _, err := resp.Body.Read(first); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); ended <- err }()
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case <-ended:
	case <-time.After(bound):
		t.Fatalf("the event stream is still open %s after SIGTERM", bound)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM with a stream open: %v\n%s", err, s.logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	if d := time.Since(start); d > bound {
		t.Errorf("shutdown took %s with a stream open (the timeout is 20 s)", d)
	}
}

func TestSecurityConfiguration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env     map[string]string
		wantErr string // "" for none
		check   func(security) bool
	}{
		{env: map[string]string{}, check: func(s security) bool {
			return s.IPRate.String() == "120/min" && s.SenderRate.String() == "15/min" && s.RetentionDays == 365 && len(s.TrustedProxies) == 0
		}},
		{env: map[string]string{"ATIENDE_RATE_IP": "off", "ATIENDE_RATE_SENDER": "2/s", "ATIENDE_RETENTION_DAYS": "0", "ATIENDE_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"},
			check: func(s security) bool {
				return s.IPRate.Off() && s.SenderRate.PerMinute() == 120 && s.RetentionDays == 0 && len(s.TrustedProxies) == 2
			}},
		{env: map[string]string{"ATIENDE_RATE_IP": "120"}, wantErr: "ATIENDE_RATE_IP"},
		{env: map[string]string{"ATIENDE_RATE_SENDER": "off"}, wantErr: "ATIENDE_RATE_SENDER"},
		{env: map[string]string{"ATIENDE_RATE_SENDER": "15/day"}, wantErr: "ATIENDE_RATE_SENDER"},
		{env: map[string]string{"ATIENDE_RETENTION_DAYS": "-1"}, wantErr: "ATIENDE_RETENTION_DAYS"},
	} {
		cfg, err := loadConfig(func(k string) string { return tc.env[k] })
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: %v; want an error naming %s", tc.env, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case !tc.check(cfg.Security):
			t.Errorf("%v: %+v", tc.env, cfg.Security)
		case cfg.Twilio.SenderRate != cfg.Security.SenderRate || cfg.Twilio.RateLimit != cfg.Security.SenderRate.PerMinute():
			t.Errorf("%v: Twilio's rate %v/%d does not follow ATIENDE_RATE_SENDER", tc.env, cfg.Twilio.SenderRate, cfg.Twilio.RateLimit)
		}
	}
	// A bad trusted proxy stops serve with an error naming it.
	_, err := runCmd(t, map[string]string{"ATIENDE_TRUSTED_PROXIES": "not-an-ip", "ATIENDE_DATA_DIR": t.TempDir(), "ATIENDE_ADDR": "127.0.0.1:0"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "ATIENDE_TRUSTED_PROXIES") {
		t.Errorf("bad ATIENDE_TRUSTED_PROXIES: %v", err)
	}
}
