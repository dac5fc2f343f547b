package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/retrieval"
)

// TestSharedDateSaidOnce: amounts that hold from the same date say it once, on the first of
// them (the part an SMS always carries); amounts of different dates each say their own.
func TestSharedDateSaidOnce(t *testing.T) {
	day := func(s string) retrieval.Date {
		d, _ := time.Parse(time.DateOnly, s)
		return retrieval.Date{Time: d}
	}
	f := &retrieval.Ficha{Title: "Bono X", URL: "https://example.cl/bono-x", Sections: retrieval.Sections{Monto: []retrieval.Item{
		{Text: "Tramo A: $10.000."}, {Text: "Tramo A: $20.000.", ValidFrom: day("2026-05-01")},
		{Text: "Tramo B: $5.000.", ValidFrom: day("2026-05-01")}, {Text: "Se reajusta cada año."},
	}}}
	got := composeAnswer(f, retrieval.AspectMonto, false, 1000, time.Now())
	if n := strings.Count(got, "vigente desde el 1 de mayo de 2026"); n != 1 || !strings.Contains(got, "Tramo A: $20.000 (vigente desde") {
		t.Errorf("one date, said %d times:\n%s", n, got)
	}
	f.Sections.Monto[2].ValidFrom = day("2026-01-01")
	got = composeAnswer(f, retrieval.AspectMonto, false, 1000, time.Now())
	if strings.Count(got, "vigente desde") != 2 {
		t.Errorf("two dates, each said:\n%s", got)
	}
}

// TestDateInTheTextNotRepeated: an amount whose own text names the month and year it holds
// from is not followed by the engine's «vigente desde» for the same date.
func TestDateInTheTextNotRepeated(t *testing.T) {
	from := retrieval.Date{Time: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	f := &retrieval.Ficha{Title: "Pensión X", URL: "https://example.cl/x", Sections: retrieval.Sections{Monto: []retrieval.Item{
		{Text: "Hasta $1.000 al mes (valores desde febrero de 2026).", ValidFrom: from},
		{Text: "Desde los 75 años, $1.100 al mes.", ValidFrom: from},
	}}}
	got := composeAnswer(f, retrieval.AspectMonto, false, 1000, time.Now())
	if strings.Contains(got, "vigente desde") || !strings.Contains(got, "valores desde febrero de 2026") {
		t.Errorf("the date said twice, or not at all:\n%s", got)
	}
	f.Sections.Monto[0].Text = "Hasta $1.000 al mes."
	if got := composeAnswer(f, retrieval.AspectMonto, false, 1000, time.Now()); strings.Count(got, "vigente desde el 1 de febrero de 2026") != 1 {
		t.Errorf("a text without its date gets it once:\n%s", got)
	}
}

// TestExpiredAmountNotStatedAsCurrent: an amount past its valid_until is left out and the
// answer says to check the current one; in its last month it says the day it ends.
func TestExpiredAmountNotStatedAsCurrent(t *testing.T) {
	day := func(s string) retrieval.Date {
		d, _ := time.Parse(time.DateOnly, s)
		return retrieval.Date{Time: d}
	}
	f := &retrieval.Ficha{Title: "Asignación X", URL: "https://example.cl/x", Sections: retrieval.Sections{Monto: []retrieval.Item{
		{Text: "Tramo A: $22.007 por carga.", ValidFrom: day("2025-05-01"), ValidUntil: day("2026-04-30")},
		{Text: "Tramo A: $22.910 por carga.", ValidFrom: day("2026-05-01")},
	}}}
	before := composeAnswer(f, retrieval.AspectMonto, false, 1000, time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC))
	if !strings.Contains(before, "$22.007") || !strings.Contains(before, "hasta el 30 de abril de 2026") {
		t.Errorf("in its last month, the amount and its end:\n%s", before)
	}
	after := composeAnswer(f, retrieval.AspectMonto, false, 1000, time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC))
	if strings.Contains(after, "$22.007") || !strings.Contains(after, "$22.910") || !strings.Contains(after, "ya no está vigente") {
		t.Errorf("after its end, the old amount is stated:\n%s", after)
	}
	if got := composeAnswer(f, retrieval.AspectMonto, true, 1000, time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)); strings.Contains(got, "$22.007") {
		t.Errorf("in English too:\n%s", got)
	}
}

// TestLikelyByTheRanker: a ficha the learned ranker gives most of the chance among the
// candidates is likely, unless the model gives it almost none (the best of poor candidates)
// or the question only names a kind of thing.
func TestLikelyByTheRanker(t *testing.T) {
	f := &retrieval.Ficha{Slug: "x"}
	sure := retrieval.Found{Known: 0.9}
	if !likely(retrieval.Result{Ficha: f, Rank: 0.6, Prob: 0.2}, sure) {
		t.Error("the ranker's 0.6 with the model's 0.2 is not likely")
	}
	if likely(retrieval.Result{Ficha: f, Rank: 0.6, Prob: 0.05}, sure) {
		t.Error("the best of candidates the model gives no chance is likely")
	}
	if likely(retrieval.Result{Ficha: f, Rank: 0.6, Prob: 0.2}, retrieval.Found{Known: 0.5, Vague: true}) {
		t.Error("a question that only names a kind of thing got a likely ficha")
	}
	if likely(retrieval.Result{Ficha: f, Rank: 0.6, Prob: 0.2}, retrieval.Found{Known: 0.5}) {
		t.Error("a question of words the model never saw got a likely ficha (\"el bono para mascotas\")")
	}
	if likely(retrieval.Result{Ficha: f, Rank: 0.3, Prob: 0.2}, sure) {
		t.Error("the ranker's 0.3 is likely")
	}
}
