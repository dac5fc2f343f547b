// Package queue runs the background jobs (River, github.com/riverqueue/river) on the store's
// own database, so that a message and the job that handles it are written in one
// transaction and nothing is lost on a crash: River's SQLite driver in the embedded default,
// its pgx driver on Postgres.
package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/atiende/atiende/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Config sets how jobs are worked.
type Config struct {
	Workers *river.Workers
	// Queues maps each queue to how many of its jobs run at once; the default queue gets 10
	// unless set.
	Queues map[string]int
	// PollInterval is how often the queue looks for due jobs (default 100 ms: replies should
	// leave fast, and polling SQLite is cheap).
	PollInterval time.Duration
	Logger       *slog.Logger
	// Middleware runs around every job worked (metrics: river.WorkerMiddleware).
	Middleware []rivertype.Middleware
	// ID names this process among the replicas sharing Postgres (River's client ID): no two
	// running at once may share it. A replica started again under the ID it had takes back at
	// once the jobs it held when it died (kill -9, a crash), instead of leaving them to River's
	// rescuer (RescueStuckJobsAfter). Empty: a new ID every start, and no such rescue.
	ID string
}

// Queue is a River client on the store's database; TTx is the driver's transaction type, T
// the store's (the queue names no store type: the caller's T is whatever its store's Tx
// method hands out, store.Tx in cmd/atiende).
type Queue[TTx, T any] struct {
	client *river.Client[TTx]
	// driverTx finds the driver's transaction inside a store transaction: the store that
	// owns the concrete transaction answers (SQLiteDB.SQLTx, PostgresDB.PgxTx).
	driverTx func(T) (TTx, bool)
	name     string
}

// SQLite is a River queue on the embedded SQLite store.
type SQLite[T any] = Queue[*sql.Tx, T]

// Postgres is a River queue on the production database: any replica may take any job, and
// River's rescuer returns the jobs of a replica that died.
type Postgres[T any] = Queue[pgx.Tx, T]

// SQLiteDB is the embedded store as the queue needs it (*sqlite.DB), with its transactions
// of type T.
type SQLiteDB[T any] interface {
	// SQL returns the database handle River's driver runs on.
	SQL() *sql.DB
	// SQLTx returns the database/sql transaction inside tx; false when tx is not a
	// transaction of this database.
	SQLTx(tx T) (*sql.Tx, bool)
}

// PostgresDB is the production store as the queue needs it (*postgres.DB), with its
// transactions of type T.
type PostgresDB[T any] interface {
	// Pool returns the connection pool River's driver runs on.
	Pool() *pgxpool.Pool
	// PgxTx returns the pgx transaction inside tx; false when tx is not a transaction of
	// this database.
	PgxTx(tx T) (pgx.Tx, bool)
}

// newQueue migrates River's tables and builds the client with the settings both drivers share.
func newQueue[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg Config, tune func(*river.Config)) (*river.Client[TTx], error) {
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("queue migrations: %w", err)
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}
	for name, n := range cfg.Queues {
		queues[name] = river.QueueConfig{MaxWorkers: max(n, 1)}
	}
	middleware := append([]rivertype.Middleware{&background{}}, cfg.Middleware...)
	rc := &river.Config{Queues: queues, Workers: cfg.Workers, Logger: cfg.Logger, JobTimeout: 2 * time.Minute, Middleware: middleware}
	tune(rc)
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return client, nil
}

// background marks every job's context as background work, whose transactions yield to
// requests' (store.Lanes).
type background struct{ river.MiddlewareDefaults }

// Work implements rivertype.WorkerMiddleware.
func (*background) Work(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) error {
	return doInner(store.Background(ctx))
}

// takeBack makes available again, at once, the running jobs that dead says were held by a
// process that is gone for good, and returns how many it found. Only this process knows
// that (SQLite: the file is its own; Postgres: the ID was its previous life's); River can
// only guess it from time, so River's rescuer waits for RescueStuckJobsAfter (longer than
// JobTimeout, two minutes), then its 30-second round, then the retry's backoff and the
// five-second scheduler: minutes during which a citizen's message would wait for its reply.
//
// River's client has no call that moves a running job: JobRetry, JobDelete and
// JobDeleteMany leave running jobs alone, and JobCancel only asks the process working
// the job (here, none) to stop it. The jobs are found with the client's JobList and moved
// with the driver's JobRescueMany, the one call River's own rescuer makes for exactly
// this change, so no SQL of ours touches River's tables. riverdriver says its interface
// may change between River releases: go.mod pins River, and TestSQLiteRescuesJobsLeftRunning
// and TestPostgresReplicaTakesBackItsJobs kill a process that holds a job on each driver.
//
// JobRescueMany moves a job only while it is still running and was attempted before the
// horizon: a job that another replica's rescuer returned, and another replica took,
// meanwhile (it was attempted later) is left alone, so no job runs twice at once. A job
// keeps its attempt count, its place in line (its scheduled_at, already past) and gets an
// error saying why it ran again; it is taken back whatever its attempts, so that the
// worker's own last-attempt handling (a delivery given up is recorded) still runs.
func takeBack[TTx any](ctx context.Context, client *river.Client[TTx], exec riverdriver.Executor, dead func(*rivertype.JobRow) bool) (int, error) {
	const page = 1000
	var held []*rivertype.JobRow
	params := river.NewJobListParams().States(rivertype.JobStateRunning).First(page)
	for {
		res, err := client.JobList(ctx, params)
		if err != nil {
			return 0, fmt.Errorf("list running jobs: %w", err)
		}
		for _, job := range res.Jobs {
			if job.AttemptedAt != nil && dead(job) {
				held = append(held, job)
			}
		}
		if len(res.Jobs) < page {
			break
		}
		params = params.After(res.LastCursor)
	}
	if len(held) == 0 {
		return 0, nil
	}
	now := time.Now().UTC()
	rescue := &riverdriver.JobRescueManyParams{Schema: client.Schema()}
	var last time.Time
	for _, job := range held {
		e, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: job.Attempt,
			Error: "the process working the job stopped (kill -9, crash); taken back when it started again"})
		if err != nil {
			return 0, err
		}
		rescue.ID = append(rescue.ID, job.ID)
		rescue.Error = append(rescue.Error, e)
		rescue.FinalizedAt = append(rescue.FinalizedAt, nil)
		rescue.ScheduledAt = append(rescue.ScheduledAt, job.ScheduledAt)
		rescue.State = append(rescue.State, string(rivertype.JobStateAvailable))
		if job.AttemptedAt.After(last) {
			last = *job.AttemptedAt
		}
	}
	// The horizon: just after the last attempt the dead process made, in the database's own
	// clock (River's SQLite driver keeps milliseconds), before any attempt made since it died.
	rescue.StuckHorizon = last.Add(time.Millisecond)
	if _, err := exec.JobRescueMany(ctx, rescue); err != nil {
		return 0, fmt.Errorf("make running jobs available: %w", err)
	}
	return len(held), nil
}

// NewSQLite brings River's tables up to date in db and builds the client. The SQLite file
// belongs to one process: a job still marked running was left by a process that died
// (kill -9, power cut), and is made available again at once (takeBack).
func NewSQLite[T any](ctx context.Context, db SQLiteDB[T], cfg Config) (*SQLite[T], error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	driver := riversqlite.New(db.SQL())
	client, err := newQueue(ctx, driver, cfg, func(rc *river.Config) {
		rc.FetchPollInterval = cfg.PollInterval
		rc.FetchCooldown = min(cfg.PollInterval, 50*time.Millisecond)
	})
	if err != nil {
		return nil, err
	}
	n, err := takeBack(ctx, client, driver.GetExecutor(), func(*rivertype.JobRow) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("queue: take back the jobs left running: %w", err)
	}
	if n > 0 {
		cfg.Logger.Warn("jobs left running by a previous process made available again", "jobs", n)
	}
	return &SQLite[T]{client: client, driverTx: db.SQLTx, name: "SQLite"}, nil
}

// NewPostgres brings River's tables up to date in the pool's database and builds the client.
// A replica started again under its ID takes back at once the jobs it held (takeBack); a job
// of a replica that does not come back is rescued by River after three minutes, longer than
// the job timeout, so a slow but live turn never runs twice at once.
func NewPostgres[T any](ctx context.Context, db PostgresDB[T], cfg Config) (*Postgres[T], error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	driver := riverpgxv5.New(db.Pool())
	client, err := newQueue(ctx, driver, cfg, func(rc *river.Config) {
		rc.RescueStuckJobsAfter = 3 * time.Minute
		rc.ID = cfg.ID
	})
	if err != nil {
		return nil, err
	}
	if cfg.ID != "" {
		// The last of attempted_by is the client that holds a running job: under this ID,
		// only this process's previous life, which is over (no two run under one ID).
		mine := func(job *rivertype.JobRow) bool {
			return len(job.AttemptedBy) > 0 && job.AttemptedBy[len(job.AttemptedBy)-1] == cfg.ID
		}
		n, err := takeBack(ctx, client, driver.GetExecutor(), mine)
		if err != nil {
			return nil, fmt.Errorf("queue: take back the jobs %s held: %w", cfg.ID, err)
		}
		if n > 0 {
			cfg.Logger.Warn("jobs this replica held when it stopped made available again", "jobs", n, "replica", cfg.ID)
		}
	}
	return &Postgres[T]{client: client, driverTx: db.PgxTx, name: "Postgres"}, nil
}

// Start works jobs until Stop. Cancelling ctx does not stop the queue: River would then
// cancel the jobs in hand at once, and a shutdown wants them finished (Stop).
func (q *Queue[TTx, T]) Start(ctx context.Context) error {
	return q.client.Start(context.WithoutCancel(ctx))
}

// Stop takes no more jobs and lets those in hand finish until ctx ends; then it cancels
// them (River puts them back to be retried) and waits a second more for them to return.
func (q *Queue[TTx, T]) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if herr := q.client.StopAndCancel(hard); herr != nil {
		return fmt.Errorf("queue: jobs still running after the stop timeout: %w", herr)
	}
	return fmt.Errorf("queue: jobs cancelled at the stop timeout: %w", err)
}

// InsertTx enqueues a job inside a store transaction: the job exists if and only if the
// transaction commits.
func (q *Queue[TTx, T]) InsertTx(ctx context.Context, tx T, args river.JobArgs, opts *river.InsertOpts) error {
	dtx, ok := q.driverTx(tx)
	if !ok {
		return fmt.Errorf("enqueue %s: not a transaction of the %s store this queue runs on", args.Kind(), q.name)
	}
	if _, err := q.client.InsertTx(ctx, dtx, args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}
