// Package handoff is how a conversation passes from the engine to a person: the priority
// of each reason and the packet an agent reads, built from what the conversation stored.
// The queue, the agent console and the backends build on it (docs/architecture.md).
package handoff

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/rut"
)

// Priorities: higher is served first.
const (
	PriorityEmergency = 100
	PriorityPersonal  = 20
	PriorityNormal    = 10
)

// Priority is the queue priority of a handoff reason: emergencies first, then citizens
// whose own case needs review, then everyone else.
func Priority(reason string) int {
	switch reason {
	case bot.ReasonEmergency:
		return PriorityEmergency
	case bot.ReasonPersonal, bot.ReasonFrustration:
		return PriorityPersonal
	}
	return PriorityNormal
}

// Packet is what an agent sees when taking a conversation: why, how urgent, where to
// answer, and the conversation so far, summarised.
type Packet struct {
	HandoffID      int64 // the handoff's id in the store: a backend's reference back to it
	ConversationID string
	Reason         string
	Priority       int
	Queue          string
	Status         string
	Channel        string
	Address        string
	Language       string // "es" or "en"
	Waiting        time.Duration
	Question       string   // the citizen's first question of substance
	Missing        []string // what the assistant could not answer
	Fichas         []string // slugs shown to the citizen, in order, without repeats
	RUTs           []string // RUTs the citizen wrote (valid check digit): shown to the agent only
	// WindowExpires is when WhatsApp's 24-hour window closes (zero on other channels): after
	// it only a template may be sent.
	WindowExpires time.Time
	Transcript    []Line
}

// Line is one message of the transcript.
type Line struct {
	From  string // "ciudadano", "asistente" or "agente"
	Agent int64  // on an agent's line, who wrote it: the agent attending then
	Name  string // that agent's name, once NameAgents has read it
	Text  string
	At    time.Time
}

// NewPacket builds the packet of a handoff from the conversation and its messages.
func NewPacket(c *atiende.Conversation, h atiende.Handoff, msgs []atiende.Message, now time.Time) Packet {
	p := Packet{HandoffID: h.ID, ConversationID: c.ID, Reason: h.Reason, Priority: h.Priority, Queue: h.Queue, Status: h.Status, Channel: c.Channel,
		Address: c.Address, Language: "es", Waiting: now.Sub(h.CreatedAt)}
	if strings.Contains(string(c.State), `"english":true`) {
		p.Language = "en"
	}
	seen := map[string]bool{}
	var lastIn time.Time
	for i, m := range msgs {
		if m.Direction == atiende.Inbound {
			lastIn = m.CreatedAt
			p.RUTs = append(p.RUTs, rut.Find(m.Text)...)
			if i+1 < len(msgs) && msgs[i+1].Action == bot.ActionOutOfScope {
				p.Missing = append(p.Missing, m.Text)
			}
		}
		from := "asistente"
		switch {
		case m.Direction == atiende.Inbound:
			from = "ciudadano"
		case m.Action == ActionAgent:
			from = "agente"
		}
		p.Transcript = append(p.Transcript, Line{From: from, Agent: m.AgentID, Text: m.Text, At: m.CreatedAt})
		if m.Direction == atiende.Outbound && m.Action == bot.ActionAnswer && len(m.Fichas) > 0 && !seen[m.Fichas[0]] {
			seen[m.Fichas[0]] = true
			p.Fichas = append(p.Fichas, m.Fichas[0])
		}
	}
	if c.Channel == bot.ChannelWhatsApp && !lastIn.IsZero() {
		p.WindowExpires = lastIn.Add(24 * time.Hour)
	}
	for i, m := range msgs {
		// The first question is the first inbound message the engine did not take as a
		// greeting.
		if m.Direction == atiende.Inbound && (i+1 >= len(msgs) || msgs[i+1].Action != bot.ActionGreet) {
			p.Question = m.Text
			break
		}
	}
	return p
}

// AgentReader reads an agent, in a transaction (store.Tx has the error contract).
type AgentReader interface {
	// AgentByID returns an agent, or store.ErrNotFound.
	AgentByID(ctx context.Context, id int64) (*atiende.Agent, error)
}

// NameAgents gives each line an agent wrote the name of that agent, read in tx: the person
// who attended when the line was written, not whoever holds the conversation now. An agent
// who cannot be read leaves the line unnamed (the console then says «Agente»).
func (p *Packet) NameAgents(ctx context.Context, tx AgentReader) {
	names := map[int64]string{}
	for i, l := range p.Transcript {
		if l.Agent == 0 {
			continue
		}
		name, seen := names[l.Agent]
		if !seen {
			if a, err := tx.AgentByID(ctx, l.Agent); err == nil {
				name = a.Name
			}
			names[l.Agent] = name
		}
		p.Transcript[i].Name = name
	}
}

// Summary is the packet in a few lines of plain text, for an agent's first look.
func (p Packet) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Motivo: %s (prioridad %d)\n", reasonES[p.Reason], p.Priority)
	fmt.Fprintf(&b, "Canal: %s %s\n", p.Channel, p.Address)
	if p.Question != "" {
		fmt.Fprintf(&b, "Consulta: %s\n", p.Question)
	}
	if len(p.Missing) > 0 {
		fmt.Fprintf(&b, "Sin respuesta del asistente: %s\n", strings.Join(p.Missing, " / "))
	}
	if len(p.Fichas) > 0 {
		fmt.Fprintf(&b, "Fichas mostradas: %s\n", strings.Join(p.Fichas, ", "))
	}
	if len(p.RUTs) > 0 {
		fmt.Fprintf(&b, "RUT indicado: %s\n", strings.Join(p.RUTs, ", "))
	}
	fmt.Fprintf(&b, "Esperando: %s", p.Waiting.Round(time.Second))
	return b.String()
}

var reasonES = map[string]string{
	bot.ReasonRequest: "pidió hablar con una persona", bot.ReasonFailure: "el asistente no pudo responder dos veces",
	bot.ReasonPersonal: "caso personal que requiere revisión", bot.ReasonFrustration: "el ciudadano está molesto",
	bot.ReasonEmergency: "emergencia",
}
