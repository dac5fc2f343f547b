package retrieval_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/atiende/atiende/retrieval"
)

var importDay = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func TestImportChileAtiendeList(t *testing.T) {
	data, err := os.ReadFile("testdata/chileatiende/list.json")
	if err != nil {
		t.Fatal(err)
	}
	fichas, notes, err := retrieval.ImportChileAtiende(data, importDay)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 4 || len(fichas) != 2 {
		t.Fatalf("%d fichas, %d notes; want 2 and 4: %+v", len(fichas), len(notes), notes)
	}
	f := fichas[0]
	for _, p := range retrieval.Validate(f) {
		t.Errorf("imported ficha invalid: %s", p)
	}
	if f.Slug != "bono-de-prueba-para-pensionados" || f.Institution != "Instituto de Previsión Social" || f.URL != "https://www.chileatiende.gob.cl/fichas/2050" {
		t.Errorf("head: %q %q %q", f.Slug, f.Institution, f.URL)
	}
	if !strings.Contains(f.Summary, "65 años o más") || strings.Contains(f.Summary, "$") {
		t.Errorf("summary: %q", f.Summary)
	}
	if len(f.Sections.Monto) != 1 || !strings.Contains(f.Sections.Monto[0].Text, "$81.257") || f.Sections.Monto[0].ValidFrom.Format(time.DateOnly) != "2025-02-03" {
		t.Errorf("monto: %+v", f.Sections.Monto)
	}
	if len(f.Sections.Requisitos) != 2 || !strings.Contains(f.Sections.Requisitos[1].Text, "mínima & estar") {
		t.Errorf("requisitos (entities, list items): %+v", f.Sections.Requisitos)
	}
	if c := f.Sections.Como; c == nil || len(c.Office) != 2 || len(c.Phone) != 1 || len(c.Online) != 2 {
		t.Errorf("como: %+v", c)
	}
	if strings.Join(f.Topics, ",") != "prevision,adulto-mayor" || strings.Join(f.Keywords, ",") != "bono invierno,ips" {
		t.Errorf("topics %v keywords %v", f.Topics, f.Keywords)
	}
	if !strings.Contains(strings.Join(notes[0].Notes, "\n"), "marco_legal: not mapped") {
		t.Errorf("notes: %v", notes[0].Notes)
	}
	// Missing fields are filled and reported.
	g := fichas[1]
	if g.Institution != "Servicio de Registro Civil e Identificación" || g.URL != "https://www.chileatiende.gob.cl/fichas/7" || g.ValidFrom.Time != importDay {
		t.Errorf("second: %+v", g)
	}
	joined := strings.Join(notes[1].Notes, "\n")
	for _, want := range []string{"no updated_data_at nor fecha", "objetivo: missing", "permalink: missing"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q: %v", want, notes[1].Notes)
		}
	}
	// Malformed records are skipped with a reason; nothing else is lost.
	if !strings.Contains(notes[2].Skipped, "titulo") || notes[2].ID != "8" {
		t.Errorf("malformed record: %+v", notes[2])
	}
	if !strings.Contains(notes[3].Skipped, "servicio: missing") {
		t.Errorf("record without servicio: %+v", notes[3])
	}
}

func TestImportChileAtiendeSingleSample(t *testing.T) {
	data, err := os.ReadFile("testdata/chileatiende/single.json")
	if err != nil {
		t.Fatal(err)
	}
	fichas, notes, err := retrieval.ImportChileAtiende(data, importDay)
	if err != nil || len(fichas) != 1 {
		t.Fatalf("%v %+v", err, notes)
	}
	f := fichas[0]
	if !strings.Contains(f.Summary, "Dirección de Previsión de Carabineros") || f.ValidFrom.Format(time.DateOnly) != "2011-08-18" {
		t.Errorf("%+v", f)
	}
	if len(f.Sections.Fechas) != 2 || f.Sections.Fechas[0].Text != "Plazo: 27 días hábiles, aproximadamente." {
		t.Errorf("fechas: %+v", f.Sections.Fechas)
	}
}

func TestImportRejectsWhatIsNotAnExport(t *testing.T) {
	for _, data := range []string{"", "not json", `{"other": 1}`, `{"fichas": {"items": {}}}`} {
		if _, _, err := retrieval.ImportChileAtiende([]byte(data), importDay); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
}
