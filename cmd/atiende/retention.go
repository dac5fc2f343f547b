package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// retentionEvery is how often serve applies ATIENDE_RETENTION_DAYS.
const retentionEvery = time.Hour

// anonymiser is what retention needs of the store.
type anonymiser interface {
	Anonymise(ctx context.Context, cutoff time.Time) (int, error)
}

// retentionCutoff is the instant before which a conversation's last activity makes it due.
func retentionCutoff(now time.Time, days int) time.Time { return now.UTC().AddDate(0, 0, -days) }

// retain anonymises the conversations idle for more than days, at start and then every
// retentionEvery, until ctx ends. Every replica runs it: the store lets concurrent runs
// share the work (Store.Anonymise), and what one replica erased the others skip.
func retain(ctx context.Context, st anonymiser, days int, log *slog.Logger) {
	if days == 0 {
		log.Info("retention is off (ATIENDE_RETENTION_DAYS=0): conversations are kept forever")
		return
	}
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		start := time.Now()
		cutoff := retentionCutoff(start, days)
		n, err := st.Anonymise(ctx, cutoff)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("retention", "error", err.Error(), "anonymised", n)
		case n > 0:
			log.Info("retention: conversations anonymised", "anonymised", n, "idle_since_before", cutoff.Format(time.RFC3339), "took_ms", time.Since(start).Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cmdRetention applies ATIENDE_RETENTION_DAYS once, e.g. from cron where serve does not run.
func cmdRetention(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if _, err := parse(flags("retention", stderr), args); err != nil {
		return err
	}
	days := cfg.Security.RetentionDays
	if days == 0 {
		fmt.Fprintln(stdout, "retention is off (ATIENDE_RETENTION_DAYS=0): nothing anonymised")
		return nil
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	cutoff := retentionCutoff(time.Now(), days)
	n, err := db.Anonymise(ctx, cutoff)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "anonymised %d conversations idle since before %s (ATIENDE_RETENTION_DAYS=%d)\n", n, cutoff.Format(time.RFC3339), days)
	return nil
}
