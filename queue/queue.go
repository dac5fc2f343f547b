// Package queue runs the background jobs (River, github.com/riverqueue/river) on the store's
// own database, so that a message and the job that handles it are written in one
// transaction and nothing is lost on a crash. The embedded default uses River's SQLite
// driver; the Postgres one follows the same shape.
package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atiende/atiende/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
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
}

// SQLite is a River queue on the embedded SQLite store.
type SQLite struct {
	client *river.Client[*sql.Tx]
}

// sqlTxer is what the SQLite store's transactions expose for River.
type sqlTxer interface{ SQLTx() *sql.Tx }

// NewSQLite brings River's tables up to date in db and builds the client.
func NewSQLite(ctx context.Context, db *sql.DB, cfg Config) (*SQLite, error) {
	driver := riversqlite.New(db)
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
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The SQLite file belongs to one process: a job still marked running was left by a
	// process that died (kill -9, power cut). Make it available again now rather than wait for
	// River's rescuer, which is built for many processes sharing Postgres.
	res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = ? WHERE state = 'running'`,
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z")) // River's own timestamp format
	if err != nil {
		return nil, fmt.Errorf("queue: rescue jobs left running: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		cfg.Logger.Warn("jobs left running by a previous process made available again", "jobs", n)
	}
	client, err := river.NewClient(driver, &river.Config{
		Queues:            queues,
		Workers:           cfg.Workers,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, 50*time.Millisecond),
		Logger:            cfg.Logger,
		JobTimeout:        2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return &SQLite{client: client}, nil
}

// Start works jobs until Stop.
func (q *SQLite) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop lets the jobs in hand finish (until ctx ends) and stops.
func (q *SQLite) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// InsertTx enqueues a job inside a store transaction: the job exists if and only if the
// transaction commits.
func (q *SQLite) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	st, ok := tx.(sqlTxer)
	if !ok {
		return errors.New("queue: the SQLite queue needs an SQLite store transaction")
	}
	if _, err := q.client.InsertTx(ctx, st.SQLTx(), args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}
