package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadEnv is the server's environment for a load whose fake Twilio listens on sink. A short
// settle delay keeps the tests short; the load waits for each reply before a number writes
// again, so the delay merges nothing either way.
func loadEnv(sink string) []string {
	return []string{"TWILIO_ACCOUNT_SID=" + e2eAccount, "TWILIO_AUTH_TOKEN=" + e2eToken, "TWILIO_FROM_NUMBER=+56229999999",
		"TWILIO_WHATSAPP_FROM=whatsapp:+56229999999", "ATIENDE_PUBLIC_URL=" + e2ePublic, "ATIENDE_TWILIO_API_URL=http://" + sink,
		"ATIENDE_TWILIO_SETTLE=200ms"}
}

// runLoadCmd runs "atiende load" in this process against target and returns its report.
func runLoadCmd(t *testing.T, target, sink string, args ...string) (loadReport, error) {
	t.Helper()
	env := map[string]string{"TWILIO_ACCOUNT_SID": e2eAccount, "TWILIO_AUTH_TOKEN": e2eToken, "ATIENDE_PUBLIC_URL": e2ePublic}
	args = append([]string{"load", "--target", target, "--sink", sink, "--json", "--cases", "../../eval/cases/answers.jsonl,../../eval/cases/followups.jsonl"}, args...)
	var out, errOut strings.Builder
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	var rep loadReport
	if jerr := json.Unmarshal([]byte(out.String()), &rep); jerr != nil {
		t.Fatalf("load report: %v (run: %v)\n%s%s", jerr, err, out.String(), errOut.String())
	}
	return rep, err
}

// checkLoad asserts what every load must end with: every message acknowledged and answered
// exactly once, on every channel.
func checkLoad(t *testing.T, rep loadReport, err error, logs string) {
	t.Helper()
	t.Logf("sent %d, webhook attempts %d, acked %d, replies %d, lost %d, duplicates %d, sink failures %d; ack p99 %.1f ms, reply p50/p99 %.0f/%.0f ms; errors %v",
		rep.Sent, rep.Attempts, rep.Acked, rep.Replies, rep.Lost, rep.Duplicates, rep.SinkFailed, rep.AckMs.P99, rep.ReplyMs.P50, rep.ReplyMs.P99, rep.Errors)
	if err != nil || rep.Lost != 0 || rep.Duplicates != 0 || rep.Unacked != 0 {
		t.Errorf("err %v; lost %d, duplicates %d, unacked %d; report %+v\nserver log tail:\n%s", err, rep.Lost, rep.Duplicates, rep.Unacked, rep, tail(logs, 3000))
	}
	if rep.Sent < 10 || rep.Replies != rep.Sent || rep.Acked != rep.Sent {
		t.Errorf("sent %d, acked %d, replies %d", rep.Sent, rep.Acked, rep.Replies)
	}
	for _, ch := range []string{"sms", "whatsapp", "web"} {
		if st := rep.ByChannel[ch]; st.Sent == 0 || st.Replies != st.Sent {
			t.Errorf("%s: %+v", ch, st)
		}
	}
	if rep.AckMs.N == 0 || rep.ReplyMs.P50 <= 0 {
		t.Errorf("latencies not measured: ack %+v reply %+v", rep.AckMs, rep.ReplyMs)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestLoad runs short loads against the real server on SQLite: plain, with every webhook
// delivered twice at once (the copies are acknowledged and ignored), and with the fake
// Twilio failing 30% of sends with 503 or 429 (the deliver jobs retry). In each, every
// message gets exactly one reply.
func TestLoad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		flags []string
		check func(t *testing.T, rep loadReport)
	}{
		{"plain", nil, func(t *testing.T, rep loadReport) {
			if rep.Attempts != rep.ByChannel["sms"].Sent+rep.ByChannel["whatsapp"].Sent {
				t.Errorf("%d webhook attempts for %+v: none should need a retry", rep.Attempts, rep.ByChannel)
			}
		}},
		{"every webhook twice", []string{"--dup"}, func(t *testing.T, rep loadReport) {
			twilio := rep.ByChannel["sms"].Sent + rep.ByChannel["whatsapp"].Sent
			if rep.DupAcked != twilio || rep.Attempts != 2*twilio {
				t.Errorf("%d copies acknowledged, %d attempts, for %d webhooks", rep.DupAcked, rep.Attempts, twilio)
			}
		}},
		{"Twilio fails 30% of sends", []string{"--sink-fail", "0.3"}, func(t *testing.T, rep loadReport) {
			if rep.SinkFailed == 0 {
				t.Error("the fake Twilio failed no send")
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sink := freeAddr(t)
			s := startServer(t, loadEnv(sink)...)
			// The grace is a deadline, not a wait. With Twilio failing 30% of sends, a delivery
			// that fails six times in a row (one in 1,400; this run has about 40) is tried again
			// about 63 s after its first try (NextRetry: 1, 2, 4 … 32 s); 180 s covers eight
			// failures in a row even with the most jitter (one in 65,000).
			rep, err := runLoadCmd(t, s.base, sink, append([]string{"--rate", "10", "--duration", "3s", "--grace", "180s"}, c.flags...)...)
			checkLoad(t, rep, err, s.logs.String())
			c.check(t, rep)
		})
	}
}

// TestLoadSurvivesKill kills the server with SIGKILL in the middle of a load and starts it
// again on the same data and address. Webhooks refused while it is down are retried with
// the same MessageSid, as Twilio does; messages stored before the kill are answered once.
// The server comes back on the address it had: freeAddr gives it to no other test.
func TestLoadSurvivesKill(t *testing.T) {
	t.Parallel()
	sink, addr, dataDir := freeAddr(t), freeAddr(t), t.TempDir()
	env := loadEnv(sink)
	s := startProcessAt(t, addr, dataDir, env...)
	type result struct {
		rep loadReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := runLoadCmd(t, s.base, sink, "--rate", "10", "--duration", "8s", "--grace", "60s")
		done <- result{rep, err}
	}()
	// In the middle of the load: replies are going out.
	waitFor(t, func() bool { return delivered(t, s) >= 5 }, s.logs)
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	logs := s.logs.String()
	// Down for a second, so that webhooks meet it down (the load sends ten a second; a
	// refused connection is seen only by the load, which reports it at the end). A
	// deliberate pause: the outage is what is tested, and no event marks it long enough.
	time.Sleep(time.Second)
	s = startProcessAt(t, addr, dataDir, env...)
	r := <-done
	checkLoad(t, r.rep, r.err, logs+"\n--- after the restart ---\n"+s.logs.String())
	if r.rep.Errors["connection_refused"] == 0 {
		t.Errorf("no webhook met the server down: errors %v", r.rep.Errors)
	}
}

// delivered reads from the server's metrics how many replies it has handed to Twilio.
func delivered(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^atiende_jobs_total\{kind="deliver",outcome="completed"\} (\d+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestLoadFlags: bad flags are usage errors, said before anything is sent.
func TestLoadFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TWILIO_ACCOUNT_SID": e2eAccount, "TWILIO_AUTH_TOKEN": e2eToken}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--target", "localhost"}, "--target"},
		{[]string{"--sink-fail", "1"}, "--sink-fail"},
		{[]string{"--channels", "sms,fax"}, "--channels"},
		{[]string{"--turns", "0"}, "--turns"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		_, err := runCmd(t, env, append([]string{"load"}, c.args...)...)
		if !isUsage(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want a usage error about %s", c.args, err, c.want)
		}
	}
	if _, err := runCmd(t, nil, "load"); !isUsage(err) || !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") {
		t.Errorf("without credentials: %v", err)
	}
	if _, err := runCmd(t, env, "load", "--cases", "nowhere.jsonl"); err == nil || !strings.Contains(err.Error(), "nowhere.jsonl") {
		t.Errorf("missing cases: %v", err)
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}
