package retrieval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/tmc/langchaingo/embeddings"
)

// HashEmbedder is the local, deterministic embedder: no model, no download, no network. A
// text becomes the signed hashes of its words' index keys (stem and sound, as the lexical
// index uses them) and of their character trigrams, so that misspellings the keys miss
// still land near; the glossary's spellings and aliases are applied first, as for the
// lexical index. It implements langchaingo's embeddings.Embedder.
type HashEmbedder struct {
	Dims  int
	Gloss *Glossary
}

var _ embeddings.Embedder = HashEmbedder{}

// EmbedQuery implements embeddings.Embedder.
func (e HashEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return e.embed(text), nil
}

// EmbedDocuments implements embeddings.Embedder.
func (e HashEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = e.embed(t)
	}
	return out, nil
}

func (e HashEmbedder) embed(text string) []float32 {
	dims := e.Dims
	if dims <= 0 {
		dims = 512
	}
	v := make([]float64, dims)
	add := func(feature string, w float64) {
		h := fnv.New64a()
		h.Write([]byte(feature))
		x := h.Sum64()
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(dims)] += sign * w
	}
	words := e.Gloss.Expand(Words(text))
	for _, w := range words {
		if IsStopword(w) {
			continue
		}
		add("k:"+Key(w), 1)
		g := "#" + Fold(w) + "#"
		r := []rune(g)
		for i := 0; i+3 <= len(r); i++ {
			add("g:"+string(r[i:i+3]), 0.4)
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, dims)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// FichaText is what a ficha's vector is made from: its title (twice, as it weighs most),
// keywords and summary.
func FichaText(f *Ficha) string {
	return strings.Join([]string{f.Title, f.Title, strings.Join(f.Keywords, " "), f.Summary}, " ")
}

// LocalDims is the size of the local embedder's vectors.
const LocalDims = 1024

// LocalVectors embeds the index's fichas with the local embedder, reading as the index does
// (its glossary).
func LocalVectors(ctx context.Context, ix *Index) (*Vectors, error) {
	return NewVectors(ctx, ix.LocalEmbedder(), ix.fichas)
}

// Glossary returns the glossary the index reads through (nil when it has none), for an
// embedder that should read the same way (EmbedderConfig.Gloss).
func (ix *Index) Glossary() *Glossary { return ix.gloss }

// Vectors is an in-memory vector index of the fichas, searched by cosine similarity.
type Vectors struct {
	emb    embeddings.Embedder
	fichas []*Ficha
	vecs   [][]float32
	bySlug map[string]int
}

// NewVectors embeds every ficha with emb. It fails, naming the embedder, when emb does not
// return one non-empty vector per ficha, all of the same length.
func NewVectors(ctx context.Context, emb embeddings.Embedder, fichas []*Ficha) (*Vectors, error) {
	texts := make([]string, len(fichas))
	for i, f := range fichas {
		texts[i] = FichaText(f)
	}
	vecs, err := emb.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed the catalogue: %w", err)
	}
	if len(vecs) != len(fichas) {
		return nil, fmt.Errorf("embed the catalogue with %s: %d vectors for %d fichas", embedderName(emb), len(vecs), len(fichas))
	}
	for i, v := range vecs {
		if len(v) == 0 {
			return nil, fmt.Errorf("embed the catalogue with %s: an empty vector for %s", embedderName(emb), fichas[i].Slug)
		}
		if len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("embed the catalogue with %s: vectors of inconsistent length: %d for %s, %d for %s",
				embedderName(emb), len(vecs[0]), fichas[0].Slug, len(v), fichas[i].Slug)
		}
	}
	bySlug := make(map[string]int, len(fichas))
	for i, f := range fichas {
		bySlug[f.Slug] = i
	}
	return &Vectors{emb: emb, fichas: fichas, vecs: vecs, bySlug: bySlug}, nil
}

func embedderName(emb embeddings.Embedder) string {
	if s, ok := emb.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", emb)
}

// ErrDims: the query's vector is not of the length of the fichas' vectors.
var ErrDims = errors.New("retrieval: query vector of another length than the catalogue's")

// query embeds a question and checks its length against the fichas' vectors.
func (vs *Vectors) query(ctx context.Context, text string) ([]float32, error) {
	q, err := vs.emb.EmbedQuery(ctx, text)
	if err != nil {
		return nil, err
	}
	if len(vs.vecs) > 0 && len(q) != len(vs.vecs[0]) {
		return nil, fmt.Errorf("%w: %d, want %d", ErrDims, len(q), len(vs.vecs[0]))
	}
	return q, nil
}

// WithVectors makes Find lift each lexical score by (1 + weight × cosine) with the question:
// the hybrid ranking of the embedded mode. The vectors must be of this index's fichas; nil
// leaves them out.
func WithVectors(vs *Vectors, weight float64) IndexOption {
	return func(ix *Index) { ix.vectors, ix.vectorWeight = vs, weight }
}

// lift multiplies each result's score by (1 + weight × its cosine with the text) and
// re-sorts: the lexical evidence stays the base, so the engine's score ratios keep their
// meaning, and the vectors settle which of close candidates the question is nearest.
func (vs *Vectors) lift(ctx context.Context, text string, res []Result, weight float64) {
	q, err := vs.query(ctx, text)
	if err != nil {
		return // the lexical ranking stands
	}
	for i := range res {
		j, ok := vs.bySlug[res[i].Ficha.Slug]
		if !ok {
			continue
		}
		if c := cos(q, vs.vecs[j]); c > 0 {
			res[i].Score *= 1 + weight*c
		}
	}
	slices.SortFunc(res, byScore)
}

func cos(a, b []float32) float64 {
	var dot, na, nb float64
	for j := range min(len(a), len(b)) {
		dot += float64(a[j]) * float64(b[j])
		na += float64(a[j]) * float64(a[j])
		nb += float64(b[j]) * float64(b[j])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// Search returns the k fichas nearest the query.
func (vs *Vectors) Search(ctx context.Context, query string, k int) ([]*Ficha, error) {
	q, err := vs.query(ctx, query)
	if err != nil {
		return nil, err
	}
	type hit struct {
		i int
		s float64
	}
	hits := make([]hit, len(vs.vecs))
	for i, v := range vs.vecs {
		hits[i] = hit{i, cos(q, v)}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(b.s, a.s) })
	out := make([]*Ficha, 0, k)
	for _, h := range hits[:min(k, len(hits))] {
		if h.s > 0 {
			out = append(out, vs.fichas[h.i])
		}
	}
	return out, nil
}

// FuseRRF merges ranked lists by reciprocal rank fusion (k = 60, as in Cormack et al.): a
// ficha's score is the sum of 1/(60+rank) over the lists it appears in.
func FuseRRF(lists ...[]*Ficha) []*Ficha {
	score := map[*Ficha]float64{}
	var order []*Ficha
	for _, l := range lists {
		for r, f := range l {
			if _, ok := score[f]; !ok {
				order = append(order, f)
			}
			score[f] += 1 / float64(60+r+1)
		}
	}
	slices.SortStableFunc(order, func(a, b *Ficha) int { return cmp.Compare(score[b], score[a]) })
	return order
}
