package report_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/atiende/atiende/store/sqlite"
)

// seed writes days × perDay turns over conversations of four turns (a tenth of the turns
// unanswered, over 40 distinct questions) and a handoff every 20 turns.
func seed(b *testing.B, st store.Store, now time.Time, days, perDay int) {
	ctx := context.Background()
	questions := []string{"cuanto es la pgu", "bono invierno", "kiero saber dl bono invierno", "certificado de nacimiento", "licencia de conducir"}
	n := 0
	for d := range days {
		day := now.AddDate(0, 0, -d)
		err := st.Tx(ctx, func(tx store.Tx) error {
			for i := 0; i < perDay; i += 4 {
				id := fmt.Sprintf("c%d-%d", d, i)
				ch := []string{"web", "sms", "whatsapp"}[i%3]
				c := &atiende.Conversation{ID: id, Channel: ch}
				if ch != "web" {
					c.Address = "+569" + id
				}
				if err := tx.CreateConversation(ctx, c); err != nil {
					return err
				}
				for k := range 4 {
					n++
					at := day.Add(-time.Duration(i*7+k) * time.Second)
					q := questions[n%len(questions)]
					out := atiende.Message{Action: "answer", Fichas: []string{"pension-garantizada-universal", "bono-invierno"}, Score: 8}
					if n%10 == 0 {
						q = fmt.Sprintf("pregunta rara numero %d sobre tramite %d", n%40, n%7)
						out = atiende.Message{Action: "out_of_scope"}
					}
					if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: id, Direction: atiende.Inbound, Text: q, Processed: true, CreatedAt: at}); err != nil {
						return err
					}
					out.ConversationID, out.Direction, out.Text, out.Processed, out.CreatedAt = id, atiende.Outbound, "r", true, at.Add(time.Second)
					if err := tx.InsertMessage(ctx, &out); err != nil {
						return err
					}
					if n%20 == 0 {
						h := &atiende.Handoff{ConversationID: id, Reason: "request", Status: atiende.HandoffResolved, Queue: "general", CreatedAt: at,
							AssignedAt: at.Add(time.Duration(n%600) * time.Second), AgentID: 1}
						if err := tx.InsertHandoff(ctx, h); err != nil {
							return err
						}
						if err := tx.UpdateHandoff(ctx, h); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild builds a 30-day report over 30 × 1,000 turns (60,000 messages):
// go test -run '^$' -bench Build -benchtime 10x ./handoff/report
// and the same on Postgres (a throwaway database from pgtest; skipped without one).
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	open := map[string]func(b *testing.B) store.Store{
		"sqlite": func(b *testing.B) store.Store {
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
		"postgres": func(b *testing.B) store.Store {
			st, err := postgres.Open(ctx, pgtest.Database(b))
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			st := open[name](b)
			defer st.Close()
			seed(b, st, now, 30, 1000)
			ix := bundled(b)
			b.ResetTimer()
			for b.Loop() {
				r, err := report.Build(ctx, st, ix, report.Options{Days: 30, Now: now})
				if err != nil {
					b.Fatal(err)
				}
				if r.Total.Messages != 30000 {
					b.Fatalf("%d messages", r.Total.Messages)
				}
			}
		})
	}
}
