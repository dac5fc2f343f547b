package retrieval_test

import (
	"testing"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

func TestNeighboursVoteByLikeness(t *testing.T) {
	nb := retrieval.NewNeighbours([]learn.Example{
		{Text: "el galpon se prendio en llamas", Label: "danger"},
		{Text: "llamas en el galpon del vecino", Label: "danger"},
		{Text: "el galpon se quemo hace un ano hay subsidio", Label: "none"},
		{Text: "cuando pagan el bono de invierno", Label: "none"},
		{Text: "quiero saber del bono de invierno", Label: "none"},
		{Text: "quiero", Label: "none", Weight: 0.5}, // a span: left out
	})
	share, kind, top := nb.Near("mi galpon en llamas")
	if share < 0.8 || kind != "danger" || top <= 0 || top > 1.0001 {
		t.Errorf("a shed on fire: share %.2f kind %q top %.2f", share, kind, top)
	}
	if share, _, _ := nb.Near("y el bono de invierno cuando lo pagan"); share > 0.2 {
		t.Errorf("the winter bonus: share %.2f on emergencies", share)
	}
	if share, _, top := nb.Near("zzz qqq"); share != 0 || top != 0 {
		t.Errorf("words no line has: share %.2f top %.2f", share, top)
	}
	var none *retrieval.Neighbours
	if share, _, _ := none.Near("mi galpon en llamas"); share != 0 {
		t.Error("no index still votes")
	}
}

// TestNeighboursKnowOrdinaryChat: the lines the nearest-lines reading compares with hold the
// off-topic messages and the requests for a person as ordinary lines, so a message about
// neither a benefit nor a danger finds its nearest among them, not among the emergencies.
func TestNeighboursKnowOrdinaryChat(t *testing.T) {
	lines, err := retrieval.NeighbourExamples(catalogue.FS, nil)
	if err != nil {
		t.Fatal(err)
	}
	bank, err := retrieval.ReadBank(catalogue.FS, "emergency")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) <= len(bank) {
		t.Fatalf("%d lines for a bank of %d: no ordinary chat among them", len(lines), len(bank))
	}
	d, err := retrieval.LoadDetector(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	ix := bundled(t)
	for _, text := range []string{"cual es la mejor pizzeria de nunoa", "me puede atender alguien de carne y hueso"} {
		if share, kind, top := d.Near.Near(d.Text(ix.Normalize(text))); share >= 0.8 {
			t.Errorf("%q: %.2f of the nearest lines' likeness on emergencies (%s, top %.2f)", text, share, kind, top)
		}
	}
}
