package web_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/store"
)

// TestReadiness: /readyz is 503 when the store does not answer and once the server drains;
// /healthz (liveness) stays 200 in both cases.
func TestReadiness(t *testing.T) {
	tests := []struct {
		name      string
		break_    func(b *bundle)
		readyz    int
		readyBody string
	}{
		{"serving", func(*bundle) {}, 200, `"ready"`},
		{"store unreachable", func(b *bundle) { b.store.Close() }, 503, `"No disponible."`},
		{"draining", func(b *bundle) { b.web.Drain() }, 503, "deteniendo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			tt.break_(b)
			for path, want := range map[string]int{"/readyz": tt.readyz, "/healthz": 200} {
				resp, err := http.Get(b.srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s = %d %s, want %d", path, resp.StatusCode, body, want)
				}
				if path == "/readyz" && !strings.Contains(string(body), tt.readyBody) {
					t.Errorf("/readyz body %s lacks %s", body, tt.readyBody)
				}
			}
		})
	}
}

type request struct {
	route, method string
	status        int
}

// observer records the requests it hears of.
type observer struct {
	mu   sync.Mutex
	seen []request
}

func (o *observer) Request(route, method string, status int, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if took <= 0 {
		status = -1 // a request takes some time: make the test fail
	}
	o.seen = append(o.seen, request{route, method, status})
}

// TestObserverAndMetricsRoute: every answered request reaches the Observer with its route
// pattern (not its path) and status, errors and unknown routes included; /metrics serves
// the handler it is given.
func TestObserverAndMetricsRoute(t *testing.T) {
	o := &observer{}
	b := setup(t, func(c *web.Config[store.Tx]) {
		c.Observer = o
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "atiende_up 1\n") })
	})
	id, token := b.session(t)
	if code, _ := b.do(t, "POST", "/api/v1/chat/sessions/"+id+"/messages", token, []byte(`{"text": "cuanto es la pgu"}`)); code != 200 {
		t.Fatalf("message: %d", code)
	}
	b.do(t, "POST", "/api/v1/chat/sessions/"+id+"/messages", "wrong", []byte(`{"text": "hola"}`))
	b.do(t, "GET", "/nope", "", nil)
	resp, err := http.Get(b.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "atiende_up 1\n" {
		t.Errorf("/metrics = %d %q", resp.StatusCode, body)
	}
	want := []request{
		{"/api/v1/chat/sessions", "POST", 201},
		{"/api/v1/chat/sessions/:id/messages", "POST", 200},
		{"/api/v1/chat/sessions/:id/messages", "POST", 401},
		{"", "GET", 404},
		{"/metrics", "GET", 200},
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) != len(want) {
		t.Fatalf("observed %+v, want %+v", o.seen, want)
	}
	for i := range want {
		if o.seen[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, o.seen[i], want[i])
		}
	}
}
