package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/web/browsertest"
	"github.com/chromedp/chromedp"
)

func pageHas(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel)))
		if strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never appeared in %s; it shows:\n%s", want, sel, s)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// TestHandoffInTheBrowser: a citizen in the real web widget asks for a person; an agent in
// the real console signs in, claims and answers; the citizen sees the agent's words, marked
// with her first name; an HTML-looking message stays text in the console; after resolve the
// assistant answers again.
func TestHandoffInTheBrowser(t *testing.T) {
	dataDir := t.TempDir()
	s := startServerIn(t, dataDir, "ATIENDE_HOURS=1-7 00:00-24:00")
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
	pageHas(t, citizen, "#log", "lugar 1")

	if err := chromedp.Do(agent, chromedp.Navigate(s.base+"/agent/login"), chromedp.WaitVisible("#username")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(agent, chromedp.SendKeys("#username", "camila"), chromedp.SendKeys("#password", "otra-clave-segura"),
		chromedp.Click(`main button[type="submit"]`)); err != nil {
		t.Fatal(err)
	}
	pageHas(t, agent, "main", "pidió una persona")
	browsertest.Screenshot(t, agent, "console-queue.png")
	if err := chromedp.Do(agent, chromedp.Click(`//button[text()="Tomar"]`)); err != nil {
		t.Fatal(err)
	}
	pageHas(t, agent, "main", "Respuesta (llega al ciudadano")
	pageHas(t, agent, ".transcript", "quiero hablar con una persona")
	if err := chromedp.Do(agent, chromedp.SendKeys("#text", "Hola, soy Camila. ¿Qué trámite necesita?"), chromedp.Click(`form.reply button`)); err != nil {
		t.Fatal(err)
	}
	pageHas(t, citizen, "#log", "¿Qué trámite necesita?")
	pageHas(t, citizen, ".agent .who", "Camila")
	say(`<img src=x onerror="document.title='pwned'">`)
	pageHas(t, agent, ".transcript", "<img src=x onerror")
	if title, _ := chromedp.Run(agent, chromedp.Title()); title == "pwned" {
		t.Fatal("the console ran a citizen's HTML")
	}
	browsertest.Screenshot(t, agent, "console-conversation.png")
	browsertest.Screenshot(t, citizen, "widget-agent.png")
	if err := chromedp.Do(agent, chromedp.SendKeys("#note", "Orientación general"), chromedp.Click(`//button[contains(., "Cerrar y devolver")]`)); err != nil {
		t.Fatal(err)
	}
	pageHas(t, citizen, "#log", "vuelve a responderle")
	say("cuanto es la pgu")
	pageHas(t, citizen, "#log", "Pensión Garantizada Universal")
}
