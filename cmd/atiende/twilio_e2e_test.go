package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
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
	t.Parallel()
	fake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(fake)
	defer api.Close()
	dataDir := t.TempDir()
	env := append(twilioEnv(api.URL, dataDir), "ATIENDE_TWILIO_SETTLE=2s")
	s := startProcessAt(t, freeAddr(t), dataDir, env...)
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
	s = startProcessAt(t, freeAddr(t), dataDir, env...)
	// Twilio retries the webhook it may not have seen answered: still one reply.
	if code := s.webhook(t, form); code != 200 {
		t.Fatalf("retried webhook: %d", code)
	}
	expectOneReply(t, fake, s, sqliteJobs(t, dataDir), "Pension Garantizada Universal")
}

// expectOneReply waits for the fake Twilio to be asked to send a reply, then until the
// server has no turn or delivery job left (jobs counts them), and checks that exactly one
// was sent and that it says want.
func expectOneReply(t *testing.T, fake *twiliotest.Fake, s *server, jobs jobsLeft, want string) {
	t.Helper()
	waitFor(t, func() bool { return len(fake.Sent()) > 0 }, s.logs)
	waitJobsDone(t, jobs, s.logs)
	if sent := fake.Sent(); len(sent) != 1 || !strings.Contains(sent[0].Body, want) {
		t.Errorf("replies: %+v", sent)
	}
}

// jobsLeft counts a server's turn and delivery jobs not yet ended, and names them.
type jobsLeft func(ctx context.Context) (int, string, error)

// waitJobsDone waits until the server has no turn or delivery job left to run. A webhook
// stores its turn job before it answers, and a turn its delivery jobs in its own
// transaction, so after that nothing more will be sent for the messages acknowledged so far.
// The jobs left are logged each time they change, so that a timeout shows which were stuck.
func waitJobsDone(t *testing.T, jobs jobsLeft, logs *syncBuffer) {
	t.Helper()
	last := ""
	waitFor(t, func() bool {
		n, which, err := jobs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && which != last {
			t.Logf("%d jobs still to run: %s", n, which)
			last = which
		}
		return n == 0
	}, logs)
}

// sqliteJobs reads the jobs of the server whose data directory is dataDir, while it runs.
func sqliteJobs(t *testing.T, dataDir string) jobsLeft {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "atiende.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(ctx context.Context) (n int, which string, err error) {
		err = db.QueryRowContext(ctx, `SELECT count(*), coalesce(group_concat(kind || ':' || state), '') FROM river_job
			WHERE kind IN ('turn', 'deliver') AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n, &which)
		return n, which, err
	}
}

// postgresJobs reads the jobs in the database at dbURL, but for those running for the replica
// dead (a killed replica's: River's rescuer returns them only after minutes).
func postgresJobs(dbURL, dead string) jobsLeft {
	return func(ctx context.Context) (n int, which string, err error) {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return 0, "", err
		}
		defer conn.Close(ctx)
		err = conn.QueryRow(ctx, `SELECT count(*), coalesce(string_agg(kind || ':' || state, ','), '') FROM river_job
			WHERE kind IN ('turn', 'deliver') AND state NOT IN ('completed', 'cancelled', 'discarded')
			AND NOT (state = 'running' AND coalesce(attempted_by[array_length(attempted_by, 1)] = $1, false))`, dead).Scan(&n, &which)
		return n, which, err
	}
}

// TestTwilioRoutesNeedAToken: without TWILIO_AUTH_TOKEN the webhooks answer 503, not 404.
func TestTwilioRoutesNeedAToken(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	dbURL := pgtest.VectorDatabase(t)
	fake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(fake)
	defer api.Close()
	env := append(twilioEnv(api.URL, t.TempDir()), "ATIENDE_TWILIO_SETTLE=2s", "DATABASE_URL="+dbURL)
	a := startProcessAt(t, freeAddr(t), t.TempDir(), append(env, "ATIENDE_REPLICA_ID=replica-a")...)
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
	expectOneReply(t, fake, b, postgresJobs(dbURL, "replica-a"), "Pension Garantizada Universal")
}
