package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/retrieval/retrievaltest"
	"github.com/atiende/atiende/store"
)

// talk runs real turns of the engine on a conversation and stores them as the channels do:
// the citizen's message, the reply with its trace, and a handoff when the engine asks for one.
func talk(t *testing.T, b *bundle, e *bot.Engine, id, channel string, texts ...string) {
	t.Helper()
	ctx := context.Background()
	var st bot.State
	err := b.db.Tx(ctx, func(tx store.Tx) error {
		conv := &atiende.Conversation{ID: id, Channel: channel}
		if channel != "web" {
			conv.Address = "+5691111" + id[len(id)-4:]
		}
		if err := tx.CreateConversation(ctx, conv); err != nil {
			return err
		}
		for _, text := range texts {
			if err := tx.InsertMessage(ctx, &atiende.Message{ConversationID: id, Direction: atiende.Inbound, Text: text, Processed: true}); err != nil {
				return err
			}
			var r bot.Reply
			r, st = e.Turn(ctx, st, text, channel)
			out := &atiende.Message{ConversationID: id, Direction: atiende.Outbound, Text: r.Text, Action: r.Action, Aspect: r.Aspect, Reason: r.Handoff, Processed: true}
			for _, h := range r.Fichas {
				out.Fichas = append(out.Fichas, h.Slug)
			}
			if len(r.Fichas) > 0 {
				out.Score = r.Fichas[0].Score
			}
			if err := tx.InsertMessage(ctx, out); err != nil {
				return err
			}
			if r.Handoff != "" {
				if _, _, err := b.hs.Start(ctx, tx, conv, r.Handoff, ""); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, cl *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestReports(t *testing.T) {
	b := setup(t)
	e := bot.New(retrievaltest.Bundled(t), nil)
	talk(t, b, e, "web-0001", "web", "cuanto es la pgu", "y los requisitos?")
	talk(t, b, e, "web-0002", "web", "el bono para mascotas", "bono mascota como se pide")
	talk(t, b, e, "sms-0003", "sms", "kiero saber dl bono invierno", "cual es la capital de australia")
	talk(t, b, e, "web-0004", "web", "<img src=x onerror=alert(1)> xyzzy")

	ana, _ := signIn(t, b, "ana")
	for _, path := range []string{"/agent/reports", "/agent/reports.json", "/agent/reports/days.csv", "/agent/reports/unanswered.csv"} {
		if code, _, _ := get(t, ana, b.srv.URL+path); code != http.StatusForbidden {
			t.Errorf("agent GET %s: %d, want 403", path, code)
		}
	}

	sofia, _ := signIn(t, b, "sofia")
	code, page, h := get(t, sofia, b.srv.URL+"/agent/reports?days=30")
	if code != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("page: %d, CSP %q", code, h.Get("Content-Security-Policy"))
	}
	// The setup's conversation wrote once; these four wrote seven times.
	for _, want := range []string{
		`<td id="total-messages">8</td>`, `<td id="total-handoffs">2</td>`,
		`<td id="total-rate">40%</td>`,                               // 2 handoffs over 5 conversations
		`<svg class="chart"`, `· web: 6</title>`, `· sms: 2</title>`, // stacked by channel
		`caso personal: 1</title>`, `el asistente no pudo responder: 1</title>`,
		`Pensión Garantizada Universal (PGU): 2</title>`,
		`<td class="n">2</td><td>bono · mascota`, `<li>bono mascota como se pide</li><li>el bono para mascotas</li>`,
		`&lt;img src=x onerror=alert(1)&gt; xyzzy`, `href="/agent/reports.json?days=30"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<svg class="chart"`); n != 6 {
		t.Errorf("%d charts, want 6", n)
	}
	if strings.Contains(page, "<img src=x") || strings.Contains(page, "<script>") {
		t.Error("a citizen's text reached the page as markup")
	}
	if _, sup, _ := get(t, sofia, b.srv.URL+"/agent/supervisor"); !strings.Contains(sup, `href="/agent/reports"`) {
		t.Error("the supervisor page does not link the reports")
	}

	// An editor of the catalogue has the reports and nothing of the queue.
	elena, csrf := signIn(t, b, "elena")
	if code, page, _ := get(t, elena, b.srv.URL+"/agent"); code != 200 || !strings.Contains(page, "<h1 data-static>Informes</h1>") || strings.Contains(page, `href="/agent/supervisor"`) {
		t.Errorf("editor's home: %d, want the reports without the supervision link", code)
	}
	for _, path := range []string{"/agent/reports.json", "/agent/reports/unanswered.csv"} {
		if code, _, _ := get(t, elena, b.srv.URL+path); code != 200 {
			t.Errorf("editor GET %s: %d", path, code)
		}
	}
	for _, path := range []string{"/agent/h/1", "/agent/supervisor", "/agent/events"} {
		if code, _, _ := get(t, elena, b.srv.URL+path); code != http.StatusForbidden {
			t.Errorf("editor GET %s: %d, want 403", path, code)
		}
	}
	resp, err := elena.PostForm(b.srv.URL+"/agent/h/1/claim", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("editor claims: %d, want 403", resp.StatusCode)
	}

	code, body, _ := get(t, sofia, b.srv.URL+"/agent/reports.json?days=14")
	var r struct {
		Days  []struct{} `json:"days"`
		Total struct {
			Messages int     `json:"messages"`
			Rate     float64 `json:"handoff_rate"`
		} `json:"total"`
		Groups []struct {
			Count    int      `json:"count"`
			Words    []string `json:"words"`
			Examples []string `json:"examples"`
		} `json:"unanswered_groups"`
		Unanswered int `json:"unanswered"`
	}
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil {
		t.Fatalf("json: %d %v", code, err)
	}
	if len(r.Days) != 14 || r.Total.Messages != 8 || r.Total.Rate != 0.4 || r.Unanswered != 4 || len(r.Groups) != 3 || r.Groups[0].Count != 2 {
		t.Errorf("json report: %+v", r)
	}

	code, body, h = get(t, sofia, b.srv.URL+"/agent/reports/unanswered.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("unanswered csv: %d %v %v", code, err, h)
	}
	if len(rows) != 4 || rows[0][0] != "count" || rows[1][0] != "2" || !strings.Contains(rows[1][2], "el bono para mascotas") {
		t.Errorf("unanswered csv: %q", rows)
	}
	code, body, _ = get(t, sofia, b.srv.URL+"/agent/reports/days.csv?days=30")
	if rows, err := csv.NewReader(strings.NewReader(body)).ReadAll(); code != 200 || err != nil || len(rows) != 31 ||
		strings.Join(rows[0][:4], ",") != "date,messages_sms,messages_web,messages" || rows[30][3] != "8" {
		t.Errorf("days csv: %d %v %q", code, err, rows)
	}

	for _, q := range []string{"days=0", "days=91", "days=catorce", "low=-1", "low=x"} {
		code, body, _ := get(t, sofia, b.srv.URL+"/agent/reports?"+q)
		if code != http.StatusBadRequest || body == "" || strings.Contains(body, "must") {
			t.Errorf("?%s: %d %q, want 400 with a message in Spanish", q, code, body)
		}
	}
}
