package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/store/sqlite"
)

// openStore opens the embedded SQLite store under the data directory. Production Postgres
// (DATABASE_URL) is not implemented yet: it is refused rather than ignored.
func openStore(ctx context.Context, cfg config) (*sqlite.DB, error) {
	if cfg.DatabaseURL != "" {
		return nil, errors.New("DATABASE_URL is set, but the Postgres store is not implemented yet; unset it to use the embedded SQLite store")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "atiende.db"))
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
	if err := parse(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	engine, ix, err := loadEngine(cfg)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	srv, err := web.New(web.Config{Engine: engine, Store: db, Logger: log})
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
	log.Info("serving", "addr", ln.Addr().String(), "fichas", len(ix.Fichas()), "data_dir", cfg.DataDir)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}
