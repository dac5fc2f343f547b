package retrieval

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/atiende/atiende/retrieval/learn"
)

// NoEmergency is the emergency model's label for a text that is not one.
const NoEmergency = "none"

// IsEmergency reports whether an emergency model's label is an emergency of some kind.
func IsEmergency(label string) bool { return label != NoEmergency }

// ownTexts are a ficha's own texts the fichas model learns it by, besides its citizens'
// questions: its title, summary and keywords.
func ownTexts(f *Ficha) []string {
	return append([]string{f.Title, f.Summary}, f.Keywords...)
}

// OffTopicFichasOnly holds off-topic messages, as offtopic.tsv does, that the emergency
// models and the nearest-lines reading do not learn (Ficha.FichasOnly says why).
const OffTopicFichasOnly = "offtopic" + FichasOnlySuffix

// OffTopic is the fichas model's label for a message no ficha answers (offtopic.tsv:
// greetings, thanks, questions about anything else): its probability is taken from the
// fichas', so that the model is not sure of a ficha for a message about none.
const OffTopic = "_offtopic"

// Person is the fichas model's label for a message that wants a person (person.tsv: asks for
// one, is tired of the assistant, or tells a case of its own only a person can look into).
const Person = "_person"

// questionAsNoneWeight: the fichas' questions are the emergency model's ordinary messages,
// as much evidence of what is not an emergency as the bank's look-alikes.
const questionAsNoneWeight = 1.0

// spanWeight: how much a few words cut from an ordinary question count as no emergency.
const spanWeight = 0.5

// shortSpan returns two to four words from the start of a question's emergency text (the
// n-th question of its ficha: the length varies with it), or "" when the question names a
// concept of harm (a weapon, a blow, a threat, harm to oneself, hopelessness, a collapse):
// a piece of "mi pareja me pega, donde denuncio" must not teach that a blow is nothing.
func shortSpan(text string, n int) string {
	words := strings.Fields(text)
	var plain []string
	for _, w := range words {
		if strings.HasPrefix(w, "#") {
			if harmConcepts[w[1:]] {
				return ""
			}
			continue
		}
		plain = append(plain, w)
	}
	k := 2 + n%3
	if len(plain) <= k {
		return ""
	}
	return strings.Join(plain[:k], " ")
}

// namesHarm reports whether an emergency text (Detector.Text) names a concept of harm.
func namesHarm(text string) bool {
	for _, w := range strings.Fields(text) {
		if strings.HasPrefix(w, "#") && harmConcepts[w[1:]] {
			return true
		}
	}
	return false
}

// harmConcepts are the concepts (concepts.tsv) that speak of harm itself, not of its time,
// its negation or an exaggeration.
var harmConcepts = map[string]bool{"arma": true, "golpe": true, "amenaza": true, "propia": true, "desesperanza": true, "colapso": true}

// HeldOut is the deterministic fifth of the texts (questions, bank lines, off-topic and
// person messages) that atiende train --dev keeps out of training to measure on, and on
// whose readings by the models trained without them the ranker learns: fold 0 of InFold.
func HeldOut(text string) bool { return InFold(text, 0) }

// Folds is how many parts InFold cuts the texts into.
const Folds = 5

// InFold reports whether the text falls in fold n (0 to Folds−1) of a deterministic cut of
// the texts into Folds parts by a hash of the text. atiende train --dev --fold n holds out
// fold n: every fold is a held-out measure of its own, on other texts, so that a change can be
// judged on more than the one fifth a retrain's chance moves a few rows of.
func InFold(text string, n int) bool {
	h := fnv.New32a()
	h.Write([]byte(text))
	return int(h.Sum32()%Folds) == n
}

// Training is the learned models' data, read from a catalogue laid out as the bundled one.
type Training struct {
	// Fichas: each ficha's title, summary, keywords and citizens' questions, labelled
	// with its slug.
	Fichas []learn.Example
	// Emergency: the bank's lines (emergency/*.tsv: kind<TAB>text), and the fichas'
	// questions, the off-topic messages and the follow-ups as NoEmergency (not the questions
	// and off-topic messages of `*.fichas.tsv` files: Ficha.FichasOnly).
	Emergency []learn.Example
	// FollowUp: the follow-ups (followups.tsv) as FollowUpLabel, against the fichas' own
	// texts and questions, the off-topic messages and the requests for a person, each as
	// NotFollowUp: what tells a message about the ficha being talked about from one that
	// names a matter of its own. Read as the fichas model reads them (Index.ModelText).
	FollowUp []learn.Example
	// Scope: the off-topic messages (offtopic.tsv) as ScopeOutside, against what the catalogue
	// is asked about as ScopeInside: the fichas' titles, summaries, keywords and questions, the
	// follow-ups, the requests for a person and the bank's emergencies. The bank's look-alikes
	// ("me muero de la risa") are neither, and stay out. Read as the fichas model reads them.
	Scope []learn.Example
	// Wants: the requests for a person (person.tsv) as WantsPerson, against what else is
	// written to the engine as NotPerson: the fichas' own texts and questions, the
	// follow-ups, the off-topic messages and the bank's emergencies. Beside the fichas
	// model's own person label it is a second reading, made for that one question, that the
	// fichas' number does not drown. Read as the fichas model reads them.
	Wants []learn.Example
}

// The person model's labels (Training.Wants).
const (
	WantsPerson = "person"
	NotPerson   = "other"
)

// IsWantsPerson tells the person model's positive label.
func IsWantsPerson(label string) bool { return label == WantsPerson }

// WantsConfig trains the person model: a few hundred requests for a person against some
// twenty thousand other texts, so a positive counts ten times, as the follow-up model's do.
// On the held-out fifth (seed 1) 10 heard one request more than 3 did, and read one held-out
// question of 3,726 as a request from 0.6 up (3: the same one).
var WantsConfig = learn.LinearConfig{Epochs: 8, LR: 0.2, L2: 1e-6, MinCount: 2, MinN: 3, MaxN: 5, Seed: 1, PosWeight: 10}

// The scope model's labels (Training.Scope).
const (
	ScopeOutside = "outside"
	ScopeInside  = "inside"
)

// IsOutside tells the scope model's positive label.
func IsOutside(label string) bool { return label == ScopeOutside }

// ScopeConfig trains the scope model. Its examples are about a thousand off-topic messages
// against some twenty thousand texts of the catalogue; a positive counts three times, chosen
// on the held-out fifth (retrieval.HeldOut) with a first version that also counted the bank's
// look-alikes as inside: 1 flagged half the held-out off-topic messages at p 0.5, 3 about
// three in five, 10 about three in four but also 1.4% of held-out questions.
var ScopeConfig = learn.LinearConfig{Epochs: 8, LR: 0.2, L2: 1e-6, MinCount: 2, MinN: 3, MaxN: 5, Seed: 1, PosWeight: 3}

// The follow-up model's labels (Training.FollowUp).
const (
	FollowUpLabel = "followup"
	NotFollowUp   = "other"
)

// FollowUpConfig trains the follow-up model: its positive examples are few (a few hundred
// follow-ups against some twenty thousand other texts), so a missed one costs more.
var FollowUpConfig = learn.LinearConfig{Epochs: 8, LR: 0.2, L2: 1e-6, MinCount: 2, MinN: 3, MaxN: 5, Seed: 1, PosWeight: 10}

// FollowUpText is a text as the follow-up model reads it: as the fichas model does
// (Index.ModelText), without the words that join it to what came before ("y", "pero",
// "entonces"). Almost every follow-up starts with one, and so do switches to another ficha
// ("y el pasaporte?"): they tell the model nothing but that a message continues a
// conversation, which both do.
func FollowUpText(mt string) string {
	w := strings.Fields(mt)
	for len(w) > 1 {
		switch w[0] {
		case "y", "e", "pero", "entonces", "tambien", "ademas", "and", "but", "also", "so":
			w = w[1:]
			continue
		}
		break
	}
	return strings.Join(w, " ")
}

// IsFollowUp tells the follow-up model's positive label.
func IsFollowUp(label string) bool { return label == FollowUpLabel }

// TrainingData reads the training data of the learned models from fsys: the fichas (with
// their questions) and the emergency bank. Texts are read as the models will read them
// (Index.ModelText for the fichas model; for the emergency model, Index.Normalize, the
// engine's text, tagged with its concepts: Detector.Text). skip, when set, leaves out the questions and bank lines it reports true
// for (a held-out part, to measure on).
func TrainingData(fsys fs.FS, skip func(text string) bool) (Training, error) {
	ix, err := BundledLexical(fsys, "")
	if err != nil {
		return Training{}, err
	}
	concepts, err := LoadConcepts(fsys)
	if err != nil {
		return Training{}, err
	}
	// The emergency model's text: as the engine normalises it, with its concepts.
	danger := func(s string) string { return concepts.Tag(ix.Normalize(s)) }
	var t Training
	keep := func(s string) bool { return skip == nil || !skip(s) }
	for _, f := range ix.Fichas() {
		add := func(text string) {
			if text = ix.ModelText(text); text != "" {
				t.Fichas = append(t.Fichas, learn.Example{Text: text, Label: f.Slug})
				t.FollowUp = append(t.FollowUp, learn.Example{Text: FollowUpText(text), Label: NotFollowUp})
				t.Scope = append(t.Scope, learn.Example{Text: text, Label: ScopeInside})
				t.Wants = append(t.Wants, learn.Example{Text: text, Label: NotPerson})
			}
		}
		for _, t := range ownTexts(f) {
			add(t)
		}
		i := -1 // the question's place among its ficha's questions, FichasOnly aside (shortSpan)
		for _, q := range f.Questions {
			only := f.FichasOnly[q]
			if !only {
				i++
			}
			if keep(q) {
				add(q)
				if only {
					continue
				}
				d := danger(q)
				// A ficha's question that names harm ("mi pareja me pega, como denuncio") may
				// be an emergency told as a question: it teaches nothing as `none`. The bank's
				// look-alikes teach what such a message is when it is not one.
				if namesHarm(d) {
					continue
				}
				t.Emergency = append(t.Emergency, learn.Example{Text: d, Label: NoEmergency, Weight: questionAsNoneWeight})
				// A few words cut from an ordinary question ("quiero saber", "necesito saber el
				// monto") are no emergency either: without them a common word that only long
				// questions carry is free to mean anything to the model on its own.
				if span := shortSpan(d, i); span != "" {
					t.Emergency = append(t.Emergency, learn.Example{Text: span, Label: NoEmergency, Weight: spanWeight})
				}
			}
		}
	}
	// What citizens write in the middle of a conversation ("y cuanto es", "la 2") is no
	// emergency either, and is short: the kind of text a model knows least.
	follow, err := readLines(fsys, "followups.tsv")
	if err != nil {
		return Training{}, err
	}
	for _, o := range follow {
		if keep(o) {
			t.Emergency = append(t.Emergency, learn.Example{Text: danger(o), Label: NoEmergency})
			if mt := ix.ModelText(o); mt != "" {
				t.FollowUp = append(t.FollowUp, learn.Example{Text: FollowUpText(mt), Label: FollowUpLabel})
				t.Scope = append(t.Scope, learn.Example{Text: mt, Label: ScopeInside})
				t.Wants = append(t.Wants, learn.Example{Text: mt, Label: NotPerson})
			}
		}
	}
	// Off-topic messages of OffTopicFichasOnly teach the same models but the emergency ones
	// (Ficha.FichasOnly says why): they come after the first n.
	off, n, err := ReadOffTopic(fsys)
	if err != nil {
		return Training{}, err
	}
	for i, o := range off {
		if keep(o) {
			mt := ix.ModelText(o)
			t.Fichas = append(t.Fichas, learn.Example{Text: mt, Label: OffTopic})
			t.Scope = append(t.Scope, learn.Example{Text: mt, Label: ScopeOutside})
			t.Wants = append(t.Wants, learn.Example{Text: mt, Label: NotPerson})
			t.FollowUp = append(t.FollowUp, learn.Example{Text: FollowUpText(mt), Label: NotFollowUp})
			if i < n {
				t.Emergency = append(t.Emergency, learn.Example{Text: danger(o), Label: NoEmergency})
			}
		}
	}
	person, err := readLines(fsys, "person.tsv")
	if err != nil && !errors.Is(err, fs.ErrNotExist) { // a catalogue may have none
		return Training{}, err
	}
	for _, o := range person {
		if keep(o) {
			mt := ix.ModelText(o)
			t.Fichas = append(t.Fichas, learn.Example{Text: mt, Label: Person})
			t.Scope = append(t.Scope, learn.Example{Text: mt, Label: ScopeInside})
			t.Wants = append(t.Wants, learn.Example{Text: mt, Label: WantsPerson})
			t.FollowUp = append(t.FollowUp, learn.Example{Text: FollowUpText(mt), Label: NotFollowUp})
			t.Emergency = append(t.Emergency, learn.Example{Text: danger(o), Label: NoEmergency})
		}
	}
	bank, err := ReadBank(fsys, "emergency")
	if err != nil {
		return Training{}, err
	}
	for _, b := range bank {
		if keep(b.Text) {
			t.Emergency = append(t.Emergency, learn.Example{Text: danger(b.Text), Label: b.Label})
			if IsEmergency(b.Label) {
				mt := ix.ModelText(b.Text)
				t.Scope = append(t.Scope, learn.Example{Text: mt, Label: ScopeInside})
				t.Wants = append(t.Wants, learn.Example{Text: mt, Label: NotPerson})
			}
		}
	}
	return t, nil
}

// NeighbourExamples returns the lines the nearest-lines reading compares a message with
// (NewNeighbours), as the emergency model reads them (normalised, with their concepts): the
// emergency bank's (emergency/*.tsv) and, as NoEmergency, the off-topic messages and the
// requests for a person, without those skip reports true for. Without the ordinary lines a
// message unlike every bank line ("cuentame un chiste") found its few nearest among the
// emergencies. The fichas' questions stay out: their number drowns the emergencies' share.
func NeighbourExamples(fsys fs.FS, skip func(text string) bool) ([]learn.Example, error) {
	// Index.Normalize reads only the glossary: an index without fichas normalises alike and
	// costs nothing to build.
	g, err := loadGlossary(fsys)
	if err != nil {
		return nil, err
	}
	ix := NewIndex(nil, g)
	concepts, err := LoadConcepts(fsys)
	if err != nil {
		return nil, err
	}
	bank, err := ReadBank(fsys, "emergency")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"offtopic.tsv", "person.tsv"} {
		lines, err := readLines(fsys, name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // a catalogue may have none
			return nil, err
		}
		for _, l := range lines {
			bank = append(bank, learn.Example{Text: l, Label: NoEmergency})
		}
	}
	out := make([]learn.Example, 0, len(bank))
	for _, b := range bank {
		if skip == nil || !skip(b.Text) {
			out = append(out, learn.Example{Text: concepts.Tag(ix.Normalize(b.Text)), Label: b.Label})
		}
	}
	return out, nil
}

// BankKinds are the kinds a line of the emergency bank may have: NoEmergency and the kinds
// the engine has lines for (bot.EmergencySuicide and the others). A misspelt kind would
// otherwise train a kind of its own that no reply knows.
var BankKinds = []string{NoEmergency, "suicide", "violence_women", "violence_family", "danger", "medical"}

// ReadBank reads every .tsv file of dir: one `kind<TAB>text` a line (# starts a comment).
// A line without a kind or a text is a problem naming its file and line.
func ReadBank(fsys fs.FS, dir string) ([]learn.Example, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.tsv"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []learn.Example
	var probs []Problem
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			s := strings.TrimRight(string(line), "\r")
			if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
				continue
			}
			kind, text, ok := strings.Cut(s, "\t")
			kind, text = strings.TrimSpace(kind), strings.TrimSpace(text)
			if !ok || kind == "" || text == "" || strings.Contains(kind, " ") {
				probs = append(probs, Problem{File: name, Line: i + 1, Field: "bank", Msg: "expected kind<TAB>text"})
				continue
			}
			if !slices.Contains(BankKinds, kind) {
				probs = append(probs, Problem{File: name, Line: i + 1, Field: "kind",
					Msg: fmt.Sprintf("unknown kind %q (one of %s)", kind, strings.Join(BankKinds, ", "))})
				continue
			}
			out = append(out, learn.Example{Text: text, Label: kind})
		}
	}
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	return out, nil
}

// ReadOffTopic returns the off-topic messages of offtopic.tsv, then those of
// OffTopicFichasOnly (a catalogue may have none), and n, how many came from offtopic.tsv.
func ReadOffTopic(fsys fs.FS) (lines []string, n int, err error) {
	if lines, err = readLines(fsys, "offtopic.tsv"); err != nil {
		return nil, 0, err
	}
	n = len(lines)
	only, err := readLines(fsys, OffTopicFichasOnly)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, err
	}
	return append(lines, only...), n, nil
}

// readLines reads a file of one text a line; blank lines and # comments are skipped.
func readLines(fsys fs.FS, name string) ([]string, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, nil
}
