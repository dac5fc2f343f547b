// Package twilio connects SMS and WhatsApp, through Twilio, to the engine: signed webhooks
// that store each message and its job in one transaction and answer at once; River jobs
// that run the turn in order and deliver the reply with twilio-go, retrying what may pass
// and recording what may not; status callbacks; opt-outs, the WhatsApp window, media and a
// per-sender rate limit. See docs/channels.md.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/ratelimit"
	"github.com/riverqueue/river"
	twilioapi "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Config is the channel's configuration, from the environment (README).
type Config struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN
	// Senders: an SMS number or a Messaging Service, and a WhatsApp sender.
	FromNumber          string // TWILIO_FROM_NUMBER
	MessagingServiceSID string // TWILIO_MESSAGING_SERVICE_SID
	WhatsAppFrom        string // TWILIO_WHATSAPP_FROM, e.g. "whatsapp:+14155238886"
	// WhatsAppTemplateSID is the approved template (ContentSid) sent instead of free text
	// outside the 24-hour window (TWILIO_WHATSAPP_TEMPLATE_SID).
	WhatsAppTemplateSID string
	// PublicURL is the URL Twilio calls, for signatures and status callbacks
	// (ATIENDE_PUBLIC_URL).
	PublicURL string
	// APIURL sends twilio-go's requests to another base URL (ATIENDE_TWILIO_API_URL: tests,
	// atiende load); empty in production.
	APIURL string
	// Insecure turns the signature check off: development only, warned at every start
	// (ATIENDE_TWILIO_INSECURE=1).
	Insecure bool
	// Settle is how long a turn waits after a message arrives, so that messages Twilio
	// delivers out of order are handled in the order it stamped them.
	Settle time.Duration
	// RateLimit is how many messages a sender may have answered in a minute, counted in the
	// store when the turn runs: it holds across replicas.
	RateLimit int
	// SenderRate is how often one sender (From) may start a turn, checked in memory by the
	// webhook before anything is queued (ATIENDE_RATE_SENDER; default RateLimit a minute).
	// A message past it is stored, not answered; the first of a run gets one short notice.
	SenderRate ratelimit.Rate
	// HTTPTimeout bounds every call to Twilio's API.
	HTTPTimeout time.Duration
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
	// Observer, when set, hears of the deliveries that did not go (metrics).
	Observer Observer
}

// Tx is what the channel does in a transaction: the conversation core's turn
// (conversation.Tx), in which the SMS channel's Next and DeliverTx also read the pending
// messages, count them and store the delivery; the webhook's conversation and message; the
// deliver job's delivery. store.Tx has the error contract.
type Tx interface {
	conversation.Tx
	// ConversationByAddress returns the latest conversation of a channel address, or
	// store.ErrNotFound.
	ConversationByAddress(ctx context.Context, channel, address string) (*atiende.Conversation, error)
	// CreateConversation stores a new conversation; store.ErrDuplicate when its id is taken.
	CreateConversation(ctx context.Context, c *atiende.Conversation) error
	// PendingInbound returns the conversation's inbound messages not yet processed, in the
	// order the provider stamped them (then arrival).
	PendingInbound(ctx context.Context, conversationID string) ([]atiende.Message, error)
	// SetProviderAt records the provider's stamp of a message.
	SetProviderAt(ctx context.Context, messageID int64, at time.Time) error
	// CountInbound counts the inbound messages of a conversation stored from from to to,
	// both included.
	CountInbound(ctx context.Context, conversationID string, from, to time.Time) (int, error)
	// LastInbound is when the citizen last wrote (zero if never).
	LastInbound(ctx context.Context, conversationID string) (time.Time, error)
	// InsertDelivery stores a delivery and sets its ID and times.
	InsertDelivery(ctx context.Context, d *atiende.Delivery) error
	// Delivery returns a delivery, or store.ErrNotFound.
	Delivery(ctx context.Context, id int64) (*atiende.Delivery, error)
	// DeliveryByProviderSID returns the delivery Twilio knows by sid, or store.ErrNotFound.
	DeliveryByProviderSID(ctx context.Context, sid string) (*atiende.Delivery, error)
	// UnsentBefore counts the conversation's deliveries older than id still pending or
	// sending.
	UnsentBefore(ctx context.Context, conversationID string, id int64) (int, error)
	// UpdateDelivery writes the delivery's status, sid, error, attempts and segments.
	UpdateDelivery(ctx context.Context, d *atiende.Delivery) error
}

// Store is what the channel needs of the store: its transactions, of type T (the
// conversation core's; cmd/atiende uses store.Tx).
type Store[T Tx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
}

// Enqueuer adds a job inside a store transaction of type T (queue.SQLite and its Postgres
// twin, with store.Tx).
type Enqueuer[T Tx] interface {
	InsertTx(ctx context.Context, tx T, args river.JobArgs, opts *river.InsertOpts) error
}

// Service is the Twilio channel, on a store whose transactions are of type T.
type Service[T Tx] struct {
	cfg       Config
	store     Store[T]
	engine    *bot.Engine
	core      *conversation.Core[T]
	queue     Enqueuer[T]
	outbox    *Outbox[T]
	api       *openapi.ApiService
	validator twclient.RequestValidator
	log       *slog.Logger
	now       func() time.Time
	senders   *ratelimit.Limiter
}

// Observer hears of the deliveries that did not go (metrics). It must be quick and safe for
// concurrent use.
type Observer interface {
	// DeliveryFailed: the channel (bot.ChannelSMS, bot.ChannelWhatsApp) and why, one of the
	// Failure reasons.
	DeliveryFailed(channel, reason string)
}

// Why a delivery did not go, for an Observer.
const (
	FailureRetry        = "retry"         // Twilio's 429 or 5xx, or the network: tried again later
	FailureRejected     = "rejected"      // Twilio refused it for good (invalid or unsubscribed number…)
	FailureGaveUp       = "gave_up"       // still failing after MaxDeliverAttempts
	FailureNoSender     = "no_sender"     // no sender configured for the channel
	FailureWindowClosed = "window_closed" // WhatsApp's 24-hour window closed and no template: skipped
)

func (s *Service[T]) failed(channel, reason string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.DeliveryFailed(channel, reason)
	}
}

// ErrNotConfigured: TWILIO_AUTH_TOKEN is not set and the development flag is off.
var ErrNotConfigured = errors.New("twilio: TWILIO_AUTH_TOKEN is required to serve the Twilio webhooks (or ATIENDE_TWILIO_INSECURE=1 in development)")

// New checks the configuration and builds the channel on the queue its webhook and jobs
// enqueue on; Register adds its workers to that queue's bundle before the queue starts.
func New[T Tx](cfg Config, st Store[T], engine *bot.Engine, core *conversation.Core[T], q Enqueuer[T], log *slog.Logger) (*Service[T], error) {
	if cfg.AuthToken == "" && !cfg.Insecure {
		return nil, ErrNotConfigured
	}
	if cfg.AccountSID == "" {
		return nil, errors.New("twilio: TWILIO_ACCOUNT_SID is required")
	}
	if cfg.FromNumber == "" && cfg.MessagingServiceSID == "" && cfg.WhatsAppFrom == "" {
		return nil, errors.New("twilio: set TWILIO_FROM_NUMBER, TWILIO_MESSAGING_SERVICE_SID or TWILIO_WHATSAPP_FROM")
	}
	if !cfg.Insecure {
		u, err := url.Parse(cfg.PublicURL)
		if cfg.PublicURL == "" || err != nil || u.Host == "" {
			return nil, errors.New("twilio: ATIENDE_PUBLIC_URL (the URL Twilio calls, e.g. https://atiende.example.cl) is required to check signatures")
		}
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Settle < 0 {
		cfg.Settle = 0
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 15
	}
	if cfg.SenderRate.Off() {
		cfg.SenderRate = ratelimit.Rate{N: cfg.RateLimit, Per: time.Minute}
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rest, err := NewRestClient(cfg)
	if err != nil {
		return nil, err
	}
	s := &Service[T]{cfg: cfg, store: st, engine: engine, core: core, queue: q, outbox: NewOutbox(q), api: rest.Api, validator: twclient.NewRequestValidator(cfg.AuthToken),
		log: log, now: func() time.Time { return time.Now().UTC() }, senders: ratelimit.New(cfg.SenderRate, 0, nil)}
	if cfg.Now != nil {
		s.now = cfg.Now
	}
	if cfg.Insecure {
		log.Warn("Twilio signature checks are OFF (ATIENDE_TWILIO_INSECURE): never run so in production")
	}
	return s, nil
}

// NewRestClient builds twilio-go's client with a timeout and, when cfg.APIURL is set, a
// transport that sends every request there (twilio-go has no base-URL option).
func NewRestClient(cfg Config) (*twilioapi.RestClient, error) {
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = 10 * time.Second
	}
	httpClient := &http.Client{Timeout: cfg.HTTPTimeout}
	if cfg.APIURL != "" {
		base, err := url.Parse(cfg.APIURL)
		if err != nil || base.Host == "" {
			return nil, fmt.Errorf("twilio: ATIENDE_TWILIO_API_URL %q is not a URL", cfg.APIURL)
		}
		httpClient.Transport = rewrite{base: base, next: http.DefaultTransport}
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: httpClient}
	c.SetAccountSid(cfg.AccountSID)
	return twilioapi.NewRestClientWithParams(twilioapi.ClientParams{Client: c}), nil
}

// Register adds the channel's workers to the bundle of the queue given to New. River looks
// a job's worker up when it works the job, and checks the bundle when it starts: Register
// before the queue's Start.
func (s *Service[T]) Register(w *river.Workers) {
	river.AddWorker(w, &turnWorker[T]{s: s})
	river.AddWorker(w, &deliverWorker[T]{s: s})
}

// rewrite sends twilio-go's requests to another base URL: twilio-go has no base-URL option.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.base.Scheme, r.base.Host, r.base.Host
	if p := strings.TrimRight(r.base.Path, "/"); p != "" {
		req.URL.Path = p + req.URL.Path
	}
	return r.next.RoundTrip(req)
}
