package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/bot/llm/llmtest"
	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/eval"
)

// loadOptions are the flags of "atiende load" and the credentials it signs with.
type loadOptions struct {
	Target    string        // the server's base URL
	Sink      string        // where the fake Twilio REST API listens
	Rate      float64       // messages a second, all channels together
	Duration  time.Duration // how long messages are sent
	Grace     time.Duration // how long replies are awaited after the last send
	Turns     int           // messages per simulated citizen, at most
	Channels  []string      // channels the citizens use, in turn
	Dup       bool          // deliver every webhook twice, at once
	SinkFail  float64       // share of sends the fake Twilio fails with 5xx or 429
	Model     string        // where a fake language model (OpenAI's API) listens; "" none
	ModelWait time.Duration // how long the fake model takes to answer
	PublicURL string        // the URL the webhooks are signed for (ATIENDE_PUBLIC_URL)
	Account   string        // TWILIO_ACCOUNT_SID
	Token     string        // TWILIO_AUTH_TOKEN
	SMSTo     string        // the number citizens write to
	WhatsTo   string        // the WhatsApp sender citizens write to
}

// loadReplyTail is how long the load keeps listening once every message has its reply, so
// that a reply delivered twice shows.
const loadReplyTail = 2 * time.Second

// defaultLoadCases are the eval files whose citizens' words the load sends.
const defaultLoadCases = "eval/cases/answers.jsonl,eval/cases/followups.jsonl,eval/cases/clarify.jsonl"

func cmdLoad(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flags("load", stderr)
	o := loadOptions{Account: cfg.Twilio.AccountSID, Token: cfg.Twilio.AuthToken}
	fs.StringVar(&o.Target, "target", "http://127.0.0.1:8080", "base URL of the running `atiende serve`")
	fs.StringVar(&o.Sink, "sink", "127.0.0.1:9099", "address of the fake Twilio REST API the server sends to (ATIENDE_TWILIO_API_URL)")
	fs.Float64Var(&o.Rate, "rate", 20, "messages a second, all channels together (open loop)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to send")
	fs.DurationVar(&o.Grace, "grace", 20*time.Second, "how long to wait for the last replies")
	fs.IntVar(&o.Turns, "turns", 3, "messages per simulated citizen, at most")
	channelList := fs.String("channels", "sms,whatsapp,web", "channels the citizens use")
	fs.BoolVar(&o.Dup, "dup", false, "deliver every webhook twice, concurrently (as Twilio may)")
	fs.Float64Var(&o.SinkFail, "sink-fail", 0, "share of sends (0–1) the fake Twilio fails with 503 or 429")
	fs.StringVar(&o.Model, "model", "", "serve a fake language model (OpenAI's chat API) on this address, for a server started with ATIENDE_LLM=openai ATIENDE_LLM_BASE_URL=http://ADDR")
	fs.DurationVar(&o.ModelWait, "model-delay", 500*time.Millisecond, "how long the fake model takes to answer")
	cases := fs.String("cases", defaultLoadCases, "eval case files (comma-separated) whose questions the citizens ask")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("load: unexpected argument %q", rest[0])}
	}
	o.Channels = strings.Split(*channelList, ",")
	if err := o.check(); err != nil {
		return err
	}
	o.PublicURL = strings.TrimRight(or(cfg.Twilio.PublicURL, o.Target), "/")
	o.SMSTo = or(cfg.Twilio.FromNumber, "+56229999999")
	o.WhatsTo = or(cfg.Twilio.WhatsAppFrom, "whatsapp:+56229999999")
	if o.needsTwilio() && (o.Account == "" || o.Token == "") {
		return usageError{"load: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set, the same as the server's, to sign its webhooks"}
	}
	scripts, err := loadScripts(strings.Split(*cases, ","))
	if err != nil {
		return err
	}
	rep, err := runLoad(ctx, o, scripts)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.writeText(stdout)
	}
	if rep.Lost > 0 || rep.Duplicates > 0 {
		return exitError{code: 1, err: fmt.Errorf("load: %d message(s) lost, %d reply(ies) delivered twice", rep.Lost, rep.Duplicates)}
	}
	return nil
}

func (o loadOptions) check() error {
	u, err := url.Parse(o.Target)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return usageError{fmt.Sprintf("load: --target %q: want a base URL such as http://127.0.0.1:8080", o.Target)}
	case o.Rate <= 0:
		return usageError{"load: --rate must be above 0"}
	case o.Duration <= 0 || o.Grace < 0:
		return usageError{"load: --duration must be above 0 and --grace not negative"}
	case o.Turns < 1:
		return usageError{"load: --turns must be 1 or more"}
	case o.SinkFail < 0 || o.SinkFail >= 1:
		return usageError{"load: --sink-fail is a share from 0 to below 1"}
	}
	if _, _, err := net.SplitHostPort(o.Sink); err != nil && o.needsTwilio() {
		return usageError{fmt.Sprintf("load: --sink %q: want host:port", o.Sink)}
	}
	for _, ch := range o.Channels {
		if err := validChannel(ch); err != nil {
			return usageError{"load: --channels: " + err.Error()}
		}
	}
	return nil
}

func (o loadOptions) needsTwilio() bool {
	return slices.Contains(o.Channels, bot.ChannelSMS) || slices.Contains(o.Channels, bot.ChannelWhatsApp)
}

// loadScripts reads the citizens' words from eval cases: each case is a short conversation.
// Cases that expect a handoff, an emergency or an opt-out are left out: after them the
// server rightly stops answering, which a load test would count as lost.
func loadScripts(files []string) ([][]string, error) {
	var scripts [][]string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("load: question cases: %w (run from the repository, or pass --cases)", err)
		}
		cases, err := eval.ReadCases(name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	next:
		for _, c := range cases {
			var texts []string
			for _, t := range c.Turns {
				for _, a := range t.Expect.Action {
					if a == bot.ActionHandoff || a == bot.ActionEmergency || a == bot.ActionOptout {
						continue next
					}
				}
				texts = append(texts, t.User)
			}
			if len(texts) > 0 {
				scripts = append(scripts, texts)
			}
		}
	}
	if len(scripts) == 0 {
		return nil, errors.New("load: the case files hold no question to send")
	}
	return scripts, nil
}

// citizen is one simulated person: one number (or web session), a few messages, each sent
// only once the previous one has its reply, so that the server's settle delay never merges
// two of them into one turn.
type citizen struct {
	channel string
	addr    string // From: "+569…" or "whatsapp:+569…"
	script  []string
	next    int
	session string // web only
	token   string
	pending *inbound // the message awaiting its reply
	done    bool     // handed to a person: no more messages
}

// inbound is one message a citizen sent.
type inbound struct {
	c       *citizen
	sid     string // MessageSid, or the web client_id
	text    string
	sent    time.Time // first attempt
	acked   bool
	replied bool
}

// loader runs one load: it sends on schedule and matches the deliveries the fake Twilio
// records to the messages awaiting them.
type loader struct {
	o      loadOptions
	client *http.Client
	runID  string

	mu         sync.Mutex
	scripts    [][]string
	rnd        *rand.Rand
	citizens   int
	byAddr     map[string]*citizen
	ready      []*citizen
	all        []*inbound
	attempts   int
	dupAcked   int
	duplicates int
	handoffs   int
	ackMs      []float64
	replyMs    []float64
	webMs      []float64
	errs       map[string]int
	lastReply  time.Time
	sinkFailed atomic.Int64
}

// pct holds a latency distribution's points.
type pct struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	N   int     `json:"n"`
}

// channelStat is one channel's share of the load.
type channelStat struct {
	Sent    int `json:"sent"`
	Replies int `json:"replies"`
	Lost    int `json:"lost"`
}

// loadReport is what "atiende load" prints ("--json": this object).
type loadReport struct {
	Target     string  `json:"target"`
	Rate       float64 `json:"rate"`
	DurationS  float64 `json:"duration_s"`
	Citizens   int     `json:"citizens"`
	Sent       int     `json:"sent"`
	Attempts   int     `json:"webhook_attempts"`
	Acked      int     `json:"acked"`
	Unacked    int     `json:"unacked"`
	DupAcked   int     `json:"dup_acked,omitempty"`
	Replies    int     `json:"replies"`
	Lost       int     `json:"lost"`
	Duplicates int     `json:"duplicates"`
	Handoffs   int     `json:"handoffs"`
	SinkFailed int64   `json:"sink_failed"`
	// SentPerS is the rate achieved; RepliesPerS counts replies over the time to the last.
	SentPerS    float64 `json:"throughput_msg_s"`
	RepliesPerS float64 `json:"replies_per_s"`
	MaxLagMs    float64 `json:"max_send_lag_ms"`
	// LoadCPUS is the CPU time the load itself used (its HTTP clients and the fake Twilio):
	// on a machine shared with the server it is taken from the server.
	LoadCPUS  float64                `json:"load_cpu_s"`
	AckMs     pct                    `json:"ack_ms"`
	ReplyMs   pct                    `json:"reply_ms"`
	WebMs     pct                    `json:"web_ms"`
	ByChannel map[string]channelStat `json:"by_channel"`
	Errors    map[string]int         `json:"errors"`
	// LostMessages are the first lost messages, to look for in the server's log.
	LostMessages []lostMessage `json:"lost_messages,omitempty"`
}

// lostMessage is a message that got no reply.
type lostMessage struct {
	Sid     string `json:"sid"`
	From    string `json:"from,omitempty"`
	Channel string `json:"channel"`
	Acked   bool   `json:"acked"`
	SentAt  string `json:"sent_at"`
	Text    string `json:"text"`
}

// runLoad serves the fake Twilio on o.Sink, sends for o.Duration, waits up to o.Grace for
// the replies and reports.
func runLoad(ctx context.Context, o loadOptions, scripts [][]string) (loadReport, error) {
	seed := uint64(time.Now().UnixNano())
	l := &loader{o: o, scripts: scripts, rnd: rand.New(rand.NewPCG(seed, seed>>7)), byAddr: map[string]*citizen{}, errs: map[string]int{},
		runID: fmt.Sprintf("%08x", uint32(seed)),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024,
			IdleConnTimeout: 90 * time.Second, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}}
	defer l.client.CloseIdleConnections()
	if o.needsTwilio() {
		stop, err := l.serveSink()
		if err != nil {
			return loadReport{}, err
		}
		defer stop()
	}
	if o.Model != "" {
		stop, err := serveFakeModel(o.Model, o.ModelWait)
		if err != nil {
			return loadReport{}, err
		}
		defer stop()
	}
	// Retries of unacknowledged webhooks go on through the grace period, as Twilio's do.
	retryCtx, cancelRetries := context.WithCancel(ctx)
	defer cancelRetries()
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	var maxLag time.Duration
	sent := 0
	for ; ; sent++ {
		at := start.Add(time.Duration(float64(sent) / o.Rate * float64(time.Second)))
		if at.Sub(start) >= o.Duration {
			break
		}
		if err := pause(ctx, time.Until(at)); err != nil {
			break
		}
		maxLag = max(maxLag, time.Since(at))
		in := l.nextMessage()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if in.c.channel == bot.ChannelWeb {
				l.sendWeb(retryCtx, in)
			} else {
				l.sendWebhook(retryCtx, in)
			}
		}()
	}
	elapsed := time.Since(start)
	l.await(ctx, time.Now().Add(o.Grace))
	cancelRetries()
	wg.Wait()
	r := l.report(start, elapsed, maxLag)
	r.LoadCPUS = round2((cpuTime() - cpu0).Seconds())
	return r, nil
}

// serveSink serves the fake Twilio REST API and matches what it is asked to send.
func (l *loader) serveSink() (stop func(), err error) {
	fake := twiliotest.New(l.o.Account, l.o.Token)
	fake.Observe(l.delivered)
	if p := l.o.SinkFail; p > 0 {
		var mu sync.Mutex
		rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		fake.SetReply(func(int, twiliotest.Message) (int, int) {
			mu.Lock()
			x, coin := rnd.Float64(), rnd.IntN(2)
			mu.Unlock()
			if x >= p {
				return 0, 0
			}
			l.sinkFailed.Add(1)
			if coin == 0 {
				return http.StatusTooManyRequests, 20429
			}
			return http.StatusServiceUnavailable, 20503
		})
	}
	ln, err := net.Listen("tcp", l.o.Sink)
	if err != nil {
		return nil, fmt.Errorf("load: fake Twilio on --sink %s: %w", l.o.Sink, err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// serveFakeModel serves a language model that takes wait to answer every question with a
// short text citing the first source (the engine's check may still send the extractive
// answer instead: the wait is what the load measures).
func serveFakeModel(addr string, wait time.Duration) (stop func(), err error) {
	fake := llmtest.New(func(system, user string) (string, time.Duration) {
		return "Encontré esta información en la ficha.\nFUENTES: F1", wait
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("load: fake model on --model %s: %w", addr, err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// nextMessage picks a citizen whose last message has its reply, or a new one, and records
// the message it sends now.
func (l *loader) nextMessage() *inbound {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c *citizen
	if len(l.ready) > 0 {
		c, l.ready = l.ready[0], l.ready[1:]
	} else {
		c = l.newCitizen()
	}
	in := &inbound{c: c, sid: fmt.Sprintf("SM%s%024d", l.runID, len(l.all)), text: c.script[c.next], sent: time.Now()}
	c.next++
	c.pending = in
	l.all = append(l.all, in)
	return in
}

// newCitizen makes a citizen on the next channel in turn, with a few conversations from
// the cases. Called with l.mu held.
func (l *loader) newCitizen() *citizen {
	n := l.citizens
	l.citizens++
	c := &citizen{channel: l.o.Channels[n%len(l.o.Channels)]}
	for len(c.script) < l.o.Turns {
		c.script = append(c.script, l.scripts[l.rnd.IntN(len(l.scripts))]...)
	}
	c.script = c.script[:l.o.Turns]
	// A fresh number every run: a number a previous run used has that run's state.
	c.addr = fmt.Sprintf("+569%08d", (l.rnd.IntN(90_000_000)+n)%90_000_000+10_000_000)
	if c.channel == bot.ChannelWhatsApp {
		c.addr = "whatsapp:" + c.addr
	}
	if _, taken := l.byAddr[c.addr]; taken {
		return l.newCitizen()
	}
	if c.channel != bot.ChannelWeb {
		l.byAddr[c.addr] = c
	}
	return c
}

// sendWebhook posts the message as Twilio does, signed, and retries with the same
// MessageSid until it is acknowledged (2xx) or the load ends.
func (l *loader) sendWebhook(ctx context.Context, in *inbound) {
	to := l.o.SMSTo
	if in.c.channel == bot.ChannelWhatsApp {
		to = l.o.WhatsTo
	}
	form := url.Values{"MessageSid": {in.sid}, "SmsSid": {in.sid}, "AccountSid": {l.o.Account}, "From": {in.c.addr}, "To": {to},
		"Body": {in.text}, "NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"}}
	body := form.Encode()
	sig := twiliotest.Sign(l.o.Token, l.o.PublicURL+"/webhooks/twilio/messaging", form)
	post := func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.o.Target+"/webhooks/twilio/messaging", strings.NewReader(body))
		if err != nil {
			l.fail("request")
			return false
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		t0 := time.Now()
		resp, err := l.client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		took := time.Since(t0)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.attempts++
		if err != nil {
			if ctx.Err() == nil {
				l.errs[errKind(err)]++
			}
			return false
		}
		if resp.StatusCode/100 != 2 {
			l.errs[fmt.Sprintf("webhook_http_%d", resp.StatusCode)]++
			return false
		}
		l.ackMs = append(l.ackMs, ms(took))
		return true
	}
	for attempt := 0; ; attempt++ {
		ok := false
		if l.o.Dup {
			var second atomic.Bool
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); second.Store(post()) }()
			ok = post()
			wg.Wait()
			l.mu.Lock()
			if second.Load() {
				l.dupAcked++
			}
			l.mu.Unlock()
			ok = ok || second.Load()
		} else {
			ok = post()
		}
		if ok {
			l.mu.Lock()
			in.acked = true
			l.mu.Unlock()
			return
		}
		if pause(ctx, min(250*time.Millisecond<<attempt, 2*time.Second)) != nil {
			return
		}
	}
}

// sendWeb sends the message on the web chat API, which answers in its response; a failed
// request is retried with the same client_id, which the server answers once.
func (l *loader) sendWeb(ctx context.Context, in *inbound) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 && pause(ctx, min(250*time.Millisecond<<(attempt-1), 2*time.Second)) != nil {
			return
		}
		c := in.c
		if c.session == "" {
			var sess struct{ ID, Token string }
			if status, err := l.postJSON(ctx, "/api/v1/chat/sessions", "", map[string]string{}, &sess); err != nil || status != http.StatusCreated {
				l.webFail(ctx, "web_session", status, err)
				continue
			}
			c.session, c.token = sess.ID, sess.Token
		}
		t0 := time.Now()
		var out struct{ Reply string }
		status, err := l.postJSON(ctx, "/api/v1/chat/sessions/"+c.session+"/messages", c.token, map[string]string{"text": in.text, "client_id": in.sid}, &out)
		if err != nil || status/100 == 5 {
			l.webFail(ctx, "web_message", status, err)
			continue
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if status != http.StatusOK {
			l.errs[fmt.Sprintf("web_message_http_%d", status)]++
			return // refused for good: counted as lost
		}
		in.acked, in.replied, c.pending = true, true, nil
		l.webMs = append(l.webMs, ms(time.Since(t0)))
		l.replyMs = append(l.replyMs, ms(time.Since(in.sent)))
		l.answered(c, out.Reply)
		return
	}
}

func (l *loader) webFail(ctx context.Context, what string, status int, err error) {
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		l.fail(what + "_" + errKind(err))
		return
	}
	l.fail(fmt.Sprintf("%s_http_%d", what, status))
}

func (l *loader) postJSON(ctx context.Context, path, token string, in, out any) (int, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.o.Target+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode: %w", err)
		}
	}
	return resp.StatusCode, nil
}

func (l *loader) fail(kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs[kind]++
}

// delivered matches a message the server sent through the fake Twilio to the message of
// that number awaiting a reply; one with none awaiting is a reply delivered twice.
func (l *loader) delivered(m twiliotest.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.byAddr[m.To]
	if c == nil {
		l.errs["reply_to_unknown_number"]++
		return
	}
	in := c.pending
	if in == nil {
		l.duplicates++
		return
	}
	in.replied, c.pending = true, nil
	l.replyMs = append(l.replyMs, ms(time.Since(in.sent)))
	l.answered(c, m.Body)
}

// answered puts the citizen back in line for its next message, unless its conversation is
// over or went to a person (who, rightly, is not answered by the bot). Called with l.mu held.
func (l *loader) answered(c *citizen, reply string) {
	l.lastReply = time.Now()
	if strings.Contains(reply, "responderá") || strings.Contains(reply, "de la fila") {
		c.done = true
		l.handoffs++
	}
	if !c.done && c.next < len(c.script) {
		l.ready = append(l.ready, c)
	}
}

// await waits until every message has its reply and then loadReplyTail more, or until the
// deadline.
func (l *loader) await(ctx context.Context, deadline time.Time) {
	for time.Now().Before(deadline) {
		l.mu.Lock()
		open := 0
		for _, in := range l.all {
			if !in.replied {
				open++
			}
		}
		l.mu.Unlock()
		if open == 0 {
			pause(ctx, min(loadReplyTail, time.Until(deadline)))
			return
		}
		if pause(ctx, 100*time.Millisecond) != nil {
			return
		}
	}
}

func (l *loader) report(start time.Time, elapsed, maxLag time.Duration) loadReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := loadReport{Target: l.o.Target, Rate: l.o.Rate, DurationS: round2(elapsed.Seconds()), Citizens: l.citizens, Sent: len(l.all),
		Attempts: l.attempts, DupAcked: l.dupAcked, Duplicates: l.duplicates, Handoffs: l.handoffs, SinkFailed: l.sinkFailed.Load(),
		MaxLagMs: round2(ms(maxLag)), AckMs: percentiles(l.ackMs), ReplyMs: percentiles(l.replyMs), WebMs: percentiles(l.webMs),
		ByChannel: map[string]channelStat{}, Errors: l.errs}
	for _, in := range l.all {
		st := r.ByChannel[in.c.channel]
		st.Sent++
		if in.acked {
			r.Acked++
		} else {
			r.Unacked++
		}
		if in.replied {
			r.Replies++
			st.Replies++
		} else {
			r.Lost++
			st.Lost++
			if len(r.LostMessages) < 10 {
				r.LostMessages = append(r.LostMessages, lostMessage{Sid: in.sid, From: in.c.addr, Channel: in.c.channel, Acked: in.acked,
					SentAt: in.sent.UTC().Format(time.RFC3339Nano), Text: in.text})
			}
		}
		r.ByChannel[in.c.channel] = st
	}
	r.SentPerS = round2(float64(r.Sent) / elapsed.Seconds())
	if !l.lastReply.IsZero() {
		r.RepliesPerS = round2(float64(r.Replies) / l.lastReply.Sub(start).Seconds())
	}
	return r
}

func (r loadReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "target %s: %.0f msg/s for %.1fs, %d citizens\n", r.Target, r.Rate, r.DurationS, r.Citizens)
	fmt.Fprintf(w, "load's own CPU %.1fs\n", r.LoadCPUS)
	fmt.Fprintf(w, "sent %d (%.1f/s, max send lag %.0f ms)  webhook attempts %d  acked %d  unacked %d\n", r.Sent, r.SentPerS, r.MaxLagMs, r.Attempts, r.Acked, r.Unacked)
	fmt.Fprintf(w, "replies %d (%.1f/s)  lost %d  duplicates %d  handoffs %d  sink failures %d\n", r.Replies, r.RepliesPerS, r.Lost, r.Duplicates, r.Handoffs, r.SinkFailed)
	fmt.Fprintf(w, "ack ms   p50 %.1f  p99 %.1f  max %.1f\n", r.AckMs.P50, r.AckMs.P99, r.AckMs.Max)
	fmt.Fprintf(w, "reply ms p50 %.1f  p99 %.1f  max %.1f\n", r.ReplyMs.P50, r.ReplyMs.P99, r.ReplyMs.Max)
	if r.WebMs.N > 0 {
		fmt.Fprintf(w, "web ms   p50 %.1f  p99 %.1f  max %.1f\n", r.WebMs.P50, r.WebMs.P99, r.WebMs.Max)
	}
	for _, ch := range []string{bot.ChannelSMS, bot.ChannelWhatsApp, bot.ChannelWeb} {
		if st, ok := r.ByChannel[ch]; ok {
			fmt.Fprintf(w, "  %-8s sent %d  replies %d  lost %d\n", ch, st.Sent, st.Replies, st.Lost)
		}
	}
	for _, m := range r.LostMessages {
		fmt.Fprintf(w, "  lost %s %s from %s sent %s acked %v: %q\n", m.Channel, m.Sid, m.From, m.SentAt, m.Acked, m.Text)
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  error %s: %d\n", k, r.Errors[k])
	}
}

// errKind names a transport error for the report.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection_refused"
	case strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "EOF"):
		return "connection_reset"
	}
	return "network"
}

func percentiles(v []float64) pct {
	if len(v) == 0 {
		return pct{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(q float64) float64 { return round2(s[int(q*float64(len(s)-1))]) }
	return pct{P50: at(0.50), P99: at(0.99), Max: round2(s[len(s)-1]), N: len(s)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// pause waits for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
