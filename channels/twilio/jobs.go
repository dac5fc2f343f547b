package twilio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/conversation"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/riverqueue/river"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TurnArgs asks for the pending messages of a conversation to be handled, oldest first.
type TurnArgs struct {
	ConversationID string `json:"conversation_id"`
}

// Kind implements river.JobArgs.
func (TurnArgs) Kind() string { return "turn" }

// Queues of the channel's jobs and how many of each run at once. A turn may wait for the
// settle delay without holding anything but a goroutine, so many run at once. A delivery
// waits for Twilio's answer: at 20 at once, a replica sent at most about 330 a second to a
// fake Twilio on loopback, fewer to the real one; 100 kept up with 500 msg/s
// (docs/performance.md). Twilio answers 429 when an account sends too many requests at once;
// those are retried. Their transactions yield to requests' (store.Lanes).
const (
	QueueTurn    = "turn"
	QueueDeliver = "deliver"
)

// Queues returns the channel's queues and their concurrency, for the queue's Config.
func Queues() map[string]int { return map[string]int{QueueTurn: 100, QueueDeliver: 100} }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (TurnArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTurn, MaxAttempts: 10}
}

// DeliverArgs asks for one delivery to be sent.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "deliver" }

// MaxDeliverAttempts bounds how often a delivery is tried. With the backoff of NextRetry
// ten attempts span about two and a half minutes; when Twilio fails 30% of sends (429, 5xx)
// one reply in 170,000 is given up, against one in 400 with five attempts
// (docs/reliability.md).
const MaxDeliverAttempts = 10

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeliver, MaxAttempts: MaxDeliverAttempts}
}

// The channel's own words. They state no fact about a benefit.
const (
	msgMedia     = "Por ahora solo puedo leer texto: no puedo ver fotos ni escuchar audios. Escríbame su consulta, por favor."
	msgMediaNote = "(Solo puedo leer texto, no fotos ni audios.)"
	msgResume    = "Listo, volverá a recibir nuestras respuestas. ¿En qué le puedo ayudar?"
	msgTooMany   = "Recibimos muchos mensajes suyos en poco tiempo. Espere un minuto y vuelva a escribir su consulta, por favor."
	msgNoMore    = "No hay más texto de la respuesta anterior. ¿En qué más le puedo ayudar?"
)

// ActionRateLimited marks the notice sent to a sender over the rate limit.
const ActionRateLimited = "rate_limited"

type turnWorker[T Tx] struct {
	river.WorkerDefaults[TurnArgs]
	s *Service[T]
}

// Work handles the conversation's pending messages one by one, oldest first, each a turn of
// the conversation core: the reply, its delivery job and the message marked handled commit
// together, so a crash in between redoes the turn and never sends it twice.
func (w *turnWorker[T]) Work(ctx context.Context, job *river.Job[TurnArgs]) error {
	id := job.Args.ConversationID
	pending, err := w.s.settle(ctx, id)
	if err != nil || len(pending) == 0 {
		// None pending: an earlier job handled this message with its own; a message stored
		// since has a job of its own too.
		return err
	}
	// Asked after the wait, of the messages pending then: the late message the wait is for
	// counts (the list settle read before the wait does not have it).
	w.s.stamp(ctx, id)
	ch := &sms[T]{s: w.s}
	for {
		res, err := w.s.core.Turn(ctx, id, ch)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return river.JobCancel(err)
		case err != nil:
			// The conversation kept changing (store.ErrConflict), or the store failed: the
			// job fails, and River runs it again later, rather than leaving the message
			// pending until the citizen writes again.
			return err
		case res.Done || res.Waiting == 0:
			return nil
		}
	}
}

// settle waits until the oldest pending message has been stored for the settle delay, so
// that a message Twilio stamped earlier but delivered later is there to go first. It
// returns the messages pending when it looked.
func (s *Service[T]) settle(ctx context.Context, convID string) ([]atiende.Message, error) {
	var pending []atiende.Message
	if err := s.store.Tx(ctx, func(tx T) error {
		var err error
		pending, err = tx.PendingInbound(ctx, convID)
		return err
	}); err != nil {
		return nil, err
	}
	oldest := time.Time{}
	for _, m := range pending {
		if oldest.IsZero() || m.CreatedAt.Before(oldest) {
			oldest = m.CreatedAt
		}
	}
	if oldest.IsZero() || s.cfg.Settle <= 0 {
		return pending, nil
	}
	return pending, sleep(ctx, s.cfg.Settle-s.since(oldest))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
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

// needsStamp reports whether the order of the pending messages should be asked of Twilio.
func needsStamp(pending []atiende.Message) bool {
	if len(pending) < 2 {
		return false
	}
	for _, m := range pending {
		if m.ProviderAt.IsZero() && m.ProviderID != "" {
			return true
		}
	}
	return false
}

// stamp asks Twilio when it stamped the pending messages, when more than one waits and some
// have no time yet: they are then handled in that order even if their webhooks came out of
// order. A failure leaves the arrival order.
func (s *Service[T]) stamp(ctx context.Context, convID string) {
	var pending []atiende.Message
	if err := s.store.Tx(ctx, func(tx T) error {
		var err error
		pending, err = tx.PendingInbound(ctx, convID)
		return err
	}); err != nil {
		s.log.Warn("pending messages unread; arrival order kept", "conversation", convID, "error", err.Error())
		return
	}
	if !needsStamp(pending) {
		return
	}
	for _, m := range pending {
		if !m.ProviderAt.IsZero() || m.ProviderID == "" {
			continue
		}
		msg, err := s.api.FetchMessage(m.ProviderID, &openapi.FetchMessageParams{})
		if err != nil || msg.DateCreated == nil {
			s.log.Warn("twilio message time unknown; arrival order kept", "sid", m.ProviderID, "error", fmt.Sprint(err))
			continue
		}
		at, err := time.Parse(time.RFC1123Z, *msg.DateCreated)
		if err != nil {
			s.log.Warn("twilio message time unreadable; arrival order kept", "sid", m.ProviderID, "error", err.Error())
			continue
		}
		if err := s.store.Tx(ctx, func(tx T) error { return tx.SetProviderAt(ctx, m.ID, at) }); err != nil {
			s.log.Warn("twilio message time not saved; arrival order kept", "sid", m.ProviderID, "error", err.Error())
		}
	}
}

// sms is the channel as the conversation core sees one turn: the oldest pending message,
// answered by the channel itself when the engine has no part in it (an opt-out, the rate
// limit, MAS, a photo alone), rendered within SMS segments or WhatsApp's length with the
// rest held for MAS, and delivered through a deliver job.
type sms[T Tx] struct{ s *Service[T] }

// Next implements conversation.Channel.
func (ch *sms[T]) Next(ctx context.Context, tx T, conv *atiende.Conversation) (*conversation.Inbound, error) {
	pending, err := tx.PendingInbound(ctx, conv.ID)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	m := pending[0]
	in := &conversation.Inbound{ID: m.ID, Text: strings.TrimSpace(m.Text), Waiting: len(pending) - 1}
	if m.NumMedia > 0 {
		in.Note = msgMediaNote
	}
	in.Answer, err = ch.s.intercept(ctx, tx, conv, m, in.Text)
	return in, err
}

// Render implements conversation.Channel. Whole, the text is sent as one message however
// long: what happens next is not held behind MAS.
func (ch *sms[T]) Render(conv *atiende.Conversation, text string, whole bool) (string, []string) {
	r := channels.Render(conv.Channel, text)
	if !whole || len(r.More) == 0 {
		return r.Text, r.More
	}
	if conv.Channel == bot.ChannelSMS {
		return channels.GSMText(text), nil
	}
	return text, nil
}

// DeliverTx implements conversation.Channel.
func (ch *sms[T]) DeliverTx(ctx context.Context, tx T, conv *atiende.Conversation, m *atiende.Message) error {
	return ch.s.outbox.DeliverTx(ctx, tx, conv, m)
}

// Outbox hands messages to SMS and WhatsApp delivery: a delivery and its deliver job, in the
// caller's transaction. It needs only the queue, so that the handoff service can be given it
// (handoff.Deliverer, for agents' words) before the channel, which needs the conversation
// core, which needs the handoff service.
type Outbox[T Tx] struct{ queue Enqueuer[T] }

// NewOutbox returns the outbox on the queue the channel's jobs run on.
func NewOutbox[T Tx](q Enqueuer[T]) *Outbox[T] { return &Outbox[T]{queue: q} }

// DeliverTx sends a stored message on the conversation's channel: in GSM-7 for SMS, and
// whole: what was rendered (a turn's reply, a person's words) is not split again.
func (o *Outbox[T]) DeliverTx(ctx context.Context, tx T, conv *atiende.Conversation, m *atiende.Message) error {
	r := channels.Rendered{Text: m.Text}
	if conv.Channel == bot.ChannelSMS {
		r.Text = channels.GSMText(m.Text)
		r.Segments, r.Encoding = channels.Segments(r.Text)
	}
	return o.deliver(ctx, tx, conv, m.ID, r)
}

// deliver stores a delivery of a rendered message and enqueues its job.
func (o *Outbox[T]) deliver(ctx context.Context, tx T, conv *atiende.Conversation, messageID int64, r channels.Rendered) error {
	if o == nil || o.queue == nil {
		return errors.New("twilio: no queue to deliver on")
	}
	d := &atiende.Delivery{MessageID: messageID, ConversationID: conv.ID, Channel: conv.Channel, To: conv.Address, Body: r.Text,
		Segments: r.Segments, Encoding: r.Encoding}
	if err := tx.InsertDelivery(ctx, d); err != nil {
		return err
	}
	return o.queue.InsertTx(ctx, tx, DeliverArgs{DeliveryID: d.ID}, nil)
}

var (
	resumeWords = map[string]bool{"start": true, "alta": true, "unstop": true, "reanudar": true, "volver": true, "yes": true}
	moreWords   = map[string]bool{"mas": true, "more": true, "+": true, "seguir": true, "continuar": true}
)

// AsksMore reports whether a message asks for the next held part of a reply: "MAS", "más",
// "more", "+", "seguir", "continuar".
func AsksMore(text string) bool {
	return text == "+" || moreWords[strings.Join(retrieval.Words(text), " ")]
}

// intercept answers a message the channel handles without the engine, updating the
// conversation in memory: an opted-out citizen (silence, or the resumption), a sender over
// the rate limit (one notice, then silence), MAS (the next held part), a photo or audio
// alone. An Answer with no text answers nothing; nil leaves the message to the core.
func (s *Service[T]) intercept(ctx context.Context, tx T, conv *atiende.Conversation, m atiende.Message, text string) (*conversation.Answer, error) {
	word := strings.Join(retrieval.Words(text), " ")
	if text == "+" {
		word = "+"
	}
	fixed := func(action, t string) *conversation.Answer {
		return &conversation.Answer{Text: channels.Render(conv.Channel, t).Text, Action: action, Aspect: retrieval.AspectGeneral}
	}
	silent := &conversation.Answer{}
	if conv.OptOut {
		if resumeWords[word] {
			conv.OptOut = false
			return fixed(bot.ActionGreet, msgResume), nil
		}
		return silent, nil // stored, not answered: the citizen asked for no more messages
	}
	n, err := tx.CountInbound(ctx, conv.ID, m.CreatedAt.Add(-time.Minute), m.CreatedAt)
	if err != nil {
		return nil, err
	}
	switch {
	case n == s.cfg.RateLimit+1:
		return fixed(ActionRateLimited, msgTooMany), nil
	case n > s.cfg.RateLimit+1:
		return silent, nil
	}
	if moreWords[word] { // AsksMore, on the word already read
		if len(conv.More) == 0 {
			return fixed(bot.ActionClarify, msgNoMore), nil
		}
		r := channels.RenderMore(conv.Channel, conv.More)
		conv.More = r.More
		return &conversation.Answer{Text: r.Text, Action: "more", Aspect: retrieval.AspectGeneral}, nil
	}
	if m.NumMedia > 0 && text == "" {
		return fixed("media", msgMedia), nil
	}
	return nil, nil
}

type deliverWorker[T Tx] struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service[T]
}

// NextRetry backs off exponentially from one second, with jitter so that retries after a
// Twilio outage do not arrive all at once.
func (w *deliverWorker[T]) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	base := time.Second << min(job.Attempt-1, 5)
	jitter := time.Duration(rand.Int64N(int64(base / 2)))
	return time.Now().Add(base*3/4 + jitter)
}

// Work sends one delivery. Twilio's 429 and 5xx, and network errors, are retried; other
// errors (an invalid or unsubscribed number) are permanent: recorded, not retried.
func (w *deliverWorker[T]) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.s
	var d *atiende.Delivery
	var conv *atiende.Conversation
	var last time.Time
	var earlier int
	err := s.store.Tx(ctx, func(tx T) error {
		var err error
		if d, err = tx.Delivery(ctx, job.Args.DeliveryID); err != nil {
			return err
		}
		if conv, err = tx.Conversation(ctx, d.ConversationID); err != nil {
			return err
		}
		if earlier, err = tx.UnsentBefore(ctx, d.ConversationID, d.ID); err != nil {
			return err
		}
		last, err = tx.LastInbound(ctx, d.ConversationID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if d.Status != atiende.DeliveryPending && d.Status != atiende.DeliverySending {
		return nil // already sent, failed or skipped
	}
	for wait := 0; earlier > 0; wait++ {
		// An earlier reply to this citizen goes first. Wait here a while (River's snooze
		// would wait for its five-second scheduler), then let the job be retried. On the
		// last attempt this one is sent all the same: an earlier reply that will never leave
		// (its job gave up) must not hold back every later one until each gives up too,
		// unsent and pending for ever.
		if job.Attempt >= job.MaxAttempts {
			s.log.Warn("delivery sent before earlier ones still unsent", "delivery", d.ID, "earlier", earlier, "attempt", job.Attempt)
			break
		}
		if wait == 200 {
			return fmt.Errorf("delivery %d waits for %d earlier one(s)", d.ID, earlier)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
		if err := s.store.Tx(ctx, func(tx T) error {
			var err error
			earlier, err = tx.UnsentBefore(ctx, d.ConversationID, d.ID)
			return err
		}); err != nil {
			return err
		}
	}
	params := &openapi.CreateMessageParams{}
	params.SetTo(d.To)
	params.SetBody(d.Body)
	if s.cfg.PublicURL != "" {
		params.SetStatusCallback(s.cfg.PublicURL + "/webhooks/twilio/status")
	}
	switch conv.Channel {
	case bot.ChannelWhatsApp:
		if s.cfg.WhatsAppFrom == "" {
			s.failed(conv.Channel, FailureNoSender)
			return s.finish(ctx, d, atiende.DeliveryFailed, 0, "no WhatsApp sender configured (TWILIO_WHATSAPP_FROM)", river.JobCancel(errors.New("no WhatsApp sender")))
		}
		params.SetFrom(s.cfg.WhatsAppFrom)
		if s.since(last) > 24*time.Hour {
			// Outside the customer-service window only an approved template may be sent.
			if s.cfg.WhatsAppTemplateSID == "" {
				s.failed(conv.Channel, FailureWindowClosed)
				return s.finish(ctx, d, atiende.DeliverySkipped, 0, "WhatsApp window closed and no template configured", nil)
			}
			params.Body = nil
			params.SetContentSid(s.cfg.WhatsAppTemplateSID)
		}
	default:
		if s.cfg.MessagingServiceSID != "" {
			params.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
		} else if s.cfg.FromNumber != "" {
			params.SetFrom(s.cfg.FromNumber)
		} else {
			s.failed(conv.Channel, FailureNoSender)
			return s.finish(ctx, d, atiende.DeliveryFailed, 0, "no SMS sender configured", river.JobCancel(errors.New("no SMS sender")))
		}
	}
	if d.Status == atiende.DeliverySending {
		// A previous attempt ended without knowing whether Twilio took the message (a crash, a
		// timeout): look before sending it again.
		if sid, ok := s.alreadySent(d); ok {
			d.ProviderSID = sid
			return s.finish(ctx, d, atiende.DeliverySent, 0, "", nil)
		}
	}
	d.Status, d.Attempts = atiende.DeliverySending, d.Attempts+1
	if err := s.store.Tx(ctx, func(tx T) error { return tx.UpdateDelivery(ctx, d) }); err != nil {
		return err
	}
	msg, err := s.api.CreateMessage(params)
	if err != nil {
		var te *twclient.TwilioRestError
		if errors.As(err, &te) && te.Status != 429 && te.Status < 500 {
			s.log.Warn("delivery failed for good", "delivery", d.ID, "to", d.To, "code", te.Code, "status", te.Status, "error", te.Message)
			s.failed(conv.Channel, FailureRejected)
			return s.finish(ctx, d, atiende.DeliveryFailed, te.Code, te.Message, river.JobCancel(err))
		}
		code, status := 0, atiende.DeliverySending // outcome unknown: look before the next try
		if te != nil {
			code, status = te.Code, atiende.DeliveryPending // Twilio answered: it did not take it
		}
		if job.Attempt >= job.MaxAttempts {
			s.failed(conv.Channel, FailureGaveUp)
			return s.finish(ctx, d, atiende.DeliveryFailed, code, "gave up after "+fmt.Sprint(job.Attempt)+" attempts: "+err.Error(), err)
		}
		d.Status, d.ErrorCode = status, code
		if uerr := s.store.Tx(ctx, func(tx T) error { return tx.UpdateDelivery(ctx, d) }); uerr != nil {
			// The retry looks at Twilio before sending again whatever the stored status says.
			s.log.Warn("delivery status not saved", "delivery", d.ID, "error", uerr.Error())
		}
		s.log.Info("delivery will be retried", "delivery", d.ID, "attempt", job.Attempt, "error", err.Error())
		s.failed(conv.Channel, FailureRetry)
		return err
	}
	if msg.Sid != nil {
		d.ProviderSID = *msg.Sid
	}
	s.log.Info("delivered to twilio", "delivery", d.ID, "sid", d.ProviderSID, "segments", d.Segments, "encoding", d.Encoding)
	return s.finish(ctx, d, atiende.DeliverySent, 0, "", nil)
}

// finish records the delivery's outcome and returns ret.
func (s *Service[T]) finish(ctx context.Context, d *atiende.Delivery, status string, code int, msg string, ret error) error {
	d.Status, d.ErrorCode, d.ErrorMessage = status, code, msg
	if err := s.store.Tx(ctx, func(tx T) error { return tx.UpdateDelivery(ctx, d) }); err != nil {
		return err
	}
	return ret
}

// alreadySent looks for the delivery among the latest messages sent to its address.
func (s *Service[T]) alreadySent(d *atiende.Delivery) (string, bool) {
	params := &openapi.ListMessageParams{}
	params.SetTo(d.To)
	params.SetPageSize(20)
	params.SetLimit(20)
	msgs, err := s.api.ListMessage(params)
	if err != nil {
		s.log.Warn("could not check for an earlier send; sending", "delivery", d.ID, "error", err.Error())
		return "", false
	}
	for _, m := range msgs {
		if m.Body != nil && *m.Body == d.Body && m.Sid != nil {
			if m.DateCreated != nil {
				if at, err := time.Parse(time.RFC1123Z, *m.DateCreated); err == nil && at.Before(d.CreatedAt.Add(-time.Minute)) {
					continue
				}
			}
			return *m.Sid, true
		}
	}
	return "", false
}
