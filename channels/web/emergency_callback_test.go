package web_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

// TestEmergencyWhileWaitingForCallback: out of hours a citizen asked for a person (a
// callback handoff is open); a message that is then an emergency still gets the emergency
// lines, not only the callback's notice.
func TestEmergencyWhileWaitingForCallback(t *testing.T) {
	loadIndex()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sunday := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC) // closed
	hs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.DefaultHours(time.UTC, nil), Now: func() time.Time { return sunday }},
		events.NewHub(), events.NewHub(), nil)
	engine := bot.New(ix, nil)
	b := setup(t, func(c *web.Config[store.Tx]) { c.Engine, c.Store, c.Core = engine, db, newCore(t, db, engine, hs) })
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	code, out := b.do(t, "POST", path, token, msg("quiero hablar con una persona"))
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, out)
	}
	h, err := db.Handoffs(context.Background(), id)
	if err != nil || len(h) != 1 || h[0].Status != atiende.HandoffCallback {
		t.Fatalf("handoffs %+v %v; want one callback (reply %v)", h, err, out)
	}
	code, out = b.do(t, "POST", path, token, msg("me quiero matar"))
	if code != http.StatusOK || out["action"] != bot.ActionEmergency {
		t.Fatalf("%d %v", code, out)
	}
	if reply, _ := out["reply"].(string); !strings.Contains(reply, "*4141") {
		t.Errorf("emergency while a callback is open: reply %q has no emergency line", reply)
	}
}
