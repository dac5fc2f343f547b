package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/channels/web/browsertest"
	"github.com/atiende/atiende/ratelimit"
	"github.com/atiende/atiende/store"
)

// post sends a JSON body with extra headers and returns the status, the Retry-After and
// the decoded error.
func (b *bundle) post(t *testing.T, path, token string, body []byte, header map[string]string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out.Error
}

func TestRateLimitPerIP(t *testing.T) {
	perIP := func(c *web.Config[store.Tx]) { c.IPRate = ratelimit.Rate{N: 3, Per: time.Minute} }
	for _, tc := range []struct {
		name    string
		proxies []string
		// other is a second client, by its X-Forwarded-For; it has a budget of its own
		// only when the proxy is trusted.
		otherPasses bool
	}{
		{name: "no trusted proxy: X-Forwarded-For is ignored", proxies: nil, otherPasses: false},
		{name: "trusted proxy: X-Forwarded-For names the client", proxies: []string{"127.0.0.1"}, otherPasses: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, perIP, func(c *web.Config[store.Tx]) { c.TrustedProxies = tc.proxies })
			client := map[string]string{"X-Forwarded-For": "203.0.113.7"}
			for i := range 3 {
				if code, _, msg := b.post(t, "/api/v1/chat/sessions", "", []byte(`{}`), client); code != http.StatusCreated {
					t.Fatalf("session %d: %d %s", i+1, code, msg)
				}
			}
			code, retry, msg := b.post(t, "/api/v1/chat/sessions", "", []byte(`{}`), client)
			if secs, err := strconv.Atoi(retry); code != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 20 || msg == "" {
				t.Fatalf("4th session: %d, Retry-After %q, error %q; want 429, 1-20 s, a message", code, retry, msg)
			}
			other := map[string]string{"X-Forwarded-For": "203.0.113.8"}
			code, _, _ = b.post(t, "/api/v1/chat/sessions", "", []byte(`{}`), other)
			if passes := code == http.StatusCreated; passes != tc.otherPasses {
				t.Errorf("another client behind the proxy: %d; want passes=%v", code, tc.otherPasses)
			}
		})
	}
}

func TestRateLimitPerIPCoversMessages(t *testing.T) {
	b := setup(t, func(c *web.Config[store.Tx]) { c.IPRate = ratelimit.Rate{N: 3, Per: time.Hour} })
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	for i := range 2 {
		if code, _, refusal := b.post(t, path, token, msg("hola"), nil); code != http.StatusOK {
			t.Fatalf("message %d: %d %s", i+1, code, refusal)
		}
	}
	if code, retry, _ := b.post(t, path, token, msg("hola"), nil); code != http.StatusTooManyRequests || retry == "" {
		t.Errorf("message past the IP's budget: %d, Retry-After %q", code, retry)
	}
}

func TestSessionRateSaysWhenToRetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate ratelimit.Rate
		n    int
	}{
		{name: "default 15/min", n: 15},
		{name: "5/min", rate: ratelimit.Rate{N: 5, Per: time.Minute}, n: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, func(c *web.Config[store.Tx]) { c.SessionRate = tc.rate })
			id, token := b.session(t)
			path := "/api/v1/chat/sessions/" + id + "/messages"
			for i := range tc.n {
				if code, _, refusal := b.post(t, path, token, msg("hola"), nil); code != http.StatusOK {
					t.Fatalf("message %d: %d %s", i+1, code, refusal)
				}
			}
			code, retry, refusal := b.post(t, path, token, msg("hola"), nil)
			if secs, err := strconv.Atoi(retry); code != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 60 || !strings.Contains(refusal, "Espere") {
				t.Errorf("message %d: %d, Retry-After %q, %q", tc.n+1, code, retry, refusal)
			}
			// Another session of the same client is not slowed.
			id2, token2 := b.session(t)
			if code, _, refusal := b.post(t, "/api/v1/chat/sessions/"+id2+"/messages", token2, msg("hola"), nil); code != http.StatusOK {
				t.Errorf("another session: %d %s", code, refusal)
			}
		})
	}
}

// TestOversizedBodies: every POST of the API answers 413 with a JSON error, whether the
// size is announced (Content-Length) or not (chunked).
func TestOversizedBodies(t *testing.T) {
	b := setup(t)
	id, token := b.session(t)
	big := []byte(`{"text": "` + strings.Repeat("a", web.MaxBody) + `"}`)
	for _, path := range []string{"/api/v1/chat/sessions", "/api/v1/chat/sessions/" + id + "/messages"} {
		for _, chunked := range []bool{false, true} {
			req, _ := http.NewRequest("POST", b.srv.URL+path, bytes.NewReader(big))
			if chunked {
				req.ContentLength, req.Body = -1, readerOnly{bytes.NewReader(big)}
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out struct{ Error string }
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || err != nil || out.Error == "" {
				t.Errorf("%s (chunked %v): %d %q %v; want 413 with a JSON error", path, chunked, resp.StatusCode, out.Error, err)
			}
		}
	}
}

// readerOnly hides the length of a reader, so that the client sends it chunked.
type readerOnly struct{ r *bytes.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r readerOnly) Close() error               { return nil }

func TestSecurityHeadersPerRoute(t *testing.T) {
	b := setup(t, func(c *web.Config[store.Tx]) { c.Origins = []string{"https://www.chileatiende.gob.cl"} })
	for _, tc := range []struct {
		method, path string
		csp          []string // substrings of Content-Security-Policy
		frameOptions string   // X-Frame-Options; "" means absent
	}{
		{"GET", "/", []string{"default-src 'self'", "frame-ancestors 'none'"}, "DENY"},
		{"GET", "/widget.js", []string{"default-src 'none'"}, "DENY"},
		{"GET", "/widget/frame", []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'self' https://www.chileatiende.gob.cl"}, ""},
		{"GET", "/widget/frame.js", []string{"default-src 'none'"}, "DENY"},
		{"GET", "/widget/frame.css", []string{"default-src 'none'"}, "DENY"},
		{"GET", "/healthz", []string{"default-src 'none'", "frame-ancestors 'none'"}, "DENY"},
		{"POST", "/api/v1/chat/sessions", []string{"default-src 'none'", "frame-ancestors 'none'"}, "DENY"},
		{"GET", "/no/such/page", []string{"default-src 'none'"}, "DENY"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, b.srv.URL+tc.path, strings.NewReader("{}"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
				t.Errorf("nosniff %q, referrer %q", h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
			}
			if got := h.Get("X-Frame-Options"); got != tc.frameOptions {
				t.Errorf("X-Frame-Options %q; want %q", got, tc.frameOptions)
			}
			csp := h.Values("Content-Security-Policy")
			if len(csp) != 1 {
				t.Fatalf("%d Content-Security-Policy headers: %q; want one", len(csp), csp)
			}
			for _, want := range tc.csp {
				if !strings.Contains(csp[0], want) {
					t.Errorf("CSP %q lacks %q", csp[0], want)
				}
			}
		})
	}
}

func TestWidgetOriginsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://www.chileatiende.gob.cl", true},
		{"https://www.chileatiende.gob.cl/", true},
		{"http://localhost:3000", true},
		{"www.chileatiende.gob.cl", false},
		{"https://www.chileatiende.gob.cl/tramites", false},
		{"https://*.gob.cl", false},
		{"https://a.cl; script-src *", false},
		{"javascript:alert(1)", false},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			b := setup(t)
			_, err := web.New(web.Config[store.Tx]{Engine: b.engine, Store: b.store, Core: b.core, Origins: []string{tc.origin}})
			if (err == nil) != tc.ok {
				t.Errorf("web.New with origin %q: %v; want ok=%v", tc.origin, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "ATIENDE_WIDGET_ORIGINS") {
				t.Errorf("the error does not name the variable: %v", err)
			}
		})
	}
}

// TestStreamsAreLimited: a session holds at most four event streams at once and a client IP
// 64; one closed frees its place; opening a stream counts in the IP's request rate.
func TestStreamsAreLimited(t *testing.T) {
	b := setup(t)
	open := func(id, token string) (*http.Response, int) {
		t.Helper()
		resp, err := http.Get(b.srv.URL + "/api/v1/chat/sessions/" + id + "/events?token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			first := make([]byte, 16)
			resp.Body.Read(first) // the stream is counted before its first bytes
		}
		return resp, resp.StatusCode
	}
	var held []*http.Response
	defer func() {
		for _, r := range held {
			r.Body.Close()
		}
	}()
	id, token := b.session(t)
	for i := range 4 {
		r, code := open(id, token)
		if code != http.StatusOK {
			t.Fatalf("stream %d of a session: %d", i+1, code)
		}
		held = append(held, r)
	}
	r, code := open(id, token)
	r.Body.Close()
	if code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("a session's 5th stream: %d, Retry-After %q", code, r.Header.Get("Retry-After"))
	}
	held[0].Body.Close()
	held = held[1:]
	browsertest.WaitFor(t, "a closed stream frees its place", func() bool {
		r, code := open(id, token)
		if code == http.StatusOK {
			held = append(held, r)
			return true
		}
		r.Body.Close()
		return false
	})
	for s := 1; s < 16; s++ {
		id, token := b.session(t)
		for range 4 {
			r, code := open(id, token)
			if code != http.StatusOK {
				t.Fatalf("session %d: %d", s+1, code)
			}
			held = append(held, r)
		}
	}
	id, token = b.session(t)
	if r, code := open(id, token); code != http.StatusTooManyRequests {
		r.Body.Close()
		t.Errorf("the IP's 65th stream: %d", code)
	}

	rated := setup(t, func(c *web.Config[store.Tx]) { c.IPRate = ratelimit.Rate{N: 2, Per: time.Hour} })
	id, token = rated.session(t)
	resp, err := http.Get(rated.srv.URL + "/api/v1/chat/sessions/" + id + "/events?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(rated.srv.URL + "/api/v1/chat/sessions/" + id + "/events?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a stream past the IP's rate: %d", resp.StatusCode)
	}
}
