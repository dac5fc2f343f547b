package handoff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/handoff"
)

func TestPriorityOrder(t *testing.T) {
	t.Parallel()
	if !(handoff.Priority(bot.ReasonEmergency) > handoff.Priority(bot.ReasonPersonal) &&
		handoff.Priority(bot.ReasonPersonal) > handoff.Priority(bot.ReasonRequest)) {
		t.Error("emergencies must come first, then personal cases, then requests")
	}
}

func TestNewPacket(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := &atiende.Conversation{ID: "c1", Channel: "sms", Address: "+56911112222"}
	msgs := []atiende.Message{
		{Direction: atiende.Inbound, Text: "hola"},
		{Direction: atiende.Outbound, Text: "Hola…", Action: bot.ActionGreet},
		{Direction: atiende.Inbound, Text: "cuanto es la pgu"},
		{Direction: atiende.Outbound, Text: "PGU…", Action: bot.ActionAnswer, Fichas: []string{"pension-garantizada-universal", "bono-invierno"}},
		{Direction: atiende.Inbound, Text: "y los requisitos"},
		{Direction: atiende.Outbound, Text: "PGU…", Action: bot.ActionAnswer, Fichas: []string{"pension-garantizada-universal"}},
		{Direction: atiende.Inbound, Text: "quiero hablar con alguien"},
		{Direction: atiende.Outbound, Text: "Le comunico…", Action: bot.ActionHandoff},
	}
	h := atiende.Handoff{Reason: bot.ReasonRequest, Priority: handoff.Priority(bot.ReasonRequest), CreatedAt: t0}
	p := handoff.NewPacket(c, h, msgs, t0.Add(90*time.Second))
	if p.Question != "cuanto es la pgu" {
		t.Errorf("question = %q", p.Question)
	}
	if len(p.Fichas) != 1 || p.Fichas[0] != "pension-garantizada-universal" {
		t.Errorf("fichas = %v", p.Fichas)
	}
	if len(p.Transcript) != 8 || p.Transcript[0].From != "ciudadano" || p.Transcript[1].From != "asistente" {
		t.Errorf("transcript = %+v", p.Transcript)
	}
	s := p.Summary()
	for _, want := range []string{"pidió hablar con una persona", "+56911112222", "cuanto es la pgu", "1m30s"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
