package twilio_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/bot/bottest"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/queue"
	"github.com/atiende/atiende/ratelimit"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"
)

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "0123456789abcdef0123456789abcdef"
	publicURL  = "https://atiende.example.cl"
	ourNumber  = "+56229999999"
	waSender   = "whatsapp:+14155238886"
)

var (
	engineOnce sync.Once
	engine     *bot.Engine
	index      *retrieval.Index // the bundled catalogue, loaded once with engine
)

type bundle struct {
	fake  *twiliotest.Fake
	srv   *httptest.Server
	store *sqlite.DB
	svc   *twilio.Service[store.Tx]
	obs   *failures
	queue twilio.Enqueuer[store.Tx]
	sent  chan struct{} // a token each time the fake accepts a message (at most one waiting)
}

// failures records the failed deliveries the channel reports, as "channel reason".
type failures struct {
	mu   sync.Mutex
	seen []string
}

func (f *failures) DeliveryFailed(channel, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, channel+" "+reason)
}

func (f *failures) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

type option func(*twilio.Config)

func setup(t *testing.T, opts ...option) *bundle {
	t.Helper()
	return build(t, true, opts...)
}

// build is setup; with work false the queue takes jobs but runs none (the fuzz tests only
// look at what the webhooks store).
func build(t testing.TB, work bool, opts ...option) *bundle {
	t.Helper()
	return buildWith(t, nil, work, opts...)
}

// loadEngine loads the bundled catalogue and its engine once for all the tests.
func loadEngine() {
	engineOnce.Do(func() {
		ix, err := retrieval.Bundled(catalogue.FS, "")
		if err != nil {
			panic(err)
		}
		net, err := retrieval.LoadNetwork(catalogue.FS)
		if err != nil {
			panic(err)
		}
		engine, index = bot.New(ix, net), ix
	})
}

// buildWith is build with an engine of the test's own (nil: the shared one).
func buildWith(t testing.TB, eng *bot.Engine, work bool, opts ...option) *bundle {
	t.Helper()
	return buildOn(t, eng, nil, work, opts...)
}

// channelStore is the store the channel, its core and its queue share in these tests: their
// transactions, and the driver's transaction inside one for the queue (a wrapper finds it
// inside its own, failingStore.SQLTx).
type channelStore interface {
	twilio.Store[store.Tx]
	queue.SQLiteDB[store.Tx]
}

// buildOn is buildWith with the channel's store wrapped by wrap (nil: the database itself).
func buildOn(t testing.TB, eng *bot.Engine, wrap func(*sqlite.DB) channelStore, work bool, opts ...option) *bundle {
	t.Helper()
	loadEngine()
	ctx := context.Background()
	fake := twiliotest.New(accountSID, authToken)
	sent := make(chan struct{}, 1)
	fake.Observe(func(twiliotest.Message) {
		select {
		case sent <- struct{}{}:
		default: // a token is already waiting: the waiter will count the messages anyway
		}
	})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atiende.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := twilio.Config{AccountSID: accountSID, AuthToken: authToken, FromNumber: ourNumber, WhatsAppFrom: waSender,
		PublicURL: publicURL, APIURL: api.URL, RateLimit: 15}
	for _, o := range opts {
		o(&cfg)
	}
	hs := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.AlwaysOpen()}, events.NewHub(), events.NewHub(), nil)
	if eng == nil {
		eng = engine
	}
	var st channelStore = db
	if wrap != nil {
		st = wrap(db)
	}
	core, err := conversation.New(conversation.Config[store.Tx]{Store: st, Engine: eng, Handoffs: hs})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	// The queue enqueues in the transactions of the store the channel uses.
	q, err := queue.NewSQLite(ctx, st, queue.Config{Workers: workers, Queues: twilio.Queues(), PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	obs := &failures{}
	cfg.Observer = obs
	svc, err := twilio.New(cfg, st, eng, core, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.Register(workers)
	if work {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	svc.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if work {
			q.Stop(sctx)
		}
		db.Close()
	})
	return &bundle{fake: fake, srv: srv, store: db, svc: svc, obs: obs, queue: q, sent: sent}
}

var sidSeq struct {
	sync.Mutex
	n int
}

func newSid() string {
	sidSeq.Lock()
	defer sidSeq.Unlock()
	sidSeq.n++
	return fmt.Sprintf("SMa%031d", sidSeq.n)
}

func inbound(from, body, sid string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "To": {ourNumber}, "Body": {body}, "NumMedia": {"0"}}
}

// post sends a webhook signed for the public URL (signURL overrides it).
func (b *bundle) post(t *testing.T, path string, form url.Values, signURL string) int {
	t.Helper()
	if signURL == "" {
		signURL = publicURL + path
	}
	req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(authToken, signURL, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (b *bundle) say(t *testing.T, from, body string) {
	t.Helper()
	if code := b.post(t, "/webhooks/twilio/messaging", inbound(from, body, newSid()), ""); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
}

// waitSent waits until the fake has accepted n messages (woken by each one it accepts),
// then until the queue has no job left to run: an extra message, if any, has been sent by
// then.
func (b *bundle) waitSent(t *testing.T, n int) []twiliotest.Message {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for len(b.fake.Sent()) < n {
		select {
		case <-b.sent:
		case <-timeout:
			t.Fatalf("sent %d messages, want %d", len(b.fake.Sent()), n)
		}
	}
	b.waitIdle(t)
	return b.fake.Sent()
}

// waitIdle waits until every job the webhooks and turns enqueued has ended (completed,
// cancelled or discarded): none is running, due, or waiting for a retry. A webhook inserts
// its turn job before it answers, and a turn its delivery jobs in its own transaction, so
// once the queue is idle nothing more will be sent for the messages posted so far, and
// every delivery's outcome is stored. River tells nothing outside the queue when a job
// ends, so this polls the jobs table, as often as the queue itself polls (20 ms).
func (b *bundle) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var left int
		var states string
		err := b.store.SQL().QueryRowContext(context.Background(), `SELECT count(*), coalesce(group_concat(kind || ':' || state), '')
			FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&left, &states)
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still to run (%s)", left, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSignedWebhookGetsExactlyOneReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	form := inbound("+56911112222", "cuanto es la pgu", newSid())
	req, _ := http.NewRequest("POST", b.srv.URL+"/webhooks/twilio/messaging", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(authToken, publicURL+"/webhooks/twilio/messaging", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	body.Write(buf[:n])
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(body.String(), "<Response") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("webhook answer: %d %q %s", resp.StatusCode, body.String(), resp.Header.Get("Content-Type"))
	}
	sent := b.waitSent(t, 1)
	if len(sent) != 1 {
		t.Fatalf("%d replies", len(sent))
	}
	m := sent[0]
	if m.To != "+56911112222" || m.From != ourNumber || !strings.Contains(m.Body, "Pension Garantizada Universal") || m.StatusCallback != publicURL+"/webhooks/twilio/status" {
		t.Errorf("reply: %+v", m)
	}
	if strings.ContainsAny(m.Body, "áíóú") {
		t.Errorf("SMS not in GSM-7: %q", m.Body)
	}
	// The turn's trace keeps the first ficha's score for the reports.
	ms := messagesOf(t, b, "+56911112222")
	if out := ms[len(ms)-1]; out.Action != "answer" || out.Score <= 0 || out.Reason != "" {
		t.Errorf("stored reply: %+v", out)
	}
}

func TestBadSignaturesAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	form := inbound("+56911112222", "hola", newSid())
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("Body", "hola, cambiado")
	req, _ := http.NewRequest("POST", b.srv.URL+"/webhooks/twilio/messaging", strings.NewReader(tampered.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(authToken, publicURL+"/webhooks/twilio/messaging", form))
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("tampered body: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", b.srv.URL+"/webhooks/twilio/messaging", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("no signature: %d", resp.StatusCode)
	}
	// Signed for another URL (a Host header rebuilt by a proxy) is refused too.
	if code := b.post(t, "/webhooks/twilio/messaging", form, "https://evil.example.com/webhooks/twilio/messaging"); code != 403 {
		t.Errorf("signed for another host: %d", code)
	}
	// Twilio's libraries sign with or without the default port: both are accepted.
	if code := b.post(t, "/webhooks/twilio/messaging", inbound("+56911112222", "hola", newSid()), "https://atiende.example.cl:443/webhooks/twilio/messaging"); code != 200 {
		t.Errorf("signed with :443: %d", code)
	}
	big := inbound("+56911112222", strings.Repeat("a", 70<<10), newSid())
	if code := b.post(t, "/webhooks/twilio/messaging", big, ""); code != 413 {
		t.Errorf("70 KiB body: %d", code)
	}
	if n := len(b.waitSent(t, 1)); n != 1 {
		t.Errorf("%d replies; only the :443 one should be answered", n)
	}
}

func TestDuplicateMessageSidIsAnsweredOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	form := inbound("+56933334444", "cuanto es la pgu", newSid())
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := b.post(t, "/webhooks/twilio/messaging", form, ""); code != 200 {
				t.Errorf("duplicate webhook: %d", code)
			}
		}()
	}
	wg.Wait()
	if sent := b.waitSent(t, 1); len(sent) != 1 {
		t.Errorf("%d replies to one MessageSid", len(sent))
	}
}

func TestRetryOn429ThenDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetReply(func(n int, _ twiliotest.Message) (int, int) {
		if n == 1 {
			return 429, 20429
		}
		return 0, 0
	})
	b.say(t, "+56955556666", "cuanto es la pgu")
	sent := b.waitSent(t, 1)
	if len(sent) != 1 || b.fake.Attempts() != 2 {
		t.Errorf("%d sent after %d attempts; want 1 after 2", len(sent), b.fake.Attempts())
	}
	ds := deliveries(t, b, "+56955556666")
	if len(ds) != 1 || ds[0].Status != atiende.DeliverySent || ds[0].Attempts != 2 || ds[0].ProviderSID == "" {
		t.Errorf("delivery: %+v", ds)
	}
	if got := b.obs.list(); !slices.Equal(got, []string{"sms retry"}) {
		t.Errorf("failures reported: %v, want one retry", got)
	}
}

// TestLastAttemptSendsBehindAStuckReply: a reply waits for the citizen's earlier ones, but not
// for ever. An earlier reply stuck unsent with no job left to send it (its job gave up on a
// store error, say) must not make every later reply give up too, unsent and unrecorded: on
// its last attempt a delivery is sent out of order.
func TestLastAttemptSendsBehindAStuckReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const from = "+56977778888"
	b.say(t, from, "hola")
	b.waitSent(t, 1)
	conv := conversationOf(t, b, from)
	ctx := context.Background()
	reply := func(tx store.Tx, text string) (*atiende.Delivery, error) {
		m := &atiende.Message{ConversationID: conv.ID, Direction: atiende.Outbound, Text: text, Action: bot.ActionAnswer, Processed: true}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return nil, err
		}
		d := &atiende.Delivery{MessageID: m.ID, ConversationID: conv.ID, Channel: conv.Channel, To: conv.Address, Body: text, Segments: 1, Encoding: "GSM-7"}
		return d, tx.InsertDelivery(ctx, d)
	}
	var later *atiende.Delivery
	err := b.store.Tx(ctx, func(tx store.Tx) error {
		if _, err := reply(tx, "respuesta que quedó sin enviar"); err != nil { // no job: stuck pending
			return err
		}
		var err error
		if later, err = reply(tx, "respuesta siguiente"); err != nil {
			return err
		}
		// Its last attempt: the job's earlier attempts waited for the stuck one in vain.
		return b.queue.InsertTx(ctx, tx, twilio.DeliverArgs{DeliveryID: later.ID}, &river.InsertOpts{MaxAttempts: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	b.waitIdle(t)
	sent := b.fake.Sent()
	if len(sent) != 2 || sent[1].Body != "respuesta siguiente" {
		t.Errorf("sent %+v; want the later reply sent behind the stuck one", sent)
	}
	for _, d := range deliveries(t, b, from) {
		if d.ID == later.ID && d.Status != atiende.DeliverySent {
			t.Errorf("the later reply's delivery is %q, want %q", d.Status, atiende.DeliverySent)
		}
	}
}

// failingStore is the database, but the first InsertDelivery of its transactions fails
// (a disk full, a lost connection) and rolls its transaction back.
type failingStore struct {
	*sqlite.DB
	failed atomic.Bool
}

func (f *failingStore) Tx(ctx context.Context, fn func(store.Tx) error) error {
	return f.DB.Tx(ctx, func(tx store.Tx) error { return fn(failingTx{Tx: tx.(*sqlite.Tx), f: f}) })
}

// SQLTx finds the driver's transaction inside a failingTx, for the queue to enqueue in it.
func (f *failingStore) SQLTx(tx store.Tx) (*sql.Tx, bool) {
	if ft, ok := tx.(failingTx); ok {
		tx = ft.Tx
	}
	return f.DB.SQLTx(tx)
}

// failingTx is the database's transaction but for InsertDelivery.
type failingTx struct {
	*sqlite.Tx
	f *failingStore
}

func (t failingTx) InsertDelivery(ctx context.Context, d *atiende.Delivery) error {
	if t.f.failed.CompareAndSwap(false, true) {
		return errors.New("disk I/O error")
	}
	return t.Tx.InsertDelivery(ctx, d)
}

// TestReplyNotRecordedIsRetried: when the store fails as a turn writes its reply, nothing of
// the turn is kept (the message stays pending) and the turn is tried again: the citizen gets
// the reply once, never none.
func TestReplyNotRecordedIsRetried(t *testing.T) {
	t.Parallel()
	fs := &failingStore{}
	b := buildOn(t, nil, func(db *sqlite.DB) channelStore { fs.DB = db; return fs }, true)
	const from = "+56915151515"
	b.say(t, from, "cuanto es la pgu")
	sent := b.waitSent(t, 1)
	if !fs.failed.Load() {
		t.Fatal("the store never failed")
	}
	if len(sent) != 1 || !strings.Contains(strings.ToLower(sent[0].Body), "pgu") {
		t.Errorf("sent %+v; want the one reply", sent)
	}
	ms := messagesOf(t, b, from)
	if len(ms) != 2 || !ms[0].Processed || ms[1].Direction != atiende.Outbound {
		t.Errorf("stored %+v; want the question handled and one reply", ms)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetReply(func(int, twiliotest.Message) (int, int) { return 400, 21610 })
	b.say(t, "+56977778888", "cuanto es la pgu")
	// A retry would keep the job waiting in the queue: once it is idle, none is coming, and
	// the delivery's outcome is stored.
	b.waitIdle(t)
	ds := deliveries(t, b, "+56977778888")
	if len(ds) != 1 || ds[0].Status != atiende.DeliveryFailed || ds[0].ErrorCode != 21610 || ds[0].Attempts != 1 {
		t.Errorf("deliveries: %+v, want one failed with 21610 after one attempt", ds)
	}
	if n := b.fake.Attempts(); n != 1 {
		t.Errorf("a 21610 was tried %d times", n)
	}
	if got := b.obs.list(); !slices.Equal(got, []string{"sms rejected"}) {
		t.Errorf("failures reported: %v, want one rejection", got)
	}
}

func TestStatusCallbackRecordsDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.say(t, "+56912121212", "hola")
	sent := b.waitSent(t, 1)
	for _, st := range []string{"delivered", "sent"} { // out of order: "sent" must not undo "delivered"
		form := url.Values{"MessageSid": {sent[0].Sid}, "MessageStatus": {st}, "AccountSid": {accountSID}}
		if code := b.post(t, "/webhooks/twilio/status", form, ""); code != 200 {
			t.Fatalf("status callback: %d", code)
		}
	}
	ds := deliveries(t, b, "+56912121212")
	if ds[0].Status != "delivered" {
		t.Errorf("status %q", ds[0].Status)
	}
	failed := url.Values{"MessageSid": {sent[0].Sid}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}, "AccountSid": {accountSID}}
	b.post(t, "/webhooks/twilio/status", failed, "")
	if ds := deliveries(t, b, "+56912121212"); ds[0].ErrorCode != 30003 {
		t.Errorf("error code not recorded: %+v", ds[0])
	}
	unknown := url.Values{"MessageSid": {"SMffffffffffffffffffffffffffffffff"}, "MessageStatus": {"delivered"}, "AccountSid": {accountSID}}
	if code := b.post(t, "/webhooks/twilio/status", unknown, ""); code != 200 {
		t.Errorf("unknown sid: %d", code)
	}
	if code := b.post(t, "/webhooks/twilio/status", url.Values{"MessageSid": {"x"}}, ""); code != 400 {
		t.Errorf("status without MessageStatus: %d", code)
	}
}

func TestOptOutAndBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := "+56913131313"
	b.say(t, from, "STOP")
	b.waitSent(t, 1)
	b.say(t, from, "cuanto es la pgu")
	b.waitIdle(t) // the message's turn has run, and any reply it made has gone
	if n := len(b.fake.Sent()); n != 1 {
		t.Fatalf("%d messages after opting out; only the confirmation should go", n)
	}
	b.say(t, from, "ALTA")
	sent := b.waitSent(t, 2)
	if len(sent) != 2 || !strings.Contains(sent[1].Body, "volvera a recibir") {
		t.Errorf("after ALTA: %+v", sent)
	}
}

// TestStateSavedWithTheOldOptOutFlag: a conversation saved when the engine's state kept an
// opt-out flag of its own ("optout", now only the conversation's) is still read whole: the
// conversation's flag silences it, and the rest of the state (a miss already counted) is
// kept, so that the next miss hands the citizen to a person. Saved again, the old key goes.
func TestStateSavedWithTheOldOptOutFlag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const from = "+56914141414"
	conv := &atiende.Conversation{ID: "antigua", Channel: bot.ChannelSMS, Address: from, OptOut: true,
		State: []byte(`{"misses":1,"turns":2,"optout":true}`)}
	if err := b.store.CreateConversation(context.Background(), conv); err != nil {
		t.Fatal(err)
	}
	b.say(t, from, "cuanto es la pgu")
	b.waitIdle(t)
	if n := len(b.fake.Sent()); n != 0 {
		t.Fatalf("%d messages to a citizen who opted out", n)
	}
	b.say(t, from, "ALTA")
	b.waitSent(t, 1)
	b.say(t, from, "cual es la capital de francia")
	b.waitSent(t, 2)
	ms := messagesOf(t, b, from)
	if last := ms[len(ms)-1]; last.Action != bot.ActionHandoff || last.Reason != bot.ReasonFailure {
		t.Errorf("second miss answered %s (%s); want a handoff: the saved miss was lost", last.Action, last.Reason)
	}
	if st := string(conversationOf(t, b, from).State); strings.Contains(st, "optout") {
		t.Errorf("state saved again with the old flag: %s", st)
	}
}

func TestLongSMSIsContinuedOnMAS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := "+56914141414"
	b.say(t, from, "MAS")
	if got := b.waitSent(t, 1)[0].Body; !strings.Contains(got, "No hay mas texto") {
		t.Errorf("MAS with nothing held: %q", got)
	}
	b.say(t, from, "requisitos de la pgu")
	first := b.waitSent(t, 2)[1].Body
	if !strings.Contains(first, "Responde MAS para seguir") || !strings.Contains(first, "https://") {
		t.Fatalf("a long answer is not split for SMS:\n%s", first)
	}
	if n, enc := channels.Segments(first); n > 2 || enc != channels.GSM7 {
		t.Errorf("first part: %d segments %s", n, enc)
	}
	b.say(t, from, "mas")
	sent := b.waitSent(t, 3)
	if len(sent) != 3 || strings.Contains(first, sent[2].Body) || sent[2].Body == "" {
		t.Errorf("continuation: %q", sent[2].Body)
	}
}

func TestWhatsAppFormattingMediaAndWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := "whatsapp:+56915151515"
	b.say(t, from, "cuanto es el bono de invierno")
	m := b.waitSent(t, 1)[0]
	if m.From != waSender || m.To != from || !strings.HasPrefix(m.Body, "*") || len([]rune(m.Body)) > 1600 {
		t.Errorf("whatsapp reply: %+v", m)
	}
	media := inbound(from, "", newSid())
	media.Set("NumMedia", "1")
	media.Set("MediaUrl0", "https://api.twilio.com/media/x")
	if code := b.post(t, "/webhooks/twilio/messaging", media, ""); code != 200 {
		t.Fatalf("media webhook: %d", code)
	}
	sent := b.waitSent(t, 2)
	if !strings.Contains(sent[1].Body, "solo puedo leer texto") {
		t.Errorf("media reply: %q", sent[1].Body)
	}
}

// TestWhatsAppWindow: more than 24 hours after the citizen's last message only the template
// may go; without one, the delivery is recorded as skipped and nothing is sent.
func TestWhatsAppWindow(t *testing.T) {
	t.Parallel()
	later := func() time.Time { return time.Now().Add(25 * time.Hour) }
	b := setup(t, func(c *twilio.Config) { c.Now = later; c.WhatsAppTemplateSID = "HX00000000000000000000000000000001" })
	b.say(t, "whatsapp:+56919191919", "hola")
	m := b.waitSent(t, 1)[0]
	if m.ContentSid != "HX00000000000000000000000000000001" || m.Body != "" {
		t.Errorf("outside the window: %+v", m)
	}
	b = setup(t, func(c *twilio.Config) { c.Now = later })
	b.say(t, "whatsapp:+56919191919", "hola")
	b.waitIdle(t) // the turn and its delivery job have ended: the outcome is stored
	if ds := deliveries(t, b, "whatsapp:+56919191919"); len(ds) != 1 || ds[0].Status != atiende.DeliverySkipped {
		t.Errorf("deliveries: %+v, want one skipped", ds)
	}
	if n := b.fake.Attempts(); n != 0 {
		t.Errorf("%d sends outside the window without a template", n)
	}
	if got := b.obs.list(); !slices.Equal(got, []string{"whatsapp window_closed"}) {
		t.Errorf("failures reported: %v", got)
	}
}

func TestRateLimitPerSender(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := "+56916161616"
	// Questions the engine answers: two misses in a row would hand the conversation to a
	// person, who then holds it, and the engine would stop replying.
	for i := range 18 {
		b.say(t, from, fmt.Sprintf("cuanto es la pgu %d", i))
	}
	sent := b.waitSent(t, 16)
	notices := 0
	for _, m := range sent {
		if strings.Contains(m.Body, "muchos mensajes") {
			notices++
		}
	}
	if len(sent) != 16 || notices != 1 {
		t.Errorf("%d replies, %d notices; want 15 answers and one notice", len(sent), notices)
	}
	// Nothing is lost: the three messages over the limit are stored, as handled.
	in := 0
	for _, m := range messagesOf(t, b, from) {
		if m.Direction == atiende.Inbound {
			in++
			if !m.Processed {
				t.Errorf("message %q left pending", m.Text)
			}
		}
	}
	if in != 18 {
		t.Errorf("%d inbound messages stored; want all 18", in)
	}
	// Another sender is not slowed.
	b.say(t, "+56917171717", "hola")
	if sent := b.waitSent(t, 17); sent[16].To != "+56917171717" {
		t.Errorf("other sender: %+v", sent[16])
	}
}

// TestOverTheRateEmergenciesAndStopGetThrough: a sender over the rate still gets the
// emergency lines, and a request to stop is still heard.
func TestOverTheRateEmergenciesAndStopGetThrough(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twilio.Config) { c.SenderRate = ratelimit.Rate{N: 2, Per: time.Hour} })
	for i, tc := range []struct{ from, last string }{
		{from: "+56919191919", last: "me quiero morir"},
		{from: "+56919191920", last: "stop"},
	} {
		for _, text := range []string{"hola", "cuanto es la pgu", "y los requisitos?", "y el monto?"} {
			b.say(t, tc.from, text)
		}
		sent := b.waitSent(t, 4*i+3)[4*i:]
		notices := 0
		for _, m := range sent {
			if strings.Contains(m.Body, "muchos mensajes") {
				notices++
			}
		}
		if len(sent) != 3 || notices != 1 {
			t.Fatalf("%s over the rate: %d sent, want 2 answers and one notice: %+v", tc.from, len(sent), sent)
		}
		b.say(t, tc.from, tc.last)
		last := b.waitSent(t, 4*i+4)[4*i+3]
		switch tc.last {
		case "stop":
			if c := conversationOf(t, b, tc.from); !c.OptOut {
				t.Errorf("a request to stop over the rate was not heard: %q", last.Body)
			}
		default:
			if !strings.Contains(last.Body, "*4141") {
				t.Errorf("emergency over the rate not answered with the line: %q", last.Body)
			}
		}
	}
}

func TestMessagesAreHandledInTwilioOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twilio.Config) { c.Settle = 400 * time.Millisecond })
	from := "+56918181818"
	t0 := time.Now().Add(-time.Minute)
	first, second := newSid(), newSid()
	b.fake.AddInbound(first, from, "cuanto es la pgu", t0)
	b.fake.AddInbound(second, from, "y los requisitos?", t0.Add(5*time.Second))
	// The second arrives first.
	b.post(t, "/webhooks/twilio/messaging", inbound(from, "y los requisitos?", second), "")
	b.post(t, "/webhooks/twilio/messaging", inbound(from, "cuanto es la pgu", first), "")
	sent := b.waitSent(t, 2)
	if len(sent) != 2 || !strings.Contains(sent[0].Body, "Pension Garantizada") || !strings.Contains(sent[1].Body, "Pension Garantizada") {
		t.Fatalf("replies: %+v", sent)
	}
	if aspects := replyAspects(t, b, from); aspects != "monto,requisitos" {
		t.Errorf("turns out of Twilio's order: replies about %v", aspects)
	}
}

func TestConfiguration(t *testing.T) {
	t.Parallel()
	if _, err := twilio.New[store.Tx](twilio.Config{AccountSID: accountSID, FromNumber: ourNumber, PublicURL: publicURL}, nil, nil, nil, nil, nil); err != twilio.ErrNotConfigured {
		t.Errorf("no token: %v", err)
	}
	if _, err := twilio.New[store.Tx](twilio.Config{AccountSID: accountSID, AuthToken: authToken, FromNumber: ourNumber}, nil, nil, nil, nil, nil); err == nil {
		t.Error("no public URL accepted")
	}
	if _, err := twilio.New[store.Tx](twilio.Config{AccountSID: accountSID, Insecure: true, FromNumber: ourNumber}, nil, nil, nil, nil, nil); err != nil {
		t.Errorf("development flag: %v", err)
	}
}

func TestParseInbound(t *testing.T) {
	t.Parallel()
	const sid = "SM0123456789abcdef0123456789abcdef"
	in, err := twilio.ParseInbound(url.Values{"MessageSid": {sid}, "From": {"whatsapp:+56912345678"}, "To": {"whatsapp:+14155238886"}, "Body": {"hola"}, "NumMedia": {"2"}})
	if err != nil || in.Channel != bot.ChannelWhatsApp || in.NumMedia != 2 {
		t.Errorf("%+v %v", in, err)
	}
	for _, bad := range []url.Values{
		{"From": {"+56912345678"}},
		{"MessageSid": {sid}},
		{"MessageSid": {sid}, "From": {"+56912345678"}, "NumMedia": {"x"}},
		// A signed replay with a boundary moved: the SID runs into the next field.
		{"MessageSid": {sid + "NumMedia0"}, "From": {"+56912345678"}},
		{"MessageSid": {"SM1"}, "From": {"+56912345678"}},
		{"MessageSid": {"SM0123456789ABCDEF0123456789ABCDEF"}, "From": {"+56912345678"}},
		{"MessageSid": {sid}, "AccountSid": {"ACother"}, "From": {"+56912345678"}},
		{"MessageSid": {sid}, "From": {"+569"}},
		{"MessageSid": {sid}, "From": {"56912345678"}},
		{"MessageSid": {sid}, "From": {"+56912345678Body"}},
		{"MessageSid": {sid}, "From": {"+56912345678"}, "To": {"+1415523888To"}},
	} {
		if _, err := twilio.ParseInbound(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := twilio.ParseStatus(url.Values{"MessageSid": {sid + "x"}, "MessageStatus": {"delivered"}}); err == nil {
		t.Error("a status callback with a malformed MessageSid accepted")
	}
}

func conversationOf(t testing.TB, b *bundle, address string) *atiende.Conversation {
	t.Helper()
	var c *atiende.Conversation
	channel := bot.ChannelSMS
	if strings.HasPrefix(address, "whatsapp:") {
		channel = bot.ChannelWhatsApp
	}
	err := b.store.Tx(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.ConversationByAddress(context.Background(), channel, address)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deliveries(t *testing.T, b *bundle, address string) []atiende.Delivery {
	t.Helper()
	ds, err := b.store.Deliveries(context.Background(), conversationOf(t, b, address).ID)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func messagesOf(t testing.TB, b *bundle, address string) []atiende.Message {
	t.Helper()
	ms, err := b.store.Messages(context.Background(), conversationOf(t, b, address).ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestRetentionLeavesJobsNothingToDo: a conversation anonymised while its turn job waits
// (and after an answered turn, with its delivery done) gets no reply and no error: the jobs
// that name it find nothing to do, and nothing reaches a number the store no longer has.
func TestRetentionLeavesJobsNothingToDo(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twilio.Config) { c.Settle = 1500 * time.Millisecond })
	ctx := context.Background()
	from := "+56912121299"
	b.say(t, from, "hola")
	n, err := b.store.Anonymise(ctx, time.Now().Add(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("Anonymise = %d, %v; want 1", n, err)
	}
	b.waitIdle(t) // the settle delay passes; the turn job runs, and any delivery it made
	if sent := b.fake.Sent(); len(sent) != 0 {
		t.Errorf("%d messages sent for an anonymised conversation: %+v", len(sent), sent)
	}
	var count int
	if err := b.store.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed')`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 0 {
		t.Errorf("%d jobs not completed after anonymising their conversation", count)
	}
	// The same number writing again starts afresh and is answered.
	b.say(t, from, "cuanto es la pgu")
	if sent := b.waitSent(t, 1); len(sent) != 1 || sent[0].To != from {
		t.Errorf("a new conversation after retention: %+v", sent)
	}
}

// TestSlowEngineHoldsNoConnection: while a turn waits for a slow engine (a language model),
// SQLite's one connection stays free: another citizen's webhook is acknowledged at once.
func TestSlowEngineHoldsNoConnection(t *testing.T) {
	t.Parallel()
	loadEngine()
	// The engine answers only when the test opens the gate (or after 10 s, when a webhook
	// that waited for the turn's connection would show it by taking that long).
	const limit = 1500 * time.Millisecond // the request must take less, on a busy machine too
	entered := make(chan struct{}, 1)
	release, open := bottest.Gate(t, 10*time.Second)
	slow := bot.New(bottest.SlowRetriever{Index: index, Entered: entered, Release: release}, nil)
	b := buildWith(t, slow, true)
	b.say(t, "+56911110001", "cuanto es la pgu")
	select {
	case <-entered: // the turn is in the engine
	case <-time.After(10 * time.Second):
		t.Fatal("the turn never reached the engine")
	}
	start := time.Now()
	b.say(t, "+56911110002", "requisitos del bono invierno")
	took := time.Since(start)
	open()
	if took > limit {
		t.Errorf("a webhook waited %s while another conversation's turn was in the engine", took)
	}
	sent := b.waitSent(t, 2)
	if len(sent) != 2 {
		t.Fatalf("sent %d replies, want 2", len(sent))
	}
}

// TestSlowEngineTurnsAnswerAsBefore: with the engine asked outside the transaction, a
// conversation goes as it did inside it: an answer, a follow-up on the same ficha, a
// request for a person (a handoff, whose notice says what happens next), and, while the
// person holds the conversation, silence but for an emergency.
func TestSlowEngineTurnsAnswerAsBefore(t *testing.T) {
	t.Parallel()
	loadEngine()
	slow := bot.New(bottest.SlowRetriever{Index: index}, nil)
	b := buildWith(t, slow, true)
	const from = "+56911110003"
	b.say(t, from, "cuanto es la pgu")
	b.waitSent(t, 1)
	b.say(t, from, "y cuales son los requisitos?")
	sent := b.waitSent(t, 2)
	if !strings.Contains(sent[0].Body, "Pension Garantizada") || !strings.Contains(sent[1].Body, "Pension Garantizada") {
		t.Fatalf("answer and follow-up:\n%s\n---\n%s", sent[0].Body, sent[1].Body)
	}
	b.say(t, from, "quiero hablar con una persona")
	sent = b.waitSent(t, 3)
	b.say(t, from, "hola?")
	b.say(t, from, "me quiero matar")
	sent = b.waitSent(t, 4)
	if len(sent) != 4 || !strings.Contains(sent[3].Body, "4141") {
		for _, m := range sent {
			t.Logf("sent: %s", m.Body)
		}
		t.Fatalf("while held: %d replies, want the handoff notice then only the emergency lines (*4141)", len(sent))
	}
}

// replyAspects lists the aspects of the replies sent to a number, in order, joined by commas.
func replyAspects(t testing.TB, b *bundle, from string) string {
	t.Helper()
	var aspects []string
	for _, m := range messagesOf(t, b, from) {
		if m.Direction == atiende.Outbound {
			aspects = append(aspects, m.Aspect)
		}
	}
	return strings.Join(aspects, ",")
}
