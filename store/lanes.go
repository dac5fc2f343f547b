package store

import "context"

// Requests come first. A webhook waits for its transaction before Twilio gets its
// acknowledgement, and a web chat turn before the citizen sees the answer; a job (a turn
// of SMS or WhatsApp, a delivery) is already safe in the database and can wait a little.
// When hundreds of jobs run at once they would otherwise take every connection, and a
// request would queue behind them all (docs/performance.md).

type backgroundKey struct{}

// Background marks ctx as the context of background work: the queue marks every job's.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx is background work's.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

// Lanes bounds how many transactions of background work run (or wait for a connection) at
// once, leaving the rest of the pool to requests, which it does not bound. Waiting
// background transactions go in the order they came.
type Lanes struct {
	background chan struct{}
}

// NewLanes lets n background transactions (at least one) run at once.
func NewLanes(n int) *Lanes { return &Lanes{background: make(chan struct{}, max(n, 1))} }

// Enter waits for a lane when ctx is background work's; release gives it back.
func (l *Lanes) Enter(ctx context.Context) (release func(), err error) {
	if l == nil || !IsBackground(ctx) {
		return func() {}, nil
	}
	select {
	case l.background <- struct{}{}:
		return func() { <-l.background }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
