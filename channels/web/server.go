// Package web serves the web chat: the demo page, the widget script and the chat API that
// both use (DESIGN.md, "HTTP API").
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/ratelimit"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

// Tx is what the web chat does in a transaction: the turns of the conversation core
// (conversation.Tx), whose transaction the chat's Next reads too (CountInbound), and the
// widget's reads of the handoff and its agent. store.Tx has the error contract.
type Tx interface {
	conversation.Tx
	// CountInbound counts the conversation's inbound messages stored from from to to, both
	// included.
	CountInbound(ctx context.Context, conversationID string, from, to time.Time) (int, error)
	// OpenHandoff returns the conversation's open handoff, or store.ErrNotFound.
	OpenHandoff(ctx context.Context, conversationID string) (*atiende.Handoff, error)
	// AgentByID returns an agent, or store.ErrNotFound.
	AgentByID(ctx context.Context, id int64) (*atiende.Agent, error)
}

// Store is what the web chat needs of the store, with transactions of type T (the same the
// conversation core runs; cmd/atiende uses store.Tx).
type Store[T Tx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
	// Ping checks the store can serve (/readyz).
	Ping(ctx context.Context) error
	// CreateConversation stores a new conversation (a session).
	CreateConversation(ctx context.Context, c *atiende.Conversation) error
	// Conversation returns the conversation, or store.ErrNotFound.
	Conversation(ctx context.Context, id string) (*atiende.Conversation, error)
	// MessageByProviderID returns the message with that provider id, or store.ErrNotFound.
	MessageByProviderID(ctx context.Context, providerID string) (*atiende.Message, error)
	// Messages returns the last limit messages of a conversation, oldest first.
	Messages(ctx context.Context, conversationID string, limit int) ([]atiende.Message, error)
}

// Config is what the server needs; T is the store's transaction (cmd/atiende: store.Tx).
type Config[T Tx] struct {
	Engine *bot.Engine
	Store  Store[T]
	Logger *slog.Logger
	// Hub carries agents' messages to the widget's event streams; nil makes one.
	Hub *events.Hub
	// Origins may embed the widget besides the server's own (ATIENDE_WIDGET_ORIGINS), e.g.
	// "https://www.chileatiende.gob.cl".
	Origins []string
	// SessionRate is how many messages one web session may send (ATIENDE_RATE_SENDER;
	// default 15/min): in memory first, then counted in the store, so that it holds across
	// replicas.
	SessionRate ratelimit.Rate
	// IPRate is how often one client IP may create sessions and send messages
	// (ATIENDE_RATE_IP); zero is no limit.
	IPRate ratelimit.Rate
	// TrustedProxies are the load balancers (IPs or CIDRs, ATIENDE_TRUSTED_PROXIES) whose
	// X-Forwarded-For gives the client's IP; by default none: the connection's IP counts.
	TrustedProxies []string
	// StreamMax closes an event stream after this long (the browser reconnects at once), so
	// that no connection lives forever (default 10 minutes).
	StreamMax time.Duration
	// Mounts add the other surfaces (the console, the Twilio webhooks) to the same server,
	// each with its prefix and its errors' format (cmd/atiende/routes.go lists them).
	Mounts []Mount
	// Core runs the turns (conversation.Core); required.
	Core *conversation.Core[T]
	// Observer hears of every request answered (metrics); nil hears nothing.
	Observer Observer
	// Metrics serves GET /metrics (Prometheus's exposition); nil leaves the route out.
	Metrics http.Handler
}

// Observer hears of every request the server answered.
type Observer interface {
	// Request: the route's pattern (e.g. "/webhooks/twilio/messaging"; "" when no route
	// matched), the method, the status written and how long the answer took.
	Request(route, method string, status int, took time.Duration)
}

// Mount is a surface with routes of its own (the agents' console, the Twilio webhooks).
type Mount struct {
	// Prefix starts every route of the surface, e.g. "/agent".
	Prefix string
	// Routes adds the surface's routes.
	Routes func(r gin.IRouter)
	// Errors is how the surface answers an error (httperr.JSON, an httperr.Page's Surface,
	// httperr.TwiML): a body too large, a panic or an unknown address under Prefix too.
	Errors httperr.Surface
}

// Server is the web chat's HTTP surface.
type Server[T Tx] struct {
	engine *bot.Engine
	store  Store[T]
	log    *slog.Logger
	hub    *events.Hub
	cfg    Config[T]
	gin    *gin.Engine
	mounts []Mount
	// draining: the server is shutting down, and says so on /readyz.
	draining atomic.Bool
	// ips and sessions limit the chat per client IP and per session, in this process.
	ips, sessions *ratelimit.Limiter
	streams       streams
}

// New builds the server.
func New[T Tx](cfg Config[T]) (*Server[T], error) {
	if cfg.Engine == nil || cfg.Store == nil || cfg.Core == nil {
		return nil, errors.New("web: Engine, Store and Core are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hub == nil {
		cfg.Hub = events.NewHub()
	}
	if cfg.SessionRate.Off() {
		cfg.SessionRate = ratelimit.Rate{N: 15, Per: time.Minute}
	}
	if cfg.StreamMax <= 0 {
		cfg.StreamMax = 10 * time.Minute
	}
	for i, o := range cfg.Origins {
		cfg.Origins[i] = strings.TrimRight(strings.TrimSpace(o), "/")
		if err := checkOrigin(cfg.Origins[i]); err != nil {
			return nil, err
		}
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server[T]{engine: cfg.Engine, store: cfg.Store, log: cfg.Logger, hub: cfg.Hub, cfg: cfg, gin: gin.New(), mounts: cfg.Mounts,
		ips: ratelimit.New(cfg.IPRate, 0, nil), sessions: ratelimit.New(cfg.SessionRate, 0, nil)}
	if err := s.gin.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("web: trusted proxies (ATIENDE_TRUSTED_PROXIES): %w", err)
	}
	if cfg.Observer != nil {
		s.gin.Use(s.observe)
	}
	s.gin.Use(httperr.WithRequestID, httperr.Recover(s.mapper), s.securityHeaders, s.limitBody)
	s.routes(s.gin)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.gin.ServeHTTP(w, r) }

// observe tells the Observer how long each request took, panics and errors included.
func (s *Server[T]) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.cfg.Observer.Request(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
}

func (s *Server[T]) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// Drain makes /readyz answer 503 from now on, so that load balancers send no more requests
// while the server finishes those it has; the other routes still serve.
func (s *Server[T]) Drain() { s.draining.Store(true) }

// readyz is ready when the server is not shutting down and the store answers within two
// seconds.
func (s *Server[T]) readyz(c *gin.Context) error {
	if s.draining.Load() {
		return errStatus(http.StatusServiceUnavailable, "No disponible: el servidor se está deteniendo.")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return httperr.Wrap(http.StatusServiceUnavailable, "No disponible.", err)
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
	return nil
}

// readBody reads a JSON body of at most MaxBody bytes into v. An empty body is allowed
// when allowEmpty; text must be UTF-8.
func readBody(c *gin.Context, v any, allowEmpty bool) error {
	body, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	if err != nil {
		return httperr.Wrap(http.StatusBadRequest, "No se pudo leer el mensaje.", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			return nil
		}
		return errStatus(http.StatusBadRequest, `Falta el cuerpo JSON, por ejemplo {"text": "hola"}.`)
	}
	if !utf8.Valid(body) {
		return errStatus(http.StatusBadRequest, "El texto no está en UTF-8.")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return httperr.Wrap(http.StatusBadRequest, `El cuerpo debe ser JSON, por ejemplo {"text": "hola"}.`, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errStatus(http.StatusBadRequest, `El cuerpo debe ser un solo objeto JSON, por ejemplo {"text": "hola"}.`)
	}
	return nil
}

type sessionRequest struct {
	Channel string `json:"channel"`
}

type sessionResponse struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (s *Server[T]) createSession(c *gin.Context) error {
	if origin := c.GetHeader("Origin"); origin != "" && !s.allowedOrigin(c, origin) {
		return errStatus(http.StatusForbidden, "Este sitio no puede abrir el chat de ChileAtiende.")
	}
	var req sessionRequest
	if err := readBody(c, &req, true); err != nil {
		return err
	}
	if req.Channel != "" && req.Channel != bot.ChannelWeb {
		return errStatus(http.StatusBadRequest, `El canal debe ser "web".`)
	}
	b := make([]byte, 16)
	rand.Read(b)
	id, token := hex.EncodeToString(b), randomString(32)
	conv := &atiende.Conversation{ID: id, Channel: bot.ChannelWeb, TokenHash: hashToken(token)}
	if err := s.store.CreateConversation(c.Request.Context(), conv); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, sessionResponse{ID: id, Token: token})
	return nil
}

// bearer returns the request's session token: the Authorization header, or ?token= for
// EventSource, which cannot set headers.
func bearer(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	return c.Query("token")
}

// authorize loads the session and checks its token.
func (s *Server[T]) authorize(c *gin.Context) (*atiende.Conversation, error) {
	token := bearer(c)
	if token == "" {
		return nil, errStatus(http.StatusUnauthorized, "Falta el token de la sesión.")
	}
	conv, err := s.store.Conversation(c.Request.Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStatus(http.StatusNotFound, "La sesión no existe. Inicie una nueva.")
	}
	if err != nil {
		return nil, err
	}
	if conv.Channel != bot.ChannelWeb || subtle.ConstantTimeCompare(conv.TokenHash, hashToken(token)) != 1 {
		return nil, errStatus(http.StatusUnauthorized, "El token de la sesión no es válido.")
	}
	return conv, nil
}

type messageRequest struct {
	Text string `json:"text"`
	// ClientID, when set, makes the request idempotent: a retry with the same id gets the
	// same reply and runs no second turn.
	ClientID string `json:"client_id,omitempty"`
}

type messageResponse struct {
	Action    string       `json:"action"`
	Reply     string       `json:"reply"`
	Aspect    string       `json:"aspect"`
	Fichas    []bot.Hit    `json:"fichas"`
	Options   []bot.Option `json:"options"`
	Handoff   string       `json:"handoff,omitempty"`
	Emergency []string     `json:"emergency,omitempty"`
	// Aspects: the answered ficha's other sections, for the widget's quick replies.
	Aspects []string `json:"aspects,omitempty"`
	// Also: a second ficha the question's words point to as much, named below the answer
	// (not kept for a replayed request, which gives the stored text).
	Also *bot.Hit `json:"also,omitempty"`
}

func (s *Server[T]) postMessage(c *gin.Context) error {
	var req messageRequest
	if err := readBody(c, &req, false); err != nil {
		return err
	}
	text := strings.TrimSpace(req.Text)
	switch {
	case text == "":
		return errStatus(http.StatusBadRequest, "El mensaje está vacío.")
	case utf8.RuneCountInString(text) > bot.MaxText:
		return errStatus(http.StatusRequestEntityTooLarge, fmt.Sprintf("El mensaje supera los %d caracteres. Escriba uno más corto.", bot.MaxText))
	case len(req.ClientID) > 100:
		return errStatus(http.StatusBadRequest, "client_id es demasiado largo.")
	case strings.ContainsRune(text, 0) || strings.ContainsRune(req.ClientID, 0):
		// No store keeps a NUL (Postgres refuses it): refused here, as the webhooks do.
		return errStatus(http.StatusBadRequest, "El mensaje contiene un carácter no válido.")
	}
	conv, err := s.authorize(c)
	if err != nil {
		return err
	}
	if d := s.sessions.Allow(conv.ID); !d.OK {
		return tooMany(d)
	}
	ch := &chat[T]{text: text, rate: s.cfg.SessionRate}
	if req.ClientID != "" {
		ch.providerID = "web:" + conv.ID + ":" + req.ClientID
	}
	ctx := c.Request.Context()
	res, err := s.cfg.Core.Turn(ctx, conv.ID, ch)
	if errors.Is(err, store.ErrDuplicate) {
		resp, err := s.replay(ctx, ch.providerID)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, resp)
		return nil
	}
	if err != nil {
		return err
	}
	resp := messageResponse{Action: res.Action, Reply: res.Text, Aspect: "general", Fichas: []bot.Hit{}, Options: []bot.Option{}}
	if !res.Held {
		r := res.Reply
		resp = messageResponse{Action: r.Action, Reply: res.Text, Aspect: r.Aspect, Fichas: orNone(r.Fichas), Options: orNoOptions(r.Options),
			Handoff: r.Handoff, Emergency: r.Emergency, Aspects: r.Aspects, Also: r.Also}
	}
	s.log.Info("turn", "conversation", conv.ID, "channel", conv.Channel, "action", resp.Action, "aspect", resp.Aspect)
	c.JSON(http.StatusOK, resp)
	return nil
}

// chat is the web chat as the conversation core sees one message: new, stored by the turn
// (idempotent with the client's id), rendered as it is, and answered in the HTTP response.
type chat[T Tx] struct {
	text, providerID string
	rate             ratelimit.Rate
}

// Next refuses a session's message beyond SessionRate, counted in the store: the limit
// holds however many replicas the session's messages reach.
func (ch *chat[T]) Next(ctx context.Context, tx T, conv *atiende.Conversation) (*conversation.Inbound, error) {
	now := time.Now().UTC()
	n, err := tx.CountInbound(ctx, conv.ID, now.Add(-ch.rate.Per), now)
	if err != nil {
		return nil, err
	}
	if n >= ch.rate.N {
		return nil, tooMany(ratelimit.Decision{RetryAfter: ch.rate.Per / time.Duration(ch.rate.N)})
	}
	in := &conversation.Inbound{Text: ch.text, ProviderID: ch.providerID}
	if ch.providerID != "" {
		in.ReplyProviderID = ch.providerID + ":reply"
	}
	return in, nil
}

// Render implements conversation.Channel: the web shows the text as it is.
func (*chat[T]) Render(conv *atiende.Conversation, text string, whole bool) (string, []string) {
	return channels.Render(conv.Channel, text).Text, nil
}

// DeliverTx implements conversation.Channel: the reply goes back in the HTTP response.
func (*chat[T]) DeliverTx(context.Context, T, *atiende.Conversation, *atiende.Message) error {
	return nil
}

// ActionHeld marks the reply given while a person holds the conversation.
const ActionHeld = conversation.ActionHeld

// replay answers a retried request with the reply already stored for it.
func (s *Server[T]) replay(ctx context.Context, providerID string) (messageResponse, error) {
	m, err := s.store.MessageByProviderID(ctx, providerID+":reply")
	if errors.Is(err, store.ErrNotFound) {
		// The turn was held by a person and needed no reply.
		return messageResponse{Action: ActionHeld, Aspect: "general", Fichas: []bot.Hit{}, Options: []bot.Option{}}, nil
	}
	if err != nil {
		return messageResponse{}, fmt.Errorf("replay %s: %w", providerID, err)
	}
	resp := messageResponse{Action: m.Action, Reply: m.Text, Aspect: m.Aspect, Fichas: []bot.Hit{}, Options: []bot.Option{}}
	for _, slug := range m.Fichas {
		if h, ok := s.engine.Ficha(slug); ok {
			resp.Fichas = append(resp.Fichas, h)
		}
	}
	return resp, nil
}

func orNone(hs []bot.Hit) []bot.Hit {
	if hs == nil {
		return []bot.Hit{}
	}
	return hs
}

func orNoOptions(o []bot.Option) []bot.Option {
	if o == nil {
		return []bot.Option{}
	}
	return o
}
