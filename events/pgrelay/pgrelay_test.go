package pgrelay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/events/pgrelay"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// replica is one process's hub relayed through its own pool.
func replica(t *testing.T, ctx context.Context, url string) *events.Hub {
	t.Helper()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := pgrelay.New(pool, nil)
	hub := r.Hub("atiende_test_console")
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return hub
}

func receive(t *testing.T, ch <-chan events.Event) events.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return events.Event{}
	}
}

func TestEventsReachEveryReplicaOnce(t *testing.T) {
	url := pgtest.Database(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := replica(t, ctx, url), replica(t, ctx, url)
	onA, stopA := a.Subscribe("conv-1")
	defer stopA()
	onB, stopB := b.Subscribe("conv-1")
	defer stopB()
	a.Publish("conv-1", events.Event{ID: 7, Type: "message", From: "agent", Name: "Ana", Text: "Hola, soy Ana. ¿En qué le ayudo?"})
	for _, ch := range []<-chan events.Event{onA, onB} {
		if e := receive(t, ch); e.ID != 7 || e.Name != "Ana" || !strings.Contains(e.Text, "¿En qué") {
			t.Errorf("got %+v", e)
		}
	}
	// Once each: the publishing replica hears its own NOTIFY and does not also deliver directly.
	// Postgres delivers notifications in commit order, so a second event, published by B after
	// A's, comes after any copy of the first: the next event on each stream must be it.
	b.Publish("conv-1", events.Event{ID: 8, Type: "message", From: "agent", Name: "Ana", Text: "¿Sigue ahí?"})
	for name, ch := range map[string]<-chan events.Event{"A": onA, "B": onB} {
		if e := receive(t, ch); e.ID != 8 {
			t.Errorf("on %s, event %d came again before event 8: %+v", name, e.ID, e)
		}
	}
	if len(onA) != 0 || len(onB) != 0 {
		t.Errorf("duplicates: %d on A, %d on B", len(onA), len(onB))
	}
	// An event over the NOTIFY limit still reaches this replica's own streams.
	a.Publish("conv-1", events.Event{Type: "message", Text: strings.Repeat("a", 9000)})
	if e := receive(t, onA); len(e.Text) != 9000 {
		t.Errorf("large event: %d bytes", len(e.Text))
	}
}
