// Package bottest has what the channels' tests need of an engine.
package bottest

import (
	"context"
	"time"

	"github.com/atiende/atiende/retrieval"
)

// SlowRetriever takes Delay to search, as a language model takes its time to write.
type SlowRetriever struct {
	*retrieval.Index
	Delay time.Duration
}

// Find waits Delay, then searches.
func (r SlowRetriever) Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found {
	time.Sleep(r.Delay)
	return r.Index.Find(ctx, q, k)
}
