package twilio

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/ratelimit"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
)

// MaxBody is the largest webhook body read; Twilio's are a few kilobytes.
const MaxBody = 64 << 10

// Routes lists the channel's routes.
func (s *Service[T]) Routes(r gin.IRouter) {
	r.POST("/webhooks/twilio/messaging", s.handle(s.messaging))
	r.POST("/webhooks/twilio/status", s.handle(s.status))
}

// handle makes a gin handler of a webhook that returns an error: httperr answers it with
// its status and an empty TwiML (a bad signature 403, a form that cannot be read 400, a
// failure here 500, which Twilio may retry) and logs the detail.
func (s *Service[T]) handle(h func(c *gin.Context) error) gin.HandlerFunc {
	return httperr.Mapper{Log: s.log, Surface: httperr.TwiML}.Handle(h)
}

// Inbound is Twilio's incoming-message webhook: the form fields this service uses. Twilio
// gives no Go type for it; this is the one place they are read.
type Inbound struct {
	MessageSid string
	AccountSid string
	From       string // "+56911112222", or "whatsapp:+56911112222"
	To         string
	Body       string
	NumMedia   int
	Channel    string // bot.ChannelSMS or bot.ChannelWhatsApp, from the From prefix
}

// The shapes of the fields Twilio sends.
var (
	messageSidRe = regexp.MustCompile(`^(?:SM|MM)[0-9a-f]{32}$`)
	accountSidRe = regexp.MustCompile(`^AC[0-9a-f]{32}$`)
	addressRe    = regexp.MustCompile(`^(?:whatsapp:)?\+[1-9][0-9]{6,14}$`)
)

// ParseInbound reads an incoming-message webhook's form.
func ParseInbound(form url.Values) (Inbound, error) {
	in := Inbound{
		MessageSid: strings.TrimSpace(form.Get("MessageSid")),
		AccountSid: strings.TrimSpace(form.Get("AccountSid")),
		From:       strings.TrimSpace(form.Get("From")),
		To:         strings.TrimSpace(form.Get("To")),
		Body:       form.Get("Body"),
		Channel:    bot.ChannelSMS,
	}
	if in.MessageSid == "" {
		in.MessageSid = strings.TrimSpace(form.Get("SmsSid"))
	}
	if in.MessageSid == "" || in.From == "" {
		return in, errors.New("MessageSid and From are required")
	}
	if err := checkText("MessageSid", in.MessageSid, "From", in.From, "To", in.To, "Body", in.Body); err != nil {
		return in, err
	}
	// Twilio's signature joins names and values with nothing between them: a replay that
	// moves a boundary ("MessageSid=SM…01" and "NumMedia=0" sent as "MessageSid=SM…01NumMedia0")
	// keeps a valid signature. Each field's shape is checked before anything is stored.
	if !messageSidRe.MatchString(in.MessageSid) {
		return in, fmt.Errorf("MessageSid %q is not a Twilio message SID", in.MessageSid)
	}
	if in.AccountSid != "" && !accountSidRe.MatchString(in.AccountSid) {
		return in, fmt.Errorf("AccountSid %q is not a Twilio account SID", in.AccountSid)
	}
	if !addressRe.MatchString(in.From) {
		return in, fmt.Errorf("From %q is not a phone number in E.164 (+56912345678) or whatsapp:+56912345678", in.From)
	}
	if in.To != "" && !addressRe.MatchString(in.To) {
		return in, fmt.Errorf("To %q is not a phone number in E.164 or whatsapp:E.164", in.To)
	}
	if n := form.Get("NumMedia"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			return in, fmt.Errorf("NumMedia %q is not a count", n)
		}
		in.NumMedia = v
	}
	if strings.HasPrefix(in.From, "whatsapp:") {
		in.Channel = bot.ChannelWhatsApp
	}
	return in, nil
}

// StatusUpdate is Twilio's message status callback.
type StatusUpdate struct {
	MessageSid    string
	MessageStatus string
	ErrorCode     int
	ErrorMessage  string
}

// ParseStatus reads a status callback's form.
func ParseStatus(form url.Values) (StatusUpdate, error) {
	u := StatusUpdate{
		MessageSid:    strings.TrimSpace(form.Get("MessageSid")),
		MessageStatus: strings.TrimSpace(form.Get("MessageStatus")),
		ErrorMessage:  form.Get("ErrorMessage"),
	}
	if u.MessageSid == "" || u.MessageStatus == "" {
		return u, errors.New("MessageSid and MessageStatus are required")
	}
	if err := checkText("MessageSid", u.MessageSid, "MessageStatus", u.MessageStatus, "ErrorMessage", u.ErrorMessage); err != nil {
		return u, err
	}
	if !messageSidRe.MatchString(u.MessageSid) {
		return u, fmt.Errorf("MessageSid %q is not a Twilio message SID", u.MessageSid)
	}
	if c := form.Get("ErrorCode"); c != "" {
		v, err := strconv.Atoi(c)
		if err != nil {
			return u, fmt.Errorf("ErrorCode %q is not a number", c)
		}
		u.ErrorCode = v
	}
	return u, nil
}

// checkText refuses fields (name, value pairs) that are not UTF-8 text without NUL. Twilio
// sends none; refused here with a 400, they cannot fail in the store (Postgres refuses both)
// with a 500 that Twilio would retry.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if v := fields[i+1]; !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%s is not UTF-8 text", fields[i])
		}
	}
	return nil
}

// ok answers a webhook that was handled: an empty TwiML, nothing to send.
func ok(c *gin.Context) error {
	c.Data(http.StatusOK, httperr.TwiMLType, httperr.EmptyTwiML)
	return nil
}

// errSignature is a webhook whose signature or account is not ours (the log says which).
var errSignature = httperr.New(http.StatusForbidden, "")

// readSigned reads the form under the size limit and checks Twilio's signature against the
// configured public URL.
func (s *Service[T]) readSigned(c *gin.Context) (url.Values, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err // 413
		}
		return nil, httperr.Wrap(http.StatusBadRequest, "", fmt.Errorf("read form: %w", err))
	}
	form := c.Request.PostForm
	if s.cfg.Insecure {
		return form, nil
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		params[k] = v[0]
	}
	sig := c.GetHeader("X-Twilio-Signature")
	if sig == "" || !s.validator.Validate(s.cfg.PublicURL+c.Request.URL.RequestURI(), params, sig) {
		s.log.Warn("twilio webhook refused: bad or missing signature", "path", c.Request.URL.Path, "remote", c.ClientIP(), "has_signature", sig != "")
		return nil, errSignature
	}
	if sid := form.Get("AccountSid"); sid != "" && sid != s.cfg.AccountSID {
		s.log.Warn("twilio webhook refused: another account", "path", c.Request.URL.Path)
		return nil, errSignature
	}
	return form, nil
}

func (s *Service[T]) messaging(c *gin.Context) error {
	form, err := s.readSigned(c)
	if err != nil {
		return err
	}
	in, err := ParseInbound(form)
	if err != nil {
		return httperr.Wrap(http.StatusBadRequest, "", err)
	}
	if err := s.accept(c.Request.Context(), in, s.admit(in)); err != nil {
		return fmt.Errorf("twilio inbound %s from %s not stored: %w", in.MessageSid, in.From, err) // 500: Twilio may retry
	}
	s.log.Info("twilio inbound", "sid", in.MessageSid, "channel", in.Channel, "from", in.From)
	return ok(c)
}

// errNewConversationRace: another replica created the conversation of a new number while
// this one was creating it too; the transaction is redone with the other's conversation.
var errNewConversationRace = errors.New("conversation created concurrently")

// admit takes the message from the sender's rate (SenderRate). An emergency or a request
// to stop is always admitted: the emergency lines go first, and the wish is heard.
func (s *Service[T]) admit(in Inbound) ratelimit.Decision {
	if s.engine != nil && (s.engine.IsEmergency(in.Body) || s.engine.IsOptOut(in.Body)) {
		return ratelimit.Decision{OK: true}
	}
	d := s.senders.Allow(in.From)
	if !d.OK {
		s.log.Info("twilio inbound over the sender's rate: stored, not answered", "sid", in.MessageSid, "channel", in.Channel, "notice", d.First)
	}
	return d
}

// accept stores the message and its turn job in one transaction. A MessageSid already
// stored (Twilio's retries, concurrent duplicates) changes nothing. A message over the
// sender's rate is stored as handled, with no turn: nothing is lost (agents see it in the
// conversation), and the first of a run gets one short notice instead of an answer.
func (s *Service[T]) accept(ctx context.Context, in Inbound, rate ratelimit.Decision) error {
	if s.queue == nil {
		return errors.New("no queue")
	}
	for attempt := 0; ; attempt++ {
		err := s.acceptOnce(ctx, in, rate)
		if errors.Is(err, errNewConversationRace) && attempt < 3 {
			continue
		}
		return err
	}
}

func (s *Service[T]) acceptOnce(ctx context.Context, in Inbound, rate ratelimit.Decision) error {
	err := s.store.Tx(ctx, func(tx T) error {
		conv, err := tx.ConversationByAddress(ctx, in.Channel, in.From)
		if errors.Is(err, store.ErrNotFound) {
			conv = &atiende.Conversation{ID: newID(), Channel: in.Channel, Address: in.From}
			if err = tx.CreateConversation(ctx, conv); errors.Is(err, store.ErrDuplicate) {
				return errNewConversationRace
			}
		}
		if err != nil {
			return err
		}
		m := &atiende.Message{ConversationID: conv.ID, Direction: atiende.Inbound, Text: in.Body, ProviderID: in.MessageSid, NumMedia: in.NumMedia,
			Processed: !rate.OK}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		if rate.OK {
			return s.queue.InsertTx(ctx, tx, TurnArgs{ConversationID: conv.ID}, nil)
		}
		if !rate.First || conv.OptOut {
			return nil
		}
		r := channels.Render(conv.Channel, msgTooMany)
		out := &atiende.Message{ConversationID: conv.ID, Direction: atiende.Outbound, Text: r.Text, Action: ActionRateLimited, Aspect: retrieval.AspectGeneral, Processed: true}
		if err := tx.InsertMessage(ctx, out); err != nil {
			return err
		}
		return s.outbox.deliver(ctx, tx, conv, out.ID, r)
	})
	if errors.Is(err, store.ErrDuplicate) {
		s.log.Info("twilio inbound already stored", "sid", in.MessageSid)
		return s.retryTurn(ctx, in)
	}
	return err
}

// retryTurn asks for the turn again when a retried message is still unanswered: the replica
// that accepted it may have died with the turn in hand, and River would only rescue that
// job after RescueStuckJobsAfter. Turns are idempotent, so a second job costs nothing.
func (s *Service[T]) retryTurn(ctx context.Context, in Inbound) error {
	return s.store.Tx(ctx, func(tx T) error {
		conv, err := tx.ConversationByAddress(ctx, in.Channel, in.From)
		if errors.Is(err, store.ErrNotFound) {
			// The MessageSid is stored under another number: not a retry of a message of
			// this one, and nothing to redo (a 500 would have Twilio retry it for ever).
			s.log.Warn("twilio inbound: MessageSid already stored for another address", "sid", in.MessageSid)
			return nil
		}
		if err != nil {
			return err
		}
		pending, err := tx.PendingInbound(ctx, conv.ID)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if m.ProviderID == in.MessageSid {
				return s.queue.InsertTx(ctx, tx, TurnArgs{ConversationID: conv.ID}, nil)
			}
		}
		return nil
	})
}

func (s *Service[T]) status(c *gin.Context) error {
	form, err := s.readSigned(c)
	if err != nil {
		return err
	}
	u, err := ParseStatus(form)
	if err != nil {
		return httperr.Wrap(http.StatusBadRequest, "", err)
	}
	ctx := c.Request.Context()
	err = s.store.Tx(ctx, func(tx T) error {
		d, err := tx.DeliveryByProviderSID(ctx, u.MessageSid)
		if err != nil {
			return err
		}
		if statusRank(u.MessageStatus) < statusRank(d.Status) {
			return nil // callbacks arrive out of order: never step back
		}
		d.Status = u.MessageStatus
		if u.ErrorCode != 0 {
			d.ErrorCode, d.ErrorMessage = u.ErrorCode, u.ErrorMessage
		}
		return tx.UpdateDelivery(ctx, d)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.log.Info("twilio status for an unknown message", "sid", u.MessageSid)
	case err != nil:
		return fmt.Errorf("twilio status of %s not stored: %w", u.MessageSid, err) // 500: Twilio may retry
	default:
		s.log.Info("delivery status", "sid", u.MessageSid, "status", u.MessageStatus, "error_code", u.ErrorCode)
	}
	return ok(c)
}

// statusRank orders delivery statuses so that a late callback does not undo a later one.
func statusRank(s string) int {
	switch s {
	case atiende.DeliveryPending:
		return 0
	case atiende.DeliverySending, "accepted", "scheduled", "queued":
		return 1
	case atiende.DeliverySent:
		return 2
	case "delivered", "undelivered", "failed", atiende.DeliverySkipped:
		return 3
	case "read":
		return 4
	}
	return 1
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// since is time.Since on the service's clock.
func (s *Service[T]) since(t time.Time) time.Duration { return s.now().Sub(t) }
