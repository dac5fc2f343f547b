package retrieval_test

import (
	"testing"

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
