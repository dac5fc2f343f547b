package retrieval

import (
	"fmt"
	"io/fs"

	"github.com/atiende/atiende/retrieval/learn"
)

// Detector is the learned emergency model and the concepts it reads (concepts.tsv): a
// message, normalised as the engine reads it, is tagged with its concepts and classified
// into an emergency kind or NoEmergency. Danger, when set, is a second reading of the same
// text: a sparse logistic model of whether it is an emergency of any kind.
type Detector struct {
	Model    *learn.Model
	Danger   *learn.Linear // nil: the model's reading alone
	Concepts *Concepts     // nil: words only
	// Near, when set, is a third reading: the nearest lines of the emergency bank
	// (NewNeighbours), which may add the lines where both models see too little danger.
	Near *Neighbours
}

// Text is the normalised message as the model reads it: its words, then its concepts.
func (d *Detector) Text(norm string) string { return d.Concepts.Tag(norm) }

// Predict returns each label's probability for the normalised message, best first.
func (d *Detector) Predict(norm string) []learn.Label { return d.Model.Predict(d.Text(norm)) }

// LoadDetector reads the emergency model and the concepts of a catalogue laid out as the
// bundled one; nil, without error, when it has no emergency model.
func LoadDetector(fsys fs.FS) (*Detector, error) {
	m, err := LoadModel(fsys, EmergencyModel)
	if err != nil || m == nil {
		return nil, err
	}
	c, err := LoadConcepts(fsys)
	if err != nil {
		return nil, err
	}
	lin, err := LoadLinear(fsys, DangerModel)
	if err != nil {
		return nil, err
	}
	lines, err := NeighbourExamples(fsys, nil)
	if err != nil {
		return nil, err
	}
	return &Detector{Model: m, Danger: lin, Concepts: c, Near: NewNeighbours(lines)}, nil
}

// LoadConcepts reads concepts.tsv of a catalogue laid out as the bundled one.
func LoadConcepts(fsys fs.FS) (*Concepts, error) {
	data, err := fs.ReadFile(fsys, "concepts.tsv")
	if err != nil {
		return nil, fmt.Errorf("read concepts: %w", err)
	}
	return ParseConcepts("concepts.tsv", data)
}
