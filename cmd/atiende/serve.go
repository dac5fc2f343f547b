package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/events/pgrelay"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/handoff/console"
	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/redact"
	"github.com/atiende/atiende/retrieval"
	"github.com/riverqueue/river"

	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres"
	"github.com/atiende/atiende/store/sqlite"
)

// database is the store and how to run jobs on it: Postgres when DATABASE_URL is set, the
// embedded SQLite file otherwise.
type database interface {
	store.Store
	// queue builds the job queue on the same database.
	queue(ctx context.Context, cfg queue.Config) (jobQueue, error)
	// hubs returns the hubs of the citizens' and the console's event streams: relayed to the
	// other replicas until ctx ends (Postgres), or the process's own (SQLite).
	hubs(ctx context.Context, log *slog.Logger) (citizens, consoles *events.Hub, err error)
}

// jobQueue is what serve needs of a queue.
type jobQueue interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

type sqliteDB struct{ *sqlite.DB }

func (d sqliteDB) queue(ctx context.Context, cfg queue.Config) (jobQueue, error) {
	return queue.NewSQLite(ctx, d.DB, cfg)
}

// hubs are the process's own: a single process has no other replica to tell.
func (sqliteDB) hubs(context.Context, *slog.Logger) (citizens, consoles *events.Hub, err error) {
	return events.NewHub(), events.NewHub(), nil
}

type postgresDB struct{ *postgres.DB }

// hubs relay their events to every replica over Postgres LISTEN/NOTIFY until ctx ends.
func (d postgresDB) hubs(ctx context.Context, log *slog.Logger) (citizens, consoles *events.Hub, err error) {
	r := pgrelay.New(d.Pool(), log.With("component", "events"))
	citizens, consoles = r.Hub("atiende_citizens"), r.Hub("atiende_console")
	if err := r.Start(ctx); err != nil {
		return nil, nil, err
	}
	return citizens, consoles, nil
}

func (d postgresDB) queue(ctx context.Context, cfg queue.Config) (jobQueue, error) {
	return queue.NewPostgres(ctx, d.DB, cfg)
}

// openStore opens the store and brings its schema up to date.
func openStore(ctx context.Context, cfg config) (database, error) {
	if cfg.DatabaseURL != "" {
		db, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		return postgresDB{db}, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "atiende.db"))
	if err != nil {
		return nil, err
	}
	return sqliteDB{db}, nil
}

// loadServable loads the catalogue to serve: a synthetic one (for benchmarks) is refused.
func loadServable(cfg config) (*retrieval.Index, error) {
	ix, err := loadIndex(cfg)
	if err != nil {
		return nil, err
	}
	for _, f := range ix.Fichas() {
		if slices.Contains(f.Topics, retrieval.SyntheticTopic) {
			return nil, fmt.Errorf("load catalogue: ficha %q is synthetic (made by \"catalogue synth\" for benchmarks): it is never served", f.Slug)
		}
	}
	go ix.WarmNearest() // the ranker's vectors, on one core, while the first turns are served
	return ix, nil
}

// reloadOnSignal rebuilds the index from the catalogue on each signal and swaps it in; the
// old index serves until the new one is ready, and stays when the new catalogue is broken.
// imp, when set, first brings the catalogue in Postgres to the new one.
func reloadOnSignal(ctx context.Context, cfg config, live *retrieval.Live, sig <-chan os.Signal, log *slog.Logger, imp func(context.Context, *retrieval.Index) error) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		}
		start := time.Now()
		ix, err := loadServable(cfg)
		if err != nil {
			log.Error("catalogue reload refused; the current catalogue stays", "error", err.Error())
			continue
		}
		if imp != nil {
			if err := imp(ctx, ix); err != nil {
				log.Error("catalogue reload: import into postgres failed; the current catalogue stays", "error", err.Error())
				continue
			}
		}
		live.Swap(ix)
		log.Info("catalogue reloaded", "fichas", len(ix.Fichas()), "took_ms", time.Since(start).Milliseconds())
	}
}

func cmdMigrate(ctx context.Context, cfg config, stdout io.Writer) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

func cmdServe(ctx context.Context, cfg config, args []string, stderr io.Writer) error {
	fs := flags("serve", stderr)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(stderr, nil))) // no RUT or phone number in the logs
	m := newMetrics()
	detector := loadDetector()
	ix, err := loadServable(cfg)
	if err != nil {
		return err
	}
	offices, err := embeddedNetwork()
	if err != nil {
		return fmt.Errorf("load office network: %w", err)
	}
	live := retrieval.NewLive(ix)
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	m.watchHandoffs(db)
	// With ATIENDE_RETRIEVAL=postgres the catalogue is imported into Postgres and searched
	// there (pgsearch), on a pool of its own: a turn holds a store connection while it
	// searches, so searches on the store's pool could starve each other of connections. A
	// reload imports the new catalogue before this replica serves it.
	var retriever bot.Retriever = live
	var imp func(context.Context, *retrieval.Index) error
	if cfg.Retrieval == "postgres" {
		pool, err := postgres.NewPool(ctx, cfg.DatabaseURL, searchConns)
		if err != nil {
			return err
		}
		defer pool.Close()
		s, err := postgresSearcher(ctx, cfg.Embed, pool, live, log)
		if err != nil {
			return err
		}
		m.watchFallbacks(s.Fallbacks)
		retriever = s
		imp = func(ctx context.Context, ix *retrieval.Index) error {
			return importCatalogue(ctx, cfg.Embed, pool, ix, log)
		}
	}
	opts, err := withWriter(cfg)
	if err != nil {
		return err
	}
	det, err := detector()
	if err != nil {
		return err
	}
	engine := bot.New(m.timed(retriever), offices, append(opts, bot.WithObserver(m), bot.WithEmergencyModel(det))...)
	if cfg.LLM.Provider != "none" {
		log.Info("answers are written by a language model, checked against the fichas", "provider", cfg.LLM.Provider, "model", cfg.LLM.Model)
	}
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	defer signal.Stop(reload)
	go reloadOnSignal(ctx, cfg, live, reload, log, imp)
	hours, err := callCenterHours(cfg)
	if err != nil {
		return err
	}
	citizens, consoles, err := db.hubs(ctx, log)
	if err != nil {
		return err
	}
	backend, err := handoffBackend(cfg)
	if err != nil {
		return err
	}
	// The parts are built in the order they need each other: the queue (when a channel or a
	// backend has jobs), the handoff service on it (with the Twilio outbox for agents'
	// words), the conversation core on that, the channels on the core. Each adds its workers to the queue's bundle before the queue
	// starts (River looks a job's worker up when it works the job).
	workers := river.NewWorkers()
	var q jobQueue
	if cfg.twilioOn() || backend != nil {
		if q, err = db.queue(ctx, queue.Config{Workers: workers, Queues: twilio.Queues(), Logger: log.With("component", "queue"), Middleware: m.jobMiddleware(),
			ID: cfg.ReplicaID}); err != nil {
			return err
		}
	}
	hcfg := handoff.Config[store.Tx]{Hours: hours, AbandonAfter: cfg.HandoffTimeout, Observer: m}
	if cfg.twilioOn() {
		out := twilio.NewOutbox[store.Tx](q)
		hcfg.Deliverers = map[string]handoff.Deliverer[store.Tx]{bot.ChannelSMS: out, bot.ChannelWhatsApp: out}
	}
	if backend != nil {
		hcfg.Backend, hcfg.Queue = backend, q
	}
	handoffs := handoff.New(db, hcfg, citizens, consoles, log.With("component", "handoff"))
	if backend != nil {
		handoffs.Register(workers)
		log.Info("handoffs also go to a backend", "backend", backend.Name())
	}
	agents, err := console.New(console.Config[store.Tx]{Store: db, Handoffs: handoffs, Catalogue: live, Console: consoles, Location: cfg.Timezone,
		Logger: log.With("component", "console")})
	if err != nil {
		return err
	}
	core, err := conversation.New(conversation.Config[store.Tx]{Store: db, Engine: engine, Handoffs: handoffs, Logger: log.With("component", "conversation")})
	if err != nil {
		return err
	}
	webCfg := web.Config[store.Tx]{Engine: engine, Store: db, Logger: log, Hub: citizens, Core: core, Observer: m, Metrics: m.handler(),
		Origins: strings.FieldsFunc(cfg.Origins, func(r rune) bool { return r == ',' || r == ' ' }),
		IPRate:  cfg.Security.IPRate, SessionRate: cfg.Security.SenderRate, TrustedProxies: cfg.Security.TrustedProxies}
	var tw *twilio.Service[store.Tx]
	if cfg.twilioOn() {
		tcfg := cfg.Twilio
		tcfg.Observer = m
		if tw, err = twilio.New(tcfg, db, engine, core, q, log); err != nil {
			return err
		}
		tw.Register(workers)
	} else {
		log.Info("SMS and WhatsApp are off: set TWILIO_AUTH_TOKEN (see docs/channels.md)")
	}
	webCfg.Mounts = mounts(log, agents, tw)
	if q != nil {
		if err := q.Start(ctx); err != nil {
			return fmt.Errorf("start queue: %w", err)
		}
	}
	srv, err := web.New(webCfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	hs.RegisterOnShutdown(func() { citizens.Close(); consoles.Close() }) // event streams end, not hold the shutdown
	if cfg.Pprof != "" {
		if err := servePprof(ctx, cfg.Pprof, log); err != nil {
			return fmt.Errorf("ATIENDE_PPROF_ADDR: %w", err)
		}
	}
	log.Info("serving", "addr", ln.Addr().String(), "fichas", len(ix.Fichas()), "data_dir", cfg.DataDir)
	go sweep(ctx, handoffs, log)
	go retain(ctx, db, cfg.Security.RetentionDays, log.With("component", "retention"))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return shutdown(hs, srv, q, cfg, log, citizens, consoles)
}

// shutdown stops the server within cfg.ShutdownTimeout: /readyz says 503 for the drain
// delay while everything still serves, then the listener closes, the event streams end,
// in-flight requests and running jobs finish; the store is closed after (by the caller).
// Jobs not started wait in the database for the next start.
func shutdown(hs *http.Server, srv *web.Server[store.Tx], q jobQueue, cfg config, log *slog.Logger, hubs ...*events.Hub) error {
	start := time.Now()
	log.Info("shutting down", "drain", cfg.DrainDelay.String(), "timeout", cfg.ShutdownTimeout.String())
	srv.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	time.Sleep(cfg.DrainDelay) // shorter than the timeout (config)
	hs.RegisterOnShutdown(func() {
		for _, h := range hubs {
			h.Close()
		}
	})
	err := hs.Shutdown(ctx)
	if err != nil {
		err = fmt.Errorf("http requests still running at the shutdown timeout: %w", err)
	}
	if q != nil {
		if qerr := q.Stop(ctx); qerr != nil && err == nil {
			err = qerr
		}
	}
	if err != nil {
		log.Error("shutdown", "error", err.Error(), "took_ms", time.Since(start).Milliseconds())
		return err
	}
	log.Info("stopped", "took_ms", time.Since(start).Milliseconds())
	return nil
}

// callCenterHours are the 101 line's hours in ATIENDE_TIMEZONE, closed on the holidays of
// ATIENDE_HOLIDAYS or the bundled list.
func callCenterHours(cfg config) (handoff.Hours, error) {
	data, err := catalogue.FS.ReadFile("holidays.txt")
	if cfg.Holidays != "" {
		data, err = os.ReadFile(cfg.Holidays)
	}
	if err != nil {
		return handoff.Hours{}, fmt.Errorf("holidays: %w", err)
	}
	days, err := handoff.ParseHolidays(data)
	if err != nil {
		return handoff.Hours{}, err
	}
	hours := handoff.DefaultHours(cfg.Timezone, days)
	if cfg.Hours != "" {
		if hours.Week, err = handoff.ParseWeek(cfg.Hours); err != nil {
			return handoff.Hours{}, fmt.Errorf("ATIENDE_HOURS: %w", err)
		}
	}
	return hours, nil
}

// handoffBackend builds the backend ATIENDE_HANDOFF_BACKEND names, or nil for the console
// alone.
func handoffBackend(cfg config) (handoff.Backend, error) {
	switch cfg.Backend {
	case "webhook":
		return &handoff.Webhook{URL: cfg.WebhookURL, Secret: cfg.WebhookSecret}, nil
	case "taskrouter":
		rest, err := twilio.NewRestClient(cfg.Twilio)
		if err != nil {
			return nil, err
		}
		return &handoff.TaskRouter{API: rest.TaskrouterV1, Workspace: cfg.Workspace, Workflow: cfg.Workflow}, nil
	}
	return nil, nil
}

// sweep abandons the handoffs nobody took in time, every minute.
func sweep(ctx context.Context, h *handoff.Service[store.Tx], log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := h.Sweep(ctx); err != nil {
				log.Error("handoff sweep", "error", err.Error())
			}
		}
	}
}
