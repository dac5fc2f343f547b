package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/httperr"
)

// TestErrorsPerSurface: the real server answers a failure in the format of the surface the
// address belongs to — JSON for the chat's API and unknown addresses, the console's Spanish
// page under /agent (an unknown one included), an empty TwiML for the webhooks — with a
// request id that the log carries too.
func TestErrorsPerSurface(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(twiliotest.New(e2eAccount, e2eToken))
	defer api.Close()
	dir := t.TempDir()
	s := startServerIn(t, dir, twilioEnv(api.URL, dir)...)
	do := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if strings.HasPrefix(path, "/api/") {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer nope")
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	form := url.Values{"MessageSid": {"SM00000000000000000000000000000e01"}, "AccountSid": {e2eAccount}, "From": {"+56911113333"},
		"To": {"+56229999999"}, "Body": {"hola"}}.Encode()
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		contentType              string
		want                     []string // in the body
	}{
		{"a chat API error", "POST", "/api/v1/chat/sessions/nope/messages", `{"text":"hola"}`, 404, "application/json",
			[]string{`{"error":"La sesión no existe. Inicie una nueva."}`}},
		{"an unknown address", "GET", "/nope", "", 404, "application/json", []string{`{"error":"No existe esa dirección."}`}},
		{"an unknown console page", "GET", "/agent/xyz", "", 404, "text/html",
			[]string{`<html lang="es">`, "<h1>No encontrada</h1>", `<a href="/agent">Volver a la consola</a>`, `href="/agent/static/console.css"`}},
		{"an unknown console action", "POST", "/agent/h/1/xyz", "", 404, "text/html", []string{"<h1>No encontrada</h1>"}},
		{"a console form after the session ended", "POST", "/agent/h/1/claim", "csrf=x", 401, "text/html",
			[]string{"<h1>Sesión terminada</h1>", `<a href="/agent/login">Ingresar de nuevo</a>`}},
		{"a webhook with a bad signature", "POST", "/webhooks/twilio/messaging", form, 403, "text/xml", []string{string(httperr.EmptyTwiML)}},
		{"an unknown webhook", "POST", "/webhooks/twilio/voice", form, 404, "text/xml", []string{string(httperr.EmptyTwiML)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) {
				t.Errorf("%d %s; want %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.contentType, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			id := resp.Header.Get("X-Request-Id")
			if id == "" {
				t.Fatal("no X-Request-Id")
			}
			if tc.contentType == "text/html" && !strings.Contains(body, "Referencia: "+id) {
				t.Errorf("the page does not show its reference %s:\n%s", id, body)
			}
			waitFor(t, func() bool { return strings.Contains(s.logs.String(), `"request_id":"`+id+`"`) }, s.logs)
		})
	}
}
