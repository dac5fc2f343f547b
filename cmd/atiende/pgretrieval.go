package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tmc/langchaingo/embeddings"

	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/pgsearch"
	"github.com/atiende/atiende/store/postgres"
)

// searchConns is the size of the pool the catalogue searches in Postgres use (beside the
// store's): more concurrent searches than that only queue for the database's CPU.
const searchConns = 8

// catalogueEmbedder is the embedder of the catalogue's vectors in Postgres and its name
// there: the model server's when ATIENDE_EMBEDDER names one, the local one otherwise (the
// vectors in Postgres serve the recall, so they are on even when ATIENDE_EMBEDDER=none leaves
// the in-memory scores unlifted).
func catalogueEmbedder(ec retrieval.EmbedderConfig, ix *retrieval.Index) (embeddings.Embedder, string, error) {
	switch ec.Provider {
	case "openai", "ollama":
		emb, err := retrieval.NewEmbedder(ec)
		return emb, ec.Provider + ":" + ec.Model, err
	}
	return ix.LocalEmbedder(), "local", nil
}

// importCatalogue brings the catalogue in Postgres to the index's fichas.
func importCatalogue(ctx context.Context, ec retrieval.EmbedderConfig, pool *pgxpool.Pool, ix *retrieval.Index, log *slog.Logger) error {
	emb, name, err := catalogueEmbedder(ec, ix)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := pgsearch.Import(ctx, pool, ix.Fichas(), emb, name)
	if err != nil {
		return err
	}
	log.Info("catalogue in postgres", "embedder", name, "added", st.Added, "updated", st.Updated, "removed", st.Removed,
		"unchanged", st.Unchanged, "reembedded", st.Reembedded, "took_ms", time.Since(start).Milliseconds())
	return nil
}

// postgresSearcher imports the catalogue and returns the searcher over it.
func postgresSearcher(ctx context.Context, ec retrieval.EmbedderConfig, pool *pgxpool.Pool, live *retrieval.Live, log *slog.Logger) (*pgsearch.Searcher, error) {
	if err := importCatalogue(ctx, ec, pool, live.Index(), log); err != nil {
		return nil, err
	}
	emb, _, err := catalogueEmbedder(ec, live.Index())
	if err != nil {
		return nil, err
	}
	return pgsearch.New(pgsearch.Config{Pool: pool, Catalogue: live, Embedder: emb, Logger: log.With("component", "retrieval")})
}

// postgresComparison is what `atiende eval --postgres` prints.
type postgresComparison struct {
	// Agreement compares the engine on the embedded index and on Postgres, turn by turn.
	Agreement eval.Agreement `json:"agreement"`
	// Modes scores Postgres' own hybrid ranking (full text + vectors, fused) beside the
	// engine's, on the first turns.
	Modes []eval.ModeScore `json:"modes"`
	// Report is the whole evaluation through the Postgres path.
	Report eval.Report `json:"report"`
}

// comparePostgres imports the catalogue into DATABASE_URL and runs the cases through both
// retrieval paths.
func comparePostgres(ctx context.Context, cfg config, cases []eval.Case, asJSON bool, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		return usageError{"eval --postgres needs DATABASE_URL"}
	}
	p, err := loadParts(cfg)
	if err != nil {
		return err
	}
	ix := p.ix
	embedded, err := p.engine(cfg, ix)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := postgresSearcher(ctx, cfg.Embed, db.Pool(), retrieval.NewLive(ix), slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	onPG, err := p.engine(cfg, s)
	if err != nil {
		return err
	}
	var cmp postgresComparison
	cmp.Agreement = eval.Agree(ctx, embedded, onPG, cases)
	rankers := map[string]eval.Ranker{
		"engine-embedded": func(ctx context.Context, text string) ([]string, error) {
			return resultSlugs(ix.Find(ctx, retrieval.Query{Text: text}, 20).Results), nil
		},
		"engine-postgres": func(ctx context.Context, text string) ([]string, error) {
			return resultSlugs(s.Find(ctx, retrieval.Query{Text: text}, 20).Results), nil
		},
		"postgres-hybrid": func(ctx context.Context, text string) ([]string, error) {
			hits, err := s.Hybrid(ctx, retrieval.Query{Text: text})
			return pgsearch.Ranked(hits), err
		},
	}
	if cmp.Modes, err = eval.CompareRankers(ctx, cases, []string{"engine-embedded", "engine-postgres", "postgres-hybrid"}, rankers); err != nil {
		return err
	}
	cmp.Report = eval.Run(ctx, onPG, cases)
	if s.Fallbacks() > 0 {
		return fmt.Errorf("eval --postgres: %d searches fell back to the in-memory index: the comparison is void", s.Fallbacks())
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cmp)
	}
	a := cmp.Agreement
	fmt.Fprintf(stdout, "Top ficha, embedded vs Postgres path: %d of %d turns agree (%.1f%%)\n", a.Same, a.Turns, 100*a.Rate)
	for _, d := range a.Differ {
		fmt.Fprintf(stdout, "  differs: %s\n", d)
	}
	fmt.Fprintln(stdout)
	eval.WriteModes(stdout, cmp.Modes)
	fmt.Fprintln(stdout)
	cmp.Report.WriteText(stdout)
	return nil
}

func resultSlugs(rs []retrieval.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Ficha.Slug
	}
	return out
}
