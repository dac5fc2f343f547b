package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/channels/web/browsertest"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestMain ends the browser the tests shared (browsertest.Browser) once they are done.
func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

func browser(t *testing.T, width, height int64) context.Context {
	return browsertest.Browser(t, width, height)
}

type site struct {
	// fail, while set, drops every POST to Atiende's server without an answer, as a lost
	// connection does.
	fail atomic.Bool
	// status, while set, answers every POST to Atiende's server with it and a page of HTML, as
	// a proxy in front of it does while the server restarts.
	status atomic.Int32
	// ended counts the event streams the server ended while the browser still held them
	// (StreamMax): each is followed by a reconnection.
	ended   atomic.Int64
	atiende *httptest.Server
	host    *httptest.Server
	store   *sqlite.DB
	hub     *events.Hub
}

// hostPage is a page of another site that embeds the widget, with styles that would wreck
// the widget if they reached it.
const hostPage = `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Municipalidad de Ejemplo</title>
<style>* { color: red !important; font-size: 28px !important; font-family: serif !important; } button { display: none !important; }</style></head>
<body><h1>Municipalidad de Ejemplo</h1><p><a href="#inicio">Inicio</a></p><p>Trámites municipales.</p>
%s</body></html>`

// newSite serves Atiende and a host page on two origins; the host's origin is allowed when
// allow is true.
func newSite(t *testing.T, allow bool, extraHost string) *site {
	t.Helper()
	loadIndex()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &site{store: db, hub: events.NewHub()}
	hostMux := http.NewServeMux()
	st.host = httptest.NewServer(hostMux)
	t.Cleanup(st.host.Close)
	var origins []string
	if allow {
		origins = []string{st.host.URL}
	}
	engine := bot.New(ix, nil)
	hs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, st.hub, events.NewHub(), nil)
	srv, err := web.New(web.Config[store.Tx]{Engine: engine, Store: db, Hub: st.hub, Origins: origins, StreamMax: 2 * time.Second,
		Core: newCore(t, db, engine, hs)})
	if err != nil {
		t.Fatal(err)
	}
	st.atiende = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := st.status.Load(); code != 0 && r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(int(code))
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return
		}
		if st.fail.Load() && r.Method == http.MethodPost {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		srv.ServeHTTP(w, r)
		// The request's context is cancelled after the handler returns, or before when the
		// browser leaves: not yet cancelled, the server ended the stream.
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/events") && r.Context().Err() == nil {
			st.ended.Add(1)
		}
	}))
	t.Cleanup(st.atiende.Close)
	hostMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		tag := fmt.Sprintf(`<script src="%s/widget.js" data-title="ChileAtiende" async></script>`, st.atiende.URL)
		fmt.Fprintf(w, hostPage, tag+strings.ReplaceAll(extraHost, "ATIENDE", st.atiende.URL))
	})
	return st
}

func (st *site) conversations(t *testing.T) []string {
	t.Helper()
	rows, err := st.store.SQL().Query(`SELECT id FROM conversations ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// reply is the stored reply of the site's only conversation, once it holds one question and
// its answer.
func (st *site) reply(t *testing.T) (atiende.Message, bool) {
	ids := st.conversations(t)
	if len(ids) != 1 {
		return atiende.Message{}, false
	}
	msgs, _ := st.store.Messages(context.Background(), ids[0], 0)
	if len(msgs) != 2 {
		return atiende.Message{}, false
	}
	return msgs[1], true
}

func screenshot(t *testing.T, ctx context.Context, name string) { browsertest.Screenshot(t, ctx, name) }

// inChat evaluates js, an expression whose value is a string, in the chat's frame (the page's
// first child frame), through the DevTools protocol: the widget's shadow root is closed, so
// the page's own scripts cannot reach the frame. "" while there is no frame.
func inChat(ctx context.Context, js string) string {
	s, _ := chromedp.Run(ctx, chromedp.Action[string](func(ctx context.Context, t *chromedp.Target) (string, error) {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil || tree.FrameTree == nil || len(tree.FrameTree.ChildFrames) == 0 {
			return "", err
		}
		w, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: tree.FrameTree.ChildFrames[0].Frame.ID})
		if err != nil {
			return "", err
		}
		byValue := true
		r, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: js, ContextID: w.ExecutionContextID, ReturnByValue: &byValue})
		if err != nil || r.Result == nil {
			return "", err
		}
		var out string
		err = json.Unmarshal(r.Result.Value, &out)
		return out, err
	}))
	return s
}

// chatReady waits until the chat's frame has loaded and its box to write in has the focus.
func chatReady(t *testing.T, ctx context.Context) {
	t.Helper()
	browsertest.WaitFor(t, "the chat open, its box focused", func() bool {
		return inChat(ctx, `String(document.hasFocus() && !!document.activeElement && document.activeElement.id === "text")`) == "true"
	})
}

// chatShows waits until the chat's conversation shows each of want.
func chatShows(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	browsertest.WaitFor(t, fmt.Sprintf("the chat to show %q", want), func() bool {
		log := inChat(ctx, `(document.querySelector("#log") || {}).innerText || ""`)
		for _, w := range want {
			if !strings.Contains(log, w) {
				return false
			}
		}
		return true
	})
}

// panelBox reads the top and bottom of the widget's panel, in CSS pixels.
func panelBox(ctx context.Context) (top, bottom float64, err error) {
	box, err := widgetBox(ctx, "panel")
	if err != nil {
		return 0, 0, err
	}
	return box[1], box[5], nil
}

// widgetBox reads the border box (x1 y1 … x4 y4, clockwise from the top left, in CSS pixels)
// of the element of the given class in the widget, through DevTools, which sees into the
// widget's closed shadow root as the page's scripts cannot.
func widgetBox(ctx context.Context, class string) ([]float64, error) {
	type node struct {
		NodeID      int64    `json:"nodeId"`
		Attributes  []string `json:"attributes"`
		Children    []*node  `json:"children"`
		ShadowRoots []*node  `json:"shadowRoots"`
	}
	box, err := chromedp.Run(ctx, chromedp.Action[[]float64](func(ctx context.Context, t *chromedp.Target) ([]float64, error) {
		var doc struct {
			Root *node `json:"root"`
		}
		if err := t.Call(ctx, "DOM.getDocument", map[string]any{"depth": -1, "pierce": true}, &doc); err != nil {
			return nil, err
		}
		var find func(n *node) *node
		find = func(n *node) *node {
			for i := 0; i+1 < len(n.Attributes); i += 2 {
				if n.Attributes[i] == "class" && n.Attributes[i+1] == class {
					return n
				}
			}
			for _, c := range append(n.Children, n.ShadowRoots...) {
				if f := find(c); f != nil {
					return f
				}
			}
			return nil
		}
		found := find(doc.Root)
		if found == nil {
			return nil, fmt.Errorf("the widget has no %s", class)
		}
		var res struct {
			Model struct {
				Border []float64 `json:"border"` // x1 y1 … x4 y4, clockwise from the top left
			} `json:"model"`
		}
		if err := t.Call(ctx, "DOM.getBoxModel", map[string]any{"nodeId": found.NodeID}, &res); err != nil {
			return nil, err
		}
		return res.Model.Border, nil
	}))
	if err == nil && len(box) != 8 {
		err = fmt.Errorf("the %s's box: %v", class, box)
	}
	return box, err
}

// TestWidgetEmbeddedOnAnotherSite loads a host page with hostile styles, opens the widget by
// keyboard, asks a question and gets the answer, all through the real widget and iframe.
func TestWidgetEmbeddedOnAnotherSite(t *testing.T) {
	for _, size := range []struct {
		w, h int64
		name string
	}{{1280, 800, "widget-1280.png"}, {360, 740, "widget-360.png"}} {
		t.Run(size.name, func(t *testing.T) {
			st := newSite(t, true, "")
			ctx := browser(t, size.w, size.h)
			err := chromedp.Do(ctx, chromedp.Navigate(st.host.URL), chromedp.WaitReady("body"))
			if err != nil {
				t.Fatal(err)
			}
			mounted := func() bool {
				ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("[data-atiende]")`))
				return ok
			}
			browsertest.WaitFor(t, "the launcher", mounted)
			// A target a thumb can hit: 44 px or more each way.
			if b, err := widgetBox(ctx, "launch"); err != nil || b[2]-b[0] < 44 || b[5]-b[1] < 44 {
				t.Errorf("the launcher's box %v (%v): want 44 × 44 px or more", b, err)
			}
			// Keyboard only: the link, then the launcher.
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t")); err != nil {
				t.Fatal(err)
			}
			onLauncher, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement && document.activeElement.hasAttribute("data-atiende")`))
			if !onLauncher {
				t.Fatal("Tab does not reach the launcher")
			}
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
				t.Fatal(err)
			}
			chatReady(t, ctx)
			if err := chromedp.Do(ctx, chromedp.KeyEvent("cuanto es la pgu"), chromedp.KeyEvent("\r")); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, "the answer to be stored", func() bool {
				r, ok := st.reply(t)
				return ok && r.Action == "answer"
			})
			chatShows(t, ctx, "Pensión Garantizada Universal", "Ver ficha oficial")
			// On a phone the chat is a sheet over the whole screen, the launcher hidden; on a
			// desktop a panel beside the page, which stays reachable.
			covers, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`[[2, 2], [innerWidth - 2, innerHeight - 2], [2, innerHeight - 2]].every(([x, y]) => {
				const e = document.elementFromPoint(x, y);
				return !!e && e.hasAttribute("data-atiende");
			})`))
			if phone := size.w <= 480; covers != phone {
				t.Errorf("at %d px the chat covers the screen: %v", size.w, covers)
			}
			screenshot(t, ctx, size.name)
			if size.w > 480 {
				optionsAndFailedSend(t, ctx, st, size.w)
				return
			}
			// The on-screen keyboard takes the lower part of the screen: the visual viewport
			// shrinks (here by the emulated screen's height), and the sheet follows it, so the
			// box to write in and the newest messages stay above the keyboard.
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, 400)); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, "the sheet to fit above the keyboard", func() bool {
				vh, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`visualViewport.height`))
				top, bottom, err := panelBox(ctx)
				return err == nil && vh <= 401 && top >= -1 && bottom <= vh+1 && bottom-top >= vh-2
			})
			screenshot(t, ctx, "widget-360-keyboard.png")
			// The keyboard down again: the sheet takes the whole screen back.
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, "the sheet to fill the screen", func() bool {
				top, bottom, err := panelBox(ctx)
				return err == nil && top >= -1 && bottom >= float64(size.h)-2
			})
			optionsAndFailedSend(t, ctx, st, size.w)
		})
	}
}

// optionsAndFailedSend asks, in the embedded chat that has the focus, what offers options to
// choose from, then loses a send, and saves both at the page's width w.
func optionsAndFailedSend(t *testing.T, ctx context.Context, st *site, w int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent("certificado"), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, "the options", func() bool {
		return strings.Contains(inChat(ctx, `(document.querySelector(".opts") || {}).innerText || ""`), "Certificado de")
	})
	screenshot(t, ctx, fmt.Sprintf("widget-options-%d.png", w))
	st.fail.Store(true)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("certificado de nacimiento"), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, "the failed send and «Reintentar»", func() bool {
		return inChat(ctx, `String(!!document.querySelector(".me[data-state=failed]") && !!document.querySelector("button.retry"))`) == "true" &&
			strings.Contains(inChat(ctx, `(document.querySelector(".err") || {}).innerText || ""`), "Su mensaje no se perdió")
	})
	browsertest.WaitFor(t, "the failed message in view", func() bool {
		return inChat(ctx, `(() => { const l = document.getElementById("log"); return String(l.scrollTop + l.clientHeight >= l.scrollHeight - 2); })()`) == "true"
	})
	screenshot(t, ctx, fmt.Sprintf("widget-failed-send-%d.png", w))
	st.fail.Store(false)
}

// demoPage opens / as a newcomer does after make run, and waits for the widget's launcher.
func demoPage(t *testing.T, ctx context.Context, st *site) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(st.atiende.URL+"/"), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, "the launcher on the demo page", func() bool {
		ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("[data-atiende]")`))
		return ok
	})
}

// TestDemoPage opens / exactly as a newcomer does after make run: the widget is served by the
// same origin (no Origin header on its check), the launcher appears, opens, and answers.
func TestDemoPage(t *testing.T) {
	for _, size := range []struct{ w, h int64 }{{1280, 800}, {360, 740}} {
		t.Run(fmt.Sprint(size.w), func(t *testing.T) {
			st := newSite(t, false, "")
			ctx := browser(t, size.w, size.h)
			demoPage(t, ctx, st)
			screenshot(t, ctx, fmt.Sprintf("demo-%d-launcher.png", size.w))
			// The launcher is the page's first focusable element (its links are none).
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r")); err != nil {
				t.Fatal(err)
			}
			chatReady(t, ctx)
			if err := chromedp.Do(ctx, chromedp.KeyEvent("cuanto es la pgu"), chromedp.KeyEvent("\r")); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, "the answer to be stored", func() bool {
				r, ok := st.reply(t)
				return ok && r.Action == "answer" && strings.Contains(r.Text, "Pensión Garantizada Universal")
			})
			// The newcomer sees it: the answer card with its button, in the chat.
			chatShows(t, ctx, "Pensión Garantizada Universal", "Ver ficha oficial")
			screenshot(t, ctx, fmt.Sprintf("demo-%d.png", size.w))
			if size.w >= 960 {
				// On a wide screen the open chat covers none of the page's text (the emergency
				// numbers are in it): no point of it hits the widget.
				covered, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
					const out = [];
					for (const el of document.querySelectorAll("main > *")) {
						const r = document.createRange();
						r.selectNodeContents(el);
						for (const b of r.getClientRects()) {
							for (const x of [b.left + 1, (b.left + b.right) / 2, b.right - 1]) {
								const hit = document.elementFromPoint(x, (b.top + b.bottom) / 2);
								if (hit && hit.closest("[data-atiende]")) { out.push(el.textContent.trim().slice(0, 40)); }
							}
						}
					}
					return out;
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				if len(covered) > 0 {
					t.Errorf("the open chat covers the page's text: %q", covered)
				}
			}
		})
	}
}

// TestWidgetRefusedOnAnOriginNotAllowed: the launcher is not drawn, and a page that frames the
// chat itself is refused by the browser: no session starts.
func TestWidgetRefusedOnAnOriginNotAllowed(t *testing.T) {
	st := newSite(t, false, `<iframe id="sneaky" src="ATIENDE/widget/frame" title="x"></iframe>
<script>fetch("ATIENDE/api/v1/chat/sessions", {method: "POST", body: "{}"}).then(r => document.title = "status " + r.status, e => document.title = "blocked");</script>`)
	ctx := browser(t, 1280, 800)
	// A negative (no launcher) is settled once widget.js has decided: it says so in the
	// console when the check is refused or fails, which the page records here.
	record := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__warned = []; const warn = console.warn; console.warn = (...a) => { window.__warned.push(a.join(" ")); warn(...a); };`})
		return err
	})
	if err := chromedp.Do(ctx, record, chromedp.Navigate(st.host.URL), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, "widget.js to decide, and the page's own request to end", func() bool {
		done, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.__warned || []).some(w => w.startsWith("Atiende:")) && (document.title === "blocked" || document.title.startsWith("status"))`))
		return done
	})
	mounted, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("[data-atiende]")`))
	if mounted {
		t.Error("the launcher was drawn on an origin not allowed")
	}
	if ids := st.conversations(t); len(ids) != 0 {
		t.Errorf("%d sessions started from an origin not allowed", len(ids))
	}
	// The server refuses the session itself, whatever the browser lets through.
	req, _ := http.NewRequest("POST", st.atiende.URL+"/api/v1/chat/sessions", strings.NewReader("{}"))
	req.Header.Set("Origin", st.host.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("session from a foreign origin: %d", resp.StatusCode)
	}
}

// frame opens the chat page itself, as the iframe shows it.
func frame(t *testing.T, ctx context.Context, st *site) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(st.atiende.URL+"/widget/frame?title=ChileAtiende"), chromedp.WaitVisible("#text")); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// send types a message and presses Enter, once the previous reply has arrived: the widget
// ignores Enter while it waits for one (its typing indicator shows).
func send(t *testing.T, ctx context.Context, msg string) {
	t.Helper()
	browsertest.WaitFor(t, "the previous reply", func() bool {
		idle, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("typing").hidden`))
		return idle
	})
	if err := chromedp.Do(ctx, chromedp.Focus("#text"), chromedp.SendKeys("#text", msg), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
}

// TestWidgetConversation: answer with its ficha card, clarification by button, follow-up,
// reload keeps the conversation, an agent's message arrives live after the stream drops,
// and text that looks like HTML stays text.
func TestWidgetConversation(t *testing.T) {
	st := newSite(t, true, "")
	ctx := browser(t, 420, 760)
	frame(t, ctx, st)
	send(t, ctx, "certificado")
	browsertest.WaitText(t, ctx, ".opts", "Certificado de")
	screenshot(t, ctx, "widget-options.png")
	// The options are buttons, not listed again in the text.
	if listed, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#log .msg.bot")].pop().innerText`)); strings.Contains(listed, "1. Certificado") {
		t.Errorf("the options are listed in the text as well as shown as buttons: %q", listed)
	}
	// The first option, whichever it is: picking it gives its card.
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".opts button").textContent.replace(/^\d+\. /, "")`))
	if err != nil || first == "" {
		t.Fatalf("first option: %q %v", first, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(".opts button")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, ".msg.bot .title", first)
	send(t, ctx, "cuanto es la pgu")
	browsertest.WaitText(t, ctx, "#log", "Pensión Garantizada Universal")
	browsertest.WaitText(t, ctx, "#log", "vigente desde")
	// An answer card: the title and the figure in bold, the official page a button inside the
	// bubble that opens in a new tab, on screen, and the ficha's other sections as quick replies.
	lastBot := func(js string) string {
		v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const m = [...document.querySelectorAll("#log .msg.bot")].pop(); return m ? `+js+` : ""; })()`))
		return v
	}
	browsertest.WaitFor(t, "the amount in bold", func() bool {
		return strings.HasPrefix(lastBot(`(m.querySelector(".figure") || {}).textContent || ""`), "$")
	})
	var official string
	browsertest.WaitFor(t, "the official page's button on screen", func() bool {
		official, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const a = [...document.querySelectorAll("#log .msg.bot a.official")].pop();
			if (!a) return "";
			const r = a.getBoundingClientRect(), log = document.getElementById("log").getBoundingClientRect();
			const seen = r.top >= log.top && r.bottom <= log.bottom;
			return a.href + " " + a.target + " " + a.rel + " " + (seen ? "on-screen" : "off-screen");
		})()`))
		return strings.HasSuffix(official, "on-screen")
	})
	if !strings.HasPrefix(official, "https://") || !strings.Contains(official, " _blank noopener noreferrer ") {
		t.Errorf("the official page's button: %q", official)
	}
	if strings.Contains(lastBot(`m.innerText`), "Más información:") {
		t.Error("the answer still spells the address out")
	}
	browsertest.WaitText(t, ctx, ".chips", "Requisitos")
	browsertest.WaitText(t, ctx, ".chips", "Hablar con una persona")
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const b = [...document.querySelectorAll(".chips button")].find(b => b.textContent === "Requisitos");
		if (b) b.click();
		return !!b;
	})()`)); err != nil || !ok {
		t.Fatalf("the Requisitos quick reply: %v %v", ok, err)
	}
	browsertest.WaitText(t, ctx, "#log", "65 años")
	browsertest.WaitText(t, ctx, "#log", "¿Cuáles son los requisitos?")
	send(t, ctx, "y los requisitos?")
	browsertest.WaitText(t, ctx, "#log", "65 años")
	// Only the last answer's quick replies are offered.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".chips").length`)); n > 1 {
		t.Errorf("%d sets of quick replies on screen", n)
	}
	// "hay otros beneficios?" after the PGU's answer offers others to choose from, not the
	// same answer again.
	answers := func() int {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#log a.official").length`))
		return n
	}
	browsertest.WaitFor(t, "the answer to «y los requisitos?», the fifth message", func() bool {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".me[data-state=sent]").length`))
		return n == 5
	})
	before := answers()
	send(t, ctx, "hay otros beneficios?")
	browsertest.WaitText(t, ctx, ".opts", "1.")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".opts button").length`)); n < 2 || answers() != before {
		t.Errorf("after «hay otros beneficios?»: %d options, %d answer cards (was %d)", n, answers(), before)
	}
	send(t, ctx, `<img src=x onerror="document.title='pwned'">`)
	browsertest.WaitText(t, ctx, "#log", "<img src=x")
	if title, _ := chromedp.Run(ctx, chromedp.Title()); title == "pwned" {
		t.Fatal("a message was injected as HTML")
	}
	imgs, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#log img").length`))
	if imgs != 0 {
		t.Errorf("%d img elements in the log", imgs)
	}
	// Reload: the conversation is still there.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible("#text")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#log", "y los requisitos?")
	browsertest.WaitText(t, ctx, "#log", "Pensión Garantizada Universal")
	// An agent writes; the stream (closed by the server every 2 s in this test) reconnects and
	// delivers it, marked with the agent's first name.
	ids := st.conversations(t)
	if len(ids) != 1 {
		t.Fatalf("%d conversations", len(ids))
	}
	// Past one forced reconnection: the server ends the stream (its subscription with it),
	// and the widget subscribes again.
	ended := st.ended.Load()
	browsertest.WaitFor(t, "the server to end the event stream", func() bool { return st.ended.Load() > ended })
	browsertest.WaitFor(t, "the event stream to reconnect", func() bool { return st.hub.Subscribers(ids[0]) > 0 })
	st.hub.Publish(ids[0], events.Event{Type: "message", From: "agent", Name: "María", Text: "Hola, soy María. Reviso su caso."})
	browsertest.WaitText(t, ctx, "#log", "Reviso su caso")
	browsertest.WaitText(t, ctx, ".agent .who", "María")
	st.hub.Publish(ids[0], events.Event{Type: "message", From: "agent", Name: "María", Text: "Vea https://www.ips.gob.cl/pgu."})
	browsertest.WaitText(t, ctx, ".agent a", "https://www.ips.gob.cl/pgu")
	browsertest.Accessible(t, ctx, "the chat with an agent's messages")
}

// TestWidgetKeyboardAndLabels: every control is reached by Tab in order, has a name, the log is
// a live region, and each message says who speaks.
func TestWidgetKeyboardAndLabels(t *testing.T) {
	st := newSite(t, true, "")
	ctx := browser(t, 360, 740)
	frame(t, ctx, st)
	send(t, ctx, "bono")
	browsertest.WaitText(t, ctx, ".opts", "1.")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.blur(), true`)); err != nil {
		t.Fatal(err)
	}
	var order []string
	for range 12 {
		chromedp.Do(ctx, chromedp.KeyEvent("\t"))
		id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(e){return e.id || (e.tagName + ":" + e.textContent.slice(0,20))})(document.activeElement)`))
		order = append(order, id)
	}
	joined := strings.Join(order, " | ")
	for _, want := range []string{"new", "close", "log", "BUTTON:1.", "text", "send", "person"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Tab never reaches %s: %s", want, joined)
		}
	}
	unnamed, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("button, textarea, a")).filter(e =>
		!(e.getAttribute("aria-label") || e.textContent.trim() || (e.id && document.querySelector("label[for='" + e.id + "']")))).length`))
	if unnamed != 0 {
		t.Errorf("%d controls without a label", unnamed)
	}
	live, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("log").getAttribute("aria-live")`))
	if live != "polite" {
		t.Errorf("log aria-live = %q", live)
	}
	// A screen reader hears who says each message: the citizen's and the assistant's bubbles
	// start with a label only it reads.
	who, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#log .msg.me, #log .msg.bot")].map(m => {
		const s = m.firstElementChild;
		return s && s.className === "sr" && s.getBoundingClientRect().width <= 1 ? s.textContent : "none";
	}).join("|")`))
	if !strings.Contains(who, "Usted: ") || !strings.Contains(who, "Asistente: ") || strings.Contains(who, "none") {
		t.Errorf("who speaks, per message: %q", who)
	}
	overflow, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if overflow {
		t.Error("the chat overflows a 360 px screen sideways")
	}
	// «Nueva conversación» starts afresh: the old messages go, the next question opens a new
	// session.
	if err := chromedp.Do(ctx, chromedp.Click("#new")); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#log .msg.me").length`)); n != 0 {
		t.Errorf("%d of the citizen's messages left after «Nueva conversación»", n)
	}
	send(t, ctx, "cuanto es la pgu")
	browsertest.WaitFor(t, "a second conversation", func() bool { return len(st.conversations(t)) == 2 })
}

// TestWidgetNeverLosesAWord: messages written while a reply is on its way are sent in order,
// each answered once; one that cannot be sent stays, marked, with «Reintentar», and is
// answered once when resent.
func TestWidgetNeverLosesAWord(t *testing.T) {
	st := newSite(t, true, "")
	ctx := browser(t, 420, 760)
	frame(t, ctx, st)
	texts := []string{"cuanto es la pgu", "y los requisitos?", "y el monto?"}
	for _, m := range texts {
		if err := chromedp.Do(ctx, chromedp.Focus("#text"), chromedp.SendKeys("#text", m), chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
	}
	inbound := func() []string {
		ids := st.conversations(t)
		if len(ids) != 1 {
			return nil
		}
		msgs, _ := st.store.Messages(context.Background(), ids[0], 0)
		var in []string
		for _, m := range msgs {
			if m.Direction == atiende.Inbound {
				in = append(in, m.Text)
			}
		}
		return in
	}
	browsertest.WaitFor(t, "the three messages, in order", func() bool { return strings.Join(inbound(), "|") == strings.Join(texts, "|") })
	browsertest.WaitFor(t, "three answers shown", func() bool {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".me[data-state=sent]").length`))
		return n == 3
	})
	browsertest.WaitText(t, ctx, "#log", "65 años")

	// The connection drops: the text stays, marked, with a Spanish explanation.
	st.fail.Store(true)
	send(t, ctx, "certificado de nacimiento")
	browsertest.WaitText(t, ctx, ".me[data-state=failed]", "No se envió")
	browsertest.WaitText(t, ctx, ".err", "Su mensaje no se perdió")
	browsertest.WaitFor(t, "the log scrolled to the failed message", func() bool {
		at, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const l = document.getElementById("log"); return l.scrollTop + l.clientHeight >= l.scrollHeight - 2; })()`))
		return at
	})
	screenshot(t, ctx, "widget-failed-send.png")
	browsertest.Accessible(t, ctx, "the chat with a failed send and «Reintentar»")
	// Only the conversation scrolls: the page itself (header, text box) stays in place, however
	// long the conversation (screen-reader labels once pushed the page down).
	if still, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollHeight <= innerHeight + 1 && document.scrollingElement.scrollTop === 0`)); !still {
		t.Error("the chat's page scrolls with the conversation")
	}
	st.fail.Store(false)
	clickRetry(t, ctx)
	browsertest.WaitFor(t, "the resent message, stored once", func() bool {
		in := inbound()
		return len(in) == 4 && in[3] == "certificado de nacimiento"
	})
	browsertest.WaitText(t, ctx, "#log", "Certificado de nacimiento")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".me[data-state=failed], button.retry").length`)); n != 0 {
		t.Errorf("%d failed marks left after the resend", n)
	}

	// A proxy answers for the server, in HTML: the citizen is told in Spanish, and the text
	// stays for «Reintentar».
	st.status.Store(http.StatusBadGateway)
	send(t, ctx, "cuanto cuesta el pasaporte")
	browsertest.WaitText(t, ctx, ".me[data-state=failed]", "No se envió")
	browsertest.WaitText(t, ctx, ".err", "Su mensaje no se perdió")
	st.status.Store(0)
	clickRetry(t, ctx)
	browsertest.WaitFor(t, "the message resent after the proxy's error", func() bool {
		in := inbound()
		return len(in) == 5 && in[4] == "cuanto cuesta el pasaporte"
	})
}

// clickRetry presses «Reintentar» as a finger would, once the conversation has stopped
// scrolling: the log scrolls smoothly, and a click aimed while it moves can land beside the
// button (CI saw it: the resend never left). The button removes itself when pressed; while it
// is still there, the press did not land, and it is pressed again.
func clickRetry(t *testing.T, ctx context.Context) {
	t.Helper()
	atRest := `(() => { const l = document.getElementById("log"); return l.scrollTop + l.clientHeight >= l.scrollHeight - 2; })()`
	browsertest.WaitFor(t, "«Reintentar» pressed", func() bool {
		if still, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("button.retry")`)); !still {
			return true
		}
		if rest, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](atRest)); rest {
			if err := chromedp.Do(ctx, chromedp.Click("button.retry", chromedp.NodeVisible)); err != nil {
				t.Fatal(err)
			}
		}
		return false
	})
}

// TestAccessibility: axe-core finds no violation of impact moderate or worse on the demo page
// and in the chat with an answer card, its quick replies and options, at phone and desktop
// sizes.
func TestAccessibility(t *testing.T) {
	st := newSite(t, false, "")
	ctx := browser(t, 1280, 800)
	demoPage(t, ctx, st)
	browsertest.Accessible(t, ctx, "the demo page")
	phone := browser(t, 360, 740)
	frame(t, phone, st)
	browsertest.Accessible(t, phone, "the chat, new")
	send(t, phone, "cuanto es la pgu")
	browsertest.WaitText(t, phone, ".chips", "Requisitos")
	send(t, phone, "certificado")
	browsertest.WaitText(t, phone, ".opts", "Certificado de")
	browsertest.Accessible(t, phone, "the chat with an answer card and options")
}
