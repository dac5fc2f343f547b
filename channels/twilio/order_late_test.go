package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende/channels/twilio"
)

// TestLateMessageStampedAfterSettle: the message Twilio stamped first arrives while the
// turn job of the other already waits for the settle delay. After the wait the job must ask
// Twilio for the order of what is pending then, not decide on what it read before the wait
// (the settle delay exists for exactly this late message). Twilio answers a message's
// time in 300 ms here, as the real API may: a job that skips asking goes first.
func TestLateMessageStampedAfterSettle(t *testing.T) {
	t.Parallel()
	settling := make(chan struct{})
	var once sync.Once
	b := setup(t, func(c *twilio.Config) {
		c.Settle = 1500 * time.Millisecond
		// settle reads the pending messages, then asks the time: the first call says the
		// turn job has read them.
		c.Now = func() time.Time {
			once.Do(func() { close(settling) })
			return time.Now().UTC()
		}
		target, err := url.Parse(c.APIURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/Messages/SM") {
				time.Sleep(300 * time.Millisecond) // Twilio's latency, not a wait for a condition
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(slow.Close)
		c.APIURL = slow.URL
	})
	from := "+56918181819"
	t0 := time.Now().Add(-time.Minute)
	first, second := newSid(), newSid()
	b.fake.AddInbound(first, from, "cuanto es la pgu", t0)
	b.fake.AddInbound(second, from, "y los requisitos?", t0.Add(5*time.Second))
	b.post(t, "/webhooks/twilio/messaging", inbound(from, "y los requisitos?", second), "")
	select {
	case <-settling:
	case <-time.After(time.Minute):
		t.Fatal("the turn job never settled")
	}
	b.post(t, "/webhooks/twilio/messaging", inbound(from, "cuanto es la pgu", first), "")
	b.waitSent(t, 2)
	if aspects := replyAspects(t, b, from); aspects != "monto,requisitos" {
		t.Errorf("turns out of Twilio's order: replies about %v", aspects)
	}
}
