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
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/ratelimit"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

// Config is what the server needs.
type Config struct {
	Engine *bot.Engine
	Store  store.Store
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
	// Handoffs runs the handoff to a person; required.
	Handoffs Handoffs
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

// Handoffs is what the chat needs of the handoff service.
type Handoffs interface {
	// Start opens a handoff in the transaction and returns what to tell the citizen.
	Start(ctx context.Context, tx store.Tx, conv *store.Conversation, reason, topic string) (*store.Handoff, string, error)
	// Hold reports whether a person holds the conversation (the engine stays silent) and
	// what to tell the citizen, if anything.
	Hold(ctx context.Context, tx store.Tx, conv *store.Conversation) (bool, string, error)
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
type Server struct {
	engine *bot.Engine
	store  store.Store
	log    *slog.Logger
	hub    *events.Hub
	cfg    Config
	locks  [256]sync.Mutex // turns of one conversation run one at a time in this process
	gin    *gin.Engine
	mounts []Mount
	// draining: the server is shutting down, and says so on /readyz.
	draining atomic.Bool
	// ips and sessions limit the chat per client IP and per session, in this process.
	ips, sessions *ratelimit.Limiter
	streams       streams
}

// New builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.Store == nil || cfg.Handoffs == nil {
		return nil, errors.New("web: Engine, Store and Handoffs are required")
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
	s := &Server{engine: cfg.Engine, store: cfg.Store, log: cfg.Logger, hub: cfg.Hub, cfg: cfg, gin: gin.New(), mounts: cfg.Mounts,
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
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.gin.ServeHTTP(w, r) }

// observe tells the Observer how long each request took, panics and errors included.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.cfg.Observer.Request(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// Drain makes /readyz answer 503 from now on, so that load balancers send no more requests
// while the server finishes those it has; the other routes still serve.
func (s *Server) Drain() { s.draining.Store(true) }

// readyz is ready when the server is not shutting down and the store answers within two
// seconds.
func (s *Server) readyz(c *gin.Context) error {
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

func (s *Server) createSession(c *gin.Context) error {
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
	conv := &store.Conversation{ID: id, Channel: bot.ChannelWeb, TokenHash: hashToken(token)}
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
func (s *Server) authorize(c *gin.Context) (*store.Conversation, error) {
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
}

func (s *Server) lock(id string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(id))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

func (s *Server) postMessage(c *gin.Context) error {
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
	mu := s.lock(conv.ID)
	mu.Lock()
	defer mu.Unlock()

	if d := s.sessions.Allow(conv.ID); !d.OK {
		return tooMany(d)
	}
	ctx := c.Request.Context()
	if err := s.checkRate(ctx, conv.ID); err != nil {
		return err
	}
	providerID := ""
	if req.ClientID != "" {
		providerID = "web:" + conv.ID + ":" + req.ClientID
	}
	for attempt := 0; ; attempt++ {
		resp, err := s.turn(ctx, conv, text, providerID)
		switch {
		case err == nil:
			c.JSON(http.StatusOK, resp)
			return nil
		case errors.Is(err, store.ErrDuplicate):
			resp, err := s.replay(ctx, providerID)
			if err != nil {
				return err
			}
			c.JSON(http.StatusOK, resp)
			return nil
		case errors.Is(err, store.ErrConflict) && attempt < 5:
			// Another replica saved a turn of this conversation: read it again and redo.
			if conv, err = s.store.Conversation(ctx, conv.ID); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// checkRate refuses a session's message beyond SessionRate, counted in the store: the
// limit holds however many replicas the session's messages reach.
func (s *Server) checkRate(ctx context.Context, convID string) error {
	var n int
	r := s.cfg.SessionRate
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		var err error
		now := time.Now().UTC()
		n, err = tx.CountInbound(ctx, convID, now.Add(-r.Per), now)
		return err
	})
	if err != nil {
		return err
	}
	if n >= r.N {
		return tooMany(ratelimit.Decision{RetryAfter: r.Per / time.Duration(r.N)})
	}
	return nil
}

// turn runs one turn in one transaction: the citizen's message, then either a person's hold
// (the engine stays silent but for emergencies) or the engine's reply, with a handoff opened
// when it asks for one; the new state. A changed conversation is ErrConflict.
//
// A slow engine (a language model, a search in Postgres: bot.Engine.Slow) is asked before
// the transaction, so that it holds no connection: turnTx says errEngine when it needs the
// answer, writing nothing, and is run again with it. The conversation's version, checked
// in the transaction, makes sure the answer is to the state it was asked with.
func (s *Server) turn(ctx context.Context, conv *store.Conversation, text, providerID string) (messageResponse, error) {
	resp, err := s.turnTx(ctx, conv, text, providerID, nil)
	if !errors.Is(err, errEngine) {
		return resp, err
	}
	st := s.stateOf(conv)
	r, next := s.engine.Turn(ctx, st, text, conv.Channel)
	return s.turnTx(ctx, conv, text, providerID, &answer{reply: r, next: next})
}

// errEngine: the turn needs the engine's answer; the transaction wrote nothing.
var errEngine = errors.New("the turn needs the engine's answer")

// answer is the engine's answer to the conversation at the version the turn checks.
type answer struct {
	reply bot.Reply
	next  bot.State
}

// stateOf is the engine's state saved with the conversation; unreadable, a fresh one.
func (s *Server) stateOf(conv *store.Conversation) bot.State {
	var st bot.State
	if len(conv.State) > 0 {
		if err := json.Unmarshal(conv.State, &st); err != nil {
			s.log.Warn("conversation state unreadable; starting afresh", "conversation", conv.ID, "error", err)
			return bot.State{}
		}
	}
	return st
}

func (s *Server) turnTx(ctx context.Context, conv *store.Conversation, text, providerID string, answered *answer) (messageResponse, error) {
	var resp messageResponse
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		cur, err := tx.Conversation(ctx, conv.ID)
		if err != nil {
			return err
		}
		if cur.Version != conv.Version {
			return store.ErrConflict
		}
		held, notice, err := s.cfg.Handoffs.Hold(ctx, tx, cur)
		if err != nil {
			return err
		}
		emergency := held && s.engine.IsEmergency(text)
		if !held && answered == nil && s.engine.Slow() {
			return errEngine // Hold wrote nothing: nobody holds the conversation
		}
		in := &store.Message{ConversationID: conv.ID, Direction: store.Inbound, Text: text, ProviderID: providerID, Processed: true}
		if err := tx.InsertMessage(ctx, in); err != nil {
			return err
		}
		out := &store.Message{ConversationID: conv.ID, Direction: store.Outbound, Processed: true}
		if providerID != "" {
			out.ProviderID = providerID + ":reply"
		}
		if held && !emergency {
			resp = messageResponse{Action: ActionHeld, Reply: notice, Aspect: "general", Fichas: []bot.Hit{}, Options: []bot.Option{}}
			out.Text, out.Action = notice, ActionHeld
		} else {
			st := s.stateOf(cur)
			var r bot.Reply
			var next bot.State
			if answered != nil {
				r, next = answered.reply, answered.next
			} else {
				// A fast engine, or held and an emergency (Hold may have written): here.
				r, next = s.engine.Turn(ctx, st, text, cur.Channel)
			}
			reply := channels.Render(cur.Channel, r.Text).Text
			if r.Handoff != "" {
				h, tell, err := s.cfg.Handoffs.Start(ctx, tx, cur, r.Handoff, s.engine.TopicOf(st.Slug))
				if err != nil {
					return err
				}
				if h.Status == store.HandoffCallback {
					reply = tell
				} else {
					reply += "\n" + tell
				}
			}
			state, err := json.Marshal(next)
			if err != nil {
				return fmt.Errorf("encode state: %w", err)
			}
			cur.State = state
			out.Text, out.Action, out.Aspect, out.Fichas = reply, r.Action, r.Aspect, slugs(r.Fichas)
			out.Reason = r.Handoff
			if len(r.Fichas) > 0 {
				out.Score = r.Fichas[0].Score
			}
			resp = messageResponse{Action: r.Action, Reply: reply, Aspect: r.Aspect, Fichas: orNone(r.Fichas), Options: orNoOptions(r.Options),
				Handoff: r.Handoff, Emergency: r.Emergency, Aspects: r.Aspects}
		}
		if out.Text != "" {
			if err := tx.InsertMessage(ctx, out); err != nil {
				return err
			}
		}
		return tx.UpdateConversation(ctx, cur)
	})
	if err != nil {
		return messageResponse{}, err
	}
	s.log.Info("turn", "conversation", conv.ID, "channel", conv.Channel, "action", resp.Action, "aspect", resp.Aspect)
	return resp, nil
}

// ActionHeld marks the reply given while a person holds the conversation.
const ActionHeld = "held"

// replay answers a retried request with the reply already stored for it.
func (s *Server) replay(ctx context.Context, providerID string) (messageResponse, error) {
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

func slugs(hs []bot.Hit) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Slug)
	}
	return out
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
