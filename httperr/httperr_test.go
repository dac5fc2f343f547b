package httperr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atiende/atiende/httperr"
	"github.com/gin-gonic/gin"
)

// secret is the detail of the errors below: it must reach the log and never a client.
const secret = "pq: relation conversations does not exist"

var page = httperr.Page{Site: "Consola", Stylesheet: "/agent/static/console.css", Home: "/agent", HomeLabel: "Volver a la consola",
	SignIn: "/agent/login"}

// TestMapper: each kind of error, on each surface, answers its status and a body in the
// surface's format with the safe message only; the detail and the request id go to the log.
func TestMapper(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	internal := errors.New(secret)
	kinds := []struct {
		name       string
		err        error
		status     int
		msg        string // what JSON and the page say
		title      string // the page's heading
		retryAfter string
	}{
		{"a client's error with its message", httperr.New(http.StatusBadRequest, "El mensaje está vacío."), 400, "El mensaje está vacío.", "Solicitud no válida", ""},
		{"a client's error with a detail", httperr.Wrap(http.StatusBadRequest, "El cuerpo debe ser JSON.", internal), 400, "El cuerpo debe ser JSON.", "Solicitud no válida", ""},
		{"a status without a message", httperr.New(http.StatusNotFound, ""), 404, "No existe esa dirección.", "No encontrada", ""},
		{"wrapped in the handler's context", fmt.Errorf("load conversation c1: %w", httperr.Wrap(http.StatusForbidden, "Sin acceso.", internal)), 403, "Sin acceso.", "Sin permiso", ""},
		{"a session ended", httperr.New(http.StatusUnauthorized, ""), 401, "Su sesión terminó. Ingrese de nuevo.", "Sesión terminada", ""},
		{"too many, with Retry-After", &httperr.Error{Status: http.StatusTooManyRequests, Msg: "Espere un momento.", RetryAfter: 30}, 429, "Espere un momento.", "Demasiadas solicitudes", "30"},
		{"a body over its limit", fmt.Errorf("read form: %w", &http.MaxBytesError{Limit: 10}), 413, "El mensaje es demasiado grande.", "Demasiado grande", ""},
		{"a deadline passed", fmt.Errorf("search: %w (%s)", context.DeadlineExceeded, secret), 504, "El servicio tardó demasiado en responder. Intente de nuevo en un momento.", "No se pudo mostrar la página", ""},
		{"unavailable, with a detail", httperr.Wrap(http.StatusServiceUnavailable, "", internal), 503, "El servicio no está disponible. Intente de nuevo en un momento.", "No se pudo mostrar la página", ""},
		{"anything else", fmt.Errorf("save turn: %w", internal), 500, "Tuvimos un problema. Intente de nuevo en un momento.", "No se pudo mostrar la página", ""},
	}
	surfaces := []struct {
		name        string
		surface     httperr.Surface
		contentType string
		body        func(status int, msg, title string) []string // what the body must hold
	}{
		{"json", httperr.JSON, "application/json", func(_ int, msg, _ string) []string { return []string{`{"error":"` + msg + `"}`} }},
		{"page", page.Surface, "text/html", func(status int, msg, title string) []string {
			back := `<a href="/agent">Volver a la consola</a>`
			if status == http.StatusUnauthorized {
				back = `<a href="/agent/login">Ingresar de nuevo</a>`
			}
			return []string{`<html lang="es">`, "<h1>" + title + "</h1>", "<p>" + msg + "</p>", "Referencia: req-42", back, "<title>" + title + " — Consola</title>"}
		}},
		{"twiml", httperr.TwiML, "text/xml", func(int, string, string) []string { return []string{string(httperr.EmptyTwiML)} }},
	}
	for _, k := range kinds {
		for _, s := range surfaces {
			t.Run(k.name+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				w, log := get(s.surface, "req-42", func(m httperr.Mapper, r *gin.Engine) {
					r.Use(httperr.WithRequestID)
					r.GET("/x", m.Handle(func(*gin.Context) error { return k.err }))
				})
				body := w.Body.String()
				if w.Code != k.status {
					t.Errorf("status %d, want %d", w.Code, k.status)
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, s.contentType) {
					t.Errorf("Content-Type %q, want %s", ct, s.contentType)
				}
				for _, want := range s.body(k.status, k.msg, k.title) {
					if !strings.Contains(body, want) {
						t.Errorf("body lacks %q:\n%s", want, body)
					}
				}
				if s.name == "twiml" && body != string(httperr.EmptyTwiML) {
					t.Errorf("TwiML body %q, want only the empty <Response/>", body)
				}
				if strings.Contains(body, secret) || strings.Contains(body, "relation") {
					t.Errorf("the detail reached the client:\n%s", body)
				}
				if got := w.Header().Get("Retry-After"); got != k.retryAfter {
					t.Errorf("Retry-After %q, want %q", got, k.retryAfter)
				}
				if w.Header().Get("X-Request-Id") != "req-42" {
					t.Errorf("X-Request-Id %q, want the proxy's", w.Header().Get("X-Request-Id"))
				}
				if !strings.Contains(log, "request_id=req-42") || !strings.Contains(log, fmt.Sprintf("status=%d", k.status)) {
					t.Errorf("log lacks the request id or status:\n%s", log)
				}
				if strings.Contains(k.err.Error(), secret) && !strings.Contains(log, secret) {
					t.Errorf("log lacks the detail:\n%s", log)
				}
				level := "level=INFO"
				if k.status >= 500 {
					level = "level=ERROR"
				}
				if !strings.Contains(log, level) {
					t.Errorf("log not at %s:\n%s", level, log)
				}
			})
		}
	}
}

// TestRequestID: a request without a usable X-Request-Id gets one of its own.
func TestRequestID(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(httperr.WithRequestID)
	r.GET("/x", func(c *gin.Context) { c.String(200, httperr.RequestID(c)) })
	for _, sent := range []string{"", "bad id with spaces", strings.Repeat("a", 65), "<script>"} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/x", nil)
		if sent != "" {
			req.Header.Set("X-Request-Id", sent)
		}
		r.ServeHTTP(w, req)
		id := w.Header().Get("X-Request-Id")
		if len(id) != 16 || w.Body.String() != id {
			t.Errorf("sent %q: id %q, body %q; want 16 new hex digits in both", sent, id, w.Body.String())
		}
	}
}

// TestAbortAfterTheAnswerBegan: an error after a handler has written (an event stream) is
// logged, and nothing is written after the answer.
func TestAbortAfterTheAnswerBegan(t *testing.T) {
	t.Parallel()
	w, log := get(httperr.JSON, "", func(m httperr.Mapper, r *gin.Engine) {
		r.GET("/x", m.Handle(func(c *gin.Context) error {
			c.String(http.StatusOK, "data: 1\n\n")
			return errors.New(secret)
		}))
	})
	if w.Code != http.StatusOK || w.Body.String() != "data: 1\n\n" {
		t.Errorf("%d %q; want the stream as it was", w.Code, w.Body.String())
	}
	if !strings.Contains(log, secret) {
		t.Errorf("log lacks the error:\n%s", log)
	}
}

// TestRecover: a panic is a 500 in the surface's format, with the panic in the log only.
func TestRecover(t *testing.T) {
	t.Parallel()
	w, log := get(page.Surface, "", func(m httperr.Mapper, r *gin.Engine) {
		r.Use(httperr.Recover(func(*gin.Context) httperr.Mapper { return m }))
		r.GET("/x", func(*gin.Context) { panic(secret) })
	})
	if w.Code != 500 || !strings.Contains(w.Body.String(), "<h1>No se pudo mostrar la página</h1>") || strings.Contains(w.Body.String(), secret) {
		t.Errorf("%d %s; want the 500 page without the panic", w.Code, w.Body.String())
	}
	if !strings.Contains(log, "panic: "+secret) {
		t.Errorf("log lacks the panic:\n%s", log)
	}
}

// get answers GET /x (with X-Request-Id: id, unless "") on a router that routes builds with
// a Mapper of surface, and returns the answer and what the mapper logged.
func get(surface httperr.Surface, id string, routes func(m httperr.Mapper, r *gin.Engine)) (*httptest.ResponseRecorder, string) {
	gin.SetMode(gin.ReleaseMode)
	var logs bytes.Buffer
	r := gin.New()
	routes(httperr.Mapper{Log: slog.New(slog.NewTextHandler(&logs, nil)), Surface: surface}, r)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x", nil)
	if id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	r.ServeHTTP(w, req)
	return w, logs.String()
}

// TestClientWentAway: work cancelled because the client left is logged at INFO with 499 and
// answers nothing; a cancellation while the client still waits is a server error.
func TestClientWentAway(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	for _, tc := range []struct {
		name  string
		left  bool
		level string
		code  int
	}{
		{"the client left", true, "level=INFO", httperr.StatusClientClosed},
		{"the client still waits", false, "level=ERROR", http.StatusInternalServerError},
	} {
		var logs bytes.Buffer
		r := gin.New()
		m := httperr.Mapper{Log: slog.New(slog.NewTextHandler(&logs, nil)), Surface: httperr.JSON}
		r.GET("/x", m.Handle(func(*gin.Context) error {
			return fmt.Errorf("search: %w", context.Canceled)
		}))
		ctx, cancel := context.WithCancel(context.Background())
		if tc.left {
			cancel()
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
		cancel()
		log := logs.String()
		if !strings.Contains(log, tc.level) || !strings.Contains(log, fmt.Sprintf("status=%d", tc.code)) {
			t.Errorf("%s: log %q; want %s and status=%d", tc.name, log, tc.level, tc.code)
		}
		if tc.left && (w.Body.Len() != 0 || w.Code != httperr.StatusClientClosed) {
			t.Errorf("%s: %d, body %q; want 499 for the metrics and nothing written", tc.name, w.Code, w.Body.String())
		}
		if !tc.left && w.Code != http.StatusInternalServerError {
			t.Errorf("%s: answered %d; want 500", tc.name, w.Code)
		}
	}
}
