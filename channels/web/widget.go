package web

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
)

// The widget is two parts. widget.js, on the host page, draws the launcher in a shadow root
// (the host's styles cannot reach it) and opens the chat in an iframe served from this
// server: the conversation, its token and its storage live in Atiende's origin, out of the
// host page's scripts' reach, and the browser itself refuses to frame the chat on an origin
// that is not allowed (CSP frame-ancestors).
var (
	//go:embed assets/index.html
	indexHTML []byte
	//go:embed assets/widget.js
	widgetJS []byte
	//go:embed assets/frame.html
	frameHTML []byte
	//go:embed assets/frame.js
	frameJS []byte
	//go:embed assets/frame.css
	frameCSS []byte
)

// etag of an embedded asset, so that browsers revalidate cheaply.
func etag(b []byte) string {
	h := sha256.Sum256(b)
	return `"` + hex.EncodeToString(h[:8]) + `"`
}

func asset(c *gin.Context, body []byte, contentType, csp string) {
	tag := etag(body)
	if csp != "" {
		c.Header("Content-Security-Policy", csp)
	}
	c.Header("ETag", tag)
	c.Header("Cache-Control", "public, max-age=300")
	if c.GetHeader("If-None-Match") == tag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, contentType, body)
}

func (s *Server[T]) page(c *gin.Context) {
	asset(c, indexHTML, "text/html; charset=utf-8", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
}

func (s *Server[T]) widget(c *gin.Context) {
	c.Header("Cross-Origin-Resource-Policy", "cross-origin")
	asset(c, widgetJS, "text/javascript; charset=utf-8", "")
}

func (s *Server[T]) frame(c *gin.Context) {
	ancestors := append([]string{"'self'"}, s.cfg.Origins...)
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors " +
		strings.Join(ancestors, " ")
	c.Header("Cache-Control", "no-cache")
	c.Writer.Header().Del("X-Frame-Options") // frame-ancestors says who may frame it
	asset(c, frameHTML, "text/html; charset=utf-8", csp)
}

func (s *Server[T]) frameScript(c *gin.Context) {
	asset(c, frameJS, "text/javascript; charset=utf-8", "")
}
func (s *Server[T]) frameStyle(c *gin.Context) {
	asset(c, frameCSS, "text/css; charset=utf-8", "")
}

// allowedOrigin reports whether a browser origin may use the widget: the server's own, or a
// configured one.
func (s *Server[T]) allowedOrigin(c *gin.Context, origin string) bool {
	origin = strings.TrimRight(origin, "/")
	if slices.Contains(s.cfg.Origins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != c.Request.Host {
		return false
	}
	// Our own host, over https; over http only when this server is itself reached over
	// plain http (make run), not when a proxy terminates TLS for it.
	return u.Scheme == "https" || (u.Scheme == "http" && c.Request.TLS == nil && c.GetHeader("X-Forwarded-Proto") != "https")
}

// widgetCheck tells widget.js, before it draws anything, whether the page's origin may embed
// the chat. Cross-origin: the answer carries CORS headers only for allowed origins. A browser
// sends no Origin on a same-origin GET (the demo page at /): it says so in Sec-Fetch-Site.
func (s *Server[T]) widgetCheck(c *gin.Context) error {
	c.Header("Vary", "Origin, Sec-Fetch-Site")
	origin := c.GetHeader("Origin")
	if origin == "" && c.GetHeader("Sec-Fetch-Site") == "same-origin" {
		c.JSON(http.StatusOK, gin.H{"ok": true})
		return nil
	}
	if origin == "" || !s.allowedOrigin(c, origin) {
		return errStatus(http.StatusForbidden, "Este sitio no puede mostrar el chat de ChileAtiende.")
	}
	c.Header("Access-Control-Allow-Origin", origin)
	c.JSON(http.StatusOK, gin.H{"ok": true})
	return nil
}

type transcriptMessage struct {
	ID     int64     `json:"id"`
	From   string    `json:"from"` // citizen, bot or agent
	Text   string    `json:"text"`
	Action string    `json:"action,omitempty"`
	Name   string    `json:"name,omitempty"` // an agent's first name, as the live event says it
	Fichas []bot.Hit `json:"fichas,omitempty"`
	At     time.Time `json:"at"`
}

func (s *Server[T]) transcript(m atiende.Message) transcriptMessage {
	t := transcriptMessage{ID: m.ID, From: "bot", Text: m.Text, Action: m.Action, At: m.CreatedAt}
	switch {
	case m.Direction == atiende.Inbound:
		t.From, t.Action = "citizen", ""
	case m.Action == handoff.ActionAgent:
		t.From = "agent"
	}
	for _, slug := range m.Fichas {
		if h, ok := s.engine.Ficha(slug); ok {
			t.Fichas = append(t.Fichas, h)
		}
	}
	return t
}

// listMessages returns the session's conversation, so that a reloaded page shows it again.
func (s *Server[T]) listMessages(c *gin.Context) error {
	conv, err := s.authorize(c)
	if err != nil {
		return err
	}
	msgs, err := s.store.Messages(c.Request.Context(), conv.ID, 200)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store") // a citizen's conversation is kept by no cache
	// A reloaded page names the agents as the live conversation did, and who attends now
	// («Camila le está atendiendo»).
	ctx := c.Request.Context()
	var names map[int64]string
	attending := ""
	if err := s.store.Tx(ctx, func(tx T) error {
		names = agentNames(ctx, tx, msgs)
		h, err := tx.OpenHandoff(ctx, conv.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Status == atiende.HandoffAssigned {
			if a, err := tx.AgentByID(ctx, h.AgentID); err == nil {
				attending = a.FirstName()
			}
		}
		return nil
	}); err != nil {
		return err
	}
	out := make([]transcriptMessage, 0, len(msgs))
	for _, m := range msgs {
		t := s.transcript(m)
		t.Name = names[m.AgentID]
		out = append(out, t)
	}
	res := gin.H{"messages": out}
	if attending != "" {
		res["attending"] = attending
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// agentNames maps the agents who wrote any of msgs to their first names.
func agentNames(ctx context.Context, tx Tx, msgs []atiende.Message) map[int64]string {
	names := map[int64]string{}
	for _, m := range msgs {
		if _, seen := names[m.AgentID]; m.AgentID != 0 && !seen {
			names[m.AgentID] = ""
			if a, err := tx.AgentByID(ctx, m.AgentID); err == nil {
				names[m.AgentID] = a.FirstName()
			}
		}
	}
	return names
}

// stream sends the session's events (agents' messages, handoff status) as server-sent
// events. On reconnect (Last-Event-ID) it first replays the agent messages stored since.
func (s *Server[T]) stream(c *gin.Context) error {
	conv, err := s.authorize(c)
	if err != nil {
		return err
	}
	if !s.streams.open(conv.ID, c.ClientIP()) {
		return &httperr.Error{Status: http.StatusTooManyRequests, RetryAfter: 30,
			Msg: "Hay demasiadas ventanas abiertas con este chat. Cierre alguna e intente de nuevo."}
	}
	defer s.streams.close(conv.ID, c.ClientIP())
	ctx := c.Request.Context()
	sub, cancel := s.hub.Subscribe(conv.ID)
	defer cancel()
	w := c.Writer
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil { // a stream outlives the server's write timeout
		// The server's write timeout will end the stream; the browser reconnects.
		s.log.Warn("widget stream keeps the write timeout", "conversation", conv.ID, "error", err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	last := c.GetHeader("Last-Event-ID")
	if last == "" {
		last = c.Query("last")
	}
	if id, err := strconv.ParseInt(last, 10, 64); err == nil && id > 0 {
		msgs, err := s.store.Messages(ctx, conv.ID, 200)
		if err != nil {
			return err
		}
		// Replayed, the agent's words carry the name they carried live.
		var names map[int64]string
		if err := s.store.Tx(ctx, func(tx T) error {
			names = agentNames(ctx, tx, msgs)
			return nil
		}); err != nil {
			return err
		}
		for _, m := range msgs {
			if m.ID > id && m.Direction == atiende.Outbound && m.Action == handoff.ActionAgent {
				writeEvent(w, events.Event{ID: m.ID, Type: "message", From: "agent", Name: names[m.AgentID], Text: m.Text})
			}
		}
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	end := time.NewTimer(s.cfg.StreamMax)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end.C:
			return nil // the browser reconnects, with Last-Event-ID
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case e, ok := <-sub:
			if !ok {
				return nil // the server shuts down: the browser reconnects to another replica
			}
			writeEvent(w, e)
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

func writeEvent(w http.ResponseWriter, e events.Event) {
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	if e.ID > 0 {
		fmt.Fprintf(w, "id: %d\n", e.ID)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, data)
}
