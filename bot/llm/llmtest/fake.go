// Package llmtest is a fake language-model server speaking the OpenAI chat-completions and
// embeddings APIs and Ollama's chat and embed APIs over real HTTP, so that tests and
// evaluations run the real langchaingo clients against it without any network.
package llmtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Respond decides the model's answer to a system prompt and a user message, and how long it
// takes.
type Respond func(system, user string) (answer string, delay time.Duration)

// Embed decides the vector of a text; vectors of different lengths, or nil (the fake then
// answers 500), let tests see how a client copes with a bad server.
type Embed func(text string) []float32

// Request is what the fake received.
type Request struct {
	Path        string
	Model       string
	System      string
	User        string
	Input       []string // the texts of an embeddings request
	Temperature *float64
	Body        map[string]any
}

// Fake is the fake server. Its zero value is not usable: use New or NewEmbedder.
type Fake struct {
	mu       sync.Mutex
	respond  Respond
	embed    Embed
	requests []Request
}

// New returns a fake that answers with respond; it serves no embeddings (404).
func New(respond Respond) *Fake { return &Fake{respond: respond} }

// NewEmbedder returns a fake that serves embeddings with embed (POST /v1/embeddings,
// POST /api/embed); it serves no chat (404).
func NewEmbedder(embed Embed) *Fake { return &Fake{embed: embed} }

// Requests returns what the fake received.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

type message struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

func text(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any: // content parts
		var b strings.Builder
		for _, p := range v {
			if m, ok := p.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					b.WriteString(t)
				}
			}
		}
		return b.String()
	}
	return ""
}

// ServeHTTP implements POST /v1/chat/completions and POST /v1/embeddings (OpenAI), and
// POST /api/chat and POST /api/embed (Ollama).
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	chat := r.URL.Path == "/v1/chat/completions" || r.URL.Path == "/api/chat"
	embed := r.URL.Path == "/v1/embeddings" || r.URL.Path == "/api/embed"
	if r.Method != http.MethodPost || (!chat || f.respond == nil) && (!embed || f.embed == nil) {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	if embed {
		f.serveEmbed(w, r.URL.Path, body)
		return
	}
	req := Request{Path: r.URL.Path, Body: body}
	req.Model, _ = body["model"].(string)
	if t, ok := body["temperature"].(float64); ok {
		req.Temperature = &t
	}
	if msgs, ok := body["messages"].([]any); ok {
		for _, m := range msgs {
			mm, _ := m.(map[string]any)
			switch mm["role"] {
			case "system":
				req.System += text(mm["content"])
			case "user":
				req.User += text(mm["content"])
			}
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	respond := f.respond
	f.mu.Unlock()
	answer, delay := respond(req.System, req.User)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/api/chat" {
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message": map[string]any{"role": "assistant", "content": answer}, "done": true, "done_reason": "stop"})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": answer}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
	})
}

// serveEmbed answers an embeddings request: the input is one text or a list of texts.
func (f *Fake) serveEmbed(w http.ResponseWriter, path string, body map[string]any) {
	req := Request{Path: path, Body: body}
	req.Model, _ = body["model"].(string)
	switch in := body["input"].(type) {
	case string:
		req.Input = []string{in}
	case []any:
		for _, t := range in {
			s, _ := t.(string)
			req.Input = append(req.Input, s)
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	vecs := make([][]float32, len(req.Input))
	for i, t := range req.Input {
		if vecs[i] = f.embed(t); vecs[i] == nil {
			http.Error(w, `{"error":{"message":"model failed"}}`, http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if path == "/api/embed" {
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": vecs})
		return
	}
	data := make([]any, len(vecs))
	for i, v := range vecs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data,
		"usage": map[string]any{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)}})
}

// Between returns the text of the first <tag …>…</tag> block of s.
func Between(s, open, close string) string {
	i := strings.Index(s, open)
	if i < 0 {
		return ""
	}
	rest := s[i+len(open):]
	if j := strings.Index(rest, ">"); j >= 0 && strings.HasPrefix(open, "<fuente") {
		rest = rest[j+1:]
	}
	k := strings.Index(rest, close)
	if k < 0 {
		return rest
	}
	return rest[:k]
}
