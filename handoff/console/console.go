// Package console is the agents' console at /agent: sign-in, the live queue, a
// conversation with its handoff packet, replies that reach the citizen's channel, ready
// answers from fichas, transfer, resolve, a supervisor's page, and the supervisors' reports
// with charts drawn as inline SVG (also as JSON and CSV). Pages are rendered on the
// server with html/template, so everything a citizen wrote is shown as text.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/ratelimit"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
)

//go:embed templates/*.html
var templatesFS embed.FS

//go:embed static
var staticFS embed.FS

// Catalogue is what the console needs to offer fichas as ready answers, and the reports to
// name fichas and normalize questions.
type Catalogue interface {
	Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found
	Ficha(slug string) (*retrieval.Ficha, bool)
	Fichas() []*retrieval.Ficha
	Normalize(text string) string
}

// Tx is what the console does in a transaction: sign-ins and their sessions, the queue's
// handoffs and their conversations, the agents (store.Tx has the error contract). The
// console runs its own transactions and shares none with another part, but the store's
// Tx hands fn the store's own transaction type; so the console is generic in it, T, as
// the core is, and cmd/atiende builds a Console[store.Tx].
type Tx interface {
	// AgentByUsername and AgentByID return an agent, or store.ErrNotFound.
	AgentByUsername(ctx context.Context, username string) (*atiende.Agent, error)
	AgentByID(ctx context.Context, id int64) (*atiende.Agent, error)
	// Agents lists every agent.
	Agents(ctx context.Context) ([]atiende.Agent, error)
	// InsertSession stores a sign-in's session.
	InsertSession(ctx context.Context, s *atiende.AgentSession) error
	// SessionByTokenHash returns the session whose token has that hash, or store.ErrNotFound
	// (also when it expired before now).
	SessionByTokenHash(ctx context.Context, hash string, now time.Time) (*atiende.AgentSession, error)
	// DeleteSession ends a session (signing out).
	DeleteSession(ctx context.Context, hash string) error
	// Conversation returns the conversation, or store.ErrNotFound.
	Conversation(ctx context.Context, id string) (*atiende.Conversation, error)
	// Handoff returns a handoff, or store.ErrNotFound.
	Handoff(ctx context.Context, id int64) (*atiende.Handoff, error)
	// HandoffsByStatus returns the handoffs in those statuses: highest priority first, then
	// oldest.
	HandoffsByStatus(ctx context.Context, statuses ...string) ([]atiende.Handoff, error)
}

// Store is what the console needs of the store: its transactions, of type T, a
// conversation's messages (the packet, the queue's first questions) and the reports'
// queries.
type Store[T Tx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
	// Messages returns the last limit messages of a conversation, oldest first.
	Messages(ctx context.Context, conversationID string, limit int) ([]atiende.Message, error)
	report.Source
}

// Handoffs is what the console asks of the handoff service (handoff.Service): the agents'
// actions, each in a transaction of its own, and the call center's hours. Their errors
// include handoff.ErrTaken, ErrNotOpen, ErrNotYours, ErrEmptyReply and store.ErrNotFound.
type Handoffs interface {
	// Claim gives a queued handoff to the agent.
	Claim(ctx context.Context, agent *atiende.Agent, id int64) error
	// Reply sends the agent's words to the citizen on their channel.
	Reply(ctx context.Context, agent *atiende.Agent, id int64, text string) error
	// Transfer puts the handoff back in the queue, in another queue.
	Transfer(ctx context.Context, agent *atiende.Agent, id int64, queue string) error
	// Resolve closes the handoff with the agent's note.
	Resolve(ctx context.Context, agent *atiende.Agent, id int64, note string) error
	// Hours returns the call center's hours.
	Hours() handoff.Hours
}

// Config is what the console needs; T is the store's transaction (cmd/atiende: store.Tx).
type Config[T Tx] struct {
	Store     Store[T]
	Handoffs  Handoffs
	Catalogue Catalogue
	Console   *events.Hub // queue changes (handoff.ConsoleTopic)
	Logger    *slog.Logger
	// SessionTTL is how long a sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// Location is the time zone of the reports' days (default UTC): ATIENDE_TIMEZONE.
	Location *time.Location
	// LoginRate is how many sign-in attempts a client IP may make (default 10/min), against
	// guessing passwords.
	LoginRate ratelimit.Rate
	Now       func() time.Time
}

// Console serves /agent, on a store whose transactions are of type T.
type Console[T Tx] struct {
	cfg    Config[T]
	pages  map[string]*template.Template
	log    *slog.Logger
	logins *ratelimit.Limiter
}

// New parses the pages and returns the console.
func New[T Tx](cfg Config[T]) (*Console[T], error) {
	if cfg.Store == nil || cfg.Handoffs == nil || cfg.Catalogue == nil || cfg.Console == nil {
		return nil, errors.New("console: Store, Handoffs, Catalogue and Console are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.LoginRate.Off() {
		cfg.LoginRate = ratelimit.Rate{N: 10, Per: time.Minute}
	}
	c := &Console[T]{cfg: cfg, pages: map[string]*template.Template{}, log: cfg.Logger, logins: ratelimit.New(cfg.LoginRate, 0, cfg.Now)}
	for _, name := range []string{"login", "queue", "handoff", "supervisor", "reports"} {
		t, err := template.New(name).Funcs(template.FuncMap{"rol": roleName}).ParseFS(templatesFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return c, nil
}

// roleName is a role as the console shows it, in Spanish.
func roleName(role string) string {
	switch role {
	case "agent":
		return "Agente"
	case "supervisor":
		return "Supervisión"
	case "editor":
		return "Edición del catálogo"
	}
	return role
}

// Routes lists the console's routes.
func (c *Console[T]) Routes(r gin.IRouter) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // "static" is a valid path: fs.Sub fails only on an invalid one
	}
	// Pages answer errors with Page, the JSON export with JSON.
	pg, js := c.pageErrors().Handle, httperr.Mapper{Log: c.log, Surface: httperr.JSON}.Handle
	g := r.Group("/agent", c.headers, c.limitForm)
	g.GET("/static/*file", pg(func(g *gin.Context) error {
		// Files only: a folder is not listed.
		name := strings.TrimPrefix(g.Param("file"), "/")
		if st, err := fs.Stat(static, name); err != nil || st.IsDir() {
			return httperr.New(http.StatusNotFound, "Ese archivo no existe.")
		}
		g.FileFromFS(name, http.FS(static))
		return nil
	}))
	g.GET("/login", c.loginPage)
	g.POST("/login", pg(c.login))
	a := g.Group("", c.signedIn)
	a.POST("/logout", c.checkCSRF, c.logout)
	q := a.Group("", c.roles(atiende.RoleAgent, atiende.RoleSupervisor))
	q.GET("", pg(c.queue))
	q.GET("/events", c.events)
	q.GET("/h/:id", pg(c.handoffPage))
	q.POST("/h/:id/claim", c.checkCSRF, pg(c.claim))
	q.POST("/h/:id/reply", c.checkCSRF, pg(c.reply))
	q.POST("/h/:id/transfer", c.checkCSRF, pg(c.transfer))
	q.POST("/h/:id/resolve", c.checkCSRF, pg(c.resolve))
	a.GET("/supervisor", c.roles(atiende.RoleSupervisor), pg(c.supervisor))
	rep := a.Group("", c.roles(atiende.RoleSupervisor, atiende.RoleEditor))
	rep.GET("/reports", pg(c.reports))
	rep.GET("/reports.json", js(c.reportJSON))
	rep.GET("/reports/days.csv", pg(c.reportCSV((*report.Report).WriteDaysCSV, "dias")))
	rep.GET("/reports/unanswered.csv", pg(c.reportCSV((*report.Report).WriteGroupsCSV, "sin-respuesta")))
}

// Page is how the console and its reports answer an error: a page in Spanish that says what
// happened and leads back to the console, or to the sign-in when the session ended.
var Page = httperr.Page{Site: "Consola Atiende", Stylesheet: "/agent/static/console.css", Home: "/agent",
	HomeLabel: "Volver a la consola", SignIn: "/agent/login"}

// pageErrors answers the console's errors with Page and logs them.
func (c *Console[T]) pageErrors() httperr.Mapper {
	return httperr.Mapper{Log: c.log, Surface: Page.Surface}
}

// abort answers an error found by a middleware (a role, a session, a form) with Page.
func (c *Console[T]) abort(g *gin.Context, err error) { c.pageErrors().Abort(g, err) }

// errNotFound: a conversation's address mistyped, or one that no longer exists.
var errNotFound = httperr.New(http.StatusNotFound, "Esa conversación no existe o la dirección está incompleta.")

// roles lets the signed-in accounts of those roles through. The others get 403, but an
// editor opening the console's home goes to the reports, the one page an editor has.
func (c *Console[T]) roles(roles ...string) gin.HandlerFunc {
	return func(g *gin.Context) {
		a := g.MustGet("agent").(*atiende.Agent)
		if slices.Contains(roles, a.Role) {
			g.Next()
			return
		}
		if a.Role == atiende.RoleEditor && g.Request.Method == http.MethodGet && g.FullPath() == "/agent" {
			g.Redirect(http.StatusSeeOther, "/agent/reports")
			g.Abort()
			return
		}
		c.abort(g, forbidden("Su rol no permite ver esta página."))
	}
}

// forbidden is a 403 that says why.
func forbidden(why string) error { return httperr.New(http.StatusForbidden, why) }

func (c *Console[T]) headers(g *gin.Context) {
	h := g.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	g.Next()
}

// MaxForm is the largest form the console reads: an agent's reply is a few lines.
const MaxForm = 64 << 10

// limitForm reads a POST's form under MaxForm before anyone else does: a larger one is
// refused with 413, not parsed as empty (which would look like a missing CSRF token).
func (c *Console[T]) limitForm(g *gin.Context) {
	if g.Request.Method != http.MethodPost {
		g.Next()
		return
	}
	g.Request.Body = http.MaxBytesReader(g.Writer, g.Request.Body, MaxForm)
	if err := g.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.abort(g, httperr.Wrap(http.StatusRequestEntityTooLarge, "El formulario es demasiado grande.", err))
			return
		}
		c.abort(g, httperr.Wrap(http.StatusBadRequest, "No se pudo leer el formulario.", err))
		return
	}
	g.Next()
}

const cookieName = "atiende_agent"

func hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secure reports whether the request came over TLS (directly or through a proxy that says
// so): the session cookie is then Secure.
func secure(g *gin.Context) bool {
	return g.Request.TLS != nil || strings.EqualFold(g.GetHeader("X-Forwarded-Proto"), "https")
}

type page struct {
	Title string
	Agent *atiende.Agent
	CSRF  string
	Flash string
}

func (c *Console[T]) render(g *gin.Context, status int, name string, data any) {
	g.Header("Content-Type", "text/html; charset=utf-8")
	g.Status(status)
	if err := c.pages[name].ExecuteTemplate(g.Writer, name+".html", data); err != nil {
		c.log.Error("console page", "page", name, "error", err.Error())
	}
}

func (c *Console[T]) loginPage(g *gin.Context) {
	c.render(g, http.StatusOK, "login", page{Title: "Ingresar"})
}

// compareHash checks a password against its bcrypt hash (a variable for the tests, which count
// the comparisons rather than time them).
var compareHash = bcrypt.CompareHashAndPassword

// dummyHash is a bcrypt hash of a random password, at the cost real ones have.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(random()), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return h
})

func (c *Console[T]) login(g *gin.Context) error {
	// A foreign page must not sign a browser in to an account of its choosing (login CSRF).
	if !sameOrigin(g) {
		return forbidden("El ingreso debe hacerse desde la página de la consola. Vuelva a ella e ingrese de nuevo.")
	}
	if d := c.logins.Allow(g.ClientIP()); !d.OK {
		c.log.Warn("console sign-in refused: too many attempts", "remote", g.ClientIP())
		g.Header("Retry-After", strconv.Itoa(d.Seconds()))
		c.render(g, http.StatusTooManyRequests, "login", page{Title: "Ingresar", Flash: "Demasiados intentos. Espere un minuto y vuelva a intentar."})
		return nil
	}
	ctx := g.Request.Context()
	user := strings.TrimSpace(g.PostForm("username"))
	pass := g.PostForm("password")
	var agent *atiende.Agent
	err := c.cfg.Store.Tx(ctx, func(tx T) error {
		var err error
		agent, err = tx.AgentByUsername(ctx, user)
		return err
	})
	// An unknown user costs the same bcrypt comparison as a known one (against a hash no
	// password matches): the time of the answer does not tell which usernames exist.
	hashed := dummyHash()
	if err == nil {
		hashed = []byte(agent.PasswordHash)
	}
	if compareHash(hashed, []byte(pass)) != nil || err != nil {
		if err == nil {
			c.log.Warn("console sign-in refused", "username", user)
		} else {
			c.log.Warn("console sign-in refused: no such user") // what was typed may be a password
		}
		c.render(g, http.StatusUnauthorized, "login", page{Title: "Ingresar", Flash: "Usuario o contraseña incorrectos."})
		return nil
	}
	token := random()
	sess := &atiende.AgentSession{TokenHash: hash(token), AgentID: agent.ID, CSRF: random(), ExpiresAt: c.cfg.Now().Add(c.cfg.SessionTTL)}
	if err := c.cfg.Store.Tx(ctx, func(tx T) error { return tx.InsertSession(ctx, sess) }); err != nil {
		return fmt.Errorf("sign in %d: %w", agent.ID, err)
	}
	http.SetCookie(g.Writer, &http.Cookie{Name: cookieName, Value: token, Path: "/agent", HttpOnly: true, Secure: secure(g),
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.cfg.SessionTTL.Seconds())})
	c.log.Info("console sign-in", "agent", agent.ID)
	g.Redirect(http.StatusSeeOther, "/agent")
	return nil
}

// signedIn loads the session's agent, or sends to the sign-in page.
func (c *Console[T]) signedIn(g *gin.Context) {
	ctx := g.Request.Context()
	ck, err := g.Request.Cookie(cookieName)
	var sess *atiende.AgentSession
	var agent *atiende.Agent
	if err == nil {
		err = c.cfg.Store.Tx(ctx, func(tx T) error {
			var err error
			if sess, err = tx.SessionByTokenHash(ctx, hash(ck.Value), c.cfg.Now()); err != nil {
				return err
			}
			agent, err = tx.AgentByID(ctx, sess.AgentID)
			return err
		})
	}
	if err != nil {
		switch {
		case !errors.Is(err, http.ErrNoCookie) && !errors.Is(err, store.ErrNotFound):
			// The database failed, not the session: saying "your session ended" would send
			// the agent to sign in again for nothing, and hide the failure from the log.
			c.abort(g, fmt.Errorf("load session: %w", err))
		case g.Request.Method == http.MethodGet && g.FullPath() != "/agent/events":
			g.Redirect(http.StatusSeeOther, "/agent/login")
			g.Abort()
		case g.Request.Method == http.MethodGet:
			c.abort(g, httperr.Wrap(http.StatusUnauthorized, "", err)) // the event stream: the page's script reloads
		default:
			// A form sent after the session ended: said plainly, with the way back in.
			c.abort(g, httperr.Wrap(http.StatusUnauthorized,
				"Su sesión terminó y el formulario no se envió. Ingrese de nuevo y repita la acción.", err))
		}
		return
	}
	g.Set("agent", agent)
	g.Set("session", sess)
	g.Next()
}

// sameOrigin reports whether a form comes from the console's own pages: a browser's Origin,
// when it sends one, names this host.
func sameOrigin(g *gin.Context) bool {
	o := g.GetHeader("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == g.Request.Host
}

// checkCSRF requires the session's token in the form, and a same-origin Origin when the
// browser sends one.
func (c *Console[T]) checkCSRF(g *gin.Context) {
	sess := g.MustGet("session").(*atiende.AgentSession)
	if !sameOrigin(g) {
		c.abort(g, forbidden("La acción no vino de la consola. Vuelva a la página y repítala."))
		return
	}
	if subtle.ConstantTimeCompare([]byte(g.PostForm("csrf")), []byte(sess.CSRF)) != 1 {
		c.log.Warn("console request without a valid CSRF token", "path", g.Request.URL.Path)
		c.abort(g, forbidden("La página estaba desactualizada o su sesión cambió. Vuelva a la página y repita la acción."))
		return
	}
	g.Next()
}

func (c *Console[T]) base(g *gin.Context, title string) page {
	return page{Title: title, Agent: g.MustGet("agent").(*atiende.Agent), CSRF: g.MustGet("session").(*atiende.AgentSession).CSRF, Flash: flashes[g.Query("msg")]}
}

func (c *Console[T]) logout(g *gin.Context) {
	ctx := g.Request.Context()
	if ck, err := g.Request.Cookie(cookieName); err == nil {
		if err := c.cfg.Store.Tx(ctx, func(tx T) error { return tx.DeleteSession(ctx, hash(ck.Value)) }); err != nil {
			// The cookie is still cleared; the session ends when it expires.
			c.log.Warn("console session not deleted at sign-out", "error", err.Error())
		}
	}
	http.SetCookie(g.Writer, &http.Cookie{Name: cookieName, Value: "", Path: "/agent", MaxAge: -1, HttpOnly: true, Secure: secure(g), SameSite: http.SameSiteStrictMode})
	g.Redirect(http.StatusSeeOther, "/agent/login")
}

// row is a handoff as the queue lists it.
type row struct {
	ID        int64
	Channel   string
	Reason    string
	QueueName string
	Status    string
	Priority  int
	Waiting   string
	Question  string // the citizen's first question of substance
	h         atiende.Handoff
	conv      *atiende.Conversation
}

func since(now, t time.Time) string {
	d := now.Sub(t).Round(time.Minute)
	if d < time.Minute {
		return "menos de 1 min"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

func (c *Console[T]) rows(ctx context.Context, tx T, hs []atiende.Handoff) []row {
	now := c.cfg.Now()
	var out []row
	for _, h := range hs {
		r := row{ID: h.ID, Reason: reasonES[h.Reason], QueueName: handoff.QueueName(h.Queue), Status: statusES[h.Status], Priority: h.Priority, Waiting: since(now, h.CreatedAt)}
		if conv, err := tx.Conversation(ctx, h.ConversationID); err == nil {
			r.Channel, r.h, r.conv = conv.Channel, h, conv
		}
		out = append(out, r)
	}
	return out
}

// questions fills each row's first question, read outside the rows' transaction.
func (c *Console[T]) questions(ctx context.Context, rows []row) {
	for i, r := range rows {
		if r.conv == nil {
			continue
		}
		if msgs, err := c.cfg.Store.Messages(ctx, r.conv.ID, 50); err == nil {
			q := handoff.NewPacket(r.conv, r.h, msgs, c.cfg.Now()).Question
			if n := []rune(q); len(n) > 120 {
				q = string(n[:119]) + "…"
			}
			rows[i].Question = q
		}
	}
}

var reasonES = map[string]string{
	"request": "pidió una persona", "repeated_failure": "el asistente no pudo responder", "personal_case": "caso personal",
	"frustration": "molestia", "emergency": "EMERGENCIA",
}

var statusES = map[string]string{
	atiende.HandoffQueued: "en espera", atiende.HandoffAssigned: "atendiendo", atiende.HandoffCallback: "devolver llamado",
	atiende.HandoffResolved: "resuelta", atiende.HandoffAbandoned: "abandonada",
}

func (c *Console[T]) queue(g *gin.Context) error {
	ctx := g.Request.Context()
	agent := g.MustGet("agent").(*atiende.Agent)
	data := struct {
		page
		Waiting, Mine []row
	}{page: c.base(g, "Fila")}
	err := c.cfg.Store.Tx(ctx, func(tx T) error {
		waiting, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued, atiende.HandoffCallback)
		if err != nil {
			return err
		}
		assigned, err := tx.HandoffsByStatus(ctx, atiende.HandoffAssigned)
		if err != nil {
			return err
		}
		var mine []atiende.Handoff
		for _, h := range assigned {
			if h.AgentID == agent.ID {
				mine = append(mine, h)
			}
		}
		data.Waiting, data.Mine = c.rows(ctx, tx, waiting), c.rows(ctx, tx, mine)
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	c.questions(ctx, data.Waiting)
	c.questions(ctx, data.Mine)
	data.Title = waitingTitle(len(data.Waiting), data.Title)
	c.render(g, http.StatusOK, "queue", data)
	return nil
}

// waitingTitle is a page's title with how many citizens wait before it ("(3) Fila"), for an
// agent working in another tab or in a conversation: the live updates refresh it.
func waitingTitle(n int, title string) string {
	if n == 0 {
		return title
	}
	return fmt.Sprintf("(%d) %s", n, title)
}

type fichaLink struct{ Title, URL string }

type section struct{ Name, Text string }

type found struct {
	Title, URL, Summary string
	Sections            []section
}

// line is one message of the transcript as the console shows it.
type line struct{ From, Who, Text, At, Clock string }

var whoES = map[string]string{"ciudadano": "Ciudadano", "asistente": "Asistente", "agente": "Agente"}

func (c *Console[T]) handoffPage(g *gin.Context) error {
	id, err := strconv.ParseInt(g.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	return c.showHandoff(g, id, http.StatusOK, kept{Draft: ownDraft(g, id)})
}

// ownDraft is the reply the agent was writing, given back after a ficha search without
// script (the search form sends it in the address). Only with the form's draft key beside it:
// a link from anyone else must not put words in an agent's reply box. The key is derived from
// the session's CSRF token and the handoff, never the token itself: the address lands in the
// browser's history and in proxies' logs, and a token read there would let anyone post as
// the agent; the key only lets one prefill this handoff's reply box in this session.
func ownDraft(g *gin.Context, id int64) string {
	sess := g.MustGet("session").(*atiende.AgentSession)
	if !hmac.Equal([]byte(g.Query("dk")), []byte(draftKey(sess.CSRF, id))) {
		return ""
	}
	return g.Query("draft")
}

// draftKey is the value the ficha search form of handoff id carries beside the draft.
func draftKey(csrf string, id int64) string {
	m := hmac.New(sha256.New, []byte(csrf))
	fmt.Fprintf(m, "draft %d", id)
	return hex.EncodeToString(m.Sum(nil))
}

// kept is what the agent wrote that the page gives back: the reply being written (across a
// ficha search), or words an action refused (a reply not sent, a closing note not saved).
type kept struct {
	Draft   string // the reply
	Note    string // the «Nota de cierre» of a close refused
	Refused string // "reply" or "close" when that action was refused; the page says why
}

// showHandoff renders the page of handoff id with status. When kept.Refused names an action,
// the page's alert says why it was refused, from the handoff as it is now, and the page holds
// the words apart, to be copied.
func (c *Console[T]) showHandoff(g *gin.Context, id int64, status int, k kept) error {
	ctx := g.Request.Context()
	agent := g.MustGet("agent").(*atiende.Agent)
	data := struct {
		page
		H         *atiende.Handoff
		P         handoff.Packet
		Reason    string
		QueueName string
		Waiting   string
		Window    string
		Status    string
		Fichas    []fichaLink
		Mine      bool
		MayAct    bool // may transfer or close it (handoff.Service says the same)
		Q         string
		Draft     string // the reply being written, kept across a ficha search or a refusal
		DraftKey  string // what the ficha search form sends beside the draft (ownDraft)
		Note      string // a closing note whose close was refused
		Found     []found
		Queues    []handoff.Queue
		Lines     []line
	}{page: c.base(g, "Conversación"), Q: g.Query("q"), Draft: k.Draft, Note: k.Note, Queues: handoff.Queues}
	data.DraftKey = draftKey(data.CSRF, id)
	var conv *atiende.Conversation
	err := c.cfg.Store.Tx(ctx, func(tx T) error {
		h, err := tx.Handoff(ctx, id)
		if err != nil {
			return err
		}
		data.H = h
		data.Mine = h.AgentID == agent.ID
		data.MayAct = handoff.MayAct(agent, h)
		waiting, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued, atiende.HandoffCallback)
		if err != nil {
			return err
		}
		data.Title = waitingTitle(len(waiting), data.Title)
		conv, err = tx.Conversation(ctx, h.ConversationID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("handoff %d: %w", id, err)
	}
	msgs, err := c.cfg.Store.Messages(ctx, conv.ID, 500)
	if err != nil {
		return fmt.Errorf("handoff %d: messages: %w", id, err)
	}
	now := c.cfg.Now()
	data.P = handoff.NewPacket(conv, *data.H, msgs, now)
	if err := c.cfg.Store.Tx(ctx, func(tx T) error { data.P.NameAgents(ctx, tx); return nil }); err != nil {
		return fmt.Errorf("handoff %d: agents' names: %w", id, err)
	}
	if k.Refused != "" {
		why := "la conversación se cerró mientras usted escribía."
		switch {
		case data.H.Status == atiende.HandoffAssigned:
			why = "otra persona la atiende ahora."
		case data.H.Open():
			why = "la conversación volvió a la fila mientras usted escribía."
		}
		if k.Refused == "close" {
			data.Flash = "No se cerró la conversación: " + why + " Su nota quedó abajo, en «Nota de cierre no guardada»."
		} else {
			data.Flash = "No se envió su respuesta: " + why + " Su texto quedó abajo, en «Respuesta no enviada»."
		}
	}
	data.Status = statusES[data.H.Status]
	data.Reason, data.QueueName, data.Waiting = reasonES[data.H.Reason], handoff.QueueName(data.H.Queue), since(now, data.H.CreatedAt)
	if !data.P.WindowExpires.IsZero() {
		data.Window = c.cfg.Handoffs.Hours().Describe(data.P.WindowExpires)
	}
	for _, l := range data.P.Transcript {
		at := l.At.In(c.cfg.Location)
		who := whoES[l.From]
		if l.Name != "" {
			who = l.Name
		}
		data.Lines = append(data.Lines, line{From: l.From, Who: who, Text: l.Text, At: at.Format(time.RFC3339), Clock: at.Format("15:04")})
	}
	for _, slug := range data.P.Fichas {
		if f, ok := c.cfg.Catalogue.Ficha(slug); ok {
			data.Fichas = append(data.Fichas, fichaLink{f.Title, f.URL})
		}
	}
	if q := strings.TrimSpace(data.Q); q != "" {
		for _, r := range c.cfg.Catalogue.Find(ctx, retrieval.Query{Text: q}, 3).Results {
			f := found{Title: r.Ficha.Title, URL: r.Ficha.URL, Summary: r.Ficha.Summary}
			for _, a := range []string{retrieval.AspectRequisitos, retrieval.AspectMonto, retrieval.AspectComo, retrieval.AspectDocumentos, retrieval.AspectFechas, retrieval.AspectCosto} {
				var lines []string
				for _, it := range r.Ficha.Sections.Items(a) {
					lines = append(lines, it.Text)
				}
				if len(lines) > 0 {
					f.Sections = append(f.Sections, section{Name: aspectES[a], Text: strings.Join(lines, "\n") + "\n" + r.Ficha.URL})
				}
			}
			data.Found = append(data.Found, f)
		}
	}
	c.render(g, status, "handoff", data)
	return nil
}

// aspectES names a ficha's sections on the «Insertar» buttons.
var aspectES = map[string]string{
	retrieval.AspectRequisitos: "requisitos", retrieval.AspectMonto: "monto", retrieval.AspectComo: "cómo pedirlo",
	retrieval.AspectDocumentos: "documentos", retrieval.AspectFechas: "fechas y plazos", retrieval.AspectCosto: "costo",
}

// flashes are the console's alerts, by the code an action's redirect carries in ?msg=: a
// link from elsewhere can show no text of its own choosing.
var flashes = map[string]string{
	"taken":  "Otra persona ya atiende esta conversación.",
	"closed": "Esta conversación ya está cerrada.",
	"empty":  "Escriba una respuesta.",
	"none":   "Conversación cerrada. No hay nadie más esperando.",
}

// act runs an action on the handoff of the path, then goes back to its page (or to where
// then says, when given). What an agent can fix or must know (another took it, it is
// closed, the reply is empty) goes back to the page with a flash; anything else is an
// error for httperr.
func (c *Console[T]) act(g *gin.Context, do func(ctx context.Context, agent *atiende.Agent, id int64) error, then ...func(id int64) string) error {
	id, err := strconv.ParseInt(g.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	agent := g.MustGet("agent").(*atiende.Agent)
	back := fmt.Sprintf("/agent/h/%d", id)
	if err := do(g.Request.Context(), agent, id); err != nil {
		var msg string
		switch {
		case errors.Is(err, handoff.ErrTaken), errors.Is(err, handoff.ErrNotYours):
			msg = "taken"
		case errors.Is(err, handoff.ErrNotOpen):
			msg = "closed"
		case errors.Is(err, handoff.ErrEmptyReply):
			msg = "empty"
		case errors.Is(err, store.ErrNotFound):
			return errNotFound
		default:
			return httperr.Wrap(http.StatusInternalServerError,
				"No se pudo completar la acción. Vuelva a la conversación e intente de nuevo; si se repite, avise a supervisión.", err)
		}
		g.Redirect(http.StatusSeeOther, back+"?msg="+msg)
		return nil
	}
	if len(then) > 0 {
		back = then[0](id)
	}
	g.Redirect(http.StatusSeeOther, back)
	return nil
}

func (c *Console[T]) claim(g *gin.Context) error {
	return c.act(g, func(ctx context.Context, a *atiende.Agent, id int64) error { return c.cfg.Handoffs.Claim(ctx, a, id) })
}

// reply sends the agent's words to the citizen. A conversation that is no longer the
// agent's (another agent took it, it was closed or went back to the queue while the reply was
// being written) refuses it with 409 and its page as it is now, saying why and holding the
// words written, so that nothing typed is lost: the agent copies them, or takes the
// conversation again.
func (c *Console[T]) reply(g *gin.Context) error {
	text := strings.TrimSpace(g.PostForm("text"))
	id, err := strconv.ParseInt(g.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	err = c.cfg.Handoffs.Reply(g.Request.Context(), g.MustGet("agent").(*atiende.Agent), id, text)
	if !refusal(err) {
		return c.act(g, func(context.Context, *atiende.Agent, int64) error { return err })
	}
	return c.showHandoff(g, id, http.StatusConflict, kept{Draft: g.PostForm("text"), Refused: "reply"})
}

// refusal: the action was refused because the conversation is no longer the agent's (another
// took it) or no longer open.
func refusal(err error) bool {
	return errors.Is(err, handoff.ErrTaken) || errors.Is(err, handoff.ErrNotYours) || errors.Is(err, handoff.ErrNotOpen)
}

func (c *Console[T]) transfer(g *gin.Context) error {
	queue := g.PostForm("queue")
	return c.act(g, func(ctx context.Context, a *atiende.Agent, id int64) error {
		return c.cfg.Handoffs.Transfer(ctx, a, id, queue)
	})
}

// resolve closes the conversation with the agent's note. A close refused because the
// conversation is no longer the agent's (another took it, or it was closed meanwhile) answers
// 409 with its page as it is now, saying why and holding the note, as a refused reply holds its
// words: nothing typed is lost.
func (c *Console[T]) resolve(g *gin.Context) error {
	note := strings.TrimSpace(g.PostForm("note"))
	id, err := strconv.ParseInt(g.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := c.cfg.Handoffs.Resolve(g.Request.Context(), g.MustGet("agent").(*atiende.Agent), id, note); refusal(err) {
		return c.showHandoff(g, id, http.StatusConflict, kept{Note: g.PostForm("note"), Refused: "close"})
	} else if err != nil || g.PostForm("next") == "" {
		return c.act(g, func(context.Context, *atiende.Agent, int64) error { return err })
	}
	// «Cerrar y tomar la siguiente»: closed, then the first conversation waiting that the
	// agent can take (the queue's order: priority, then time waiting) opens.
	var next int64
	return c.act(g, func(ctx context.Context, a *atiende.Agent, id int64) error {
		var waiting []atiende.Handoff
		if err := c.cfg.Store.Tx(ctx, func(tx T) error {
			var err error
			waiting, err = tx.HandoffsByStatus(ctx, atiende.HandoffQueued, atiende.HandoffCallback)
			return err
		}); err != nil {
			c.log.Warn("console: the next conversation could not be read", "error", err.Error())
			return nil
		}
		for _, h := range waiting {
			if err := c.cfg.Handoffs.Claim(ctx, a, h.ID); err == nil {
				next = h.ID
				break
			}
		}
		return nil
	}, func(int64) string {
		if next == 0 {
			return "/agent?msg=none"
		}
		return fmt.Sprintf("/agent/h/%d", next)
	})
}

// events tells the open consoles, over server-sent events, that the queue changed.
func (c *Console[T]) events(g *gin.Context) {
	sub, cancel := c.cfg.Console.Subscribe(handoff.ConsoleTopic)
	defer cancel()
	w := g.Writer
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		// The server's write timeout will end the stream; the console reconnects.
		c.log.Warn("console stream keeps the write timeout", "error", err.Error())
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	if rc.Flush() != nil {
		return // the console has gone
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-g.Request.Context().Done():
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case e, ok := <-sub:
			if !ok {
				return // the server shuts down: the console reconnects to another replica
			}
			fmt.Fprintf(w, "event: update\ndata: {\"type\":%q}\n\n", e.Type)
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func (c *Console[T]) supervisor(g *gin.Context) error {
	ctx := g.Request.Context()
	type qrow struct {
		Name                        string
		Waiting, Callback, Assigned int
		Oldest                      string
	}
	type arow struct {
		Name, Role string
		Assigned   int
	}
	data := struct {
		page
		Queues []qrow
		Agents []arow
	}{page: c.base(g, "Supervisión")}
	now := c.cfg.Now()
	err := c.cfg.Store.Tx(ctx, func(tx T) error {
		open, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued, atiende.HandoffCallback, atiende.HandoffAssigned)
		if err != nil {
			return err
		}
		byAgent := map[int64]int{}
		for _, q := range handoff.Queues {
			r := qrow{Name: q.Name, Oldest: "—"}
			var oldest time.Time
			for _, h := range open {
				if h.Queue != q.ID {
					continue
				}
				switch h.Status {
				case atiende.HandoffQueued:
					r.Waiting++
					if oldest.IsZero() || h.CreatedAt.Before(oldest) {
						oldest = h.CreatedAt
					}
				case atiende.HandoffCallback:
					r.Callback++
				case atiende.HandoffAssigned:
					r.Assigned++
				}
			}
			if !oldest.IsZero() {
				r.Oldest = since(now, oldest)
			}
			data.Queues = append(data.Queues, r)
		}
		for _, h := range open {
			if h.Status == atiende.HandoffAssigned {
				byAgent[h.AgentID]++
			}
		}
		agents, err := tx.Agents(ctx)
		if err != nil {
			return err
		}
		for _, a := range agents {
			data.Agents = append(data.Agents, arow{Name: a.Name, Role: a.Role, Assigned: byAgent[a.ID]})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	c.render(g, http.StatusOK, "supervisor", data)
	return nil
}

// AgentTx is what AddAgent does in a transaction.
type AgentTx interface {
	// InsertAgent stores an agent; store.ErrDuplicate when the username is taken.
	InsertAgent(ctx context.Context, a *atiende.Agent) error
}

// AgentStore is what AddAgent needs of the store: a transaction of type T.
type AgentStore[T AgentTx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
}

// AddAgent creates an agent account with a bcrypt hash of the password; store.ErrDuplicate
// when the username is taken.
func AddAgent[T AgentTx](ctx context.Context, st AgentStore[T], username, name, role, password string) (*atiende.Agent, error) {
	username = strings.TrimSpace(username)
	if username == "" || strings.TrimSpace(name) == "" {
		return nil, errors.New("agent: username and name are required")
	}
	if len(password) < 10 {
		return nil, errors.New("agent: the password needs at least 10 characters")
	}
	if role == "" {
		role = atiende.RoleAgent
	}
	if role != atiende.RoleAgent && role != atiende.RoleSupervisor && role != atiende.RoleEditor {
		return nil, fmt.Errorf("agent: role %q: want agent, supervisor or editor", role)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	a := &atiende.Agent{Username: username, Name: strings.TrimSpace(name), Role: role, PasswordHash: string(h)}
	if err := st.Tx(ctx, func(tx T) error { return tx.InsertAgent(ctx, a) }); err != nil {
		return nil, err
	}
	return a, nil
}
