// Package queue runs the background jobs (River, github.com/riverqueue/river) on the store's
// own database, so that a message and the job that handles it are written in one
// transaction and nothing is lost on a crash: River's SQLite driver in the embedded default,
// its pgx driver on Postgres.
package queue

import (
	"context"
	"database/sql"
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

// Queue is a River client on the store's database; TTx is the driver's transaction type.
type Queue[TTx any] struct {
	client *river.Client[TTx]
	// unwrap finds the driver's transaction inside a store transaction.
	unwrap func(store.Tx) (TTx, bool)
	name   string
}

// SQLite is a River queue on the embedded SQLite store.
type SQLite = Queue[*sql.Tx]

// Postgres is a River queue on the production database: any replica may take any job, and
// River's rescuer returns the jobs of a replica that died.
type Postgres = Queue[pgx.Tx]

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

// NewSQLite brings River's tables up to date in db and builds the client.
func NewSQLite(ctx context.Context, db *sql.DB, cfg Config) (*SQLite, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := newQueue(ctx, riversqlite.New(db), cfg, func(rc *river.Config) {
		rc.FetchPollInterval = cfg.PollInterval
		rc.FetchCooldown = min(cfg.PollInterval, 50*time.Millisecond)
	})
	if err != nil {
		return nil, err
	}
	// The SQLite file belongs to one process: a job still marked running was left by a
	// process that died (kill -9, power cut). Make it available again now rather than wait for
	// River's rescuer, which is built for many processes sharing Postgres.
	// River's SQLite driver stores times as text in SQLite's own format and compares them as
	// text: datetime('now', 'subsec') writes exactly that format. (An RFC 3339 time, with its
	// "T", sorts after every time of the same day: the job would wait for tomorrow.)
	res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec') WHERE state = 'running'`)
	if err != nil {
		return nil, fmt.Errorf("queue: rescue jobs left running: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		cfg.Logger.Warn("jobs left running by a previous process made available again", "jobs", n)
	}
	unwrap := func(tx store.Tx) (*sql.Tx, bool) {
		st, ok := tx.(interface{ SQLTx() *sql.Tx })
		if !ok {
			return nil, false
		}
		return st.SQLTx(), true
	}
	return &SQLite{client: client, unwrap: unwrap, name: "SQLite"}, nil
}

// NewPostgres brings River's tables up to date in the pool's database and builds the client.
// A job a dead replica held is rescued after three minutes, longer than the job timeout, so
// a slow but live turn never runs twice at once.
func NewPostgres(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Postgres, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := newQueue(ctx, riverpgxv5.New(pool), cfg, func(rc *river.Config) {
		rc.RescueStuckJobsAfter = 3 * time.Minute
		rc.ID = cfg.ID
	})
	if err != nil {
		return nil, err
	}
	if cfg.ID != "" {
		// The last of attempted_by is the client that holds a running job: under this ID,
		// only this process's previous life, which is over (no two run under one ID).
		tag, err := pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
			WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1`, cfg.ID)
		if err != nil {
			return nil, fmt.Errorf("queue: take back the jobs %s held: %w", cfg.ID, err)
		}
		if n := tag.RowsAffected(); n > 0 {
			cfg.Logger.Warn("jobs this replica held when it stopped made available again", "jobs", n, "replica", cfg.ID)
		}
	}
	unwrap := func(tx store.Tx) (pgx.Tx, bool) {
		pt, ok := tx.(interface{ PgxTx() pgx.Tx })
		if !ok {
			return nil, false
		}
		return pt.PgxTx(), true
	}
	return &Postgres{client: client, unwrap: unwrap, name: "Postgres"}, nil
}

// Start works jobs until Stop. Cancelling ctx does not stop the queue: River would then
// cancel the jobs in hand at once, and a shutdown wants them finished (Stop).
func (q *Queue[TTx]) Start(ctx context.Context) error {
	return q.client.Start(context.WithoutCancel(ctx))
}

// Stop takes no more jobs and lets those in hand finish until ctx ends; then it cancels
// them (River puts them back to be retried) and waits a second more for them to return.
func (q *Queue[TTx]) Stop(ctx context.Context) error {
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
func (q *Queue[TTx]) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	dtx, ok := q.unwrap(tx)
	if !ok {
		return fmt.Errorf("queue: the %s queue needs a %s store transaction", q.name, q.name)
	}
	if _, err := q.client.InsertTx(ctx, dtx, args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}
