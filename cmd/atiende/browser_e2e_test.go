package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atiende/atiende/channels/web/browsertest"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// consoleSignIn signs in to the console at base in the browser ctx.
func consoleSignIn(t *testing.T, ctx context.Context, base, username, password string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/agent/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", username), chromedp.SendKeys("#password", password),
		chromedp.Click(`main button[type="submit"]`)); err != nil {
		t.Fatal(err)
	}
}

// TestHandoffInTheBrowser: a citizen in the real web widget asks for a person; an agent in
// the real console signs in, claims and answers; the citizen sees the agent's words, marked
// with her first name; an HTML-looking message stays text in the console; after resolve the
// assistant answers again.
func TestHandoffInTheBrowser(t *testing.T) {
	dataDir := t.TempDir()
	s := startServerIn(t, dataDir, alwaysOpen(t)...)
	if out, err := runCmdIn(t, map[string]string{"ATIENDE_DATA_DIR": dataDir}, "otra-clave-segura\n",
		"agent", "add", "--username", "camila", "--name", "Camila Soto"); err != nil {
		t.Fatalf("agent add: %v %s", err, out)
	}
	citizen, agent := browsertest.Browser(t, 1280, 860), browsertest.Browser(t, 1280, 860)
	say := func(text string) {
		t.Helper()
		if err := chromedp.Do(citizen, chromedp.Focus("#text"), chromedp.SendKeys("#text", text), chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(citizen, chromedp.Navigate(s.base+"/widget/frame?title=ChileAtiende"), chromedp.WaitVisible("#text")); err != nil {
		t.Fatal(err)
	}
	say("quiero hablar con una persona")
	browsertest.WaitText(t, citizen, "#log", "lugar 1")

	if err := chromedp.Do(agent, chromedp.Navigate(s.base+"/agent/login"), chromedp.WaitVisible("#username")); err != nil {
		t.Fatal(err)
	}
	browsertest.Accessible(t, agent, "the console's sign-in")
	consoleSignIn(t, agent, s.base, "camila", "otra-clave-segura")
	browsertest.WaitText(t, agent, "main", "pidió una persona")
	browsertest.Accessible(t, agent, "the queue")
	browsertest.WaitText(t, agent, "main", "Primera consulta")
	if title, _ := chromedp.Run(agent, chromedp.Title()); !strings.HasPrefix(title, "(1) Fila") {
		t.Errorf("the queue's tab title %q does not count who waits", title)
	}
	browsertest.Screenshot(t, agent, "console-queue.png")
	if err := chromedp.Do(agent, chromedp.Click(`//button[text()="Tomar"]`)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, agent, "main", "Respuesta (llega al ciudadano")
	browsertest.WaitText(t, agent, ".transcript", "quiero hablar con una persona")
	if err := chromedp.Do(agent, chromedp.SendKeys("#text", "Hola, soy Camila. ¿Qué trámite necesita?"), chromedp.Click(`form.reply button`)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, citizen, "#log", "¿Qué trámite necesita?")
	browsertest.WaitText(t, citizen, ".agent .who", "Camila")
	// A reload keeps the conversation, and the agent's name, and says who attends.
	if err := chromedp.Do(citizen, chromedp.Reload(), chromedp.WaitVisible("#text")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, citizen, "#log", "¿Qué trámite necesita?")
	browsertest.WaitText(t, citizen, ".agent .who", "Camila")
	browsertest.WaitText(t, citizen, "#log", "Camila le está atendiendo.")
	// A ficha search shows a preview of each ficha found on the same page: the reply being
	// written stays, and goes into no address (where logs and the history would keep it).
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`window.beforeSearch = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(agent, chromedp.SendKeys("#text", "Le explico lo de la PGU:"), chromedp.SendKeys("#q", "pgu"),
		chromedp.Click("form.ficha-search button")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, agent, ".found", "Pensión Garantizada Universal")
	browsertest.WaitText(t, agent, ".found .preview", "65 años")
	browsertest.WaitText(t, agent, "#found-said", "encontrada")
	browsertest.WaitText(t, agent, ".found", "Insertar cómo pedirlo")
	browsertest.Accessible(t, agent, "a conversation, with fichas found")
	if kept, _ := chromedp.Run(agent, chromedp.Evaluate[string](`(window.beforeSearch === true) + " " + location.search + "|" + document.getElementById("text").value`)); kept != "true |Le explico lo de la PGU:" {
		t.Errorf("after a ficha search (same page, address's query, draft): %q", kept)
	}
	browsertest.Screenshot(t, agent, "console-ficha-search.png")
	// The same on a phone: the reply being written, and the fichas found under it.
	if err := chromedp.Do(agent, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`document.querySelector("form.reply").scrollIntoView({block: "start"}), true`)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, agent, "console-ficha-search-360.png")
	if err := chromedp.Do(agent, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatal(err)
	}
	// «Insertar» adds the ficha's link to the reply.
	if err := chromedp.Do(agent, chromedp.Click(`//div[@class="found"][1]/button[text()="Insertar enlace"]`)); err != nil {
		t.Fatal(err)
	}
	if draft, _ := chromedp.Run(agent, chromedp.Evaluate[string](`document.getElementById("text").value`)); !strings.HasPrefix(draft, "Le explico lo de la PGU:\n") || !strings.Contains(draft, "https://") {
		t.Errorf("the draft after «Insertar enlace»: %q", draft)
	}
	// The transcript opens at its newest message, each with its time.
	pinned, _ := chromedp.Run(agent, chromedp.Evaluate[bool](`(() => { const t = document.querySelector(".transcript");
		return t.scrollTop + t.clientHeight >= t.scrollHeight - 2 && !!t.querySelector("time"); })()`))
	if !pinned {
		t.Error("the transcript is not at its newest message, or has no times")
	}
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`document.getElementById("text").value = "", true`)); err != nil {
		t.Fatal(err)
	}
	// Another agent who opens the conversation Camila holds is told so, and offered neither to
	// transfer nor to close it (issue 17).
	if out, err := runCmdIn(t, map[string]string{"ATIENDE_DATA_DIR": dataDir}, "clave-de-beto-segura\n",
		"agent", "add", "--username", "beto", "--name", "Beto Díaz"); err != nil {
		t.Fatalf("agent add: %v %s", err, out)
	}
	held, err := chromedp.Run(agent, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	other := browsertest.Browser(t, 1280, 860)
	consoleSignIn(t, other, s.base, "beto", "clave-de-beto-segura")
	browsertest.WaitText(t, other, "main", "Fila")
	if err := chromedp.Do(other, chromedp.Navigate(held)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, other, "main", "La atiende otra persona")
	buttons, _ := chromedp.Run(other, chromedp.Evaluate[int](`[...document.querySelectorAll("main form")].filter(f => /transfer|resolve/.test(f.action)).length`))
	if buttons != 0 {
		t.Errorf("another agent is offered %d forms to transfer or close a conversation Camila holds", buttons)
	}
	// The conversation updates in place while the agent writes: the citizen's next message
	// arrives without a reload, the draft and the transcript's place at the newest message stay.
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`window.sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(agent, chromedp.SendKeys("#text", "Estoy revisando")); err != nil {
		t.Fatal(err)
	}
	say(`<img src=x onerror="document.title='pwned'">`)
	browsertest.WaitText(t, agent, ".transcript", "<img src=x onerror")
	if title, _ := chromedp.Run(agent, chromedp.Title()); title == "pwned" {
		t.Fatal("the console ran a citizen's HTML")
	}
	kept, _ := chromedp.Run(agent, chromedp.Evaluate[string](`(() => { const t = document.querySelector(".transcript");
		return (window.sameDocument === true) + " " + (t.scrollTop + t.clientHeight >= t.scrollHeight - 2) + " " + document.getElementById("text").value; })()`))
	if kept != "true true Estoy revisando" {
		t.Errorf("after a live update (same page, pinned, draft): %q", kept)
	}
	// An agent reading further up is not pulled down by the citizen's next message.
	if over, err := chromedp.Run(agent, chromedp.Evaluate[bool](`(() => { const t = document.querySelector(".transcript");
		t.style.maxHeight = "90px"; t.scrollTop = 0; return t.scrollHeight > t.clientHeight + 20; })()`)); err != nil || !over {
		t.Fatalf("the transcript, cut to 90 px, does not scroll: %v", err)
	}
	say("sigo esperando")
	browsertest.WaitText(t, agent, ".transcript", "sigo esperando")
	if top, _ := chromedp.Run(agent, chromedp.Evaluate[float64](`document.querySelector(".transcript").scrollTop`)); top != 0 {
		t.Errorf("the agent reading the transcript's start was moved to %v px", top)
	}
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`(() => { const t = document.querySelector(".transcript");
		t.style.maxHeight = ""; t.scrollTop = t.scrollHeight; document.getElementById("text").value = ""; return true; })()`)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, agent, "console-conversation.png")
	browsertest.Screenshot(t, citizen, "widget-agent.png")
	// Another citizen asks for a person: the tab of the conversation Camila holds counts who
	// waits, updated in place.
	if title, _ := chromedp.Run(agent, chromedp.Title()); !strings.HasPrefix(title, "Conversación") {
		t.Errorf("the conversation's tab title with nobody waiting: %q", title)
	}
	second := s.post(t, "/api/v1/chat/sessions", "", "{}")
	for _, text := range []string{"certificado de matrimonio", "quiero hablar con una persona"} {
		s.post(t, "/api/v1/chat/sessions/"+second["id"].(string)+"/messages", second["token"].(string), fmt.Sprintf(`{"text":%q}`, text))
	}
	waitTitle := func(prefix string) {
		t.Helper()
		browsertest.WaitFor(t, fmt.Sprintf("the tab title to begin with %q", prefix), func() bool {
			title, _ := chromedp.Run(agent, chromedp.Title())
			return strings.HasPrefix(title, prefix)
		})
	}
	waitTitle("(1) Conversación")
	if same, _ := chromedp.Run(agent, chromedp.Evaluate[bool](`window.sameDocument === true`)); !same {
		t.Error("the page was reloaded to count who waits")
	}
	// «Cerrar y tomar la siguiente»: closed, and the one waiting opens, taken.
	if err := chromedp.Do(agent, chromedp.SendKeys("#note", "Orientación general"), chromedp.Click(`//button[contains(., "Cerrar y tomar la siguiente")]`)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, citizen, "#log", "vuelve a responderle")
	browsertest.WaitText(t, agent, ".transcript", "certificado de matrimonio")
	browsertest.WaitText(t, agent, "main", "Respuesta (llega al ciudadano")
	waitTitle("Conversación")
	// Again, with nobody else waiting: closed, back at the queue.
	if err := chromedp.Do(agent, chromedp.Click(`//button[contains(., "Cerrar y tomar la siguiente")]`)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, agent, "main", "No hay nadie más esperando")
	say("cuanto es la pgu")
	browsertest.WaitText(t, citizen, "#log", "Pensión Garantizada Universal")
}

// TestReplyKeptWhenTheConversationChanges: an agent writing a reply to a conversation that a
// supervisor sends back to the queue, or closes, meanwhile loses no word. With the live
// updates, the reply box goes and the words stay on the page, apart, to copy, and return to the
// reply box when she takes the conversation back; without them (the events blocked), «Enviar»
// is refused with 409 and a page that says why in Spanish and holds the words, at the
// conversation's own address.
func TestReplyKeptWhenTheConversationChanges(t *testing.T) {
	dataDir := t.TempDir()
	s := startServerIn(t, dataDir, alwaysOpen(t)...)
	for _, a := range [][]string{{"camila", "Camila Soto", "agent", "otra-clave-segura"}, {"sofia", "Sofía Díaz", "supervisor", "clave-de-supervision"}} {
		if out, err := runCmdIn(t, map[string]string{"ATIENDE_DATA_DIR": dataDir}, a[3]+"\n",
			"agent", "add", "--username", a[0], "--name", a[1], "--role", a[2]); err != nil {
			t.Fatalf("agent add: %v %s", err, out)
		}
	}
	citizen := s.post(t, "/api/v1/chat/sessions", "", "{}")
	ask := func() {
		t.Helper()
		s.post(t, "/api/v1/chat/sessions/"+citizen["id"].(string)+"/messages", citizen["token"].(string), `{"text":"quiero hablar con una persona"}`)
	}
	agent, sup := browsertest.Browser(t, 1280, 860), browsertest.Browser(t, 1280, 860)
	consoleSignIn(t, sup, s.base, "sofia", "clave-de-supervision")
	browsertest.WaitText(t, sup, "header", "Informes")
	// take has Camila take the conversation waiting and write draft, and a closing note when
	// one is given; Sofía then closes it, or sends it back to the queue (button).
	take := func(draft, button string, note ...string) {
		t.Helper()
		// The queue is drawn again when the live updates bring the conversation just asked:
		// a «Tomar» found before that is gone when clicked ("Could not find node"), and the
		// page is opened again.
		var err error
		waitFor(t, func() bool {
			err = chromedp.Do(agent, chromedp.Navigate(s.base+"/agent"), chromedp.WaitVisible(`//button[text()="Tomar"]`),
				chromedp.Click(`//button[text()="Tomar"]`))
			return err == nil || !strings.Contains(err.Error(), "Could not find node")
		}, s.logs)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(agent, chromedp.WaitVisible("#text"), chromedp.SendKeys("#text", draft)); err != nil {
			t.Fatal(err)
		}
		for _, n := range note {
			if err := chromedp.Do(agent, chromedp.SendKeys("#note", n)); err != nil {
				t.Fatal(err)
			}
		}
		held, err := chromedp.Run(agent, chromedp.Evaluate[string](`location.href`))
		if err != nil {
			t.Fatal(err)
		}
		sel := fmt.Sprintf(`//button[contains(., %q)]`, button)
		if err := chromedp.Do(sup, chromedp.Navigate(held), chromedp.WaitVisible(sel)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(sup, chromedp.Evaluate[bool](`window.before = true`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(sup, chromedp.Click(sel)); err != nil {
			t.Fatal(err)
		}
		// Sofía's action has been answered (her page is a new document) before Camila acts:
		// otherwise Camila's form could reach the server first and not be refused.
		waitFor(t, func() bool {
			done, _ := chromedp.Run(sup, chromedp.Evaluate[bool](`window.before !== true && document.readyState === "complete"`))
			return done
		}, s.logs)
	}
	ask()
	consoleSignIn(t, agent, s.base, "camila", "otra-clave-segura")
	browsertest.WaitText(t, agent, "main", "pidió una persona")
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`window.sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	take("Le cuento que su solicitud <b>sigue</b> en trámite", "Transferir")
	browsertest.WaitText(t, agent, ".unsent", "su texto no se envió")
	kept, _ := chromedp.Run(agent, chromedp.Evaluate[string](`(!document.getElementById("text")) + " " + document.getElementById("unsent").value`))
	if kept != "true Le cuento que su solicitud <b>sigue</b> en trámite" {
		t.Errorf("after the conversation went back to the queue under the agent (no reply box, words kept): %q", kept)
	}
	browsertest.Accessible(t, agent, "a conversation sent back to the queue while the agent wrote")
	// Camila takes it back: her words are in the reply box again. She closes it.
	if err := chromedp.Do(agent, chromedp.Click(`//button[text()="Tomar esta conversación"]`), chromedp.WaitVisible("#text")); err != nil {
		t.Fatal(err)
	}
	if back, _ := chromedp.Run(agent, chromedp.Evaluate[string](`document.getElementById("text").value`)); back != "Le cuento que su solicitud <b>sigue</b> en trámite" {
		t.Errorf("the reply box after taking the conversation back: %q", back)
	}
	if err := chromedp.Do(agent, chromedp.Click(`//button[contains(., "Cerrar y devolver")]`), chromedp.WaitVisible(`header nav`)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, agent, "main", "resuelta")
	// A closing note being written when Sofía closes the conversation stays, apart, to copy.
	ask()
	take("Un momento", "Cerrar y devolver", "Se le explicó <b>el trámite</b>")
	browsertest.WaitText(t, agent, "main", "su nota de cierre no se guardó")
	if note := evalUntil(agent, `(!document.getElementById("note")) + " " + document.getElementById("unsent-note").value`, "true Se le explicó <b>el trámite</b>"); note != "true Se le explicó <b>el trámite</b>" {
		t.Errorf("after the conversation was closed under the agent (no close form, the note kept): %q", note)
	}

	// Without the live updates, «Enviar» is refused, and the words come back on the page.
	block := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{{URLPattern: s.base + "/agent/events", Block: true}}})
		return err
	})
	if err := chromedp.Do(agent, block); err != nil {
		t.Fatal(err)
	}
	ask()
	take("Ya revisé su caso & le explico", "Cerrar y devolver")
	clickSettled(t, agent, `form.reply button`, s.logs)
	browsertest.WaitText(t, agent, ".flash", "No se envió su respuesta")
	if refused := evalUntil(agent, `location.pathname.replace(/[0-9]+/, "N") + " " + document.getElementById("unsent").value`, "/agent/h/N Ya revisé su caso & le explico"); refused != "/agent/h/N Ya revisé su caso & le explico" {
		t.Errorf("the refused reply's page (its address, the words kept): %q", refused)
	}
	browsertest.Accessible(t, agent, "a refused reply")
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](`document.querySelector(".unsent").scrollIntoView({block: "end"}), true`)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, agent, "console-reply-refused.png")
	// A close refused the same way keeps its note.
	ask()
	take("", "Cerrar y devolver", "Derivado a su municipio")
	clickSettled(t, agent, `//button[contains(., "Cerrar y devolver")]`, s.logs)
	browsertest.WaitText(t, agent, ".flash", "No se cerró la conversación")
	if note := evalUntil(agent, `location.pathname.replace(/[0-9]+/, "N") + " " + document.getElementById("unsent-note").value`, "/agent/h/N Derivado a su municipio"); note != "/agent/h/N Derivado a su municipio" {
		t.Errorf("the refused close's page (its address, the note kept): %q", note)
	}
	browsertest.Accessible(t, agent, "a refused close")
}

// evalUntil evaluates js on the page until it gives want (browsertest.Poll), and returns
// what it gave last, with the last error if it never gave want.
func evalUntil(ctx context.Context, js, want string) string {
	got, err := browsertest.Poll(ctx, js, func(s string) bool { return s == want })
	if got != want && err != nil {
		return fmt.Sprintf("%s (%v)", got, err)
	}
	return got
}

// clickSettled clicks sel, and again while the node it found is being replaced between
// finding and clicking (Chromium's "Could not find node with given id"): once in CI the agent's
// page was still settling after a form had taken her to it.
func clickSettled(t *testing.T, ctx context.Context, sel string, logs *syncBuffer) {
	t.Helper()
	var err error
	waitFor(t, func() bool {
		err = chromedp.Do(ctx, chromedp.Click(sel))
		return err == nil || !strings.Contains(err.Error(), "Could not find node")
	}, logs)
	if err != nil {
		t.Fatal(err)
	}
}

// TestReportsInTheBrowser: citizens talk to the real server; a supervisor opens the reports
// in Chromium; the charts are drawn (inline SVG styled by the console's stylesheet under its
// CSP) and the unanswered questions are grouped.
func TestReportsInTheBrowser(t *testing.T) {
	dataDir := t.TempDir()
	s := startServerIn(t, dataDir, alwaysOpen(t)...)
	if out, err := runCmdIn(t, map[string]string{"ATIENDE_DATA_DIR": dataDir}, "clave-de-supervision\n",
		"agent", "add", "--username", "sofia", "--name", "Sofía Díaz", "--role", "supervisor"); err != nil {
		t.Fatalf("agent add: %v %s", err, out)
	}
	for _, talk := range [][]string{
		{"cuanto es la pgu", "y los requisitos?"},
		{"kiero saber dl bono invierno", "bono de invierno como lo cobro"},
		{"el bono para mascotas", "bono mascota como se pide"},
		{"bono"},
		{"quiero arrendar un departamento en la playa"},
		{"quiero hablar con una persona"},
	} {
		sess := s.post(t, "/api/v1/chat/sessions", "", "{}")
		for _, text := range talk {
			s.post(t, "/api/v1/chat/sessions/"+sess["id"].(string)+"/messages", sess["token"].(string), fmt.Sprintf(`{"text":%q}`, text))
		}
	}
	b := browsertest.Browser(t, 1280, 1900)
	consoleSignIn(t, b, s.base, "sofia", "clave-de-supervision")
	browsertest.WaitText(t, b, "header", "Informes")
	if err := chromedp.Do(b, chromedp.Navigate(s.base+"/agent/reports"), chromedp.WaitVisible("svg.chart")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "main", "bono · mascota")
	browsertest.Accessible(t, b, "the reports")
	if err := chromedp.Do(b, chromedp.Navigate(s.base+"/agent/supervisor"), chromedp.WaitVisible("main")); err != nil {
		t.Fatal(err)
	}
	browsertest.Accessible(t, b, "the supervisor page")
	// Roles in Spanish.
	browsertest.WaitText(t, b, "main table:last-of-type", "Supervisión")
	if roles, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector("main").innerText`)); strings.Contains(roles, "supervisor\t") {
		t.Errorf("a role in English on the supervisor page:\n%s", roles)
	}
	// A conversation that does not exist, and a page the role may not see: pages in Spanish
	// that say what happened and lead back, not the browser's bare error page.
	errorPage(t, b, s.base+"/agent/h/987654", "No encontrada", "main a[href='/agent']", "Volver a la consola",
		"the console's page for a conversation not found")
	errorPage(t, b, s.base+"/agent/xyz", "No encontrada", "main a[href='/agent']", "Volver a la consola",
		"the console's page for an unknown address")
	if out, err := runCmdIn(t, map[string]string{"ATIENDE_DATA_DIR": dataDir}, "clave-de-camila-ok\n",
		"agent", "add", "--username", "camila", "--name", "Camila Soto"); err != nil {
		t.Fatalf("agent add: %v %s", err, out)
	}
	agent := browsertest.Browser(t, 1280, 800)
	consoleSignIn(t, agent, s.base, "camila", "clave-de-camila-ok")
	browsertest.WaitText(t, agent, "main", "Fila de atención")
	errorPage(t, agent, s.base+"/agent/reports", "Sin permiso", "main", "Su rol no permite ver esta página.",
		"the console's page for a role without access")
	if err := chromedp.Do(b, chromedp.Navigate(s.base+"/agent/reports"), chromedp.WaitVisible("svg.chart")); err != nil {
		t.Fatal(err)
	}
	// Drawn, sized and coloured by console.css: nothing was blocked.
	drawn, err := chromedp.Run(b, chromedp.Evaluate[string](`(() => {
		const svgs = document.querySelectorAll("svg.chart"), bar = document.querySelector("svg.chart rect.s0");
		return svgs.length + " " + Math.round(svgs[0].getBoundingClientRect().width) + " " + getComputedStyle(bar).fill;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	var charts, width int
	var fill string
	fmt.Sscanf(drawn, "%d %d %s", &charts, &width, &fill)
	if charts != 6 || width < 600 || !strings.HasPrefix(fill, "rgb(10,") {
		t.Errorf("charts: %q, want 6 charts wider than 600 px, bars in the console's blue", drawn)
	}
	browsertest.Screenshot(t, b, "console-reports.png")
	if err := chromedp.Do(b, chromedp.Navigate(s.base+"/agent/reports#sin-respuesta"), chromedp.WaitVisible("table.groups")); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, b, "console-reports-unanswered.png")
}

// errorPage opens url and checks the console's error page: its title, a text in the element
// sel, and no accessibility violation (name says which page in the report).
func errorPage(t *testing.T, b context.Context, url, title, sel, text, name string) {
	t.Helper()
	if err := chromedp.Do(b, chromedp.Navigate(url), chromedp.WaitVisible("main")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "h1", title)
	browsertest.WaitText(t, b, sel, text)
	browsertest.Accessible(t, b, name)
}
