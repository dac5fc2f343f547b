package llm_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/bot/llm"
	"github.com/atiende/atiende/bot/llm/llmtest"
)

// judged builds an engine whose judge (and only its judge) talks, through langchaingo, to a
// fake server; the answers stay extractive, so that each request the fake sees is the judge's.
func judged(t *testing.T, provider string, respond llmtest.Respond) (*bot.Engine, *llmtest.Fake) {
	t.Helper()
	engineWith(t, provider, faithful, 5*time.Second) // loads the index once
	fake := llmtest.New(respond)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	j, err := llm.NewJudge(llm.Config{Provider: provider, BaseURL: srv.URL, Model: "modelo-de-prueba", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return bot.New(ix, nil, bot.WithJudge(j, 5*time.Second)), fake
}

func dangerAsked(reqs []llmtest.Request) []string {
	var out []string
	for _, r := range reqs {
		if strings.Contains(r.System, "revisor de seguridad") {
			out = append(out, llmtest.Between(r.User, "<mensaje>", "</mensaje>"))
		}
	}
	return out
}

// The judge adds an emergency the engine did not see: its lines go on top, and the question
// is still answered below them.
func TestJudgeAddsAnEmergency(t *testing.T) {
	for _, provider := range []string{"openai", "ollama"} {
		e, fake := judged(t, provider, func(system, user string) (string, time.Duration) {
			if strings.Contains(system, "revisor de seguridad") && strings.Contains(user, "invierno") {
				return "PELIGRO: medica", 0
			}
			return "PELIGRO: ninguno", 0
		})
		r := turn(t, e, "cuando pagan el bono de invierno", bot.ChannelWeb)
		if r.Action != bot.ActionAnswer || r.Ficha != "bono-invierno" || !slices.Contains(r.Emergency, bot.EmergencyMedical) {
			t.Errorf("%s: action %s ficha %s emergency %v", provider, r.Action, r.Ficha, r.Emergency)
		}
		if i := strings.Index(r.Text, "131"); i < 0 || i > strings.Index(r.Text, "Bono de Invierno") {
			t.Errorf("%s: the lines are not on top of the answer:\n%s", provider, r.Text)
		}
		if got := dangerAsked(fake.Requests()); len(got) != 1 {
			t.Errorf("%s: asked about danger %d times", provider, len(got))
		}
		if s := e.JudgeStats(); s.DangerCalls != 1 || s.Added != 1 {
			t.Errorf("%s: stats %+v", provider, s)
		}
	}
}

// The judge cannot remove an emergency: a sure one never reaches it, and "ninguno" about one
// the engine is unsure of leaves its lines in place.
func TestJudgeNeverRemovesAnEmergency(t *testing.T) {
	e, fake := judged(t, "openai", func(string, string) (string, time.Duration) { return "PELIGRO: ninguno\nFICHA: ninguna", 0 })
	r := turn(t, e, "me quiero matar", bot.ChannelSMS)
	if r.Action != bot.ActionEmergency {
		t.Errorf("action %s", r.Action)
	}
	if got := dangerAsked(fake.Requests()); len(got) != 0 {
		t.Errorf("a sure emergency was sent for a second opinion: %q", got)
	}
	plain := bot.New(ix, nil)
	for _, text := range []string{"ayuda con la casa", "me duele mucho la cabeza y quiero saber del ges"} {
		want, _ := plain.Turn(context.Background(), bot.State{}, text, bot.ChannelWeb)
		got := turn(t, e, text, bot.ChannelWeb)
		if len(want.Emergency) > 0 && !slices.Equal(want.Emergency, got.Emergency) {
			t.Errorf("%q: the engine alone gives %v, with a judge that says none %v", text, want.Emergency, got.Emergency)
		}
	}
}

// What the citizen writes reaches the judge masked and delimited; a message of one word does
// not reach it; an answer out of form is no opinion.
func TestJudgeReadsStrictly(t *testing.T) {
	e, fake := judged(t, "openai", func(string, string) (string, time.Duration) {
		return "Creo que hay peligro: suicidio. ¿Quiere que le ayude?", 0
	})
	r := turn(t, e, "necesito saber cuanto pagan de pension garantizada, mi rut es 12.345.678-5 y mi cel +56 9 8765 4321", bot.ChannelWeb)
	if len(r.Emergency) != 0 {
		t.Errorf("an answer out of form added %v", r.Emergency)
	}
	asked := dangerAsked(fake.Requests())
	if len(asked) != 1 || strings.Contains(asked[0], "12.345.678") || strings.Contains(asked[0], "8765") || !strings.Contains(asked[0], "[RUT]") {
		t.Errorf("asked %q", asked)
	}
	turn(t, e, "1", bot.ChannelSMS)
	if n := len(dangerAsked(fake.Requests())); n != 1 {
		t.Errorf("a one-word message was sent for a second opinion (%d readings)", n)
	}
	if s := e.JudgeStats(); s.Errors != 1 || s.Added != 0 {
		t.Errorf("stats %+v", s)
	}
}

var candidateRe = regexp.MustCompile(`<ficha id="(F\d)">`)

func chooseAsked(reqs []llmtest.Request) int {
	n := 0
	for _, r := range reqs {
		if strings.Contains(r.System, "orientador") {
			n++
		}
	}
	return n
}

// Among the fichas the engine is unsure of, the one the judge chooses is answered and the
// others offered; an id it was not given is no choice; a question that names only a kind of
// thing ("bono") is not the judge's to narrow.
func TestJudgeChoosesAmongTheCandidates(t *testing.T) {
	last := func(system, user string) (string, time.Duration) {
		if !strings.Contains(system, "orientador") {
			return "PELIGRO: ninguno", 0
		}
		ids := candidateRe.FindAllStringSubmatch(user, -1)
		return "FICHA: " + ids[len(ids)-1][1], 0
	}
	plain := bot.New(ix, nil)
	tried := 0
	// Questions the engine alone answers with options, unsure; those on which the judge is
	// asked are checked, so that retraining the model does not break the test.
	for _, text := range []string{"nesesito ayuda con la pocesion efectiba de mi papa", "I'm a foreigner living in Chile, how can I get my Chilean ID card?", "ayuda con la casa"} {
		want, _ := plain.Turn(context.Background(), bot.State{}, text, bot.ChannelWeb)
		e, fake := judged(t, "openai", last)
		r := turn(t, e, text, bot.ChannelWeb)
		if chooseAsked(fake.Requests()) == 0 {
			continue
		}
		tried++
		// The engine alone offers its candidates (clarify), or answers the likeliest and
		// offers the next ones (a tentative answer): either way, the judge chose among them.
		var cands []string
		if want.Action == bot.ActionAnswer {
			cands = append(cands, want.Ficha)
		}
		for _, o := range want.Options {
			cands = append(cands, o.Slug)
		}
		if len(cands) < 2 {
			t.Errorf("%q: the judge was asked to choose on a turn the engine answers alone with %s %s", text, want.Action, want.Ficha)
			continue
		}
		chosen := cands[min(len(cands), 3)-1]
		if r.Action != bot.ActionAnswer || r.Ficha != chosen || len(r.Options) == 0 || slices.ContainsFunc(r.Options, func(o bot.Option) bool { return o.Slug == chosen }) {
			t.Errorf("%q: options %v; with the judge choosing the last: action %s ficha %s options %v", text, want.Options, r.Action, r.Ficha, r.Options)
		}
		e, _ = judged(t, "openai", func(system, user string) (string, time.Duration) {
			if strings.Contains(system, "orientador") {
				return "FICHA: F9", 0
			}
			return "PELIGRO: ninguno", 0
		})
		if r := turn(t, e, text, bot.ChannelWeb); r.Action != want.Action || r.Ficha != want.Ficha {
			t.Errorf("%q: a choice outside the candidates changed the turn to %s %s", text, r.Action, r.Ficha)
		}
	}
	if tried == 0 {
		t.Fatal("the judge was asked to choose on none of the questions: give the test another")
	}
	e, fake := judged(t, "openai", last)
	if r := turn(t, e, "bono", bot.ChannelWeb); r.Action != bot.ActionClarify || chooseAsked(fake.Requests()) != 0 {
		t.Errorf("bono: %s, %d choices asked", r.Action, chooseAsked(fake.Requests()))
	}
}
