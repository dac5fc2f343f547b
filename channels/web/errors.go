package web

import (
	"strings"

	"github.com/atiende/atiende/httperr"
	"github.com/gin-gonic/gin"
)

// errStatus is an error answered with status and msg, safe to show to a citizen.
func errStatus(status int, msg string) error { return httperr.New(status, msg) }

// handle turns a handler of the chat's API that returns an error into a gin handler:
// httperr maps the error to a status and a safe message in JSON, and logs the detail.
func (s *Server[T]) handle(h func(c *gin.Context) error) gin.HandlerFunc {
	return s.api().Handle(h)
}

// api is how the chat's API (and any address no surface claims) answers errors: JSON.
func (s *Server[T]) api() httperr.Mapper { return httperr.Mapper{Log: s.log, Surface: httperr.JSON} }

// mapper is how the request's surface answers errors: the mount whose Prefix the path
// starts with, or JSON. It serves what happens before or outside a surface's own handlers:
// a body too large, a panic, an unknown address.
func (s *Server[T]) mapper(c *gin.Context) httperr.Mapper {
	path := c.Request.URL.Path
	for _, m := range s.mounts {
		if m.Errors != nil && (path == m.Prefix || strings.HasPrefix(path, m.Prefix+"/")) {
			return httperr.Mapper{Log: s.log, Surface: m.Errors}
		}
	}
	return s.api()
}

// abort answers the request with err, in the format of the request's surface.
func (s *Server[T]) abort(c *gin.Context, err error) { s.mapper(c).Abort(c, err) }
