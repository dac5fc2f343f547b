// Package twiliotest is a fake of the parts of Twilio's REST API that Atiende uses, speaking
// its real HTTP (so the real twilio-go client talks to it), and a signer of webhooks
// computed as Twilio computes them. Tests and "atiende load" use it; it never reaches the
// network.
package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Message is a message the fake knows: sent through it, or registered as inbound.
type Message struct {
	Sid            string
	To, From       string
	Body           string
	ContentSid     string
	MessagingSvc   string
	StatusCallback string
	DateCreated    time.Time
}

// Reply decides the fake's answer to the nth send (from 1): 0 to accept it, or an HTTP
// status with a Twilio error code.
type Reply func(n int, m Message) (status, code int)

// Fake is the fake API. Its zero value is not usable: use New.
type Fake struct {
	AccountSID, AuthToken string

	mu       sync.Mutex
	sent     []Message
	tasks    []Task
	known    map[string]Message
	attempts int
	reply    Reply
	observe  func(Message)
	now      func() time.Time
	seq      int
}

// New returns a fake for the account.
func New(accountSID, authToken string) *Fake {
	return &Fake{AccountSID: accountSID, AuthToken: authToken, known: map[string]Message{}, now: time.Now}
}

// SetReply sets how sends are answered (nil: all accepted).
func (f *Fake) SetReply(r Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply = r
}

// Observe calls fn with every message the fake accepts, after it is recorded and outside
// the fake's lock ("atiende load" matches replies to the messages it sent this way). nil
// stops it.
func (f *Fake) Observe(fn func(Message)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observe = fn
}

// AddInbound registers a message as if Twilio had received it, with its stamp.
func (f *Fake) AddInbound(sid, from, body string, created time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known[sid] = Message{Sid: sid, From: from, Body: body, DateCreated: created}
}

// Sent returns the messages accepted so far, in order.
func (f *Fake) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.sent...)
}

// Attempts counts every send request, accepted or not.
func (f *Fake) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// Task is a TaskRouter task created through the fake.
type Task struct {
	Workspace, Workflow, Attributes, Channel string
	Priority                                 int
}

// Tasks returns the TaskRouter tasks created so far.
func (f *Fake) Tasks() []Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Task(nil), f.tasks...)
}

// ServeHTTP implements the Messages resource of API 2010-04-01 and TaskRouter v1's Tasks.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.AccountSID || pass != f.AuthToken {
		writeErr(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/Workspaces/") && strings.HasSuffix(r.URL.Path, "/Tasks") {
		f.createTask(w, r)
		return
	}
	prefix := "/2010-04-01/Accounts/" + f.AccountSID + "/Messages"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == prefix+".json":
		f.create(w, r)
	case r.Method == http.MethodGet && r.URL.Path == prefix+".json":
		f.list(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix+"/") && strings.HasSuffix(r.URL.Path, ".json"):
		sid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix+"/"), ".json")
		f.mu.Lock()
		m, ok := f.known[sid]
		f.mu.Unlock()
		if !ok {
			writeErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
			return
		}
		writeJSON(w, http.StatusOK, f.resource(m))
	default:
		writeErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, 21601, "bad form")
		return
	}
	m := Message{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"), ContentSid: r.PostForm.Get("ContentSid"),
		MessagingSvc: r.PostForm.Get("MessagingServiceSid"), StatusCallback: r.PostForm.Get("StatusCallback")}
	if m.To == "" || (m.From == "" && m.MessagingSvc == "") || (m.Body == "" && m.ContentSid == "") {
		writeErr(w, http.StatusBadRequest, 21604, "A 'To', a 'From' or 'MessagingServiceSid', and a 'Body' or 'ContentSid' are required")
		return
	}
	f.mu.Lock()
	f.attempts++
	n := f.attempts
	reply := f.reply
	f.mu.Unlock()
	if reply != nil {
		if status, code := reply(n, m); status != 0 {
			writeErr(w, status, code, fmt.Sprintf("fake error %d", code))
			return
		}
	}
	f.mu.Lock()
	f.seq++
	m.Sid = fmt.Sprintf("SM%032d", f.seq)
	m.DateCreated = f.now().UTC()
	f.sent = append(f.sent, m)
	f.known[m.Sid] = m
	observe := f.observe
	f.mu.Unlock()
	if observe != nil {
		observe(m)
	}
	writeJSON(w, http.StatusCreated, f.resource(m))
}

func (f *Fake) createTask(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, 20001, "bad form")
		return
	}
	ws := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/Workspaces/"), "/Tasks")
	t := Task{Workspace: ws, Workflow: r.PostForm.Get("WorkflowSid"), Attributes: r.PostForm.Get("Attributes"), Channel: r.PostForm.Get("TaskChannel")}
	fmt.Sscan(r.PostForm.Get("Priority"), &t.Priority)
	if t.Workflow == "" || t.Attributes == "" {
		writeErr(w, http.StatusBadRequest, 20001, "WorkflowSid and Attributes are required")
		return
	}
	f.mu.Lock()
	f.tasks = append(f.tasks, t)
	n := len(f.tasks)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"sid": fmt.Sprintf("WT%032d", n), "workspace_sid": ws, "workflow_sid": t.Workflow,
		"attributes": t.Attributes, "priority": t.Priority, "assignment_status": "pending", "account_sid": f.AccountSID})
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("To")
	f.mu.Lock()
	var out []map[string]any
	for i := len(f.sent) - 1; i >= 0; i-- {
		if to == "" || f.sent[i].To == to {
			out = append(out, f.resource(f.sent[i]))
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "page": 0, "page_size": 50, "next_page_uri": nil,
		"uri": r.URL.RequestURI(), "first_page_uri": r.URL.RequestURI()})
}

func (f *Fake) resource(m Message) map[string]any {
	return map[string]any{"sid": m.Sid, "account_sid": f.AccountSID, "to": m.To, "from": m.From, "body": m.Body, "status": "queued",
		"messaging_service_sid": m.MessagingSvc, "date_created": m.DateCreated.Format(time.RFC1123Z), "num_segments": "1", "direction": "outbound-api",
		"api_version": "2010-04-01", "uri": "/2010-04-01/Accounts/" + f.AccountSID + "/Messages/" + m.Sid + ".json"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

// Sign computes the X-Twilio-Signature of a webhook as Twilio does: HMAC-SHA1, keyed with
// the auth token, of the full URL followed by every POST parameter's name and value, sorted
// by name; base64.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
