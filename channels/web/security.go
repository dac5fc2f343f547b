package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/ratelimit"
	"github.com/gin-gonic/gin"
)

// securityHeaders are the headers of every response. The default policy fits what most
// routes answer (JSON, scripts, event streams: nothing to render or frame); the pages set
// their own Content-Security-Policy, and the chat frame drops X-Frame-Options, which cannot
// name the origins ATIENDE_WIDGET_ORIGINS allows (its CSP frame-ancestors does).
func (s *Server[T]) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	c.Next()
}

// limitBody bounds every request's body to MaxBody, on every surface (the API, the Twilio
// webhooks, the console's forms): a body announced larger is refused at once with 413, and
// one that grows past it while read fails the read, which each surface maps to 413.
func (s *Server[T]) limitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBody {
		s.abort(c, errTooLarge)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
	c.Next()
}

var errTooLarge = errStatus(http.StatusRequestEntityTooLarge, "El mensaje es demasiado grande.")

// limitIP refuses a client IP past Config.IPRate. The IP is the connection's unless it
// comes from a proxy of Config.TrustedProxies, whose X-Forwarded-For is believed.
func (s *Server[T]) limitIP(c *gin.Context) {
	if d := s.ips.Allow(c.ClientIP()); !d.OK {
		s.abort(c, tooMany(d))
		return
	}
	c.Next()
}

func tooMany(d ratelimit.Decision) error {
	return &httperr.Error{Status: http.StatusTooManyRequests, RetryAfter: d.Seconds(),
		Msg: "Recibimos muchos mensajes seguidos. Espere un momento y vuelva a escribir, por favor."}
}

// Open event streams, at most, in this process: per session (a citizen with a few tabs) and
// per client IP (an office or a school behind one address).
const (
	maxStreamsPerSession = 4
	maxStreamsPerIP      = 64
)

// streams counts the open event streams of this process by session and by client IP.
type streams struct {
	mu     sync.Mutex
	byConv map[string]int
	byIP   map[string]int
}

// open counts a new stream, or reports false when the session or the IP has its most.
func (st *streams) open(conv, ip string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byConv == nil {
		st.byConv, st.byIP = map[string]int{}, map[string]int{}
	}
	if st.byConv[conv] >= maxStreamsPerSession || st.byIP[ip] >= maxStreamsPerIP {
		return false
	}
	st.byConv[conv]++
	st.byIP[ip]++
	return true
}

// close forgets a stream open counted.
func (st *streams) close(conv, ip string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byConv[conv]--; st.byConv[conv] <= 0 {
		delete(st.byConv, conv)
	}
	if st.byIP[ip]--; st.byIP[ip] <= 0 {
		delete(st.byIP, ip)
	}
}

// checkOrigin refuses what is not a plain origin: it goes into the frame's CSP
// (frame-ancestors) and is compared whole with the browser's Origin header.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
		u.User != nil || strings.ContainsAny(o, "*;, '\"") {
		return fmt.Errorf("web: widget origin %q (ATIENDE_WIDGET_ORIGINS): want scheme://host[:port], e.g. https://www.chileatiende.gob.cl, without path or wildcard", o)
	}
	return nil
}
