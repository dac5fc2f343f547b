package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
	_ "time/tzdata" // America/Santiago on machines without a zone database

	"github.com/atiende/atiende/bot/llm"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/retrieval"
)

// config is everything the environment sets, read and checked once at start.
type config struct {
	Addr        string // ATIENDE_ADDR
	DataDir     string // ATIENDE_DATA_DIR
	DatabaseURL string // DATABASE_URL: Postgres (production) instead of the embedded SQLite file
	// Retrieval is where the catalogue is searched (ATIENDE_RETRIEVAL): "memory" (each
	// replica's index, the default) or "postgres" (retrieval/pgsearch; needs DATABASE_URL).
	Retrieval string
	Catalogue string // ATIENDE_CATALOGUE: a catalogue file or directory instead of the bundled one
	Origins   string // ATIENDE_WIDGET_ORIGINS
	// Embed chooses the vectors that lift the lexical scores (ATIENDE_EMBEDDER): "none" (the
	// lexical index alone, the default: docs/eval.md says why), "local" (the hashed
	// embedder), "openai" or "ollama" (a model server, ATIENDE_EMBED_*).
	Embed    retrieval.EmbedderConfig
	Twilio   twilio.Config
	Timezone *time.Location // ATIENDE_TIMEZONE: the call center's hours
	Holidays string         // ATIENDE_HOLIDAYS: a file of holidays instead of the bundled list
	Hours    string         // ATIENDE_HOURS: "1-4 08:00-20:00, 5 08:00-18:00" (the 101 line's by default)
	// HandoffTimeout: a handoff nobody takes in this long is abandoned (ATIENDE_HANDOFF_TIMEOUT).
	HandoffTimeout time.Duration
	// Backend also sends handoffs to "taskrouter" or "webhook" (ATIENDE_HANDOFF_BACKEND);
	// the built-in console always has them.
	Backend       string
	WebhookURL    string // ATIENDE_HANDOFF_WEBHOOK_URL
	WebhookSecret string // ATIENDE_HANDOFF_WEBHOOK_SECRET
	Workspace     string // TWILIO_TASKROUTER_WORKSPACE_SID
	Workflow      string // TWILIO_TASKROUTER_WORKFLOW_SID
	// LLM writes answers with a language model when Provider is openai or ollama (ATIENDE_LLM).
	LLM llm.Config
	// SecondOpinion: with a language model, also ask it about emergencies and to choose among
	// the fichas the engine is unsure of (ATIENDE_LLM_SECOND_OPINION, on by default).
	SecondOpinion bool
	// ShutdownTimeout bounds a graceful stop, drain included: in-flight requests and running
	// jobs get this long to finish (ATIENDE_SHUTDOWN_TIMEOUT, default 25s).
	ShutdownTimeout time.Duration
	// DrainDelay: on SIGTERM, /readyz answers 503 this long while the server still serves,
	// so that load balancers stop sending before it stops listening (ATIENDE_DRAIN_DELAY,
	// default 0s).
	DrainDelay time.Duration
	// Security: rate limits, trusted proxies, retention (security.go).
	Security security
	// ReplicaID names this replica among those sharing Postgres (ATIENDE_REPLICA_ID; by
	// default the host name and the port of ATIENDE_ADDR, none on port 0): restarted under
	// the same ID, it takes back at once the jobs it held when it died (queue.Config.ID).
	ReplicaID string
	// Pprof serves Go's profiler on this loopback address when set (ATIENDE_PPROF_ADDR, e.g.
	// 127.0.0.1:6060): for measuring, never on a public interface.
	Pprof string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:        or(getenv("ATIENDE_ADDR"), ":8080"),
		DataDir:     or(getenv("ATIENDE_DATA_DIR"), "./data"),
		DatabaseURL: getenv("DATABASE_URL"),
		Retrieval:   or(getenv("ATIENDE_RETRIEVAL"), "memory"),
		Catalogue:   getenv("ATIENDE_CATALOGUE"),
		Origins:     getenv("ATIENDE_WIDGET_ORIGINS"),
		Embed: retrieval.EmbedderConfig{Provider: or(getenv("ATIENDE_EMBEDDER"), "none"), BaseURL: getenv("ATIENDE_EMBED_BASE_URL"),
			Model: getenv("ATIENDE_EMBED_MODEL"), APIKey: getenv("ATIENDE_EMBED_API_KEY"), Timeout: 10 * time.Second},
	}
	switch {
	case c.Retrieval != "memory" && c.Retrieval != "postgres":
		return c, fmt.Errorf("ATIENDE_RETRIEVAL=%q: want memory or postgres", c.Retrieval)
	case c.Retrieval == "postgres" && c.DatabaseURL == "":
		return c, errors.New("ATIENDE_RETRIEVAL=postgres needs DATABASE_URL")
	}
	if v := getenv("ATIENDE_EMBED_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("ATIENDE_EMBED_TIMEOUT %q: want a duration such as 10s", v)
		}
		c.Embed.Timeout = d
	}
	if _, err := retrieval.NewEmbedder(c.Embed); err != nil { // checks the settings, calls no server
		return c, fmt.Errorf("ATIENDE_EMBEDDER=%s: %w", c.Embed.Provider, err)
	}
	c.Twilio = twilio.Config{
		AccountSID:          getenv("TWILIO_ACCOUNT_SID"),
		AuthToken:           getenv("TWILIO_AUTH_TOKEN"),
		FromNumber:          getenv("TWILIO_FROM_NUMBER"),
		MessagingServiceSID: getenv("TWILIO_MESSAGING_SERVICE_SID"),
		WhatsAppFrom:        getenv("TWILIO_WHATSAPP_FROM"),
		WhatsAppTemplateSID: getenv("TWILIO_WHATSAPP_TEMPLATE_SID"),
		PublicURL:           getenv("ATIENDE_PUBLIC_URL"),
		APIURL:              getenv("ATIENDE_TWILIO_API_URL"),
		Settle:              time.Second,
		RateLimit:           15,
	}
	if v := getenv("ATIENDE_TWILIO_INSECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("ATIENDE_TWILIO_INSECURE %q: want true or false", v)
		}
		c.Twilio.Insecure = b
	}
	if v := getenv("ATIENDE_TWILIO_SETTLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("ATIENDE_TWILIO_SETTLE %q: want a duration such as 1s", v)
		}
		c.Twilio.Settle = d
	}
	tz := or(getenv("ATIENDE_TIMEZONE"), "America/Santiago")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return c, fmt.Errorf("ATIENDE_TIMEZONE %q: %w", tz, err)
	}
	c.Timezone, c.Holidays, c.Hours, c.HandoffTimeout = loc, getenv("ATIENDE_HOLIDAYS"), getenv("ATIENDE_HOURS"), 30*time.Minute
	if v := getenv("ATIENDE_HANDOFF_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("ATIENDE_HANDOFF_TIMEOUT %q: want a duration such as 30m", v)
		}
		c.HandoffTimeout = d
	}
	c.Backend, c.WebhookURL, c.WebhookSecret = or(getenv("ATIENDE_HANDOFF_BACKEND"), "console"), getenv("ATIENDE_HANDOFF_WEBHOOK_URL"), getenv("ATIENDE_HANDOFF_WEBHOOK_SECRET")
	c.Workspace, c.Workflow = getenv("TWILIO_TASKROUTER_WORKSPACE_SID"), getenv("TWILIO_TASKROUTER_WORKFLOW_SID")
	switch c.Backend {
	case "console":
	case "webhook":
		if c.WebhookURL == "" || len(c.WebhookSecret) < 16 {
			return c, fmt.Errorf("ATIENDE_HANDOFF_BACKEND=webhook needs ATIENDE_HANDOFF_WEBHOOK_URL and a secret of 16 characters or more in ATIENDE_HANDOFF_WEBHOOK_SECRET")
		}
	case "taskrouter":
		if c.Workspace == "" || c.Workflow == "" || c.Twilio.AccountSID == "" || c.Twilio.AuthToken == "" {
			return c, fmt.Errorf("ATIENDE_HANDOFF_BACKEND=taskrouter needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_TASKROUTER_WORKSPACE_SID and TWILIO_TASKROUTER_WORKFLOW_SID")
		}
	default:
		return c, fmt.Errorf("ATIENDE_HANDOFF_BACKEND %q: want console, taskrouter or webhook", c.Backend)
	}
	c.LLM = llm.Config{Provider: or(getenv("ATIENDE_LLM"), "none"), BaseURL: getenv("ATIENDE_LLM_BASE_URL"), Model: getenv("ATIENDE_LLM_MODEL"),
		APIKey: getenv("ATIENDE_LLM_API_KEY"), Timeout: 8 * time.Second}
	if v := getenv("ATIENDE_LLM_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("ATIENDE_LLM_TIMEOUT %q: want a duration such as 8s", v)
		}
		c.LLM.Timeout = d
	}
	switch v := or(getenv("ATIENDE_LLM_SECOND_OPINION"), "on"); v {
	case "on":
		c.SecondOpinion = true
	case "off":
	default:
		return c, fmt.Errorf("ATIENDE_LLM_SECOND_OPINION %q: want on or off", v)
	}
	c.ShutdownTimeout = 25 * time.Second
	if v := getenv("ATIENDE_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("ATIENDE_SHUTDOWN_TIMEOUT %q: want a duration such as 25s", v)
		}
		c.ShutdownTimeout = d
	}
	if v := getenv("ATIENDE_DRAIN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d >= c.ShutdownTimeout {
			return c, fmt.Errorf("ATIENDE_DRAIN_DELAY %q: want a duration such as 10s, shorter than ATIENDE_SHUTDOWN_TIMEOUT (%s)", v, c.ShutdownTimeout)
		}
		c.DrainDelay = d
	}
	if c.Security, err = loadSecurity(getenv); err != nil {
		return c, err
	}
	c.Twilio.RateLimit, c.Twilio.SenderRate = c.Security.SenderRate.PerMinute(), c.Security.SenderRate
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("ATIENDE_ADDR %q: want host:port, e.g. :8080", c.Addr)
	}
	if c.ReplicaID = getenv("ATIENDE_REPLICA_ID"); c.ReplicaID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "atiende"
		}
		// Port 0 (any free port) names nothing stable, and two such replicas on one host
		// would share the ID: River then makes one up each start.
		if _, port, _ := net.SplitHostPort(c.Addr); port != "0" {
			c.ReplicaID = host + ":" + port
		}
	}
	if len(c.ReplicaID) > 100 {
		return c, fmt.Errorf("ATIENDE_REPLICA_ID %q: at most 100 characters", c.ReplicaID)
	}
	if c.Pprof = getenv("ATIENDE_PPROF_ADDR"); c.Pprof != "" {
		host, _, err := net.SplitHostPort(c.Pprof)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return c, fmt.Errorf("ATIENDE_PPROF_ADDR %q: want a loopback host:port such as 127.0.0.1:6060", c.Pprof)
		}
	}
	c.DataDir = filepath.Clean(c.DataDir)
	return c, nil
}

// twilioOn reports whether the Twilio channels are configured to serve.
func (c config) twilioOn() bool { return c.Twilio.AuthToken != "" || c.Twilio.Insecure }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
