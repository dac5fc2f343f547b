package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// routes lists every route of the public surface.
func (s *Server[T]) routes(r *gin.Engine) {
	r.GET("/", s.page)
	r.GET("/widget.js", s.widget)
	r.GET("/widget/frame", s.frame)
	r.GET("/widget/frame.js", s.frameScript)
	r.GET("/widget/frame.css", s.frameStyle)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.handle(s.readyz))
	if s.cfg.Metrics != nil {
		r.GET("/metrics", gin.WrapH(s.cfg.Metrics))
	}

	// Every request's body is bounded (limitBody, in New); the chat's writes are limited per
	// client IP, and messages per session too (postMessage).
	api := r.Group("/api/v1")
	api.POST("/chat/sessions", s.limitIP, s.handle(s.createSession))
	api.POST("/chat/sessions/:id/messages", s.limitIP, s.handle(s.postMessage))
	api.GET("/chat/sessions/:id/messages", s.handle(s.listMessages))
	api.GET("/chat/sessions/:id/events", s.limitIP, s.handle(s.stream))
	api.GET("/widget/check", s.handle(s.widgetCheck))

	// Other surfaces list their own routes (cmd/atiende/routes.go says which are mounted).
	for _, m := range s.mounts {
		m.Routes(r)
	}

	// An unknown address answers in the format of the surface whose prefix it has: the
	// console's page for /agent/…, JSON elsewhere.
	r.NoRoute(func(c *gin.Context) { s.abort(c, errStatus(http.StatusNotFound, "")) })
	r.NoMethod(func(c *gin.Context) { s.abort(c, errStatus(http.StatusMethodNotAllowed, "")) })
}

// Routes are the routes the server answers, every surface's, in the order they were added
// (cmd/atiende's TestRouteList compares them with the list it keeps).
func (s *Server[T]) Routes() gin.RoutesInfo { return s.gin.Routes() }
