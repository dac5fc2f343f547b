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

type probeArgs struct{}

func (probeArgs) Kind() string { return "probe" }

type probeWorker struct {
	river.WorkerDefaults[probeArgs]
	done chan struct{}
}

func (w *probeWorker) Work(context.Context, *river.Job[probeArgs]) error {
	close(w.done)
	return nil
}

// startAndProbe starts q (stopped at the end of the test) and reports whether w's job was
// worked within 10 s.
func startAndProbe(t *testing.T, q interface {
	Start(context.Context) error
	Stop(context.Context) error
}, w *probeWorker) bool {
	t.Helper()
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(ctx) })
	select {
	case <-w.done:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// TestSQLiteRescuesJobsLeftRunning: a job a killed process left running is worked at the
// next start, at once (it was once scheduled in a time format that sorted after the whole
// day, so it waited until midnight UTC).
func TestSQLiteRescuesJobsLeftRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the queue stops (startAndProbe)
	w := &probeWorker{done: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	cfg := queue.Config{Workers: workers, PollInterval: 20 * time.Millisecond}
	dead, err := queue.NewSQLite(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx store.Tx) error { return dead.InsertTx(ctx, tx, probeArgs{}, nil) }); err != nil {
		t.Fatal(err)
	}
	// The process that fetched it died: the row says running, attempted, by nobody alive.
	if _, err := db.SQL().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', 'subsec')`); err != nil {
		t.Fatal(err)
	}
	q, err := queue.NewSQLite(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !startAndProbe(t, q, w) {
		var state, at string
		db.SQL().QueryRowContext(ctx, `SELECT state, scheduled_at FROM river_job`).Scan(&state, &at)
		t.Fatalf("the job left running was not worked: state %s, scheduled_at %s", state, at)
	}
}
