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
	got := composeAnswer(f, retrieval.AspectMonto, false, 1000)
	if n := strings.Count(got, "vigente desde el 1 de mayo de 2026"); n != 1 || !strings.Contains(got, "Tramo A: $20.000 (vigente desde") {
		t.Errorf("one date, said %d times:\n%s", n, got)
	}
	f.Sections.Monto[2].ValidFrom = day("2026-01-01")
	got = composeAnswer(f, retrieval.AspectMonto, false, 1000)
	if strings.Count(got, "vigente desde") != 2 {
		t.Errorf("two dates, each said:\n%s", got)
	}
}
