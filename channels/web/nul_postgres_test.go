package web_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres"
	"github.com/atiende/atiende/store/postgres/pgtest"
)

// TestNULRefusedOnPostgres: a NUL in the text, which Postgres cannot store, is a 400 there as on
// SQLite (TestBadRequests), not a 500; the next message of the session is answered (issue 17).
func TestNULRefusedOnPostgres(t *testing.T) {
	loadIndex()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	engine := bot.New(ix, nil)
	hs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, events.NewHub(), events.NewHub(), nil)
	s, err := web.New(web.Config[store.Tx]{Engine: engine, Store: db, Core: newCore(t, db, engine, hs)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	b := &bundle{srv: srv, store: db}
	id, token := b.session(t)
	path := "/api/v1/chat/sessions/" + id + "/messages"
	if code, out := b.do(t, "POST", path, token, []byte(`{"text":"hola\u0000pgu"}`)); code != 400 {
		t.Errorf("a NUL on Postgres: %d %v", code, out)
	}
	if code, out := b.do(t, "POST", path, token, msg("cuanto es la pgu")); code != 200 || out["action"] != "answer" {
		t.Errorf("the next message: %d %v", code, out)
	}
}
