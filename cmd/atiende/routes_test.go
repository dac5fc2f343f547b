package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/handoff/console"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite testdata/routes.txt from the routes served")

// TestRouteList: testdata/routes.txt lists every route of the process — the web chat's,
// and those of every mount of routes.go — with the format its errors take. A route added
// or removed without it fails here; `go test ./cmd/atiende -run TestRouteList -update`
// rewrites it.
func TestRouteList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ix, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	consoles := events.NewHub()
	handoffs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, events.NewHub(), consoles, nil)
	agents, err := console.New(console.Config[store.Tx]{Store: db, Handoffs: handoffs, Catalogue: ix, Console: consoles})
	if err != nil {
		t.Fatal(err)
	}
	ms := mounts(nil, agents, nil) // the Twilio routes are the same without the channel
	engine := bot.New(ix, nil)
	core, err := conversation.New(conversation.Config[store.Tx]{Store: db, Engine: engine, Handoffs: handoffs})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config[store.Tx]{Engine: engine, Store: db, Core: core, Mounts: ms, Metrics: newMetrics().handler()})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintln(&b, "# Every route of `atiende serve`, as served; `go test ./cmd/atiende -run TestRouteList -update`")
	fmt.Fprintln(&b, "# rewrites this file. Errors (httperr) are answered as the surface of the path says")
	fmt.Fprintln(&b, "# (routes.go): /agent/... with the console's page (reports.json with JSON),")
	fmt.Fprintln(&b, "# /webhooks/twilio/... with an empty TwiML, the rest with JSON {\"error\": \"...\"}.")
	routes := srv.Routes()
	sort.Slice(routes, func(i, j int) bool {
		return routes[i].Path < routes[j].Path || routes[i].Path == routes[j].Path && routes[i].Method < routes[j].Method
	})
	for _, r := range routes {
		fmt.Fprintf(&b, "%-4s %s\n", r.Method, r.Path)
	}
	golden := filepath.Join("testdata", "routes.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the routes served differ from %s (run with -update if the change is meant):\n--- served\n%s--- listed\n%s", golden, got, want)
	}
}
