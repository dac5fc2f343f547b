// Package httperr is the one way the process's HTTP surfaces fail: handlers return an error;
// From decides its status and the message safe to show (in Spanish); a Mapper logs the
// detail, with the request's id, and has the surface answer in its own format — JSON for
// the APIs, a page for the console and the reports, empty TwiML for Twilio's webhooks. No
// error's own text ever reaches a client: only an Error's Msg does.
package httperr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Error is an error with the status to answer and a message safe to show; Err is the
// detail, for the log only.
type Error struct {
	Status int
	// Msg is what the client reads, in Spanish; empty means the status's own message
	// (Message).
	Msg string
	// Err is the detail for the log; may be nil.
	Err error
	// RetryAfter, when above zero, is sent as Retry-After, in seconds (429, 503).
	RetryAfter int
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New is an error answered with status and msg (safe to show; "" for the status's own).
func New(status int, msg string) error { return &Error{Status: status, Msg: msg} }

// Wrap is New with err as the detail for the log.
func Wrap(status int, msg string, err error) error { return &Error{Status: status, Msg: msg, Err: err} }

// messages are what a status says when its Error has no Msg of its own, and all that an
// unexpected error ever says.
var messages = map[int]string{
	http.StatusBadRequest:            "No se pudo leer la solicitud.",
	http.StatusUnauthorized:          "Su sesión terminó. Ingrese de nuevo.",
	http.StatusForbidden:             "No tiene permiso para hacer esto.",
	http.StatusNotFound:              "No existe esa dirección.",
	http.StatusMethodNotAllowed:      "Método no permitido.",
	http.StatusRequestEntityTooLarge: "El mensaje es demasiado grande.",
	http.StatusTooManyRequests:       "Recibimos muchas solicitudes seguidas. Espere un momento y vuelva a intentar.",
	http.StatusServiceUnavailable:    "El servicio no está disponible. Intente de nuevo en un momento.",
	http.StatusGatewayTimeout:        "El servicio tardó demasiado en responder. Intente de nuevo en un momento.",
}

// StatusClientClosed is what the log says of a request whose client went away before its
// answer (nginx's 499): its work was cancelled with it, nothing is written, and it is logged at
// INFO, not as a server error.
const StatusClientClosed = 499

// internal is what any other server error says.
const internal = "Tuvimos un problema. Intente de nuevo en un momento."

// Message is what status says when nothing more precise is known.
func Message(status int) string {
	if m, ok := messages[status]; ok {
		return m
	}
	if status >= 500 {
		return internal
	}
	return messages[http.StatusBadRequest]
}

// From decides what err answers: an *Error (anywhere in the chain) its status and Msg; a body
// over its limit (http.MaxBytesError) 413; a deadline passed 504; anything else 500. The
// result always has a Msg, and its Err is err itself, for the log.
func From(err error) *Error {
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		out := *e
		if out.Msg == "" {
			out.Msg = Message(out.Status)
		}
		out.Err = err
		return &out
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: Message(http.StatusRequestEntityTooLarge), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusGatewayTimeout, Msg: Message(http.StatusGatewayTimeout), Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Msg: internal, Err: err}
}

// Surface writes an error as one surface answers: the status is e.Status, the message
// e.Msg (already safe). Retry-After and the log are the Mapper's.
type Surface func(c *gin.Context, e *Error)

// Mapper answers a surface's errors: it logs each with its detail and the request's id, and
// has the surface write it.
type Mapper struct {
	Log     *slog.Logger // nil logs nothing
	Surface Surface
}

// Handle makes a gin handler of one that returns an error.
func (m Mapper) Handle(h func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			m.Abort(c, err)
		}
	}
}

// Abort answers the request with err, as From decides, and stops the handlers after this
// one. The log line ("request failed") has the method, route, status, request id and err's
// whole text, at ERROR for a 5xx and INFO otherwise; a request cancelled because its client
// went away is logged at INFO with StatusClientClosed and answered nothing. A response already started (an event
// stream) is only logged.
func (m Mapper) Abort(c *gin.Context, err error) {
	e := From(err)
	gone := errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil
	if gone {
		// The client went away (closed the tab, hung up) and the work was cancelled with
		// its request: nobody reads an answer, and it is not the server's failure.
		e.Status = StatusClientClosed
	}
	if m.Log != nil {
		level := slog.LevelInfo
		if e.Status >= 500 && !gone {
			level = slog.LevelError
		}
		attrs := []any{"method", c.Request.Method, "route", c.FullPath(), "status", e.Status, "error", err.Error()}
		if id := RequestID(c); id != "" {
			attrs = append(attrs, "request_id", id)
		}
		if c.FullPath() == "" {
			attrs = append(attrs, "path", c.Request.URL.Path)
		}
		m.Log.Log(c.Request.Context(), level, "request failed", attrs...)
	}
	c.Abort()
	if c.Writer.Written() {
		return
	}
	if gone {
		c.Status(StatusClientClosed) // for the metrics; nothing is written
		return
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	m.Surface(c, e)
}

// JSON answers {"error": msg}: the APIs, the web chat's widget among them.
func JSON(c *gin.Context, e *Error) {
	c.JSON(e.Status, gin.H{"error": e.Msg})
}

// TwiMLType is the content type of a Twilio webhook's answer.
const TwiMLType = "text/xml; charset=utf-8"

// EmptyTwiML is the body of TwiMLType that sends nothing (what twilio-go's twiml.Messages
// writes for no verbs).
var EmptyTwiML = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response/>`)

// TwiML answers Twilio's webhooks: the status alone says what happened (Twilio shows a 4xx
// or 5xx as error 11217 in its console, and retries a 5xx where the webhook URL's connection
// overrides ask it to), with an empty <Response/>, so that nothing is sent to the citizen
// and nothing of the server's is told to the caller.
func TwiML(c *gin.Context, e *Error) {
	c.Data(e.Status, TwiMLType, EmptyTwiML)
}

// Request ids: the proxy's X-Request-Id when it looks like one, or a new one.
const (
	requestIDHeader = "X-Request-Id"
	requestIDKey    = "httperr.request_id"
)

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// WithRequestID is the middleware that names every request: the X-Request-Id a proxy sent,
// when it has a request id's shape, or 16 random hex digits. The id goes back in the
// response's X-Request-Id, to the log of any error, and on the error pages, so that a
// person can quote it.
func WithRequestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !requestIDRe.MatchString(id) {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(requestIDKey, id)
	c.Header(requestIDHeader, id)
	c.Next()
}

// RequestID is the request's id, or "" when WithRequestID did not run.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// Recover is a middleware that answers a panic as a 500, through the mapper that m picks
// for the request, with the panic in the log.
func Recover(pick func(c *gin.Context) Mapper) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				pick(c).Abort(c, fmt.Errorf("panic: %v", v))
			}
		}()
		c.Next()
	}
}
