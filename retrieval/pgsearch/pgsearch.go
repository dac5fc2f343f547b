// Package pgsearch keeps the catalogue in Postgres and searches it there, for the production
// mode: each ficha in a row with a weighted Spanish full-text vector (the `spanish` stemmer
// over `unaccent`), each of its sections a chunk with an embedding in a pgvector column under
// an HNSW index, and one query that fuses the full-text ranking and the nearest chunks by
// reciprocal rank fusion.
//
// The fused list is the recall: which fichas may answer. The engine's own scorer (the
// in-memory index's BM25F, glossary and typo matching) then orders those candidates, so that
// a score means the same thing, and the engine's confidence thresholds hold, on both paths.
// When Postgres cannot answer in time the searcher falls back to the in-memory index and
// counts it: a citizen still gets an answer.
package pgsearch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"
	"github.com/tmc/langchaingo/embeddings"

	"github.com/atiende/atiende/retrieval"
)

// Catalogue gives the in-memory index the searcher analyses questions and scores candidates
// with (a *retrieval.Live, which a reload swaps).
type Catalogue interface {
	Index() *retrieval.Index
}

// Config sets up a Searcher.
type Config struct {
	Pool      *pgxpool.Pool
	Catalogue Catalogue
	// Embedder embeds the questions; it must be the one the catalogue was imported with.
	Embedder embeddings.Embedder
	Logger   *slog.Logger
	// Depth is how many fichas each ranking (full text, vectors) contributes; 50 if zero.
	Depth int
	// Timeout bounds one search in Postgres; 2 s if zero.
	Timeout time.Duration
}

// Searcher ranks fichas with Postgres. It implements the engine's Retriever and is safe for
// concurrent use.
type Searcher struct {
	cfg       Config
	sql       string
	fallbacks atomic.Int64
}

// New returns a searcher over a catalogue already imported with Import.
func New(cfg Config) (*Searcher, error) {
	if cfg.Pool == nil || cfg.Catalogue == nil || cfg.Embedder == nil {
		return nil, errors.New("pgsearch: Pool, Catalogue and Embedder are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Depth = cmp.Or(cfg.Depth, 50)
	cfg.Timeout = cmp.Or(cfg.Timeout, 2*time.Second)
	// The limits are written into the query, not bound: with a bound LIMIT, a prepared
	// statement's generic plan cannot see that few rows are wanted and scans every chunk
	// instead of walking the HNSW index.
	return &Searcher{cfg: cfg, sql: fmt.Sprintf(hybridSQL, cfg.Depth, 4*cfg.Depth)}, nil
}

// Hit is one ficha of the fused ranking, with its rank in each list (0 when absent).
type Hit struct {
	Slug     string
	Score    float64
	TextRank int
	VecRank  int
}

// Hybrid ranks the fichas in Postgres alone: full text and nearest chunks, fused by
// reciprocal rank fusion (k = 60), best first.
func (s *Searcher) Hybrid(ctx context.Context, q retrieval.Query) ([]Hit, error) {
	ix := s.cfg.Catalogue.Index()
	vec, err := s.cfg.Embedder.EmbedQuery(ctx, q.Text)
	if err != nil {
		return nil, fmt.Errorf("embed question: %w", err)
	}
	words := textQuery(ix, q)
	var hits []Hit
	err = pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
		// HNSW returns at most ef_search rows; the chunks of one ficha compete, so ask wide.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL hnsw.ef_search = %d", max(100, 4*s.cfg.Depth))); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, s.sql, words, pgvector.NewVector(vec))
		if err != nil {
			return err
		}
		hits, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hit, error) {
			var h Hit
			var tr, vr *int64
			err := r.Scan(&h.Slug, &h.Score, &tr, &vr)
			if tr != nil {
				h.TextRank = int(*tr)
			}
			if vr != nil {
				h.VecRank = int(*vr)
			}
			return h, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search catalogue in postgres: %w", err)
	}
	return hits, nil
}

// hybridSQL: $1 the question's words joined by " | " (any may match, as in the index), $2 the
// question's vector; formatted with how many of each ranking, and how many chunks to fetch.
const hybridSQL = `
WITH q AS (SELECT to_tsquery('atiende_es', $1) AS q),
text_hits AS (
	SELECT slug, row_number() OVER (ORDER BY ts_rank_cd(tsv, q.q) DESC, slug) AS r
	FROM catalogue_fichas, q
	WHERE $1 <> '' AND tsv @@ q.q
	ORDER BY r LIMIT %[1]d),
near_chunks AS (
	SELECT slug, embedding <=> $2 AS d FROM catalogue_chunks
	ORDER BY embedding <=> $2 LIMIT %[2]d),
vec_hits AS (
	SELECT slug, row_number() OVER (ORDER BY min(d), slug) AS r
	FROM near_chunks GROUP BY slug
	ORDER BY r LIMIT %[1]d)
SELECT slug, (coalesce(1.0 / (60 + t.r), 0) + coalesce(1.0 / (60 + v.r), 0))::float8 AS score, t.r, v.r
FROM text_hits t FULL JOIN vec_hits v USING (slug)
ORDER BY score DESC, slug`

// textQuery is the question's words after the glossary (respellings and expansions), folded,
// without stopwords, as a tsquery source "a | b | c"; the conversation's context words join
// them, as they do in the index.
func textQuery(ix *retrieval.Index, q retrieval.Query) string {
	var words []string
	seen := map[string]bool{}
	add := func(text string) {
		for _, t := range ix.Analyze(text).Terms {
			w := strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, t.Word)
			if w != "" && !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	add(q.Text)
	if q.Context != "" {
		add(q.Context)
	}
	return strings.Join(words, " | ")
}

// Find implements the engine's Retriever: Postgres chooses the candidates, the in-memory
// index orders them. A question limited to offered options is settled in memory.
func (s *Searcher) Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found {
	ix := s.cfg.Catalogue.Index()
	if len(q.Only) > 0 {
		return ix.Find(ctx, q, k)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	hits, err := s.Hybrid(ctx, q)
	if err != nil {
		s.fallbacks.Add(1)
		s.cfg.Logger.Warn("postgres search failed; answering from the in-memory index", "error", err.Error())
		return ix.Find(ctx, q, k)
	}
	keep := make(map[string]bool, len(hits))
	for _, h := range hits {
		keep[h.Slug] = true
	}
	f := ix.Find(ctx, q, 0)
	res := f.Results[:0]
	for _, r := range f.Results {
		// Postgres' candidates, and those the learned model brought in though none of the
		// question's words is in them (it runs in memory on every replica).
		if keep[r.Ficha.Slug] || (r.Lexical == 0 && r.Prob > 0) {
			res = append(res, r)
		}
	}
	if k > 0 && len(res) > k {
		res = res[:k]
	}
	f.Results = res
	return f
}

// Ficha implements the engine's Retriever.
func (s *Searcher) Ficha(slug string) (*retrieval.Ficha, bool) {
	return s.cfg.Catalogue.Index().Ficha(slug)
}

// Fichas implements the engine's Retriever.
func (s *Searcher) Fichas() []*retrieval.Ficha { return s.cfg.Catalogue.Index().Fichas() }

// Normalize implements the engine's Retriever.
func (s *Searcher) Normalize(text string) string { return s.cfg.Catalogue.Index().Normalize(text) }

// Fallbacks counts the searches Postgres could not answer, since the start.
func (s *Searcher) Fallbacks() int64 { return s.fallbacks.Load() }

// Chunks are the texts a ficha's vectors are made from: the whole ficha as the in-memory
// vectors read it (title, keywords, summary), then each section that has items, under the
// title.
func Chunks(f *retrieval.Ficha) []Chunk {
	out := []Chunk{{Section: retrieval.AspectGeneral, Text: retrieval.FichaText(f)}}
	for _, a := range []string{retrieval.AspectRequisitos, retrieval.AspectMonto, retrieval.AspectComo,
		retrieval.AspectDocumentos, retrieval.AspectFechas, retrieval.AspectCosto} {
		items := f.Sections.Items(a)
		if len(items) == 0 {
			continue
		}
		texts := make([]string, len(items))
		for i, it := range items {
			texts[i] = it.Text
		}
		out = append(out, Chunk{Section: a, Text: f.Title + ". " + strings.Join(texts, " ")})
	}
	return out
}

// bulkImport is how many changed fichas make an import rebuild the HNSW index instead of
// inserting into it.
const bulkImport = 500

// Chunk is one embedded part of a ficha.
type Chunk struct {
	Section string
	Text    string
}

// ImportStats says what an import changed.
type ImportStats struct {
	Added, Updated, Removed, Unchanged int
	// Reembedded is true when the embedder changed, so every ficha was embedded again.
	Reembedded bool
}

// Import brings the catalogue in Postgres to exactly these fichas, embedding what changed:
// fichas that are new or differ are written with their chunks, those no longer in the
// catalogue are removed, the rest are left alone. It is idempotent, and safe to run from
// several replicas at once (they take turns under an advisory lock). embedder names the
// embedder and model (e.g. "local", "openai:text-embedding-3-small"): a change re-embeds all.
func Import(ctx context.Context, pool *pgxpool.Pool, fichas []*retrieval.Ficha, emb embeddings.Embedder, embedder string) (ImportStats, error) {
	var st ImportStats
	probe, err := emb.EmbedQuery(ctx, "prueba")
	if err != nil {
		return st, fmt.Errorf("import catalogue: embedder %s: %w", embedder, err)
	}
	dims := len(probe)
	identity := fmt.Sprintf("%s/%d", embedder, dims)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('atiende_catalogue'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, schemaSQL); err != nil {
			return fmt.Errorf("catalogue schema (needs the vector and unaccent extensions): %w", err)
		}
		var stored string
		err := tx.QueryRow(ctx, "SELECT value FROM catalogue_meta WHERE key = 'embedder'").Scan(&stored)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if stored != identity {
			st.Reembedded = stored != ""
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS catalogue_chunks; UPDATE catalogue_fichas SET hash = ''"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf(chunksSQL, dims)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO catalogue_meta VALUES ('embedder', $1) ON CONFLICT (key) DO UPDATE SET value = $1", identity); err != nil {
				return err
			}
		}
		have := map[string]string{}
		rows, err := tx.Query(ctx, "SELECT slug, hash FROM catalogue_fichas")
		if err != nil {
			return err
		}
		for rows.Next() {
			var slug, hash string
			if err := rows.Scan(&slug, &hash); err != nil {
				return err
			}
			have[slug] = hash
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var changed []*retrieval.Ficha
		var docs [][]byte
		var hashes []string
		slugs := make([]string, len(fichas))
		for i, f := range fichas {
			slugs[i] = f.Slug
			doc, err := json.Marshal(f)
			if err != nil {
				return fmt.Errorf("ficha %s: %w", f.Slug, err)
			}
			sum := sha256.Sum256(doc)
			hash := hex.EncodeToString(sum[:])
			old, ok := have[f.Slug]
			switch {
			case !ok:
				st.Added++
			case old != hash:
				st.Updated++
			default:
				st.Unchanged++
				continue
			}
			changed, docs, hashes = append(changed, f), append(docs, doc), append(hashes, hash)
		}
		if len(changed) > bulkImport {
			// Building the graph once after the rows are in is far faster than inserting
			// each vector into it; searches meanwhile wait on the table's lock, time out and
			// are answered from memory.
			if _, err := tx.Exec(ctx, "DROP INDEX IF EXISTS catalogue_chunks_hnsw"); err != nil {
				return err
			}
		}
		if err := write(ctx, tx, emb, dims, changed, docs, hashes); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, hnswSQL); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM catalogue_fichas WHERE slug <> ALL($1)", slugs)
		if err != nil {
			return err
		}
		st.Removed = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return ImportStats{}, fmt.Errorf("import catalogue into postgres: %w", err)
	}
	return st, nil
}

// write embeds the changed fichas' chunks and writes fichas and chunks in one batch.
func write(ctx context.Context, tx pgx.Tx, emb embeddings.Embedder, dims int, fichas []*retrieval.Ficha, docs [][]byte, hashes []string) error {
	if len(fichas) == 0 {
		return nil
	}
	var texts []string
	var owner []int
	var sections []string
	for i, f := range fichas {
		for _, c := range Chunks(f) {
			texts, owner, sections = append(texts, c.Text), append(owner, i), append(sections, c.Section)
		}
	}
	vecs, err := emb.EmbedDocuments(ctx, texts)
	if err != nil {
		return fmt.Errorf("embed %d chunks: %w", len(texts), err)
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("embedder returned %d vectors for %d chunks", len(vecs), len(texts))
	}
	b := &pgx.Batch{}
	for i, f := range fichas {
		b.Queue(upsertFichaSQL, f.Slug, f.Title, f.URL, docs[i], hashes[i],
			strings.Join(f.Keywords, " "), f.Summary, bodyText(f))
		b.Queue("DELETE FROM catalogue_chunks WHERE slug = $1", f.Slug)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	rows := make([][]any, len(vecs))
	ord := map[int]int{}
	for j, v := range vecs {
		if len(v) != dims {
			return fmt.Errorf("embedder returned a vector of %d dimensions for a chunk of %s, want %d", len(v), fichas[owner[j]].Slug, dims)
		}
		i := owner[j]
		rows[j] = []any{fichas[i].Slug, ord[i], sections[j], texts[j], pgvector.NewVector(v)}
		ord[i]++
	}
	// COPY in pgvector's binary format: a 1,024-dimension vector as text is about 10 KB to
	// print and parse.
	if err := pgxvec.RegisterTypes(ctx, tx.Conn()); err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"catalogue_chunks"}, []string{"slug", "ord", "section", "body", "embedding"}, pgx.CopyFromRows(rows))
	return err
}

// bodyText is every section's items, for the full-text vector's lowest weight.
func bodyText(f *retrieval.Ficha) string {
	var parts []string
	for _, c := range Chunks(f)[1:] {
		parts = append(parts, c.Text)
	}
	return strings.Join(parts, " ")
}

const upsertFichaSQL = `
INSERT INTO catalogue_fichas (slug, title, url, doc, hash, tsv, imported_at)
VALUES ($1, $2, $3, $4, $5,
	setweight(to_tsvector('atiende_es', $2), 'A') || setweight(to_tsvector('atiende_es', $6), 'A') ||
	setweight(to_tsvector('atiende_es', $7), 'B') || setweight(to_tsvector('atiende_es', $8), 'D'), now())
ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, url = EXCLUDED.url, doc = EXCLUDED.doc,
	hash = EXCLUDED.hash, tsv = EXCLUDED.tsv, imported_at = EXCLUDED.imported_at`

// TextSearchSQL creates, when missing, the unaccent extension and the atiende_es text search
// configuration (accents folded, then the spanish stemmer); full-text baselines use it too.
const TextSearchSQL = `
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'atiende_es') THEN
		CREATE TEXT SEARCH CONFIGURATION atiende_es (COPY = spanish);
		ALTER TEXT SEARCH CONFIGURATION atiende_es
			ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
	END IF;
END $$;`

const schemaSQL = TextSearchSQL + `
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS catalogue_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS catalogue_fichas (
	slug        text PRIMARY KEY,
	title       text NOT NULL,
	url         text NOT NULL,
	doc         jsonb NOT NULL,
	hash        text NOT NULL,
	tsv         tsvector NOT NULL,
	imported_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS catalogue_fichas_tsv ON catalogue_fichas USING gin (tsv);`

// chunksSQL is made for the embedder's dimensions, which the HNSW index needs fixed.
const chunksSQL = `
CREATE TABLE catalogue_chunks (
	slug      text NOT NULL REFERENCES catalogue_fichas (slug) ON DELETE CASCADE,
	ord       int NOT NULL,
	section   text NOT NULL,
	body      text NOT NULL,
	embedding vector(%d) NOT NULL,
	PRIMARY KEY (slug, ord)
);
-- Kept in the row, not compressed or moved out: a search reads many vectors.
ALTER TABLE catalogue_chunks ALTER COLUMN embedding SET STORAGE PLAIN;`

// hnswSQL indexes the chunks' vectors; a new chunks table is filled first and indexed after,
// which builds the graph far faster than inserting into it row by row.
const hnswSQL = `CREATE INDEX IF NOT EXISTS catalogue_chunks_hnsw ON catalogue_chunks USING hnsw (embedding vector_cosine_ops)`

// Ranked returns the slugs of hits, for comparisons.
func Ranked(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Slug
	}
	return out
}
