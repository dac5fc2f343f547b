package pgsearch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/pgsearch"
	"github.com/atiende/atiende/store/postgres/pgtest"
)

// BenchmarkScale measures, on synthetic catalogues of growing size (the bundled fichas plus
// retrieval.Synthesize's), the memory the in-memory index takes, the latency of its searches
// and of whole engine turns, and, over the same corpus and questions, Postgres full-text
// search (the baseline) and the hybrid search of this package. It reports p50 and p99 over
// the first turns of eval/cases, not a mean. Sizes come from ATIENDE_BENCH_SIZES (default
// "2500,25000"); the hybrid search, which embeds every chunk, runs up to ATIENDE_BENCH_HYBRID_MAX
// fichas (default 25000). Run with -benchtime 1x (docs/performance.md).
func BenchmarkScale(b *testing.B) {
	sizes := []int{2500, 25000}
	if s := os.Getenv("ATIENDE_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("ATIENDE_BENCH_SIZES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	hybridMax := 25000
	if s := os.Getenv("ATIENDE_BENCH_HYBRID_MAX"); s != "" {
		hybridMax, _ = strconv.Atoi(s)
	}
	questions := firstTurns(b, 200)
	bundled, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		b.Fatal(err)
	}
	network, err := retrieval.LoadNetwork(catalogue.FS)
	if err != nil {
		b.Fatal(err)
	}
	gloss, err := retrieval.ParseGlossary("glossary.tsv", mustRead(b, "glossary.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var pool *pgxpool.Pool
	for _, n := range sizes {
		var before, mid, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		fichas := append(slices.Clone(bundled.Fichas()), retrieval.Synthesize(bundled.Fichas(), n-len(bundled.Fichas()), 1)...)
		runtime.GC()
		runtime.ReadMemStats(&mid)
		start := time.Now()
		ix := retrieval.NewIndex(fichas, gloss, retrieval.WithModel(bundled.Model())) // the learned model, as Bundled sets it: its fichas are the bundled ones
		built := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		fichasMB := float64(int64(mid.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		heapMB := float64(int64(after.HeapAlloc)-int64(mid.HeapAlloc)) / (1 << 20)
		b.Run(fmt.Sprintf("fichas=%d/index-find", n), func(b *testing.B) {
			b.Logf("%d fichas: %.0f MB of fichas; index built in %v, %.0f MB more", n, fichasMB, built.Round(time.Millisecond), heapMB)
			measure(b, questions, func(q string) error { ix.Find(context.Background(), retrieval.Query{Text: q}, 5); return nil })
			b.ReportMetric(fichasMB, "MB-fichas")
			b.ReportMetric(heapMB, "MB-index")
		})
		e := bot.New(ix, network)
		b.Run(fmt.Sprintf("fichas=%d/turn", n), func(b *testing.B) {
			measure(b, questions, func(q string) error { e.Turn(ctx, bot.State{}, q, bot.ChannelSMS); return nil })
		})
		if pool == nil {
			pool, err = pgxpool.New(ctx, pgtest.VectorDatabase(b))
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
		}
		b.Run(fmt.Sprintf("fichas=%d/postgres-fts", n), func(b *testing.B) {
			start := time.Now()
			if err := loadFTS(ctx, pool, fichas); err != nil {
				b.Fatal(err)
			}
			b.Logf("%d fichas: full-text table loaded and indexed in %v", n, time.Since(start).Round(time.Millisecond))
			measure(b, questions, func(q string) error {
				rows, err := pool.Query(ctx, ftsSQL, q)
				if err != nil {
					return err
				}
				_, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
		})
		if n > hybridMax {
			continue
		}
		start = time.Now()
		if _, err := pgsearch.Import(ctx, pool, fichas, ix.LocalEmbedder(), "local"); err != nil {
			b.Fatal(err)
		}
		imported := time.Since(start)
		s, err := pgsearch.New(pgsearch.Config{Pool: pool, Catalogue: retrieval.NewLive(ix), Embedder: ix.LocalEmbedder(), Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("fichas=%d/postgres-hybrid", n), func(b *testing.B) {
			b.Logf("%d fichas: imported (chunks embedded, HNSW built) in %v", n, imported.Round(time.Millisecond))
			measure(b, questions, func(q string) error {
				_, err := s.Hybrid(ctx, retrieval.Query{Text: q})
				return err
			})
		})
		b.Run(fmt.Sprintf("fichas=%d/postgres-engine-find", n), func(b *testing.B) {
			measure(b, questions, func(q string) error { s.Find(context.Background(), retrieval.Query{Text: q}, 5); return nil })
		})
		if s.Fallbacks() > 0 {
			b.Errorf("%d searches fell back to memory", s.Fallbacks())
		}
	}
}

// measure runs every question once per benchmark iteration and reports the p50 and p99 of one
// question, in milliseconds.
func measure(b *testing.B, questions []string, f func(string) error) {
	var ms []float64
	for b.Loop() {
		for _, q := range questions {
			start := time.Now()
			if err := f(q); err != nil {
				b.Fatal(err)
			}
			ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		}
	}
	slices.Sort(ms)
	b.ReportMetric(ms[len(ms)/2], "p50-ms")
	b.ReportMetric(ms[len(ms)*99/100], "p99-ms")
}

// firstTurns are the first questions of the shipped eval cases, at most n.
func firstTurns(b *testing.B, n int) []string {
	files, _ := filepath.Glob("../../eval/cases/*.jsonl")
	var out []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		cases, err := eval.ReadCases(name, f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cases {
			if len(c.Turns) > 0 && len(out) < n {
				out = append(out, c.Turns[0].User)
			}
		}
	}
	if len(out) == 0 {
		b.Fatal("no eval cases")
	}
	return out
}

func mustRead(b *testing.B, name string) []byte {
	data, err := catalogue.FS.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// ftsSQL is the baseline: Postgres full-text search alone, any word of the question may
// match (as in the index), ranked by ts_rank_cd, top 5.
const ftsSQL = `SELECT slug FROM fts_fichas,
	CAST(replace(plainto_tsquery('atiende_es', $1)::text, '&', '|') AS tsquery) q
	WHERE doc @@ q ORDER BY ts_rank_cd(doc, q) DESC LIMIT 5`

// loadFTS fills a full-text-only table with the fichas, weighted as pgsearch does.
func loadFTS(ctx context.Context, pool *pgxpool.Pool, fichas []*retrieval.Ficha) error {
	for _, q := range []string{
		pgsearch.TextSearchSQL,
		"DROP TABLE IF EXISTS fts_raw, fts_fichas",
		"CREATE TABLE fts_raw (slug text, title text, keywords text, summary text, body text)",
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return err
		}
	}
	rows := make([][]any, len(fichas))
	for i, f := range fichas {
		var body []string
		for _, c := range pgsearch.Chunks(f)[1:] {
			body = append(body, c.Text)
		}
		rows[i] = []any{f.Slug, f.Title, strings.Join(f.Keywords, " "), f.Summary, strings.Join(body, " ")}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"fts_raw"}, []string{"slug", "title", "keywords", "summary", "body"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	for _, q := range []string{
		`CREATE TABLE fts_fichas AS SELECT slug,
			setweight(to_tsvector('atiende_es', title), 'A') || setweight(to_tsvector('atiende_es', keywords), 'A') ||
			setweight(to_tsvector('atiende_es', summary), 'B') || setweight(to_tsvector('atiende_es', body), 'D') AS doc
			FROM fts_raw`,
		"CREATE INDEX ON fts_fichas USING gin (doc)",
		"ANALYZE fts_fichas",
		"DROP TABLE fts_raw",
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
