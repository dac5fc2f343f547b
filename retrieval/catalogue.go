package retrieval

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/atiende/atiende/retrieval/learn"
)

// Bundled loads the fichas and glossary of a catalogue laid out as the bundled one:
// fichas/*.json, glossary.tsv, the citizens' questions (questions/*.tsv) and the learned
// model (model/fichas.model, when present, with its ranker, model/ranker.txt) at the root of
// fsys. When path is set, the fichas come from that file or directory instead
// (ATIENDE_CATALOGUE); the glossary, the questions of the fichas it shares with the bundled
// catalogue and the model still come from fsys.
func Bundled(fsys fs.FS, path string) (*Index, error) {
	fichas, g, err := bundledFichas(fsys, path)
	if err != nil {
		return nil, err
	}
	var opts []IndexOption
	m, err := LoadModel(fsys, FichasModel)
	if err != nil {
		return nil, err
	}
	if m != nil {
		r, err := LoadRanker(fsys)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithModel(m), WithRanker(r))
	}
	for name, with := range map[string]func(*learn.Linear) IndexOption{
		FollowUpModel: WithFollowUp, ScopeModel: WithScope, PersonModel: WithPerson,
	} {
		lm, err := LoadLinear(fsys, name)
		if err != nil {
			return nil, err
		}
		opts = append(opts, with(lm))
	}
	return NewIndex(fichas, g, opts...), nil
}

// BundledLexical is Bundled without the learned model (to train it, or to measure without).
func BundledLexical(fsys fs.FS, path string) (*Index, error) {
	fichas, g, err := bundledFichas(fsys, path)
	if err != nil {
		return nil, err
	}
	return NewIndex(fichas, g), nil
}

// bundledFichas reads the fichas (of path when set), their questions and the glossary.
func bundledFichas(fsys fs.FS, path string) ([]*Ficha, *Glossary, error) {
	var fichas []*Ficha
	var err error
	if path != "" {
		fichas, err = LoadPath(path)
	} else {
		fichas, err = LoadFS(fsys, "fichas")
	}
	if err != nil {
		return nil, nil, err
	}
	if err := LoadQuestions(fsys, "questions", fichas, path == ""); err != nil {
		return nil, nil, err
	}
	g, err := loadGlossary(fsys)
	if err != nil {
		return nil, nil, err
	}
	return fichas, g, nil
}

// loadGlossary reads glossary.tsv of a catalogue laid out as the bundled one.
func loadGlossary(fsys fs.FS) (*Glossary, error) {
	data, err := fs.ReadFile(fsys, "glossary.tsv")
	if err != nil {
		return nil, fmt.Errorf("read glossary: %w", err)
	}
	return ParseGlossary("glossary.tsv", data)
}

// The learned models' files in the catalogue (atiende train writes them).
const (
	FichasModel    = "model/fichas.model"
	EmergencyModel = "model/emergency.model"
	// DangerModel is the emergency detector's second reading: a sparse logistic model of
	// "an emergency of any kind" (learn.Linear), trained on the emergency model's data.
	DangerModel = "model/danger.model"
	// FollowUpModel reads whether a message is what citizens write in the middle of a
	// conversation about the ficha already being talked about ("y donde lo pido", "por cuantos
	// meses se paga?") rather than a question that names its own matter: a sparse logistic
	// model (learn.Linear) of followups.tsv against the fichas' questions.
	FollowUpModel = "model/followup.model"
	// ScopeModel reads whether a message is about anything the catalogue holds: a sparse
	// logistic model (learn.Linear) of offtopic.tsv against the catalogue's texts
	// (Training.Scope). Beside the fichas model's own off-topic label it is a second reading,
	// made for that one question, that the fichas' number does not drown.
	ScopeModel = "model/scope.model"
	// PersonModel reads whether a message asks for a person: a sparse logistic model
	// (learn.Linear) of person.tsv against what else citizens write (Training.Wants).
	PersonModel = "model/person.model"
)

// LoadLinear reads a linear model from fsys; nil, without error, when the file is absent.
func LoadLinear(fsys fs.FS, name string) (*learn.Linear, error) {
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := learn.ReadLinear(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// LoadModel reads a learned model from fsys; nil, without error, when the file is absent.
func LoadModel(fsys fs.FS, name string) (*learn.Model, error) {
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := learn.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}
