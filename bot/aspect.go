package bot

import (
	"sync"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

// bundledAspect is the aspect model of the bundled catalogue (retrieval.AspectModel), read
// once; nil if absent.
var bundledAspect = sync.OnceValue(func() *learn.Model {
	m, err := retrieval.LoadModel(catalogue.FS, retrieval.AspectModel)
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return m
})

// WithAspectModel replaces the bundled aspect model (nil: the cue phrases alone), which is
// then never loaded.
func WithAspectModel(m *learn.Model) EngineOption {
	return func(e *Engine) { e.aspects, e.aspectsSet = m, true }
}

// aspectSure: from this probability the aspect model names the part of a ficha a message asks
// about when no cue phrase does (docs/eval.md says how it was chosen).
const aspectSure = 0.5

// aspectOf returns the aspect the normalised text asks about, or "" when it names none: the cue
// phrases' (detectAspect) when one matches, else the aspect model's when it is sure of a part
// of a ficha. "" keeps its meaning: "y el pasaporte?" after a question of the price asks the
// same of another ficha, so the model's "general" says nothing.
func (e *Engine) aspectOf(norm string) string {
	return ReadAspect(e.aspects, norm)
}

// ReadAspect is aspectOf with the model m (nil: the cue phrases alone): for the engine and for
// `atiende train --dev-aspects`, which measures it on the held-out fifth of the aspect model's data.
func ReadAspect(m *learn.Model, norm string) string {
	if a := detectAspect(norm); a != "" || m == nil {
		return a
	}
	labels := m.Predict(norm)
	if len(labels) == 0 || labels[0].P < aspectSure || labels[0].Name == retrieval.AspectGeneral {
		return ""
	}
	return labels[0].Name
}

// ModelAspect is the aspect model's likeliest label and its probability ("" without one).
func ModelAspect(m *learn.Model, norm string) (string, float64) {
	if m == nil {
		return "", 0
	}
	labels := m.Predict(norm)
	if len(labels) == 0 {
		return "", 0
	}
	return labels[0].Name, labels[0].P
}

// RuleAspect is the cue phrases' aspect alone (detectAspect).
func RuleAspect(norm string) string { return detectAspect(norm) }

// AspectReadings are what the engine reads of the part of a ficha a message asks about: the
// cue phrases' aspect, and the aspect model's likeliest label and its probability (for
// `atiende ask --trace`).
func (e *Engine) AspectReadings(text string) (cue, model string, p float64) {
	norm := e.r.Normalize(text)
	model, p = ModelAspect(e.aspects, norm)
	return detectAspect(norm), model, p
}
