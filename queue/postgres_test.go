package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/riverqueue/river"
)

// TestPostgresReplicaTakesBackItsJobs: a replica killed with jobs in hand and started again
// under the same ID works them at once; a job another replica holds is left to it (or to
// River's rescuer, minutes later).
func TestPostgresReplicaTakesBackItsJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the queue stops (startAndProbe)
	w := &probeWorker{done: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	cfg := queue.Config{Workers: workers, PollInterval: 20 * time.Millisecond, ID: "replica-a:8080"}
	dead, err := queue.NewPostgres(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.Tx(ctx, func(tx store.Tx) error { return dead.InsertTx(ctx, tx, probeArgs{}, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	// Both were fetched, one by this replica and one by another, and this one died.
	if _, err := db.Pool().Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = ARRAY[CASE WHEN id = (SELECT min(id) FROM river_job) THEN 'replica-a:8080' ELSE 'replica-b:8080' END]`); err != nil {
		t.Fatal(err)
	}
	q, err := queue.NewPostgres(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !startAndProbe(t, q, w) {
		t.Fatal("the job the replica held when it died was not worked at its restart")
	}
	// The worker has returned; River's completer records the job completed a moment later,
	// in a batch, and tells nothing outside the client: poll the row, with a deadline.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var completed int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&completed); err != nil {
			t.Fatal(err)
		}
		if completed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the job taken back was worked but not completed")
		}
	}
	var running []string
	rows, err := db.Pool().Query(ctx, `SELECT attempted_by[1] FROM river_job WHERE state = 'running'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var by string
		if err := rows.Scan(&by); err != nil {
			t.Fatal(err)
		}
		running = append(running, by)
	}
	if len(running) != 1 || running[0] != "replica-b:8080" {
		t.Fatalf("jobs still running: %v, want only the other replica's", running)
	}
}
