package queue_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

type slowArgs struct{}

func (slowArgs) Kind() string { return "slow" }

// slowWorker takes hold long (zero: forever), unless its context ends first.
type slowWorker struct {
	river.WorkerDefaults[slowArgs]
	hold              time.Duration
	started, finished chan struct{}
	background        bool // the job's context was marked as background work
}

func (w *slowWorker) Work(ctx context.Context, _ *river.Job[slowArgs]) error {
	w.background = store.IsBackground(ctx)
	close(w.started)
	if w.hold == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	select {
	case <-time.After(w.hold):
		close(w.finished)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// outcomes is a worker middleware that counts the jobs that ended without an error.
type outcomes struct {
	river.MiddlewareDefaults
	ok atomic.Int32
}

func (o *outcomes) Work(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	if err == nil {
		o.ok.Add(1)
	}
	return err
}

// TestStopFinishesJobsInHand: cancelling the context Start got (SIGTERM) does not cancel a
// running job; Stop waits for it; a job that outlives Stop's context is cancelled and Stop
// says so.
func TestStopFinishesJobsInHand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		hold     time.Duration
		stopIn   time.Duration
		finishes bool
	}{
		{"job ends within the timeout", 400 * time.Millisecond, 5 * time.Second, true},
		{"job outlives the timeout", 0, 200 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atiende.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			w := &slowWorker{hold: tt.hold, started: make(chan struct{}), finished: make(chan struct{})}
			workers := river.NewWorkers()
			river.AddWorker(workers, w)
			mw := &outcomes{}
			q, err := queue.NewSQLite(ctx, db, queue.Config{Workers: workers, PollInterval: 20 * time.Millisecond, Middleware: []rivertype.Middleware{mw}})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.Tx(ctx, func(tx store.Tx) error { return q.InsertTx(ctx, tx, slowArgs{}, nil) }); err != nil {
				t.Fatal(err)
			}
			select {
			case <-w.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the job never started")
			}
			if !w.background {
				t.Error("the job's context is not marked as background work: its transactions would not yield to requests'")
			}
			cancel() // SIGTERM
			sctx, scancel := context.WithTimeout(context.Background(), tt.stopIn)
			defer scancel()
			err = q.Stop(sctx)
			if tt.finishes {
				if err != nil {
					t.Errorf("Stop: %v", err)
				}
				select {
				case <-w.finished:
				default:
					t.Error("Stop returned before the job finished")
				}
				if mw.ok.Load() != 1 {
					t.Errorf("middleware saw %d jobs end well, want 1", mw.ok.Load())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "cancelled at the stop timeout") {
				t.Errorf("Stop = %v, want the jobs cancelled at the timeout", err)
			}
		})
	}
}
