package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atiende/atiende/channels/twilio/twiliotest"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

// downStore is a database that refuses every transaction.
type downStore struct{ *sqlite.DB }

func (downStore) Tx(context.Context, func(store.Tx) error) error {
	return errors.New("database is locked (SQLITE_BUSY)")
}

// TestWebhookErrors: every webhook failure answers its status with an empty TwiML and
// nothing of the server's detail — a handler that fails (the store down) is a 500, which
// Twilio may retry; a bad signature 403; a field out of shape 400 without echoing it.
func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	b := buildOn(t, nil, func(db *sqlite.DB) channelStore { return downStore{db} }, false)
	send := func(path string, form url.Values, sign bool) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			req.Header.Set("X-Twilio-Signature", twiliotest.Sign(authToken, publicURL+path, form))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	bad := inbound("+56911112222", "hola", newSid())
	bad.Set("From", "+56 9 1111 evil")
	for _, tc := range []struct {
		name, path string
		form       url.Values
		sign       bool
		status     int
	}{
		{"the store fails on a message", "/webhooks/twilio/messaging", inbound("+56911112222", "hola", newSid()), true, http.StatusInternalServerError},
		{"the store fails on a status", "/webhooks/twilio/status", url.Values{"MessageSid": {newSid()}, "MessageStatus": {"delivered"}}, true, http.StatusInternalServerError},
		{"no signature", "/webhooks/twilio/messaging", inbound("+56911112222", "hola", newSid()), false, http.StatusForbidden},
		{"a field out of shape", "/webhooks/twilio/messaging", bad, true, http.StatusBadRequest},
	} {
		code, ct, body := send(tc.path, tc.form, tc.sign)
		if code != tc.status || !strings.HasPrefix(ct, "text/xml") || body != string(httperr.EmptyTwiML) {
			t.Errorf("%s: %d %s %q; want %d with only an empty TwiML", tc.name, code, ct, body, tc.status)
		}
	}
}
