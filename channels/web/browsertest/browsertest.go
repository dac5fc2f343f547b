// Package browsertest starts Debian's Chromium for the browser tests, through chromedp.
// Without Chromium the tests skip, except under CI=true, where they fail.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns Chromium's path, installing it with scripts/ensure-chromium.sh when it can.
func Chromium(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "..", "..", "..", "scripts", "ensure-chromium.sh")
	out, err := exec.Command(script).Output()
	path := strings.TrimSpace(string(out))
	if err != nil || path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required under CI=true: scripts/ensure-chromium.sh: %v", err)
		}
		t.Skipf("Chromium is not available (scripts/ensure-chromium.sh: %v); browser tests skipped", err)
	}
	return path
}

// shared is the one headless Chromium of the test process: each Browser is a tab of it in a
// browser context of its own (cookies, storage and cache apart, as in a profile of its own).
// A Chromium takes more than a second to start; a tab, a tenth of that.
var shared struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab: new ones open beside it
	cancel context.CancelFunc
	dir    string // its user data directory
	err    error
}

// Browser opens a tab of the test process's headless Chromium (started the first time), in a
// browser context of its own, with a viewport of width × height, and returns its context,
// ended (the tab and its browser context closed) with the test.
func Browser(t testing.TB, width, height int64) context.Context {
	t.Helper()
	path := Chromium(t)
	shared.once.Do(func() { start(path) })
	if shared.err != nil {
		t.Fatalf("starting Chromium: %v", shared.err)
	}
	ctx, cancelC := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// start starts the shared Chromium, with a first tab that stays open until Close.
func start(path string) {
	shared.dir, shared.err = os.MkdirTemp("", "atiende-chromium-")
	if shared.err != nil {
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1900), chromedp.UserDataDir(shared.dir))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	shared.ctx, shared.cancel = ctx, func() { cancelC(); cancelA() }
	shared.err = chromedp.Do(ctx) // no step: starts Chromium and its first tab
}

// Close ends the shared Chromium, if one started, and removes its profile: a package whose
// tests open browsers calls it from TestMain after the tests. (Were it not called, the
// kernel would still end Chromium with the test process: chromedp starts it with Pdeathsig.)
func Close() {
	if shared.cancel != nil {
		shared.cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

// Screenshot saves the page as a PNG in ATIENDE_SCREENSHOTS (a temporary directory when
// unset; "make screenshots" sets docs/img).
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("ATIENDE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeScript returns axe-core's script, installing it with scripts/ensure-axe.sh when it can.
func axeScript(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "..", "..", "..", "scripts", "ensure-axe.sh")
	out, err := exec.Command(script).Output()
	path := strings.TrimSpace(string(out))
	var src []byte
	if err == nil && path != "" {
		src, err = os.ReadFile(path)
	}
	if err != nil || len(src) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required under CI=true: scripts/ensure-axe.sh: %v", err)
		}
		t.Skipf("axe-core is not available (scripts/ensure-axe.sh: %v); accessibility check skipped", err)
	}
	return string(src)
}

// Violation is one rule axe-core finds broken on a page.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// Accessible runs axe-core (WCAG 2.1 A and AA rules, and its best practices) on the page the
// browser shows, and fails the test for each violation of impact moderate or worse.
func Accessible(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	src := axeScript(t)
	// Evaluated by the DevTools protocol, not by the page: the pages' Content-Security-Policy
	// (no inline or foreign script) does not apply to it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
		t.Fatalf("%s: loading axe-core: %v", page, err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => ["moderate", "serious", "critical"].includes(v.impact)).map(v =>
			({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: running axe-core: %v", page, err)
	}
	for _, v := range found {
		t.Errorf("%s: accessibility (%s, %s): %s — %v", page, v.Impact, v.ID, v.Help, v.Nodes)
	}
}

// Patience is how long WaitFor and WaitText wait for their condition before the test fails.
const Patience = 20 * time.Second

// WaitFor polls cond until it holds, and fails the test, naming what it waited for, when it
// has not held within Patience. A browser has no event the test can wait on for what a page
// shows: a poll, every 100 ms, is the wait.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitText waits until the element sel of the page ctx shows (innerText) want, and fails the
// test with what it shows, the last error and the page's address and start, when it never
// does.
func WaitText(t testing.TB, ctx context.Context, sel, want string) {
	t.Helper()
	js := fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel)
	s, err := Poll(ctx, js, func(s string) bool { return strings.Contains(s, want) })
	if !strings.Contains(s, want) {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerHTML.slice(0, 3000)`))
		t.Fatalf("%q never appeared in %s; it shows:\n%s\n(last error: %v; the page: %s)", want, sel, s, err, page)
	}
}

// Poll evaluates js, an expression whose value is a string, on the page ctx every 100 ms
// until ok holds for its value or Patience has passed, and returns the last value and the
// last evaluation's error. The text that announces a page can show while the page is still
// being replaced, and an evaluation then finds no context: a poll reads it again.
func Poll(ctx context.Context, js string, ok func(string) bool) (string, error) {
	deadline := time.Now().Add(Patience)
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if ok(s) || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
