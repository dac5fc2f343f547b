package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/twilio/twiliotest"
)

var (
	csrfRe    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	handoffRe = regexp.MustCompile(`/agent/h/(\d+)/claim`)
)

// TestHandoffLoopOverSMS drives the whole loop through the server process: a citizen on SMS asks
// for a person; the handoff appears in the console's queue; an agent signs in, claims it and
// replies; the citizen's number receives the agent's words; the bot stays silent while the
// agent has the conversation; after resolve, the bot answers again.
func TestHandoffLoopOverSMS(t *testing.T) {
	fake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(fake)
	defer api.Close()
	dataDir := t.TempDir()
	env := append(append(twilioEnv(api.URL, dataDir), "ATIENDE_TWILIO_SETTLE=0s"), alwaysOpen(t)...)
	s := startServerIn(t, dataDir, env...)
	if out, err := runCmdIn(t, map[string]string{"ATIENDE_DATA_DIR": dataDir}, "contrasena-de-prueba\n",
		"agent", "add", "--username", "maria", "--name", "María Pérez"); err != nil {
		t.Fatalf("agent add: %v %s", err, out)
	}
	citizen := "+56922223333"
	seq := 0
	sms := func(body string) {
		t.Helper()
		seq++
		form := url.Values{"MessageSid": {fmt.Sprintf("SM%032x", seq)}, "AccountSid": {e2eAccount}, "From": {citizen},
			"To": {"+56229999999"}, "Body": {body}, "NumMedia": {"0"}}
		if code := s.webhook(t, form); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
	}
	waitSent := func(n int) []twiliotest.Message {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for len(fake.Sent()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("sent %d, want %d:\n%s", len(fake.Sent()), n, s.logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fake.Sent()
	}

	sms("quiero hablar con una persona")
	if got := waitSent(1)[0]; got.To != citizen || !strings.Contains(got.Body, "lugar 1") {
		t.Fatalf("handoff reply: %+v", got)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		resp, err := browser.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(path string, form url.Values) int {
		t.Helper()
		resp, err := browser.PostForm(s.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/agent/login", url.Values{"username": {"maria"}, "password": {"mala"}}); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	if code := post("/agent/login", url.Values{"username": {"maria"}, "password": {"contrasena-de-prueba"}}); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	u, _ := url.Parse(s.base + "/agent")
	for _, c := range jar.Cookies(u) {
		if c.Name == "atiende_agent" && c.Value == "" {
			t.Error("empty session cookie")
		}
	}
	page := get("/agent")
	m := handoffRe.FindStringSubmatch(page)
	csrf := csrfRe.FindStringSubmatch(page)
	if m == nil || csrf == nil || !strings.Contains(page, "pidió una persona") {
		t.Fatalf("the queue does not show the handoff:\n%s", page)
	}
	id := m[1]
	if code := post("/agent/h/"+id+"/claim", url.Values{}); code != http.StatusForbidden {
		t.Errorf("claim without the CSRF token: %d", code)
	}
	if code := post("/agent/h/"+id+"/claim", url.Values{"csrf": {csrf[1]}}); code != 200 {
		t.Fatalf("claim: %d", code)
	}
	// The claim is the end of the citizen's wait: Prometheus hears of it.
	if metrics := get("/metrics"); !strings.Contains(metrics, `atiende_handoff_wait_seconds_count{queue="general"} 1`+"\n") ||
		strings.Contains(metrics, `atiende_handoffs_waiting{queue="general"} 1`) {
		t.Errorf("/metrics after the claim:\n%s", grepLines(metrics, "atiende_handoff"))
	}
	conv := get("/agent/h/" + id)
	if !strings.Contains(conv, "quiero hablar con una persona") || !strings.Contains(conv, strings.TrimPrefix(citizen, "+")) {
		t.Errorf("the packet lacks the conversation:\n%s", conv)
	}
	if code := post("/agent/h/"+id+"/reply", url.Values{"csrf": {csrf[1]}, "text": {"Hola, soy María. ¿En qué le ayudo?"}}); code != 200 {
		t.Fatalf("reply: %d", code)
	}
	if got := waitSent(2)[1]; got.To != citizen || !strings.Contains(got.Body, "soy Maria") {
		t.Fatalf("agent's words: %+v", got)
	}
	// While the agent has it, the bot says nothing; the agent sees the message, as text.
	sms("<b>cuanto es la pgu</b>")
	waitJobsDone(t, sqliteJobs(t, dataDir), s.logs) // its turn has run, and any reply it made has gone
	if n := len(fake.Sent()); n != 2 {
		t.Errorf("the bot spoke while an agent had the conversation: %d messages", n)
	}
	if conv := get("/agent/h/" + id); !strings.Contains(conv, "&lt;b&gt;cuanto es la pgu&lt;/b&gt;") {
		t.Errorf("the citizen's message is not shown as text")
	}
	if code := post("/agent/h/"+id+"/resolve", url.Values{"csrf": {csrf[1]}, "note": {"Consulta sobre PGU"}}); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	if got := waitSent(3)[2]; !strings.Contains(got.Body, "vuelve a responder") {
		t.Errorf("resolve notice: %+v", got)
	}
	sms("cuanto es la pgu")
	if got := waitSent(4)[3]; !strings.Contains(got.Body, "Pension Garantizada Universal") {
		t.Errorf("the bot did not answer after resolve: %+v", got)
	}
}
