package store

import (
	"context"
	"testing"
	"time"
)

func TestLanesBoundBackgroundWorkOnly(t *testing.T) {
	l := NewLanes(2)
	bg := Background(context.Background())
	r1, err := l.Enter(bg)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := l.Enter(bg)
	if err != nil {
		t.Fatal(err)
	}
	// A request is never held, however many jobs hold lanes.
	for range 10 {
		r, err := l.Enter(context.Background())
		if err != nil {
			t.Fatalf("a request waited for a lane: %v", err)
		}
		defer r()
	}
	// A third job waits until one gives its lane back, or its context ends.
	short, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Enter(short); err == nil {
		t.Fatal("a third job entered two lanes")
	}
	entered := make(chan struct{})
	go func() {
		r, err := l.Enter(bg)
		if err == nil {
			r()
			close(entered)
		}
	}()
	select {
	case <-entered:
		t.Fatal("a third job entered before a lane was given back")
	case <-time.After(20 * time.Millisecond):
	}
	r1()
	select {
	case <-entered:
	case <-time.After(time.Second):
		t.Fatal("a job waited although a lane was given back")
	}
	r2()
	if !IsBackground(bg) || IsBackground(context.Background()) {
		t.Fatal("IsBackground misreads the mark")
	}
	var none *Lanes
	if r, err := none.Enter(bg); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
}
