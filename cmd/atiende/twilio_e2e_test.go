package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/store/postgres/pgtest"
)

const (
	e2eAccount = "AC00000000000000000000000000000002"
	e2eToken   = "fedcba9876543210fedcba9876543210"
	e2ePublic  = "https://atiende.example.cl"
)

func twilioEnv(apiURL, dataDir string) []string {
	return []string{"TWILIO_ACCOUNT_SID=" + e2eAccount, "TWILIO_AUTH_TOKEN=" + e2eToken, "TWILIO_FROM_NUMBER=+56229999999",
		"ATIENDE_PUBLIC_URL=" + e2ePublic, "ATIENDE_TWILIO_API_URL=" + apiURL, "ATIENDE_DATA_DIR=" + dataDir}
}

func (s *server) webhook(t *testing.T, form url.Values) int {
	t.Helper()
	return postWebhook(t, s.base, form)
}

// postWebhook posts a Twilio messaging webhook to the server at base, signed as Twilio signs
// it for the tests' public URL, and returns the status.
func postWebhook(t *testing.T, base string, form url.Values) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/webhooks/twilio/messaging", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(e2eToken, e2ePublic+"/webhooks/twilio/messaging", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrashBetweenWebhookAndReply: the server acknowledges a message, is killed with SIGKILL
// before it replies, and on restart delivers the reply exactly once.
func TestCrashBetweenWebhookAndReply(t *testing.T) {
	fake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(fake)
	defer api.Close()
	dataDir := t.TempDir()
	env := append(twilioEnv(api.URL, dataDir), "ATIENDE_TWILIO_SETTLE=2s")
	s := startServerIn(t, dataDir, env...)
	form := url.Values{"MessageSid": {"SM00000000000000000000000000000e2e"}, "AccountSid": {e2eAccount}, "From": {"+56911112222"},
		"To": {"+56229999999"}, "Body": {"cuanto es la pgu"}, "NumMedia": {"0"}}
	if code := s.webhook(t, form); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	if n := len(fake.Sent()); n != 0 {
		t.Fatalf("replied before the crash (%d); the settle delay should have held it", n)
	}
	s = startServerIn(t, dataDir, env...)
	// Twilio retries the webhook it may not have seen answered: still one reply.
	if code := s.webhook(t, form); code != 200 {
		t.Fatalf("retried webhook: %d", code)
	}
	expectOneReply(t, fake, s, "Pension Garantizada Universal")
}

// expectOneReply waits for the fake Twilio to be asked to send a reply, then a while more,
// and checks that exactly one was sent and that it says want.
func expectOneReply(t *testing.T, fake *twiliotest.Fake, s *server, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(fake.Sent()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no reply:\n%s", s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	if sent := fake.Sent(); len(sent) != 1 || !strings.Contains(sent[0].Body, want) {
		t.Errorf("replies: %+v", sent)
	}
}

// TestTwilioRoutesNeedAToken: without TWILIO_AUTH_TOKEN the webhooks answer 503, not 404.
func TestTwilioRoutesNeedAToken(t *testing.T) {
	s := startServer(t)
	resp, err := http.Post(s.base+"/webhooks/twilio/messaging", "application/x-www-form-urlencoded", strings.NewReader("From=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestTwoReplicasOnPostgres: two servers share one Postgres. A message reaches replica A,
// which is killed before it replies; replica B, which never saw the webhook, delivers the
// reply once when Twilio retries the webhook there (and only once: turns are idempotent).
func TestTwoReplicasOnPostgres(t *testing.T) {
	dbURL := pgtest.VectorDatabase(t)
	fake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(fake)
	defer api.Close()
	env := append(twilioEnv(api.URL, t.TempDir()), "ATIENDE_TWILIO_SETTLE=2s", "DATABASE_URL="+dbURL)
	a := startServerIn(t, t.TempDir(), env...)
	b := startServerIn(t, t.TempDir(), env...)
	form := url.Values{"MessageSid": {"SM00000000000000000000000000000bf1"}, "AccountSid": {e2eAccount}, "From": {"+56911113333"},
		"To": {"+56229999999"}, "Body": {"cuanto es la pgu"}, "NumMedia": {"0"}}
	if code := a.webhook(t, form); code != 200 {
		t.Fatalf("webhook to A: %d\n%s", code, a.logs.String())
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	if code := b.webhook(t, form); code != 200 {
		t.Fatalf("retried webhook to B: %d", code)
	}
	expectOneReply(t, fake, b, "Pension Garantizada Universal")
}
