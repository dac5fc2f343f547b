package bot

import (
	"testing"

	"github.com/atiende/atiende/retrieval/learn"
)

// TestReadAspect: a cue phrase decides; without one, the aspect model's sure reading of a
// part of a ficha does, and its "general" or an unsure reading leaves the aspect unsaid, so
// that an elliptic follow-up still borrows the conversation's.
func TestReadAspect(t *testing.T) {
	var toy []learn.Example
	for range 20 {
		toy = append(toy,
			learn.Example{Text: "q muestro en la ventanilla", Label: "documentos"},
			learn.Example{Text: "que muestro en el registro", Label: "documentos"},
			learn.Example{Text: "y pa mi mama tambien", Label: "requisitos"},
			learn.Example{Text: "tambien pa mi mama", Label: "requisitos"},
			learn.Example{Text: "info del bono", Label: "general"},
			learn.Example{Text: "quiero informacion del subsidio", Label: "general"},
		)
	}
	cfg := learn.Config{Dim: 8, Epochs: 20, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 1}
	m, err := learn.Train(toy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ norm, want string }{
		{"q muestro en la ventanilla", "documentos"}, // the model, sure
		{"me toca a mi", "requisitos"},               // the model, sure ("me toca" is also a cue)
		{"info del bono", ""},                        // the model's general says nothing
		{"cuanto pagan del bono", "monto"},           // a cue phrase, whatever the model reads
		{"zzz", ""},                                  // nothing the model knows
	} {
		if got := ReadAspect(m, c.norm); got != c.want {
			t.Errorf("ReadAspect(%q) = %q, want %q", c.norm, got, c.want)
		}
	}
	if got := ReadAspect(nil, "q muestro en la ventanilla"); got != "" {
		t.Errorf("without a model, %q got %q", "q muestro en la ventanilla", got)
	}
}
