package retrieval_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atiende/atiende/bot/llm/llmtest"
	"github.com/atiende/atiende/retrieval"
)

// hashed is the fake servers' model: the local embedder's vectors, so that retrieval
// through a server ranks as the local mode does.
func hashed(text string) []float32 {
	v, _ := retrieval.HashEmbedder{Dims: 256}.EmbedQuery(context.Background(), text)
	return v
}

func TestNewEmbedderConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  retrieval.EmbedderConfig
		nil_ bool   // no embedder (none)
		err  string // the error names this
	}{
		{name: "none", cfg: retrieval.EmbedderConfig{Provider: "none"}, nil_: true},
		{name: "empty is none", cfg: retrieval.EmbedderConfig{}, nil_: true},
		{name: "local", cfg: retrieval.EmbedderConfig{Provider: "local"}},
		{name: "openai", cfg: retrieval.EmbedderConfig{Provider: "openai", BaseURL: "http://127.0.0.1:1", Model: "m"}},
		{name: "ollama default URL", cfg: retrieval.EmbedderConfig{Provider: "ollama", Model: "m"}},
		{name: "typo", cfg: retrieval.EmbedderConfig{Provider: "openia"}, err: "want none, local, openai or ollama"},
		{name: "openai without model", cfg: retrieval.EmbedderConfig{Provider: "openai", BaseURL: "http://x/v1"}, err: "ATIENDE_EMBED_MODEL"},
		{name: "ollama without model", cfg: retrieval.EmbedderConfig{Provider: "ollama"}, err: "ATIENDE_EMBED_MODEL"},
		{name: "openai without URL", cfg: retrieval.EmbedderConfig{Provider: "openai", Model: "m"}, err: "ATIENDE_EMBED_BASE_URL"},
		{name: "ollama bad URL", cfg: retrieval.EmbedderConfig{Provider: "ollama", Model: "m", BaseURL: "http://[::1"}, err: "ATIENDE_EMBED_BASE_URL"},
		{name: "openai URL without scheme", cfg: retrieval.EmbedderConfig{Provider: "openai", Model: "m", BaseURL: "127.0.0.1:8000"}, err: "ATIENDE_EMBED_BASE_URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := retrieval.NewEmbedder(c.cfg)
			switch {
			case c.err != "":
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one naming %q", err, c.err)
				}
			case err != nil:
				t.Fatal(err)
			case (e == nil) != c.nil_:
				t.Fatalf("embedder = %v, want nil: %v", e, c.nil_)
			}
		})
	}
}

// TestServedEmbedders embeds the bundled catalogue through the real langchaingo clients
// against the fake servers, batched, and searches it.
func TestServedEmbedders(t *testing.T) {
	ix := bundled(t)
	n := len(ix.Fichas())
	for _, c := range []struct {
		provider, path, base string // base is added to the fake's URL
		requests             int    // for the catalogue
	}{
		{"openai", "/v1/embeddings", "", (n + retrieval.EmbedBatchSize - 1) / retrieval.EmbedBatchSize},
		{"openai", "/v1/embeddings", "/v1/", (n + retrieval.EmbedBatchSize - 1) / retrieval.EmbedBatchSize},
		{"ollama", "/api/embed", "", n}, // langchaingo's Ollama client sends one text per request
	} {
		t.Run(c.provider+c.base, func(t *testing.T) {
			fake := llmtest.NewEmbedder(hashed)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			emb, err := retrieval.NewEmbedder(retrieval.EmbedderConfig{Provider: c.provider, BaseURL: srv.URL + c.base, Model: "emb-1", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			vs, err := retrieval.NewVectors(ctx, emb, ix.Fichas())
			if err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests()
			if len(reqs) != c.requests {
				t.Errorf("%d requests for %d fichas, want %d", len(reqs), n, c.requests)
			}
			texts := 0
			for _, r := range reqs {
				if r.Path != c.path || r.Model != "emb-1" || len(r.Input) == 0 || len(r.Input) > retrieval.EmbedBatchSize {
					t.Fatalf("request %s model %q with %d texts", r.Path, r.Model, len(r.Input))
				}
				texts += len(r.Input)
			}
			if texts != n || reqs[0].Input[0] != retrieval.FichaText(ix.Fichas()[0]) {
				t.Errorf("%d texts sent for %d fichas; first %q", texts, n, reqs[0].Input[0])
			}
			got, err := vs.Search(ctx, "kiero saber dl bono invierno xfa", 3)
			if err != nil || len(got) == 0 || got[0].Slug != "bono-invierno" {
				t.Fatalf("search: %v %v", got, err)
			}
			if last := fake.Requests()[len(fake.Requests())-1]; len(last.Input) != 1 || last.Input[0] != "kiero saber dl bono invierno xfa" {
				t.Errorf("query request %+v", last.Input)
			}
		})
	}
}

// TestServedEmbedderFailures: a server that cannot be reached, fails, or answers vectors of
// different lengths stops the catalogue's embedding with an error naming it.
func TestServedEmbedderFailures(t *testing.T) {
	ix := bundled(t)
	closed := httptest.NewServer(llmtest.NewEmbedder(hashed))
	closed.Close()
	for _, c := range []struct {
		name  string
		embed llmtest.Embed // nil: the server is closed
		want  string
	}{
		{"unreachable", nil, ""}, // the clients word it differently: the server is named
		{"server error", func(string) []float32 { return nil }, "model failed"},
		{"inconsistent length", func(text string) []float32 {
			if strings.Contains(text, "Invierno") {
				return hashed(text)[:128]
			}
			return hashed(text)
		}, "inconsistent length"},
		{"no vector", func(string) []float32 { return []float32{} }, "empty vector"},
	} {
		for _, provider := range []string{"openai", "ollama"} {
			t.Run(c.name+"/"+provider, func(t *testing.T) {
				url := closed.URL
				if c.embed != nil {
					srv := httptest.NewServer(llmtest.NewEmbedder(c.embed))
					defer srv.Close()
					url = srv.URL
				}
				emb, err := retrieval.NewEmbedder(retrieval.EmbedderConfig{Provider: provider, BaseURL: url, Model: "emb-1", Timeout: 5 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				_, err = retrieval.NewVectors(context.Background(), emb, ix.Fichas())
				if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), provider+" server "+url) ||
					!strings.Contains(err.Error(), "emb-1") {
					t.Fatalf("err = %v, want one naming %s server %s and %q", err, provider, url, c.want)
				}
			})
		}
	}
}

// TestQueryOfAnotherLength: a query vector the fichas' cannot be compared with is an error
// for Search and leaves Find's lexical ranking as it is.
func TestQueryOfAnotherLength(t *testing.T) {
	ix := bundled(t)
	var short atomic.Bool
	srv := httptest.NewServer(llmtest.NewEmbedder(func(text string) []float32 {
		if !short.Load() {
			return hashed(text)
		}
		return hashed(text)[:64]
	}))
	defer srv.Close()
	emb, err := retrieval.NewEmbedder(retrieval.EmbedderConfig{Provider: "openai", BaseURL: srv.URL, Model: "emb-1"})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := retrieval.NewVectors(context.Background(), emb, ix.Fichas())
	if err != nil {
		t.Fatal(err)
	}
	short.Store(true)
	if _, err := vs.Search(context.Background(), "bono invierno", 3); err == nil || !strings.Contains(err.Error(), "another length") {
		t.Errorf("search: %v", err)
	}
	plain := ix
	ix = ix.With(retrieval.WithVectors(vs, 0.5))
	q := retrieval.Query{Text: "bono invierno"}
	a, b := plain.Find(context.Background(), q, 3), ix.Find(context.Background(), q, 3)
	for i := range a.Results {
		if a.Results[i].Score != b.Results[i].Score {
			t.Errorf("result %d scored %f with a bad query vector, %f without vectors", i, b.Results[i].Score, a.Results[i].Score)
		}
	}
}
