package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// httpError separates what the client may read from the detail that goes to the log.
type httpError struct {
	status int
	msg    string // safe to show to a citizen
	err    error  // detail for the log, may be nil
	// retryAfter, when set, is sent as Retry-After, in seconds (429: when to try again).
	retryAfter int
}

func (e *httpError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *httpError) Unwrap() error { return e.err }

func errStatus(status int, msg string) error { return &httpError{status: status, msg: msg} }

// handle turns a handler that returns an error into a gin handler: one place maps errors to
// a status and a safe message; anything unexpected is a 500 whose detail is only logged.
func (s *Server) handle(h func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.abort(c, err)
		}
	}
}

// abort answers the request with err, mapped as handle says.
func (s *Server) abort(c *gin.Context, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, msg: "Tuvimos un problema. Intente de nuevo en un momento.", err: err}
	}
	level := slog.LevelInfo
	if he.status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "request failed", "method", c.Request.Method, "route", c.FullPath(),
		"status", he.status, "error", he.Error())
	if he.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(he.retryAfter))
	}
	c.AbortWithStatusJSON(he.status, gin.H{"error": he.msg})
}
