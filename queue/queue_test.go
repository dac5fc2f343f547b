package queue_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/riverqueue/river"
)

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

// TestSQLiteRescuesJobsLeftRunning: a job a killed process left running is worked at the
// next start, at once (it was once scheduled in a time format that sorted after the whole
// day, so it waited until midnight UTC).
func TestSQLiteRescuesJobsLeftRunning(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &probeWorker{done: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	cfg := queue.Config{Workers: workers, PollInterval: 20 * time.Millisecond}
	dead, err := queue.NewSQLite(ctx, db.SQL(), cfg)
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
	q, err := queue.NewSQLite(ctx, db.SQL(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		var state, at string
		db.SQL().QueryRowContext(ctx, `SELECT state, scheduled_at FROM river_job`).Scan(&state, &at)
		t.Fatalf("the job left running was not worked: state %s, scheduled_at %s", state, at)
	}
}
