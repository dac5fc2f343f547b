// Package bottest has what the channels' tests need of an engine.
package bottest

import (
	"context"
	"sync"
	"time"

	"github.com/atiende/atiende/retrieval"
)

// SlowRetriever takes Delay to search, as a language model takes its time to write. A test
// that must know when a turn is in the engine sets Entered and Release: each search then
// signals Entered as it begins (without blocking; a buffer of one is enough) and waits until
// Release is closed, so that the test, not a clock, decides how long the engine takes.
type SlowRetriever struct {
	*retrieval.Index
	Delay   time.Duration
	Entered chan<- struct{}
	Release <-chan struct{}
}

// Find signals Entered, waits for Release and Delay, then searches.
func (r SlowRetriever) Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found {
	if r.Entered != nil {
		select {
		case r.Entered <- struct{}{}:
		default:
		}
	}
	if r.Release != nil {
		select {
		case <-r.Release:
		case <-ctx.Done():
		}
	}
	time.Sleep(r.Delay)
	return r.Index.Find(ctx, q, k)
}

// Gate is a Release that the test opens once, at the latest after max (so that a test whose
// assertion fails still ends) or when the test ends.
func Gate(t interface{ Cleanup(func()) }, max time.Duration) (release <-chan struct{}, open func()) {
	ch := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	timer := time.AfterFunc(max, open)
	t.Cleanup(func() { timer.Stop(); open() })
	return ch, open
}
