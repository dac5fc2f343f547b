package handoff_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/events"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, at time.Time) (*handoff.Service[store.Tx], *sqlite.DB, *clock, *events.Hub) {
	return setupObserved(t, at, nil)
}

// setupObserved is setup with an observer of the claims.
func setupObserved(t *testing.T, at time.Time, o handoff.Observer) (*handoff.Service[store.Tx], *sqlite.DB, *clock, *events.Hub) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loc, _ := time.LoadLocation("America/Santiago")
	holidays, _ := handoff.ParseHolidays([]byte("2026-12-25 # Navidad\n"))
	c := &clock{t: at}
	citizens := events.NewHub()
	s := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.DefaultHours(loc, holidays), Now: c.now, AbandonAfter: 20 * time.Minute, Observer: o}, citizens, events.NewHub(), nil)
	return s, db, c, citizens
}

func start(t *testing.T, s *handoff.Service[store.Tx], db *sqlite.DB, id, reason string) (*atiende.Handoff, string) {
	t.Helper()
	var h *atiende.Handoff
	var tell string
	err := db.Tx(context.Background(), func(tx store.Tx) error {
		c := &atiende.Conversation{ID: id, Channel: "web"}
		if err := tx.CreateConversation(context.Background(), c); err != nil {
			return err
		}
		var err error
		h, tell, err = s.Start(context.Background(), tx, c, reason, "pensiones")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, tell
}

func TestHoursAndHolidays(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("America/Santiago")
	holidays, err := handoff.ParseHolidays([]byte("# x\n2026-12-25  # Navidad\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := handoff.DefaultHours(loc, holidays)
	at := func(s string) time.Time { v, _ := time.ParseInLocation("2006-01-02 15:04", s, loc); return v }
	for s, open := range map[string]bool{
		"2026-11-26 10:00": true,  // Thursday
		"2026-11-26 20:30": false, // Thursday night
		"2026-11-27 17:59": true,  // Friday
		"2026-11-27 18:00": false, // Friday closes at 18
		"2026-11-28 10:00": false, // Saturday
		"2026-12-25 10:00": false, // Christmas, a Friday
	} {
		if got := h.IsOpen(at(s)); got != open {
			t.Errorf("%s open = %v", s, got)
		}
	}
	if next := h.NextOpen(at("2026-11-27 19:00")); !next.Equal(at("2026-11-30 08:00")) {
		t.Errorf("next open after Friday evening: %v", next)
	}
	if d := h.Describe(at("2026-11-30 08:00")); d != "el lunes 30 de noviembre a las 8:00" {
		t.Errorf("describe: %q", d)
	}
	if _, err := handoff.ParseHolidays([]byte("2026-13-40\n")); err == nil {
		t.Error("a bad date was accepted")
	}
}

func TestOutOfHoursIsACallback(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("America/Santiago")
	saturday := time.Date(2026, 11, 28, 11, 0, 0, 0, loc)
	s2, db2, _, _ := setup(t, saturday)
	h, tell := start(t, s2, db2, "c1", bot.ReasonRequest)
	if h.Status != atiende.HandoffCallback || !strings.Contains(tell, "el lunes 30 de noviembre a las 8:00") {
		t.Errorf("out of hours: %s %q", h.Status, tell)
	}
	// Emergencies are queued whatever the hour.
	e, _ := start(t, s2, db2, "c2", bot.ReasonEmergency)
	if e.Status != atiende.HandoffQueued || e.Priority != handoff.PriorityEmergency {
		t.Errorf("emergency out of hours: %+v", e)
	}
	// An emergency while a callback waits for the next opening turns it into an emergency,
	// queued now, not left for Monday.
	var again *atiende.Handoff
	if err := db2.Tx(context.Background(), func(tx store.Tx) error {
		c, err := tx.Conversation(context.Background(), "c1")
		if err != nil {
			return err
		}
		again, _, err = s2.Start(context.Background(), tx, c, bot.ReasonEmergency, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if again.ID != h.ID || again.Status != atiende.HandoffQueued || again.Priority != handoff.PriorityEmergency || again.Reason != bot.ReasonEmergency {
		t.Errorf("emergency during a callback: %+v", again)
	}
	var stored *atiende.Handoff
	if err := db2.Tx(context.Background(), func(tx store.Tx) error {
		var err error
		stored, err = tx.Handoff(context.Background(), h.ID)
		return err
	}); err != nil || stored.Status != atiende.HandoffQueued || stored.Priority != handoff.PriorityEmergency || !stored.CallbackAt.IsZero() {
		t.Errorf("stored: %+v, %v", stored, err)
	}
}

// The citizen is told the hours the call center is configured with (ATIENDE_HOURS), not the
// default ones.
func TestOutOfHoursSaysTheConfiguredHours(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("America/Santiago")
	week, err := handoff.ParseWeek("1-5 09:00-14:00, 6 10:00-13:00")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sunday := time.Date(2026, 11, 29, 11, 0, 0, 0, loc)
	s := handoff.New(db, handoff.Config[store.Tx]{Hours: handoff.Hours{Loc: loc, Week: week}, Now: func() time.Time { return sunday }}, events.NewHub(), events.NewHub(), nil)
	_, tell := start(t, s, db, "c1", bot.ReasonRequest)
	if !strings.Contains(tell, "de lunes a viernes de 9:00 a 14:00 y los sábados de 10:00 a 13:00") ||
		!strings.Contains(tell, "el lunes 30 de noviembre a las 9:00") || strings.Contains(tell, "20:00") {
		t.Errorf("out of hours, the citizen was told %q", tell)
	}
}

func TestHoursSummary(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]string{
		"1-4 08:00-20:00, 5 08:00-18:00":              "de lunes a jueves de 8:00 a 20:00 y los viernes de 8:00 a 18:00",
		"1-7 00:00-24:00":                             "todos los días, las 24 horas",
		"1 08:30-12:00, 3 08:30-12:00, 7 10:00-12:00": "los lunes de 8:30 a 12:00, los miércoles de 8:30 a 12:00 y los domingos de 10:00 a 12:00",
	} {
		week, err := handoff.ParseWeek(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := (handoff.Hours{Loc: time.UTC, Week: week}).Summary(); got != want {
			t.Errorf("%s: %q, want %q", spec, got, want)
		}
	}
}

// claimed records the claims it hears of, as "queue wait".
type claimed struct{ seen []string }

func (c *claimed) Claimed(queue string, waited time.Duration) {
	c.seen = append(c.seen, queue+" "+waited.String())
}

func TestQueueClaimReplyResolveAndSweep(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("America/Santiago")
	thursday := time.Date(2026, 11, 26, 10, 0, 0, 0, loc)
	claims := &claimed{}
	s, db, c, citizens := setupObserved(t, thursday, claims)
	ctx := context.Background()
	h1, tell := start(t, s, db, "c1", bot.ReasonRequest)
	if h1.Status != atiende.HandoffQueued || h1.Queue != "prevision-trabajo" || !strings.Contains(tell, "lugar 1 ") {
		t.Errorf("first: %+v %q", h1, tell)
	}
	_, tell = start(t, s, db, "c2", bot.ReasonRequest)
	if !strings.Contains(tell, "lugar 2") {
		t.Errorf("second: %q", tell)
	}
	// While queued, the citizen's messages are held; the place is told at most every 3 minutes.
	hold := func(id string) (bool, string) {
		var held bool
		var notice string
		db.Tx(ctx, func(tx store.Tx) error {
			conv, _ := tx.Conversation(ctx, id)
			var err error
			held, notice, err = s.Hold(ctx, tx, conv)
			return err
		})
		return held, notice
	}
	if held, notice := hold("c1"); !held || notice != "" {
		t.Errorf("right after starting: %v %q", held, notice)
	}
	c.t = c.t.Add(4 * time.Minute)
	if held, notice := hold("c1"); !held || !strings.Contains(notice, "lugar 1") {
		t.Errorf("four minutes later: %v %q", held, notice)
	}
	var agent atiende.Agent
	db.Tx(ctx, func(tx store.Tx) error {
		agent = atiende.Agent{Username: "maria", Name: "María Pérez", PasswordHash: "x"}
		return tx.InsertAgent(ctx, &agent)
	})
	sub, cancel := citizens.Subscribe("c1")
	defer cancel()
	if err := s.Claim(ctx, &agent, h1.ID); err != nil {
		t.Fatal(err)
	}
	other := atiende.Agent{ID: 99, Name: "Otro"}
	if err := s.Claim(ctx, &other, h1.ID); err == nil {
		t.Error("a second agent claimed an assigned handoff")
	}
	if err := s.Claim(ctx, &agent, h1.ID); err != nil {
		t.Errorf("the same agent again: %v", err)
	}
	if want := []string{"prevision-trabajo 4m0s"}; !slices.Equal(claims.seen, want) {
		t.Errorf("claims heard: %v, want %v (one claim, four minutes after the handoff)", claims.seen, want)
	}
	if err := s.Reply(ctx, &agent, h1.ID, "Hola, soy María."); err != nil {
		t.Fatal(err)
	}
	if err := s.Reply(ctx, &other, h1.ID, "Intruso"); err == nil {
		t.Error("another agent replied")
	}
	got := map[string]bool{}
	for range 2 {
		select {
		case e := <-sub:
			got[e.Type+":"+e.Name] = true
		case <-time.After(time.Second):
			t.Fatal("no event for the citizen")
		}
	}
	if !got["handoff:María"] || !got["message:María"] {
		t.Errorf("citizen events: %v", got)
	}
	if held, _ := hold("c1"); !held {
		t.Error("an assigned conversation is not held")
	}
	// Only the holder (or a supervisor) transfers or closes a conversation someone holds.
	if err := s.Transfer(ctx, &other, h1.ID, "salud"); !errors.Is(err, handoff.ErrNotYours) {
		t.Errorf("another agent transferred a held conversation: %v", err)
	}
	if err := s.Resolve(ctx, &other, h1.ID, "no es mía"); !errors.Is(err, handoff.ErrNotYours) {
		t.Errorf("another agent resolved a held conversation: %v", err)
	}
	if err := s.Resolve(ctx, &agent, h1.ID, "Se explicó la PGU"); err != nil {
		t.Fatal(err)
	}
	if held, _ := hold("c1"); held {
		t.Error("a resolved conversation is still held")
	}
	msgs, _ := db.Messages(ctx, "c1", 0)
	if len(msgs) != 2 || msgs[0].Action != handoff.ActionAgent || msgs[0].AgentID != agent.ID || !strings.Contains(msgs[1].Text, "vuelve a responder") {
		t.Errorf("messages: %+v", msgs)
	}
	// Transfer, then nobody takes it: abandoned after 20 minutes, and the citizen is told.
	var h2 int64
	db.Tx(ctx, func(tx store.Tx) error {
		h, err := tx.OpenHandoff(ctx, "c2")
		h2 = h.ID
		return err
	})
	boss := atiende.Agent{ID: 98, Name: "Sofía", Role: atiende.RoleSupervisor}
	if err := s.Claim(ctx, &agent, h2); err != nil {
		t.Fatal(err)
	}
	if err := s.Transfer(ctx, &boss, h2, "salud"); err != nil { // a supervisor may, and it is queued again
		t.Fatal(err)
	}
	if err := s.Transfer(ctx, &other, h2, "salud"); err != nil { // queued: anyone may
		t.Fatal(err)
	}
	if err := s.Transfer(ctx, &agent, h2, "nada"); err == nil {
		t.Error("transfer to an unknown queue")
	}
	c.t = c.t.Add(25 * time.Minute)
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	hs, _ := db.Handoffs(ctx, "c2")
	if hs[0].Status != atiende.HandoffAbandoned || hs[0].Queue != "salud" {
		t.Errorf("after the sweep: %+v", hs[0])
	}
}

func TestParseWeek(t *testing.T) {
	t.Parallel()
	w, err := handoff.ParseWeek("1-4 08:00-20:00, 5 08:00-18:00, 7 10:00-12:30")
	if err != nil {
		t.Fatal(err)
	}
	if w[time.Monday][1] != 20*time.Hour || w[time.Friday][1] != 18*time.Hour || w[time.Saturday][0] != w[time.Saturday][1] ||
		w[time.Sunday][1] != 12*time.Hour+30*time.Minute {
		t.Errorf("week %v", w)
	}
	for _, bad := range []string{"lunes 8-20", "1-4 20:00-08:00", "0 08:00-10:00", "1-9 08:00-10:00", "1 08:00-25:00"} {
		if _, err := handoff.ParseWeek(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPacketNamesTheAgents: the packet names each line an agent wrote with that agent, the
// one attending when it was written, also after another took the conversation; the backends'
// JSON carries the name.
func TestPacketNamesTheAgents(t *testing.T) {
	ctx := context.Background()
	s, db, _, _ := setup(t, time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	h, _ := start(t, s, db, "c1", bot.ReasonRequest)
	var ana, beto *atiende.Agent
	if err := db.Tx(ctx, func(tx store.Tx) error {
		ana, beto = &atiende.Agent{Username: "ana", Name: "Ana Rojas", Role: atiende.RoleAgent}, &atiende.Agent{Username: "beto", Name: "Beto Soto", Role: atiende.RoleAgent}
		if err := tx.InsertAgent(ctx, ana); err != nil {
			return err
		}
		return tx.InsertAgent(ctx, beto)
	}); err != nil {
		t.Fatal(err)
	}
	for _, turn := range []struct {
		a    *atiende.Agent
		text string
	}{{ana, "Hola, soy Ana"}, {beto, "Hola, soy Beto"}} {
		if err := s.Claim(ctx, turn.a, h.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Reply(ctx, turn.a, h.ID, turn.text); err != nil {
			t.Fatal(err)
		}
		if err := s.Transfer(ctx, turn.a, h.ID, "general"); err != nil {
			t.Fatal(err)
		}
	}
	conv, err := db.Conversation(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := db.Messages(ctx, "c1", 50)
	if err != nil {
		t.Fatal(err)
	}
	p := handoff.NewPacket(conv, *h, msgs, time.Now())
	if err := db.Tx(ctx, func(tx store.Tx) error { p.NameAgents(ctx, tx); return nil }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range p.JSON().Transcript {
		if l.From == "agente" {
			got = append(got, l.Name+": "+l.Text)
		}
	}
	if want := []string{"Ana Rojas: Hola, soy Ana", "Beto Soto: Hola, soy Beto"}; !slices.Equal(got, want) {
		t.Errorf("the agents' lines: %q, want %q", got, want)
	}
}
