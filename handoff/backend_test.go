package handoff_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/riverqueue/river"
)

// withBackend runs a handoff service whose backend is b, with a real River queue, and opens
// one handoff, whose id it returns.
func withBackend(t *testing.T, b handoff.Backend) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	// The queue first, the service with it, then the service's worker, before the queue starts.
	workers := river.NewWorkers()
	q, err := queue.NewSQLite(ctx, db, queue.Config{Workers: workers, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen(), Backend: b, Queue: q}, events.NewHub(), events.NewHub(), nil)
	s.Register(workers)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(sctx)
		db.Close()
	})
	var id int64
	err = db.Tx(ctx, func(tx store.Tx) error {
		conv := &atiende.Conversation{ID: "c1", Channel: "whatsapp", Address: "whatsapp:+56944445555"}
		if err := tx.CreateConversation(ctx, conv); err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: "c1", Direction: atiende.Inbound, Text: "necesito que revisen mi caso, rut 12.345.678-5"}); err != nil {
			return err
		}
		h, _, err := s.Start(ctx, tx, conv, bot.ReasonPersonal, "pensiones")
		if err == nil {
			id = h.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestWebhookBackendSignsAndRetries(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-compartido"
	var mu sync.Mutex
	calls := 0
	got := make(chan handoff.PacketJSON, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := handoff.VerifyWebhook(secret, r.Header.Get("X-Atiende-Timestamp"), r.Header.Get("X-Atiende-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable) // the first try fails; the job retries
			return
		}
		var p handoff.PacketJSON
		json.Unmarshal(body, &p)
		select {
		case got <- p:
		default: // a later copy: the first is what the test reads
		}
	}))
	defer srv.Close()
	id := withBackend(t, &handoff.Webhook{URL: srv.URL, Secret: secret})
	var p handoff.PacketJSON
	select {
	case p = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the webhook never received the packet")
	}
	if p.HandoffID != id || p.Reason != bot.ReasonPersonal || p.Queue != "prevision-trabajo" || p.Channel != "whatsapp" ||
		len(p.RUTs) != 1 || p.WindowExpires == nil || len(p.Transcript) != 1 || !strings.Contains(p.Summary, "caso personal") {
		t.Errorf("packet: %+v", p)
	}
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	sig := handoff.SignWebhook("k", now.Unix(), body)
	ts := "1800000000"
	if err := handoff.VerifyWebhook("k", ts, sig, body, now, time.Minute); err != nil {
		t.Errorf("valid: %v", err)
	}
	if err := handoff.VerifyWebhook("k", ts, sig, []byte(`{"a":2}`), now, time.Minute); err != handoff.ErrBadSignature {
		t.Errorf("tampered: %v", err)
	}
	if err := handoff.VerifyWebhook("otra", ts, sig, body, now, time.Minute); err != handoff.ErrBadSignature {
		t.Errorf("wrong secret: %v", err)
	}
	if err := handoff.VerifyWebhook("k", ts, sig, body, now.Add(10*time.Minute), time.Minute); err != handoff.ErrStale {
		t.Errorf("replayed later: %v", err)
	}
}

func TestTaskRouterBackend(t *testing.T) {
	t.Parallel()
	const sid, token = "AC00000000000000000000000000000003", "00112233445566778899aabbccddeeff"
	fake := twiliotest.New(sid, token)
	created := make(chan struct{}, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.ServeHTTP(w, r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Tasks") {
			select {
			case created <- struct{}{}:
			default:
			}
		}
	}))
	defer api.Close()
	rest, err := twilio.NewRestClient(twilio.Config{AccountSID: sid, AuthToken: token, APIURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	id := withBackend(t, &handoff.TaskRouter{API: rest.TaskrouterV1, Workspace: "WS00000000000000000000000000000001", Workflow: "WW00000000000000000000000000000001"})
	select {
	case <-created: // the fake has answered the request that created it
	case <-time.After(20 * time.Second):
		t.Fatal("no TaskRouter task")
	}
	tasks := fake.Tasks()
	if len(tasks) == 0 {
		t.Fatal("the TaskRouter request created no task")
	}
	task := tasks[0]
	var attrs handoff.PacketJSON
	if err := json.Unmarshal([]byte(task.Attributes), &attrs); err != nil {
		t.Fatal(err)
	}
	if attrs.HandoffID != id {
		t.Errorf("the task's handoff_id is %d, the handoff's %d", attrs.HandoffID, id)
	}
	if task.Workspace != "WS00000000000000000000000000000001" || task.Workflow != "WW00000000000000000000000000000001" ||
		attrs.Reason != bot.ReasonPersonal || attrs.Address != "whatsapp:+56944445555" || task.Priority != handoff.PriorityPersonal {
		t.Errorf("task: %+v %+v", task, attrs)
	}
}
