package report_test

import (
	"slices"
	"testing"
	"time"

	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
)

type fichas []*retrieval.Ficha

func (f fichas) Ficha(slug string) (*retrieval.Ficha, bool) {
	for _, x := range f {
		if x.Slug == slug {
			return x, true
		}
	}
	return nil, false
}
func (f fichas) Fichas() []*retrieval.Ficha   { return f }
func (f fichas) Normalize(text string) string { return text }

// TestStaleFichas: a review older than six months or an item past its valid_until puts a
// ficha on the editors' list, the most asked first; a fresh one stays off.
func TestStaleFichas(t *testing.T) {
	const data = `[
	{"slug": "viejo", "title": "Viejo", "institution": "IPS", "topics": ["bonos"], "summary": "Un bono.",
	 "url": "https://www.ips.gob.cl/viejo", "valid_from": "2025-01-01", "reviewed": "2025-10-01",
	 "sections": {"requisitos": ["Tener 65 años."]}},
	{"slug": "vencido", "title": "Vencido", "institution": "IPS", "topics": ["bonos"], "summary": "Un bono.",
	 "url": "https://www.ips.gob.cl/vencido", "valid_from": "2026-01-01", "reviewed": "2026-11-01",
	 "sections": {"monto": [{"text": "$10.000 al mes.", "valid_from": "2025-05-01", "valid_until": "2026-04-30"},
	                        {"text": "$11.000 al mes.", "valid_from": "2026-05-01"}]}},
	{"slug": "al-dia", "title": "Al día", "institution": "IPS", "topics": ["bonos"], "summary": "Un bono.",
	 "url": "https://www.ips.gob.cl/al-dia", "valid_from": "2026-01-01", "reviewed": "2026-11-01",
	 "sections": {"requisitos": ["Tener 18 años."]}}]`
	fs, probs := retrieval.ParseFichas("f.json", []byte(data))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	got := report.StaleFichas(fichas(fs), []store.FichaCount{{Slug: "viejo", Count: 2}, {Slug: "vencido", Count: 7}, {Slug: "al-dia", Count: 50}}, now)
	var slugs []string
	for _, s := range got {
		slugs = append(slugs, s.Slug)
	}
	if !slices.Equal(slugs, []string{"vencido", "viejo"}) {
		t.Fatalf("stale fichas %v, want vencido (asked 7) then viejo (asked 2)", got)
	}
	if got[0].Asked != 7 || len(got[0].Why) != 1 || got[0].Why[0] != "monto: un dato venció el 2026-04-30" {
		t.Errorf("expired: %+v", got[0])
	}
	if got[1].Reviewed != "2025-10-01" || got[1].Why[0] != "revisada hace más de 6 meses" {
		t.Errorf("old review: %+v", got[1])
	}
}
