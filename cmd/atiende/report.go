package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/retrieval"
)

// cmdReport prints the supervisors' and editors' report (the console's /agent/reports) from
// the store: JSON by default, or one of its CSV tables, for a terminal, a cron job or a
// spreadsheet.
func cmdReport(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flags("report", stderr)
	days := fs.Int("days", report.DefaultDays, "how many days, today included (1 to 90)")
	low := fs.Float64("low", 0, "also count as unanswered the answers whose best ficha scored below this (0: off)")
	csv := fs.String("csv", "", `print a CSV table instead of JSON: "days" or "unanswered"`)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *csv != "" && *csv != "days" && *csv != "unanswered" {
		return usageError{`report: --csv wants "days" or "unanswered"`}
	}
	ix, err := loadIndex(cfg)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := report.Build(ctx, db, retrieval.NewLive(ix), report.Options{Days: *days, LowScore: *low, Now: time.Now(), Location: cfg.Timezone})
	if errors.Is(err, report.ErrDays) || errors.Is(err, report.ErrLowScore) {
		return usageError{"report: " + err.Error()}
	}
	if err != nil {
		return err
	}
	switch *csv {
	case "days":
		return r.WriteDaysCSV(stdout)
	case "unanswered":
		return r.WriteGroupsCSV(stdout)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
