package events_test

import (
	"testing"
	"time"

	"github.com/atiende/atiende/events"
)

func TestHub(t *testing.T) {
	h := events.NewHub()
	a, cancelA := h.Subscribe("c1")
	b, cancelB := h.Subscribe("c1")
	other, cancelO := h.Subscribe("c2")
	defer cancelO()
	h.Publish("c1", events.Event{Type: "message", Text: "hola"})
	for _, ch := range []<-chan events.Event{a, b} {
		select {
		case e := <-ch:
			if e.Text != "hola" {
				t.Errorf("got %+v", e)
			}
		case <-time.After(time.Second):
			t.Fatal("no event")
		}
	}
	select {
	case e := <-other:
		t.Errorf("another conversation got %+v", e)
	default:
	}
	cancelA()
	cancelA() // twice is fine
	if n := h.Subscribers("c1"); n != 1 {
		t.Errorf("%d subscribers after cancel", n)
	}
	cancelB()
	// A full subscriber does not block the publisher.
	c, cancel := h.Subscribe("c3")
	defer cancel()
	for range 100 {
		h.Publish("c3", events.Event{Type: "message"})
	}
	if len(c) != cap(c) {
		t.Errorf("buffer %d of %d", len(c), cap(c))
	}
}

// TestCloseEndsSubscriptions: closing the hub ends the open subscriptions and those made
// after, twice is harmless, and a delivery after it reaches nobody.
func TestCloseEndsSubscriptions(t *testing.T) {
	h := events.NewHub()
	a, cancelA := h.Subscribe("c1")
	b, _ := h.Subscribe("c2")
	h.Close()
	for name, ch := range map[string]<-chan events.Event{"a": a, "b": b} {
		select {
		case _, ok := <-ch:
			if ok {
				t.Errorf("%s: an event after Close", name)
			}
		case <-time.After(time.Second):
			t.Errorf("%s: still open after Close", name)
		}
	}
	cancelA() // after Close: no panic
	h.Deliver("c1", events.Event{Type: "message"})
	late, cancel := h.Subscribe("c1")
	defer cancel()
	if _, ok := <-late; ok {
		t.Error("a subscription after Close is open")
	}
	h.Close() // twice: no panic
	if n := h.Subscribers("c1"); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
}
