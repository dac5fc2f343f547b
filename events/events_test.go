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

// TestHubClose: closing the hub ends the open subscriptions and those made after, and a
// publish after it reaches nobody without panicking.
func TestHubClose(t *testing.T) {
	h := events.NewHub()
	sub, cancel := h.Subscribe("c1")
	h.Close()
	if _, ok := <-sub; ok {
		t.Error("an open subscription got an event instead of its end")
	}
	cancel()
	late, cancel2 := h.Subscribe("c1")
	defer cancel2()
	if _, ok := <-late; ok {
		t.Error("a subscription after Close is open")
	}
	h.Publish("c1", events.Event{Type: "message"})
	if n := h.Subscribers("c1"); n != 0 {
		t.Errorf("Subscribers = %d after Close", n)
	}
}
