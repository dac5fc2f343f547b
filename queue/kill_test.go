package queue_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/riverqueue/river"
)

// The kill tests run this test binary again as a process that holds a job, and kill it.
// The environment tells the child what to open: holdEnv names the store ("sqlite:PATH" or
// "postgres:URL"), the others the replica ID and the queue of the job.
const (
	holdEnv      = "QUEUE_TEST_HOLD"
	holdIDEnv    = "QUEUE_TEST_HOLD_ID"
	holdQueueEnv = "QUEUE_TEST_HOLD_QUEUE"
)

func TestMain(m *testing.M) {
	if where := os.Getenv(holdEnv); where != "" {
		os.Exit(hold(where, os.Getenv(holdIDEnv), os.Getenv(holdQueueEnv)))
	}
	os.Exit(m.Run())
}

type holdArgs struct{}

func (holdArgs) Kind() string { return "hold" }

// holdWorker reports each job it starts on started, then works it until its context ends
// (pass nil to release, then block: the job's context ends at the stop).
type holdWorker struct {
	river.WorkerDefaults[holdArgs]
	started chan<- int64
	release <-chan struct{}
}

func (w *holdWorker) Work(ctx context.Context, job *river.Job[holdArgs]) error {
	w.started <- job.ID
	select {
	case <-w.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hold is the child process: it enqueues one hold job on queue name, works it, prints
// "working ID" and waits to be killed (it gives up after a minute, should the test be gone).
func hold(where, id, name string) int {
	ctx := context.Background()
	started := make(chan int64, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, &holdWorker{started: started})
	cfg := queue.Config{Workers: workers, Queues: map[string]int{name: 1}, PollInterval: 20 * time.Millisecond, ID: id}
	var (
		db  store.Store
		q   queueUnderTest
		err error
	)
	switch driver, dsn, _ := strings.Cut(where, ":"); driver {
	case "sqlite":
		var s *sqlite.DB
		if s, err = sqlite.Open(ctx, dsn); err == nil {
			db = s
			q, err = queue.NewSQLite(ctx, s, cfg)
		}
	case "postgres":
		var p *postgres.DB
		if p, err = postgres.Open(ctx, dsn); err == nil {
			db = p
			q, err = queue.NewPostgres(ctx, p, cfg)
		}
	default:
		err = fmt.Errorf("%s=%q: unknown store", holdEnv, where)
	}
	if err == nil {
		err = db.Tx(ctx, func(tx store.Tx) error { return q.InsertTx(ctx, tx, holdArgs{}, &river.InsertOpts{Queue: name}) })
	}
	if err == nil {
		err = q.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	select {
	case job := <-started:
		fmt.Println("working", job)
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "the job was not started")
		return 2
	}
	time.Sleep(time.Minute)
	return 1
}

// queueUnderTest is what the tests call on queue.SQLite and queue.Postgres.
type queueUnderTest interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// killHolder starts a process that holds a job on the store named by where, waits until
// it works the job, kills it with SIGKILL and returns the job's ID.
func killHolder(t *testing.T, where, id, name string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+where, holdIDEnv+"="+id, holdQueueEnv+"="+name)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "working "); ok {
				line <- s
				return
			}
		}
		close(line)
	}()
	var job string
	select {
	case job = <-line:
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	n, err := strconv.ParseInt(job, 10, 64)
	if err != nil {
		t.Fatalf("the holding process did not work its job (%q): %s", job, stderr.String())
	}
	return n
}

// worked starts q with w's worker and returns the IDs of the hold jobs it starts within
// wait of each other, the first within 10 s (the queue is stopped at the end of the test).
func worked(t *testing.T, q queueUnderTest, started <-chan int64, wait time.Duration) []int64 {
	t.Helper()
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		q.Stop(sctx)
	})
	var ids []int64
	for timeout := 10 * time.Second; ; timeout = wait {
		select {
		case id := <-started:
			ids = append(ids, id)
		case <-time.After(timeout):
			return ids
		}
	}
}

// TestSQLiteRescuesJobsLeftRunning: a process killed (SIGKILL) while it works a job leaves
// the job running in the SQLite file; the next process on the file works it at once,
// rather than after River's rescuer's minutes (it was once scheduled in a time format that
// sorted after the whole day, so it waited until midnight UTC).
func TestSQLiteRescuesJobsLeftRunning(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "atiende.db")
	job := killHolder(t, "sqlite:"+path, "", river.QueueDefault)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the queue stops (worked)
	started, release := make(chan int64, 1), make(chan struct{})
	close(release)
	workers := river.NewWorkers()
	river.AddWorker(workers, &holdWorker{started: started, release: release})
	q, err := queue.NewSQLite(ctx, db, queue.Config{Workers: workers, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if ids := worked(t, q, started, 0); len(ids) != 1 || ids[0] != job {
		t.Fatalf("jobs worked after the restart: %v, want the killed process's job %d", ids, job)
	}
}

// TestPostgresReplicaTakesBackItsJobs: replica A is killed (SIGKILL) while it works a job;
// started again under its ID it works that job at once, and leaves alone the job replica B,
// alive, is still working, even on a queue A also works: no job runs twice at once.
func TestPostgresReplicaTakesBackItsJobs(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Database(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the queues stop

	// B works a job on queue b and holds it until the end of the test.
	startedB, releaseB := make(chan int64, 1), make(chan struct{})
	workersB := river.NewWorkers()
	river.AddWorker(workersB, &holdWorker{started: startedB, release: releaseB})
	b, err := queue.NewPostgres(ctx, db, queue.Config{Workers: workersB, Queues: map[string]int{"b": 1}, PollInterval: 20 * time.Millisecond, ID: "replica-b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx store.Tx) error { return b.InsertTx(ctx, tx, holdArgs{}, &river.InsertOpts{Queue: "b"}) }); err != nil {
		t.Fatal(err)
	}
	jobB := worked(t, b, startedB, 0)
	t.Cleanup(func() { close(releaseB) }) // before B stops (worked)
	if len(jobB) != 1 {
		t.Fatalf("replica B worked %v, want one job", jobB)
	}

	jobA := killHolder(t, "postgres:"+dbURL, "replica-a", "a")

	startedA, releaseA := make(chan int64, 2), make(chan struct{})
	close(releaseA)
	workersA := river.NewWorkers()
	river.AddWorker(workersA, &holdWorker{started: startedA, release: releaseA})
	a, err := queue.NewPostgres(ctx, db, queue.Config{Workers: workersA, Queues: map[string]int{"a": 1, "b": 1}, PollInterval: 20 * time.Millisecond,
		ID: "replica-a"})
	if err != nil {
		t.Fatal(err)
	}
	// A second's wait after the first job: long enough for B's job to be fetched too,
	// were it taken back by mistake.
	if ids := worked(t, a, startedA, time.Second); len(ids) != 1 || ids[0] != jobA {
		t.Fatalf("jobs replica A worked after its restart: %v, want only its own %d (B holds %d)", ids, jobA, jobB[0])
	}
	var state, by string
	if err := db.Pool().QueryRow(ctx, `SELECT state, attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE id = $1`, jobB[0]).Scan(&state, &by); err != nil {
		t.Fatal(err)
	}
	if state != "running" || by != "replica-b" {
		t.Errorf("B's job is %s by %s, want still running by replica-b", state, by)
	}
}
