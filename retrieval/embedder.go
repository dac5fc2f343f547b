package retrieval

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// EmbedderConfig chooses and reaches the embedder (ATIENDE_EMBEDDER, ATIENDE_EMBED_*).
type EmbedderConfig struct {
	// Provider is "none" (no vectors), "local" (HashEmbedder), "openai" (any
	// OpenAI-compatible server's POST /v1/embeddings) or "ollama" (POST /api/embed).
	Provider string
	BaseURL  string        // ATIENDE_EMBED_BASE_URL; for openai it must end in /v1 (added when missing)
	Model    string        // ATIENDE_EMBED_MODEL: required for openai and ollama
	APIKey   string        // ATIENDE_EMBED_API_KEY; openai only, a local server needs none
	Timeout  time.Duration // ATIENDE_EMBED_TIMEOUT, default 10 s: each HTTP request's
	// BatchSize is how many texts go in one request (langchaingo's batching); 0 means
	// EmbedBatchSize. Ollama's client sends one text per request whatever it is.
	BatchSize int
	// Gloss is the glossary the local embedder reads through (the index's: Index.Glossary).
	Gloss *Glossary
}

// EmbedBatchSize is how many fichas go in one request to a model server by default: small
// enough for the input limits of OpenAI-compatible servers (vLLM, llama.cpp, TEI).
const EmbedBatchSize = 64

// NewEmbedder returns the embedder cfg names: nil for "none", the HashEmbedder for "local",
// and a langchaingo embedder on a model server for "openai" and "ollama". It checks the
// configuration but does not call the server: NewVectors does, and its errors name it.
func NewEmbedder(cfg EmbedderConfig) (embeddings.Embedder, error) {
	switch cfg.Provider {
	case "", "none":
		return nil, nil
	case "local":
		return HashEmbedder{Dims: LocalDims, Gloss: cfg.Gloss}, nil
	case "openai", "ollama":
	default:
		return nil, fmt.Errorf("embedder %q: want none, local, openai or ollama", cfg.Provider)
	}
	if cfg.Model == "" {
		return nil, errors.New("embedder: ATIENDE_EMBED_MODEL is required for " + cfg.Provider)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = EmbedBatchSize
	}
	if cfg.BaseURL != "" {
		// Checked here: langchaingo's ollama.WithServerURL calls log.Fatal on a bad URL.
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("embedder: ATIENDE_EMBED_BASE_URL %q: want an http(s) URL such as http://127.0.0.1:11434", cfg.BaseURL)
		}
	}
	client := &http.Client{Timeout: cfg.Timeout} // langchaingo's default client has none
	var (
		ec    embeddings.EmbedderClient
		where string
	)
	switch cfg.Provider {
	case "openai":
		base := strings.TrimRight(cfg.BaseURL, "/")
		if base == "" {
			return nil, errors.New("embedder: ATIENDE_EMBED_BASE_URL is required for openai (e.g. http://127.0.0.1:8000/v1)")
		}
		if !strings.HasSuffix(base, "/v1") {
			base += "/v1"
		}
		key := cfg.APIKey
		if key == "" {
			key = "not-needed" // langchaingo refuses an empty token even for a local server
		}
		m, err := openai.New(openai.WithBaseURL(base), openai.WithToken(key), openai.WithEmbeddingModel(cfg.Model),
			openai.WithModel(cfg.Model), openai.WithHTTPClient(client))
		if err != nil {
			return nil, fmt.Errorf("embedder openai at %s: %w", base, err)
		}
		ec, where = m, "openai server "+base
	case "ollama":
		opts := []ollama.Option{ollama.WithModel(cfg.Model), ollama.WithHTTPClient(client)}
		where = "ollama server http://127.0.0.1:11434" // langchaingo's default
		if cfg.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(cfg.BaseURL))
			where = "ollama server " + cfg.BaseURL
		}
		m, err := ollama.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("embedder %s: %w", where, err)
		}
		ec = m
	}
	impl, err := embeddings.NewEmbedder(ec, embeddings.WithBatchSize(cfg.BatchSize))
	if err != nil {
		return nil, fmt.Errorf("embedder %s: %w", where, err)
	}
	return &served{impl: impl, where: fmt.Sprintf("%s (model %s)", where, cfg.Model)}, nil
}

// served is an embedder on a model server: its errors name the server and the model, and
// it checks that the server returns one vector per text.
type served struct {
	impl  embeddings.Embedder
	where string
}

// EmbedDocuments implements embeddings.Embedder.
func (s *served) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := s.impl.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embeddings from %s: %w", s.where, err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embeddings from %s: %d vectors for %d texts", s.where, len(vecs), len(texts))
	}
	return vecs, nil
}

// EmbedQuery implements embeddings.Embedder.
func (s *served) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	// Through EmbedDocuments: langchaingo's EmbedQuery indexes the server's answer unchecked.
	vecs, err := s.EmbedDocuments(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return vecs[0], nil
}

// String names the server and the model.
func (s *served) String() string { return s.where }
