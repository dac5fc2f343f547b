package pgsearch_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/pgsearch"
	"github.com/atiende/atiende/store/postgres/pgtest"
)

type bundle struct {
	ctx  context.Context
	pool *pgxpool.Pool
	ix   *retrieval.Index
}

// setup gives a throwaway database with pgvector and the bundled catalogue loaded in memory.
func setup(t *testing.T) bundle {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.VectorDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ix, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	return bundle{ctx: ctx, pool: pool, ix: ix}
}

// searcher imports the bundled catalogue and returns a searcher over it.
func (b bundle) searcher(t *testing.T) *pgsearch.Searcher {
	t.Helper()
	if _, err := pgsearch.Import(b.ctx, b.pool, b.ix.Fichas(), b.ix.LocalEmbedder(), "local"); err != nil {
		t.Fatal(err)
	}
	s, err := pgsearch.New(pgsearch.Config{Pool: b.pool, Catalogue: retrieval.NewLive(b.ix), Embedder: b.ix.LocalEmbedder()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (b bundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportIsIdempotent(t *testing.T) {
	b := setup(t)
	fichas := b.ix.Fichas()
	emb := b.ix.LocalEmbedder()
	st, err := pgsearch.Import(b.ctx, b.pool, fichas, emb, "local")
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != len(fichas) || st.Updated+st.Removed+st.Unchanged != 0 {
		t.Fatalf("first import = %+v, want %d added", st, len(fichas))
	}
	chunks := 0
	for _, f := range fichas {
		chunks += len(pgsearch.Chunks(f))
	}
	if got := b.count(t, "catalogue_chunks"); got != chunks {
		t.Errorf("chunks = %d, want %d", got, chunks)
	}

	// Three replicas starting at once import the same catalogue: nothing changes.
	var wg sync.WaitGroup
	stats := make([]pgsearch.ImportStats, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { stats[i], errs[i] = pgsearch.Import(b.ctx, b.pool, fichas, emb, "local") })
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || stats[i] != (pgsearch.ImportStats{Unchanged: len(fichas)}) {
			t.Errorf("import again %d = %+v, %v; want all unchanged", i, stats[i], errs[i])
		}
	}

	// An edited ficha is rewritten, a dropped one removed, with its chunks.
	edited := *fichas[0]
	edited.Summary += " Texto corregido."
	next := append([]*retrieval.Ficha{&edited}, fichas[2:]...)
	st, err = pgsearch.Import(b.ctx, b.pool, next, emb, "local")
	if err != nil {
		t.Fatal(err)
	}
	if want := (pgsearch.ImportStats{Updated: 1, Removed: 1, Unchanged: len(fichas) - 2}); st != want {
		t.Errorf("import edited = %+v, want %+v", st, want)
	}
	if got := b.count(t, "catalogue_fichas"); got != len(fichas)-1 {
		t.Errorf("fichas = %d, want %d", got, len(fichas)-1)
	}
	var orphans int
	if err := b.pool.QueryRow(b.ctx, "SELECT count(*) FROM catalogue_chunks WHERE slug = $1", fichas[1].Slug).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("chunks of the removed ficha = %d, %v", orphans, err)
	}

	// Another embedder (other dimensions) re-embeds everything.
	st, err = pgsearch.Import(b.ctx, b.pool, next, retrieval.HashEmbedder{Dims: 256}, "local-256")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Reembedded || st.Updated != len(next) {
		t.Errorf("import with another embedder = %+v, want all %d re-embedded", st, len(next))
	}
}

func TestHybridRanksInPostgres(t *testing.T) {
	b := setup(t)
	s := b.searcher(t)
	for _, tc := range []struct {
		text string
		want string // a ficha whose title the question names, found by both rankings
	}{
		{"certificado de nacimiento", "certificado-nacimiento"},
		{"pension garantizada universal", "pension-garantizada-universal"},
		{"kiero saber dl bono invierno xfa", "bono-invierno"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			if _, ok := b.ix.Ficha(tc.want); !ok {
				t.Fatalf("the bundled catalogue has no %s", tc.want)
			}
			hits, err := s.Hybrid(b.ctx, retrieval.Query{Text: tc.text})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(hits, func(h pgsearch.Hit) bool { return h.Slug == tc.want })
			if i < 0 || i > 2 {
				t.Fatalf("%s at %d of %v", tc.want, i, pgsearch.Ranked(hits)[:min(5, len(hits))])
			}
			if hits[i].TextRank == 0 || hits[i].VecRank == 0 {
				t.Errorf("%s: text rank %d, vector rank %d: want both rankings to find it", tc.want, hits[i].TextRank, hits[i].VecRank)
			}
			found := s.Find(context.Background(), retrieval.Query{Text: tc.text}, 3)
			if len(found.Results) == 0 || found.Results[0].Ficha.Slug != tc.want {
				t.Errorf("Find top = %v, want %s", found.Results, tc.want)
			}
		})
	}
	// Words nobody wrote in the catalogue match no text; the nearest vectors still come.
	hits, err := s.Hybrid(b.ctx, retrieval.Query{Text: "xyzzy"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.TextRank != 0 {
			t.Errorf("xyzzy matched the text of %s", h.Slug)
		}
	}
	if s.Fallbacks() != 0 {
		t.Errorf("fallbacks = %d", s.Fallbacks())
	}
}

// TestFallsBackWhenPostgresFails: a search Postgres cannot answer is answered from memory,
// and counted.
func TestFallsBackWhenPostgresFails(t *testing.T) {
	b := setup(t)
	s := b.searcher(t)
	if _, err := b.pool.Exec(b.ctx, "DROP TABLE catalogue_chunks"); err != nil {
		t.Fatal(err)
	}
	q := retrieval.Query{Text: "certificado de nacimiento"}
	got, want := s.Find(context.Background(), q, 3), b.ix.Find(context.Background(), q, 3)
	if len(got.Results) == 0 || got.Results[0].Ficha != want.Results[0].Ficha {
		t.Errorf("fallback top = %v, want %v", got.Results, want.Results)
	}
	if s.Fallbacks() != 1 {
		t.Errorf("fallbacks = %d, want 1", s.Fallbacks())
	}
}
