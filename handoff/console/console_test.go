package console_test

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/handoff/console"
	"github.com/atiende/atiende/retrieval/retrievaltest"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/gin-gonic/gin"
)

type bundle struct {
	srv *httptest.Server
	db  *sqlite.DB
	hs  *handoff.Service[store.Tx]
}

func setup(t *testing.T, opts ...func(*console.Config[store.Tx])) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ix := retrievaltest.Bundled(t)
	hub := events.NewHub()
	hs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, events.NewHub(), hub, nil)
	cfg := console.Config[store.Tx]{Store: db, Handoffs: hs, Catalogue: ix, Console: hub}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range [][3]string{{"ana", "Ana Rojas", "agent"}, {"sofia", "Sofía Díaz", "supervisor"}, {"elena", "Elena Mora", "editor"}} {
		if _, err := console.AddAgent(ctx, db, a[0], a[1], a[2], "una-clave-larga"); err != nil {
			t.Fatal(err)
		}
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	c.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	err = db.Tx(ctx, func(tx store.Tx) error {
		conv := &atiende.Conversation{ID: "c1", Channel: "web"}
		if err := tx.CreateConversation(ctx, conv); err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: "c1", Direction: atiende.Inbound, Text: `<script>alert(1)</script> mi rut es 12.345.678-5`}); err != nil {
			return err
		}
		_, _, err := hs.Start(ctx, tx, conv, "personal_case", "salud")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{srv: srv, db: db, hs: hs}
}

func signIn(t *testing.T, b *bundle, user string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	resp, err := cl.PostForm(b.srv.URL+"/agent/login", url.Values{"username": {user}, "password": {"una-clave-larga"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(body))
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	return cl, m[1]
}

func TestSessionCookie(t *testing.T) {
	b := setup(t)
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.PostForm(b.srv.URL+"/agent/login", url.Values{"username": {"ana"}, "password": {"una-clave-larga"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "atiende_agent" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/agent" {
		t.Errorf("cookie: %+v", ck)
	}
	// Behind TLS (a proxy saying so), the cookie is Secure.
	req, _ := http.NewRequest("POST", b.srv.URL+"/agent/login", strings.NewReader("username=ana&password=una-clave-larga"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Cookies(); len(c) == 0 || !c[0].Secure {
		t.Errorf("cookie over TLS: %+v", c)
	}
	// Without a session, pages send to the sign-in.
	resp, _ = cl.Get(b.srv.URL + "/agent")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/agent/login" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestPacketPageShowsTextAndRUT(t *testing.T) {
	b := setup(t)
	cl, csrf := signIn(t, b, "ana")
	resp, _ := cl.Get(b.srv.URL + "/agent")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := regexp.MustCompile(`/agent/h/(\d+)/claim`).FindStringSubmatch(string(body))
	if id == nil || !strings.Contains(string(body), "caso personal") || !strings.Contains(string(body), "Salud, licencias") {
		t.Fatalf("queue:\n%s", body)
	}
	resp, _ = cl.PostForm(b.srv.URL+"/agent/h/"+id[1]+"/claim", url.Values{"csrf": {csrf}})
	resp.Body.Close()
	resp, _ = cl.Get(b.srv.URL + "/agent/h/" + id[1] + "?q=pension+garantizada")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("a citizen's message is not shown as text")
	}
	if !strings.Contains(page, "12.345.678-5") {
		t.Error("the RUT is not shown to the agent")
	}
	if !strings.Contains(page, "Insertar requisitos") || !strings.Contains(page, "Pensión Garantizada Universal") {
		t.Error("no ficha to insert")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// Transfer puts it back in the queue, in another one.
	resp, _ = cl.PostForm(b.srv.URL+"/agent/h/"+id[1]+"/transfer", url.Values{"csrf": {csrf}, "queue": {"educacion"}})
	resp.Body.Close()
	var h *atiende.Handoff
	b.db.Tx(context.Background(), func(tx store.Tx) error {
		var err error
		h, err = tx.OpenHandoff(context.Background(), "c1")
		return err
	})
	if h.Status != atiende.HandoffQueued || h.Queue != "educacion" || h.AgentID != 0 {
		t.Errorf("after transfer: %+v", h)
	}
}

func TestSupervisorPage(t *testing.T) {
	b := setup(t)
	agent, _ := signIn(t, b, "ana")
	resp, _ := agent.Get(b.srv.URL + "/agent/supervisor")
	denied, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(denied), "Su rol no permite ver esta página") {
		t.Errorf("an agent on the supervisor page: %d, a page in Spanish that says why? %s", resp.StatusCode, denied)
	}
	sup, _ := signIn(t, b, "sofia")
	resp, _ = sup.Get(b.srv.URL + "/agent/supervisor")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Salud, licencias médicas y Fonasa") || !strings.Contains(string(body), "Ana Rojas") ||
		!strings.Contains(string(body), "<td>Agente</td>") || strings.Contains(string(body), "<td>agent</td>") {
		t.Errorf("supervisor page (roles in Spanish): %d\n%s", resp.StatusCode, body)
	}
}

func TestAddAgentRules(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if _, err := console.AddAgent(ctx, b.db, "x", "X", "agent", "corta"); err == nil {
		t.Error("a short password was accepted")
	}
	if _, err := console.AddAgent(ctx, b.db, "x", "X", "jefe", "una-clave-larga"); err == nil {
		t.Error("an unknown role was accepted")
	}
	a, err := console.AddAgent(ctx, b.db, "x", "X Y", "", "una-clave-larga")
	if err != nil || strings.Contains(a.PasswordHash, "una-clave") || !strings.HasPrefix(a.PasswordHash, "$2") {
		t.Errorf("stored hash %q %v", a.PasswordHash, err)
	}
}

// TestSignInAttemptsAreLimited: an IP guessing passwords is stopped after ten attempts a
// minute with 429 and Retry-After; the right password does not pass either then.
func TestSignInAttemptsAreLimited(t *testing.T) {
	// The clock stands still: on a slow machine (or under -race, where bcrypt takes a second)
	// the bucket would otherwise refill between attempts.
	now := time.Now().UTC()
	b := setup(t, func(c *console.Config[store.Tx]) { c.Now = func() time.Time { return now } })
	try := func(pass string) *http.Response {
		t.Helper()
		cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := cl.PostForm(b.srv.URL+"/agent/login", url.Values{"username": {"ana"}, "password": {pass}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 10 {
		if resp := try("adivinanza"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d; want 401", i+1, resp.StatusCode)
		}
	}
	resp := try("una-clave-larga")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("11th attempt: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestOversizedForm: a form over MaxForm is 413 with the console's error page, before the
// session and CSRF checks (which would otherwise answer a misleading 403).
func TestOversizedForm(t *testing.T) {
	b := setup(t)
	cl, _ := signIn(t, b, "ana")
	resp, err := cl.PostForm(b.srv.URL+"/agent/h/1/reply", url.Values{"text": {strings.Repeat("a", console.MaxForm)}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "El formulario es demasiado grande.") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("%d %s %s; want 413 with the console's page", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// TestUnknownUserCostsAComparison: signing in as a user who does not exist does the same work
// as with a wrong password (one bcrypt comparison), so timing does not tell usernames apart.
func TestUnknownUserCostsAComparison(t *testing.T) {
	b := setup(t)
	var n int
	defer console.CountComparisons(&n)()
	for _, user := range []string{"ana", "nadie-con-este-nombre"} {
		n = 0
		resp, err := http.PostForm(b.srv.URL+"/agent/login", url.Values{"username": {user}, "password": {"no-es-la-clave"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || n != 1 {
			t.Errorf("%s: status %d after %d comparisons, want 401 after 1", user, resp.StatusCode, n)
		}
	}
}

// TestAnotherAgentCannotTakeOver: a conversation one agent holds cannot be transferred or
// closed by another (the buttons are not shown, and the requests are refused); a supervisor
// may close it.
func TestAnotherAgentCannotTakeOver(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if _, err := console.AddAgent(ctx, b.db, "beto", "Beto Soto", "agent", "una-clave-larga"); err != nil {
		t.Fatal(err)
	}
	ana, csrfA := signIn(t, b, "ana")
	resp, _ := ana.Get(b.srv.URL + "/agent")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := regexp.MustCompile(`/agent/h/(\d+)/claim`).FindStringSubmatch(string(body))
	if id == nil {
		t.Fatal("no handoff in the queue")
	}
	resp, _ = ana.PostForm(b.srv.URL+"/agent/h/"+id[1]+"/claim", url.Values{"csrf": {csrfA}})
	resp.Body.Close()
	open := func() *atiende.Handoff {
		var h *atiende.Handoff
		b.db.Tx(ctx, func(tx store.Tx) error {
			var err error
			h, err = tx.OpenHandoff(ctx, "c1")
			return err
		})
		return h
	}
	holder := open().AgentID

	beto, csrfB := signIn(t, b, "beto")
	resp, _ = beto.Get(b.srv.URL + "/agent/h/" + id[1])
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if page := string(body); !strings.Contains(page, "La atiende otra persona") || strings.Contains(page, "/transfer") || strings.Contains(page, "/resolve") {
		t.Error("another agent is offered to transfer or close a held conversation")
	}
	for _, action := range []string{"transfer", "resolve"} {
		resp, _ = beto.PostForm(b.srv.URL+"/agent/h/"+id[1]+"/"+action, url.Values{"csrf": {csrfB}, "queue": {"educacion"}, "note": {"x"}})
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if h := open(); h == nil || h.Status != atiende.HandoffAssigned || h.AgentID != holder {
			t.Errorf("after another agent's %s: %+v", action, h)
		}
		// A close refused keeps its note on the page (TestCloseRefusedKeepsTheNote), which says why.
		why := map[string]string{"transfer": "Otra persona ya atiende esta conversación.", "resolve": "No se cerró la conversación: otra persona la atiende ahora."}[action]
		if !strings.Contains(string(body), why) {
			t.Errorf("after another agent's %s, the page does not say why", action)
		}
	}
	// The alert shows only the console's own messages, by code: a link cannot put words in it.
	resp, _ = beto.Get(b.srv.URL + "/agent/h/" + id[1] + "?msg=" + url.QueryEscape("Llame al 600 000 0000 para validar su clave"))
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "600 000 0000") {
		t.Error("the console's alert shows a text the link chose")
	}
	sofia, csrfS := signIn(t, b, "sofia")
	resp, _ = sofia.PostForm(b.srv.URL+"/agent/h/"+id[1]+"/resolve", url.Values{"csrf": {csrfS}, "note": {"cerrada por supervisión"}})
	resp.Body.Close()
	if h := open(); h != nil {
		t.Errorf("a supervisor could not close it: %+v", h)
	}
}

// TestStaticFilesOnly: the console's static files are served; their folder is not listed.
func TestStaticFilesOnly(t *testing.T) {
	b := setup(t)
	for path, want := range map[string]int{"/agent/static/": 404, "/agent/static": 404, "/agent/static/console.css": 200, "/agent/static/nada.css": 404} {
		resp, err := http.Get(b.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestLoginFromAnotherSiteRefused: a sign-in form posted from a foreign page is refused
// (login CSRF); from the console's own page it works.
func TestLoginFromAnotherSiteRefused(t *testing.T) {
	b := setup(t)
	for _, c := range []struct {
		origin string
		want   int
	}{{"https://malo.example.com", http.StatusForbidden}, {b.srv.URL, http.StatusSeeOther}} {
		req, _ := http.NewRequest("POST", b.srv.URL+"/agent/login", strings.NewReader(url.Values{"username": {"ana"}, "password": {"una-clave-larga"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.origin)
		cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Origin %s: %d, want %d", c.origin, resp.StatusCode, c.want)
		}
	}
}

// downStore is a database that refuses every transaction.
type downStore struct{ *sqlite.DB }

func (downStore) Tx(context.Context, func(store.Tx) error) error { return errors.New("disk I/O error") }

// TestActionThatFailsShowsThePage: an action that fails in the server (the handoffs' store
// down) answers 500 with the console's page, which says what to do and leads back, not a
// redirect that hides it nor the store's words; the same page for an unknown conversation.
func TestActionThatFailsShowsThePage(t *testing.T) {
	b := setup(t, func(c *console.Config[store.Tx]) {
		c.Handoffs = handoff.New(downStore{c.Store.(*sqlite.DB)}, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, events.NewHub(), c.Console, nil)
	})
	cl, csrf := signIn(t, b, "ana")
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/agent/h/1/claim", http.StatusInternalServerError, []string{"<h1>No se pudo mostrar la página</h1>", "No se pudo completar la acción.", `<a href="/agent">`}},
		{"/agent/h/x/claim", http.StatusNotFound, []string{"<h1>No encontrada</h1>", "Esa conversación no existe"}},
	} {
		resp, err := cl.PostForm(b.srv.URL+tc.path, url.Values{"csrf": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Contains(string(body), "disk") {
			t.Errorf("%s: %d %s; want %d with the console's page\n%s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, body)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s: the page lacks %q:\n%s", tc.path, w, body)
			}
		}
	}
}

// claimFirst has the client claim the conversation of setup, and returns its id.
func claimFirst(t *testing.T, b *bundle, cl *http.Client, csrf string) string {
	t.Helper()
	resp, _ := cl.Get(b.srv.URL + "/agent")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := regexp.MustCompile(`/agent/h/(\d+)/claim`).FindStringSubmatch(string(body))
	if id == nil {
		t.Fatal("no handoff in the queue")
	}
	resp, _ = cl.PostForm(b.srv.URL+"/agent/h/"+id[1]+"/claim", url.Values{"csrf": {csrf}})
	resp.Body.Close()
	return id[1]
}

// act posts an action (claim, reply, transfer, resolve) on handoff id with the agent's csrf
// token and the form's other fields, and returns the status and the page.
func act(t *testing.T, b *bundle, cl *http.Client, csrf, id, action string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf)
	resp, err := cl.PostForm(b.srv.URL+"/agent/h/"+id+"/"+action, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// agents are setup's agents in a conversation that changes hands: Ana took it, and Sofía (a
// supervisor) sent it back to the queue while Ana was writing; Beto, an agent, may take it.
type agents struct {
	ana, sofia       *http.Client
	csrfA, csrfS, id string
}

func sentBack(t *testing.T, b *bundle) agents {
	t.Helper()
	if _, err := console.AddAgent(context.Background(), b.db, "beto", "Beto Soto", "agent", "una-clave-larga"); err != nil {
		t.Fatal(err)
	}
	var a agents
	a.ana, a.csrfA = signIn(t, b, "ana")
	a.id = claimFirst(t, b, a.ana, a.csrfA)
	a.sofia, a.csrfS = signIn(t, b, "sofia")
	act(t, b, a.sofia, a.csrfS, a.id, "transfer", url.Values{"queue": {"salud"}})
	return a
}

// TestReplyRefusedKeepsTheDraft: an agent's reply to a conversation that another agent took,
// or that was closed, meanwhile is refused with 409 and a page in Spanish that says why and
// holds the words written, nothing sent; the citizen gets nothing.
func TestReplyRefusedKeepsTheDraft(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	// While Ana writes, a supervisor sends the conversation back to the queue, and Beto takes it.
	a := sentBack(t, b)
	if status, body := act(t, b, a.ana, a.csrfA, a.id, "reply", url.Values{"text": {"Un momento"}}); status != http.StatusConflict ||
		!strings.Contains(body, "volvió a la fila") || !strings.Contains(body, ">Un momento</textarea>") {
		t.Errorf("a reply to a conversation sent back to the queue: %d\n%s", status, body)
	}
	beto, csrfB := signIn(t, b, "beto")
	act(t, b, beto, csrfB, a.id, "claim", nil)
	outbound := func() int {
		msgs, err := b.db.Messages(ctx, "c1", 50)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Direction == atiende.Outbound && m.Action == handoff.ActionAgent {
				n++
			}
		}
		return n
	}
	draft := "Su licencia <b>está</b> en revisión & le aviso"
	status, page := act(t, b, a.ana, a.csrfA, a.id, "reply", url.Values{"text": {draft}})
	if status != http.StatusConflict {
		t.Errorf("a reply to a conversation another agent took: %d, want 409", status)
	}
	if !strings.Contains(page, "No se envió su respuesta") || !strings.Contains(page, "otra persona la atiende ahora") {
		t.Errorf("the page does not say, in Spanish, that the reply was not sent and why:\n%s", page)
	}
	kept := regexp.MustCompile(`(?s)<textarea id="unsent"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
	if kept == nil || kept[1] != template.HTMLEscapeString(draft) {
		t.Errorf("the words written are not kept, as text, on the page: %q", kept)
	}
	// Closed meanwhile: Beto's reply is refused the same way.
	act(t, b, a.sofia, a.csrfS, a.id, "resolve", nil)
	if status, body := act(t, b, beto, csrfB, a.id, "reply", url.Values{"text": {"Ya casi termino"}}); status != http.StatusConflict ||
		!strings.Contains(body, "la conversación se cerró") || !strings.Contains(body, ">Ya casi termino</textarea>") {
		t.Errorf("a reply to a closed conversation: %d\n%s", status, body)
	}
	if n := outbound(); n != 0 {
		t.Errorf("%d refused replies reached the citizen", n)
	}
}

// TestCloseRefusedKeepsTheNote: a «Nota de cierre» typed while the conversation changed hands
// or was closed is not lost: the close is refused with 409, the page says why, and the note is
// on it, as text to copy (like a refused reply's words).
func TestCloseRefusedKeepsTheNote(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	// While Ana writes her note, a supervisor sends the conversation back to the queue and Beto takes it.
	a := sentBack(t, b)
	beto, csrfB := signIn(t, b, "beto")
	act(t, b, beto, csrfB, a.id, "claim", nil)
	kept := regexp.MustCompile(`(?s)<textarea id="unsent-note"[^>]*>(.*?)</textarea>`)
	for _, tc := range []struct {
		name, next string
	}{{"close", ""}, {"close and take the next", "1"}} {
		t.Run(tc.name, func(t *testing.T) {
			note := "Se le explicó <b>el trámite</b> & quedó conforme " + tc.name
			status, page := act(t, b, a.ana, a.csrfA, a.id, "resolve", url.Values{"note": {note}, "next": {tc.next}})
			if status != http.StatusConflict {
				t.Errorf("closing a conversation another agent took: %d, want 409", status)
			}
			if !strings.Contains(page, "No se cerró la conversación") || !strings.Contains(page, "otra persona la atiende ahora") {
				t.Errorf("the page does not say, in Spanish, that the conversation was not closed and why:\n%s", page)
			}
			if m := kept.FindStringSubmatch(page); m == nil || m[1] != template.HTMLEscapeString(note) {
				t.Errorf("the note written is not kept, as text, on the page: %q", m)
			}
		})
	}
	// Closed meanwhile: Beto's close is refused the same way, his note kept.
	act(t, b, a.sofia, a.csrfS, a.id, "resolve", url.Values{"note": {"cerrada por supervisión"}})
	status, body := act(t, b, beto, csrfB, a.id, "resolve", url.Values{"note": {"Derivado a su municipio"}})
	if m := kept.FindStringSubmatch(body); status != http.StatusConflict || !strings.Contains(body, "la conversación se cerró") || m == nil || m[1] != "Derivado a su municipio" {
		t.Errorf("closing a conversation closed meanwhile: %d\n%s", status, body)
	}
	n, _ := strconv.ParseInt(a.id, 10, 64)
	var h *atiende.Handoff
	if err := b.db.Tx(ctx, func(tx store.Tx) (err error) { h, err = tx.Handoff(ctx, n); return err }); err != nil {
		t.Fatal(err)
	}
	if h.Note != "cerrada por supervisión" {
		t.Errorf("the handoff's note is %q, want the supervisor's, who closed it", h.Note)
	}
}

// TestTranscriptNamesTheAgent: each line an agent wrote shows the name of that agent, the one
// attending when it was written, not «Agente» nor whoever attends now.
func TestTranscriptNamesTheAgent(t *testing.T) {
	b := setup(t)
	ana, csrfA := signIn(t, b, "ana")
	id := claimFirst(t, b, ana, csrfA)
	resp, _ := ana.PostForm(b.srv.URL+"/agent/h/"+id+"/reply", url.Values{"csrf": {csrfA}, "text": {"Hola, soy Ana"}})
	resp.Body.Close()
	resp, _ = ana.PostForm(b.srv.URL+"/agent/h/"+id+"/transfer", url.Values{"csrf": {csrfA}, "queue": {"salud"}})
	resp.Body.Close()
	sofia, csrfS := signIn(t, b, "sofia")
	resp, _ = sofia.PostForm(b.srv.URL+"/agent/h/"+id+"/claim", url.Values{"csrf": {csrfS}})
	resp.Body.Close()
	resp, _ = sofia.PostForm(b.srv.URL+"/agent/h/"+id+"/reply", url.Values{"csrf": {csrfS}, "text": {"Hola, soy Sofía"}})
	resp.Body.Close()
	resp, _ = sofia.Get(b.srv.URL + "/agent/h/" + id)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := regexp.MustCompile(`<li class="agente"><span class="from">([^<]*)</span>.*?<span class="text">([^<]*)</span>`).FindAllStringSubmatch(string(body), -1)
	var got []string
	for _, l := range lines {
		got = append(got, l[1]+": "+l[2])
	}
	if want := []string{"Ana Rojas: Hola, soy Ana", "Sofía Díaz: Hola, soy Sofía"}; !slices.Equal(got, want) {
		t.Errorf("the agents' lines: %q, want %q", got, want)
	}
}

// flakyStore is a database that refuses every transaction once down is set.
type flakyStore struct {
	*sqlite.DB
	down *atomic.Bool
}

func (f flakyStore) Tx(ctx context.Context, fn func(store.Tx) error) error {
	if f.down.Load() {
		return errors.New("disk I/O error")
	}
	return f.DB.Tx(ctx, fn)
}

// TestStoreDownIsNotASignOut: when the database fails while a signed-in agent works, the
// console says it could not show the page (500), and does not send the agent to sign in as if
// the session had ended.
func TestStoreDownIsNotASignOut(t *testing.T) {
	down := new(atomic.Bool)
	b := setup(t, func(c *console.Config[store.Tx]) { c.Store = flakyStore{c.Store.(*sqlite.DB), down} })
	cl, csrf := signIn(t, b, "ana")
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	down.Store(true)
	for _, send := range []func() (*http.Response, error){
		func() (*http.Response, error) { return cl.Get(b.srv.URL + "/agent") },
		func() (*http.Response, error) {
			return cl.PostForm(b.srv.URL+"/agent/h/1/claim", url.Values{"csrf": {csrf}})
		},
	} {
		resp, err := send()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "sesión terminó") || strings.Contains(string(body), "disk") {
			t.Errorf("%s %s: %d (Location %q); want 500 with the console's page, no sign-out\n%s",
				resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
}

// TestDraftOnlyFromTheAgentsOwnForm: the reply box is filled from the address only when the
// address carries the draft key of the agent's own search form (the ficha search without
// script); a link someone else wrote does not put words in the agent's reply. The address
// never carries the CSRF token, which would let whoever reads the history or a proxy's log
// post as the agent; nor does the key of one handoff fill another's box.
func TestDraftOnlyFromTheAgentsOwnForm(t *testing.T) {
	b := setup(t)
	cl, csrf := signIn(t, b, "ana")
	act(t, b, cl, csrf, "1", "claim", nil)
	page := func(path string) string {
		resp, err := cl.Get(b.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	search := regexp.MustCompile(`(?s)<form method="get"[^>]*class="ficha-search">(.*?)</form>`).FindStringSubmatch(page("/agent/h/1"))
	if search == nil {
		t.Fatal("no ficha search form on the handoff's page")
	}
	if strings.Contains(search[1], csrf) {
		t.Error("the ficha search form (a GET: its fields go into the address) carries the CSRF token")
	}
	dk := regexp.MustCompile(`name="dk" value="([0-9a-f]+)"`).FindStringSubmatch(search[1])
	if dk == nil {
		t.Fatalf("no draft key in the ficha search form:\n%s", search[1])
	}
	words := "Deposite el pago en la cuenta 123"
	for _, tc := range []struct {
		query url.Values
		want  string
	}{
		{url.Values{"draft": {words}}, ""},
		{url.Values{"draft": {words}, "dk": {"0123abcd"}}, ""},
		{url.Values{"draft": {words}, "csrf": {csrf}, "q": {"pgu"}}, ""},
		{url.Values{"draft": {words}, "dk": {dk[1]}, "q": {"pgu"}}, words},
	} {
		box := regexp.MustCompile(`(?s)<textarea id="text"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page("/agent/h/1?" + tc.query.Encode()))
		if box == nil || box[1] != tc.want {
			t.Errorf("GET with %v: reply box %q; want %q", tc.query, box, tc.want)
		}
	}
	if console.DraftKey(csrf, 1) != dk[1] || console.DraftKey(csrf, 2) == dk[1] {
		t.Error("the draft key is not bound to the handoff")
	}
}
