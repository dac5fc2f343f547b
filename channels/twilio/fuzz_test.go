package twilio_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/channels/twilio/twiliotest"
)

// postRaw sends body to the webhook, signed as Twilio signs what the handler reads (the
// first value of each field) when it parses as a form.
func (b *bundle) postRaw(t *testing.T, path, body string) (int, url.Values) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form, err := url.ParseQuery(body)
	if err == nil {
		first := url.Values{}
		for k, v := range form {
			first.Set(k, v[0])
		}
		req.Header.Set("X-Twilio-Signature", twiliotest.Sign(authToken, publicURL+path, first))
	} else {
		form = nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, form
}

func webhookSeeds(f *testing.F) {
	for _, form := range []url.Values{
		inbound("+56911112222", "cuanto es la pgu", "SM000000000000000000000000000f0001"),
		inbound("whatsapp:+56911112222", "hola 👋", "SM000000000000000000000000000f0002"),
		{"SmsSid": {"SM000000000000000000000000000f0003"}, "From": {"+56911112222"}, "Body": {""}, "NumMedia": {"2"}},
		{"MessageSid": {"SM000000000000000000000000000f0004"}, "From": {"+56911112222"}, "NumMedia": {"-1"}},
		{"MessageSid": {"SM000000000000000000000000000f0005"}, "From": {"+56911112222"}, "AccountSid": {"ACother"}},
		{"MessageSid": {"SM000000000000000000000000000f0006", "SM000000000000000000000000000f0007"}, "From": {"+56911112222"}, "Body": {"a", "b"}},
		{"MessageSid": {"SM000000000000000000000000000f0008"}, "MessageStatus": {"delivered"}, "ErrorCode": {"30007"}, "ErrorMessage": {"x"}},
		{"MessageSid": {"SM000000000000000000000000000f0009"}, "MessageStatus": {"failed"}, "ErrorCode": {"x"}},
	} {
		f.Add(form.Encode())
	}
	f.Add("From=%2B56911112222&MessageSid=SM000000000000000000000000000f000a&Body=%FF%FE")
	f.Add("From=%2B56911112222&MessageSid=SM000000000000000000000000000f000b&Body=a%00b")
	f.Add("a=%zz")
	f.Add("=&&;=x")
}

// FuzzMessagingWebhook posts any body, signed, to the real incoming-message handler: it
// answers 200, 400 or 403, never a 5xx; 400 exactly when the form or its fields are bad,
// 403 exactly for another account; and a 200 has stored the message with its text intact.
func FuzzMessagingWebhook(f *testing.F) {
	webhookSeeds(f)
	b := build(f, false)
	stored := map[string]twilio.Inbound{} // MessageSid → the message first stored under it
	f.Fuzz(func(t *testing.T, body string) {
		code, form := b.postRaw(t, "/webhooks/twilio/messaging", body)
		if form == nil {
			if code != http.StatusBadRequest {
				t.Fatalf("unparsable form %q: %d", body, code)
			}
			return
		}
		if sid := form.Get("AccountSid"); sid != "" && sid != accountSID {
			if code != http.StatusForbidden {
				t.Fatalf("another account %q: %d", sid, code)
			}
			return
		}
		in, err := twilio.ParseInbound(form)
		if err != nil {
			if code != http.StatusBadRequest {
				t.Fatalf("bad inbound %q (%v): %d", body, err, code)
			}
			return
		}
		if code != http.StatusOK {
			t.Fatalf("inbound %+v: %d", in, code)
		}
		first, ok := stored[in.MessageSid]
		if !ok {
			first = in
			stored[in.MessageSid] = in
		}
		// The message is where it was first stored: a MessageSid again (Twilio's retry)
		// changes nothing.
		var found *atiende.Message
		for _, m := range messagesOf(t, b, first.From) {
			if m.ProviderID == in.MessageSid {
				found = &m
			}
		}
		if found == nil || found.Text != first.Body || found.NumMedia != first.NumMedia || found.Direction != atiende.Inbound {
			t.Fatalf("inbound %+v stored as %+v", first, found)
		}
		if (first.Channel == bot.ChannelWhatsApp) != strings.HasPrefix(first.From, "whatsapp:") {
			t.Fatalf("channel %s for %q", first.Channel, first.From)
		}
	})
}

// FuzzStatusWebhook posts any body, signed, to the real status-callback handler: 200, 400
// or 403, never a 5xx, and 400 exactly when the callback cannot be read.
func FuzzStatusWebhook(f *testing.F) {
	webhookSeeds(f)
	b := build(f, false)
	f.Fuzz(func(t *testing.T, body string) {
		code, form := b.postRaw(t, "/webhooks/twilio/status", body)
		want := http.StatusOK
		switch {
		case form == nil:
			want = http.StatusBadRequest
		case form.Get("AccountSid") != "" && form.Get("AccountSid") != accountSID:
			want = http.StatusForbidden
		default:
			if _, err := twilio.ParseStatus(form); err != nil {
				want = http.StatusBadRequest
			}
		}
		if code != want {
			t.Fatalf("status callback %q: %d, want %d", body, code, want)
		}
	})
}
