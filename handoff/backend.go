package handoff

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
	"github.com/riverqueue/river"
	taskrouter "github.com/twilio/twilio-go/rest/taskrouter/v1"
)

// Backend receives every handoff besides the built-in console: a contact-center system
// that routes it to its own agents.
type Backend interface {
	Name() string
	Notify(ctx context.Context, p Packet) error
}

// PacketJSON is the packet as backends receive it.
type PacketJSON struct {
	HandoffID      int64      `json:"handoff_id"`
	ConversationID string     `json:"conversation_id"`
	Reason         string     `json:"reason"`
	Priority       int        `json:"priority"`
	Queue          string     `json:"queue"`
	Status         string     `json:"status"`
	Channel        string     `json:"channel"`
	Address        string     `json:"address"`
	Language       string     `json:"language"`
	WaitingSeconds int        `json:"waiting_seconds"`
	Question       string     `json:"question,omitempty"`
	Missing        []string   `json:"missing,omitempty"`
	Fichas         []string   `json:"fichas,omitempty"`
	RUTs           []string   `json:"ruts,omitempty"`
	WindowExpires  *time.Time `json:"whatsapp_window_expires,omitempty"`
	Summary        string     `json:"summary"`
	Transcript     []LineJSON `json:"transcript"`
}

// LineJSON is one message of the transcript.
type LineJSON struct {
	From string    `json:"from"`
	Name string    `json:"name,omitempty"` // on an agent's line, the agent who wrote it
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// JSON returns the packet as backends receive it.
func (p Packet) JSON() PacketJSON {
	j := PacketJSON{HandoffID: p.HandoffID, ConversationID: p.ConversationID, Reason: p.Reason, Priority: p.Priority, Queue: p.Queue,
		Status: p.Status, Channel: p.Channel, Address: p.Address, Language: p.Language, WaitingSeconds: int(p.Waiting.Seconds()),
		Question: p.Question, Missing: p.Missing, Fichas: p.Fichas, RUTs: p.RUTs, Summary: p.Summary(), Transcript: []LineJSON{}}
	if !p.WindowExpires.IsZero() {
		w := p.WindowExpires
		j.WindowExpires = &w
	}
	for _, l := range p.Transcript {
		j.Transcript = append(j.Transcript, LineJSON{From: l.From, Name: l.Name, Text: l.Text, At: l.At})
	}
	return j
}

// Webhook posts the packet as JSON to a contact-center system, signed: the header
// X-Atiende-Signature is the hex HMAC-SHA256, keyed with the shared secret, of the
// timestamp (X-Atiende-Timestamp, Unix seconds), a dot and the body. The receiver checks it
// with VerifyWebhook and refuses old timestamps, so a captured request cannot be replayed.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
	Now    func() time.Time
}

// Name implements Backend.
func (w *Webhook) Name() string { return "webhook" }

// SignWebhook computes the signature of a body sent at ts.
func SignWebhook(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Errors of VerifyWebhook.
var (
	ErrBadSignature = errors.New("webhook: bad signature")
	ErrStale        = errors.New("webhook: timestamp too old or in the future")
)

// VerifyWebhook checks a received webhook's signature and that its timestamp is within
// tolerance of now.
func VerifyWebhook(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := SignWebhook(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// Notify implements Backend.
func (w *Webhook) Notify(ctx context.Context, p Packet) error {
	return w.post(ctx, p.JSON())
}

func (w *Webhook) post(ctx context.Context, v PacketJSON) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Atiende-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Atiende-Signature", SignWebhook(w.Secret, ts, body))
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("handoff webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("handoff webhook: status %d", resp.StatusCode)
	}
	return nil
}

// TaskRouter creates a Twilio TaskRouter task for each handoff, with the packet as its
// attributes, for call centers on Twilio Flex.
type TaskRouter struct {
	API       *taskrouter.ApiService
	Workspace string
	Workflow  string
}

// Name implements Backend.
func (t *TaskRouter) Name() string { return "taskrouter" }

// Notify implements Backend.
func (t *TaskRouter) Notify(ctx context.Context, p Packet) error {
	attrs, err := json.Marshal(p.JSON())
	if err != nil {
		return err
	}
	params := &taskrouter.CreateTaskParams{}
	params.SetWorkflowSid(t.Workflow)
	params.SetAttributes(string(attrs))
	params.SetPriority(p.Priority)
	params.SetTaskChannel("chat")
	if _, err := t.API.CreateTask(t.Workspace, params); err != nil {
		return fmt.Errorf("taskrouter task: %w", err)
	}
	return nil
}

// NotifyArgs asks for a handoff to be sent to the backend.
type NotifyArgs struct {
	HandoffID int64 `json:"handoff_id"`
}

// Kind implements river.JobArgs.
func (NotifyArgs) Kind() string { return "handoff_notify" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (NotifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// Enqueuer adds a job inside a store transaction of type T (the queue package's queues,
// with store.Tx).
type Enqueuer[T any] interface {
	// InsertTx inserts the job in tx: it commits or rolls back with it.
	InsertTx(ctx context.Context, tx T, args river.JobArgs, opts *river.InsertOpts) error
}

// Register adds the notify job's worker.
func (s *Service[T]) Register(w *river.Workers) { river.AddWorker(w, &notifyWorker[T]{s: s}) }

type notifyWorker[T Tx] struct {
	river.WorkerDefaults[NotifyArgs]
	s *Service[T]
}

func (w *notifyWorker[T]) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	s := w.s
	if s.backend == nil {
		return nil
	}
	var h *atiende.Handoff
	var conv *atiende.Conversation
	err := s.store.Tx(ctx, func(tx T) error {
		var err error
		if h, err = tx.Handoff(ctx, job.Args.HandoffID); err != nil {
			return err
		}
		conv, err = tx.Conversation(ctx, h.ConversationID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	msgs, err := s.store.Messages(ctx, conv.ID, 500)
	if err != nil {
		return err
	}
	p := NewPacket(conv, *h, msgs, s.now())
	if err := s.store.Tx(ctx, func(tx T) error { p.NameAgents(ctx, tx); return nil }); err != nil {
		return err
	}
	if err = s.backend.Notify(ctx, p); err != nil {
		s.log.Warn("handoff backend failed; retrying", "backend", s.backend.Name(), "handoff", h.ID, "attempt", job.Attempt, "error", err.Error())
		return err
	}
	s.log.Info("handoff sent to backend", "backend", s.backend.Name(), "handoff", h.ID)
	return nil
}
