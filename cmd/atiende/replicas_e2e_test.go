package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/store/postgres/pgtest"
)

// TestThreeReplicasOnPostgres: three servers on one database. The same webhook posted to all
// three at once is answered once; an agent's console stream on replica C shows, live, a
// web citizen's handoff and message that arrived at replica A.
//
// Not parallel: it listens on the fixed ports 8081–8083 when they are free.
func TestThreeReplicasOnPostgres(t *testing.T) {
	dbURL := pgtest.VectorDatabase(t)
	fake := twiliotest.New(e2eAccount, e2eToken)
	api := httptest.NewServer(fake)
	defer api.Close()
	env := append(append(twilioEnv(api.URL, t.TempDir()), "ATIENDE_TWILIO_SETTLE=0s", "DATABASE_URL="+dbURL,
		"ATIENDE_RETRIEVAL=postgres"), alwaysOpen(t)...)
	// The replicas listen on 8081–8083, as an operator would run them, when those ports are
	// free on this machine; otherwise on any free ports.
	addrs := []string{"127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083"}
	for _, addr := range addrs {
		if ln, err := net.Listen("tcp", addr); err != nil {
			t.Logf("%s is taken (%v): the replicas listen on free ports instead", addr, err)
			addrs = []string{"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"}
			break
		} else {
			ln.Close()
		}
	}
	var replicas []*server
	for _, addr := range addrs {
		if addr == "127.0.0.1:0" {
			replicas = append(replicas, startServerIn(t, t.TempDir(), env...))
		} else {
			replicas = append(replicas, startServerAt(t, addr, t.TempDir(), env...))
		}
	}
	a, c := replicas[0], replicas[2]
	// Each replica searches the catalogue in Postgres; the first imported it, the others found
	// it unchanged.
	for i, s := range replicas {
		if !strings.Contains(s.logs.String(), `"msg":"catalogue in postgres"`) {
			t.Errorf("replica %d did not search in postgres:\n%s", i+1, s.logs.String())
		}
	}
	defer func() {
		// Every search was answered by Postgres, none from memory.
		resp, err := http.Get(a.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "\natiende_retrieval_fallbacks_total 0\n") {
			t.Errorf("/metrics lacks atiende_retrieval_fallbacks_total 0")
		}
	}()
	if out, err := runCmdIn(t, map[string]string{"DATABASE_URL": dbURL}, "contrasena-de-prueba\n",
		"agent", "add", "--username", "ana", "--name", "Ana Rojas"); err != nil {
		t.Fatalf("agent add: %v %s", err, out)
	}
	citizen := "+56933334444"
	form := func(sid, body string) url.Values {
		return url.Values{"MessageSid": {sid}, "AccountSid": {e2eAccount}, "From": {citizen},
			"To": {"+56229999999"}, "Body": {body}, "NumMedia": {"0"}}
	}

	// The same message to the three replicas at once.
	first := form("SM000000000000000000000000000eee01", "quiero hablar con una persona")
	var wg sync.WaitGroup
	for _, s := range replicas {
		wg.Go(func() {
			if code := s.webhook(t, first); code != 200 {
				t.Errorf("webhook: %d", code)
			}
		})
	}
	wg.Wait()
	expectOneReply(t, fake, a, postgresJobs(dbURL, ""), "lugar 1")

	// Two different first messages of a new number reach two replicas at once: both
	// replicas create its conversation, one wins, the other redoes its transaction on the
	// winner's; neither message is lost.
	newcomer := "+56955556666"
	for i, s := range replicas[:2] {
		wg.Go(func() {
			f := url.Values{"MessageSid": {fmt.Sprintf("SM00000000000000000000000000bbbc%02x", i)}, "AccountSid": {e2eAccount},
				"From": {newcomer}, "To": {"+56229999999"}, "Body": {[]string{"cuanto es la pgu", "y el bono de invierno"}[i]}, "NumMedia": {"0"}}
			if code := s.webhook(t, f); code != 200 {
				t.Errorf("webhook: %d", code)
			}
		})
	}
	wg.Wait()
	waitFor(t, func() bool {
		n := 0
		for _, m := range fake.Sent() {
			if m.To == newcomer {
				n++
			}
		}
		return n == 2 // one reply to each message
	}, a.logs)

	// Ana signs in on replica C and listens to its console stream.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.PostForm(c.base+"/agent/login", url.Values{"username": {"ana"}, "password": {"contrasena-de-prueba"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign in: %v %v", err, resp)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/agent/events", nil)
	stream, err := browser.Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("console stream: %v %v", err, stream)
	}
	defer stream.Body.Close()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; !strings.HasPrefix(l, "retry:") {
		t.Fatalf("stream starts with %q", l)
	}

	// A web citizen, whose turns replica A runs in the request, asks for a person and then
	// writes again: C's stream hears of both, live.
	sess := a.post(t, "/api/v1/chat/sessions", "", "{}")
	say := func(text string) {
		body, _ := json.Marshal(map[string]string{"text": text})
		a.post(t, fmt.Sprintf("/api/v1/chat/sessions/%s/messages", sess["id"]), sess["token"].(string), string(body))
	}
	awaitEvent := func(kind string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream closed:\n%s", c.logs.String())
				}
				if strings.Contains(l, `"type":"`+kind+`"`) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("replica C's console never heard of the %s event from A:\n%s", kind, c.logs.String())
			}
		}
	}
	say("quiero hablar con una persona")
	awaitEvent("queue")
	say("sigo esperando, gracias")
	awaitEvent("citizen")
	page, _ := browser.Get(c.base + "/agent")
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(b), "pidió una persona") {
		t.Errorf("C's queue lacks the handoff:\n%s", b)
	}
}
