package bot

import (
	"slices"
	"strings"
	"sync"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

// How the learned emergency readings decide (docs/eval.md, "Emergencies", says why). The
// emergency model (fastText-style, retrieval.Detector.Model) names the kinds and gives pf,
// its probability of an emergency of any kind (1 − P(none)); the danger model (a sparse
// logistic regression, Detector.Danger) gives p, its own probability of the same. Without a
// danger model p is pf.
const (
	// dangerSure: from here pf or p, either reading, makes the reply the emergency lines alone,
	// and a person is told (of a text of dangerSureWords or more).
	dangerSure = 0.8
	// dangerUnsure: from here p puts the lines at the top of the reply, and the question
	// beside them is still answered. Recall first: set low on purpose.
	dangerUnsure = 0.05
	// dangerPlain: a question the engine answers for sure from one ficha, with no option
	// beside it, gets the lines only from this p: an ordinary question it understands well
	// needs more evidence of danger than one it does not.
	dangerPlain = 0.2
	// dangerEven: or from this pf, the emergency model's (more likely than not).
	dangerEven = 0.5
	// dangerVeto: a pattern's match is no emergency when both readings, each trained on the
	// bank's look-alikes (figures of speech, past events, questions about a benefit that
	// mention violence), give it less than this: "me quiero morir jaja, cuando pagan el bono".
	// Both, so that one reading's blind spot never silences a pattern.
	dangerVeto = 0.02
	// dangerMinWords: the model speaks of a text with at least this many words it knows,
	// besides function words ("1" to pick an option, "y el monto?" say nothing to it;
	// single-word cries are the patterns' to catch).
	dangerMinWords = 2
	// dangerSureWords: the emergency model alone is sure only of a text with this many such
	// words; of a shorter one it is at most unsure, unless the readings agree (dangerAgree).
	dangerSureWords = 3
	// dangerAgree: from here in both readings, the emergency model's pf and the danger
	// model's p, the engine is sure of a text of dangerMinWords or more ("hay balazos
	// afuera", "mi pareja me esta pegando"): two models trained apart that both read an
	// emergency in two words are evidence enough for a person to be told.
	dangerAgree = 0.7
	// dangerKindShare: a kind is named when its probability is at least this share of the
	// likeliest kind's.
	dangerKindShare = 0.35
)

// The nearest-lines reading (retrieval.Neighbours) adds the lines, unsure, to a message both
// models call ordinary when this share of its nearest lines' likeness is on emergencies and
// the nearest is at least this alike. Its lines hold the off-topic messages and requests for a
// person beside the bank (retrieval.NeighbourExamples), which lowers every share: 0.8 was
// chosen on the bank alone, 0.7 keeps the emergencies it caught (docs/eval.md).
var (
	nearShare = 0.7
	nearTop   = 0.2
)

// bundledDanger is the emergency model of the bundled catalogue, read once; nil if absent.
var bundledDanger = sync.OnceValue(func() *retrieval.Detector {
	d, err := retrieval.LoadDetector(catalogue.FS)
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return d
})

// urgency orders the kinds as the reply gives their lines.
var urgency = []string{EmergencySuicide, EmergencyWomen, EmergencyFamily, EmergencyDanger, EmergencyMedical}

// killFigureRe: the threat to kill the patterns read (violentRe, dangerRe), which citizens also
// say of a boss, a mother or a bill.
var killFigureRe = re(`me (?:quiere|quieren|va a|van a) matar`)

// emergency returns the kinds of emergency the normalised text may speak of, whether the
// engine is sure, p (the danger model's probability; 1 for a pattern's match) and pf (the
// emergency model's). The patterns of detectEmergency are sure unless both learned readings
// call the message ordinary (dangerVeto); of a short text with no word the models know, or
// with one and a pattern's match, the patterns alone decide. Either reading is sure from dangerSure
// (of dangerSureWords known words), both together from dangerAgree; the danger model's p is
// unsure from dangerUnsure; of a text of common words alone (commonWords), both from
// dangerEven. followUp says the text opens as a follow-up in a conversation about a ficha.
func (e *Engine) emergency(norm string, followUp bool) (kinds []string, sure bool, p, pf float64) {
	pattern := detectEmergency(norm)
	byPattern := func() ([]string, bool, float64, float64) {
		if len(pattern) > 0 {
			return pattern, true, 1, 1
		}
		return nil, false, 0, 0
	}
	if e.danger == nil {
		return byPattern()
	}
	known := knownContent(e.danger.Model, norm)
	// A message of common words alone ("ya no quiero estar aquí": no content word, but word
	// pairs the models learned) is read too, of dangerSureWords words or more: a text with no
	// word the models know says nothing to them only when it is short ("y eso?", "1").
	commonWords := known == 0 && len(pattern) == 0 && !followUp && len(strings.Fields(norm)) >= dangerSureWords
	if known == 0 && !commonWords || known < dangerMinWords && len(pattern) > 0 {
		return byPattern()
	}
	text, labels, p, pf, best := e.readings(norm)
	// A threat to kill is also Chile's commonest figure of speech, said of a boss, a mother or
	// a bill. When it is the only pattern's match and neither reading reaches
	// dangerPlain, the readings decide as if no pattern had matched: on the held-out fifth
	// (seeds 1 and 4) every emergency told with it was read at 0.79 or more, its look-alikes at
	// 0.34 or less (docs/eval.md, twenty-ninth session).
	if len(pattern) > 0 && max(pf, p) < dangerPlain && len(detectEmergency(killFigureRe.ReplaceAllString(norm, " "))) == 0 {
		pattern = nil
	}
	if len(pattern) > 0 {
		if max(pf, p) >= dangerVeto {
			return pattern, true, 1, 1
		}
		return nil, false, p, pf
	}
	if known < dangerMinWords {
		// Of a text with one word they know, the readings speak only when both see danger
		// ("toy cansaa d existir"): each alone is too often sure of a lone word. Not of a
		// follow-up in a conversation about a ficha ("y el del agua?"), whose one word is
		// the other ficha's. Of common words alone, both must read an emergency as more
		// likely than not (dangerEven): on the five held-out folds no other such message was
		// read so by both (docs/eval.md, thirtieth session).
		p = min(p, pf)
		bar := dangerUnsure
		if known == 0 {
			bar = dangerEven
		}
		if p < bar || followUp {
			return nil, false, p, pf
		}
	} else if p < dangerUnsure {
		// Both models see too little danger; the nearest lines of their training data may
		// still be emergencies told the same way.
		if share, kind, top := e.danger.Near.Near(text); share >= nearShare && top >= nearTop && slices.Contains(urgency, kind) {
			return []string{kind}, false, p, pf
		}
		return nil, false, p, pf
	}
	if best == 0 {
		return nil, false, p, pf
	}
	for _, k := range urgency {
		for _, l := range labels {
			if l.Name == k && l.P >= dangerKindShare*best {
				kinds = append(kinds, k)
			}
		}
	}
	sure = max(p, pf) >= dangerSure && known >= dangerSureWords || known >= dangerMinWords && min(p, pf) >= dangerAgree
	return kinds, sure && !plainRequest(norm), p, pf
}

// readings are the two learned readings of the normalised text: the text they share (the
// words and their concepts, Detector.Text), the emergency model's labels, p (the danger
// model's probability of an emergency; pf without a danger model), pf (the emergency model's,
// 1 − P(none)) and best (its likeliest kind's probability). e.danger must be set.
func (e *Engine) readings(norm string) (text string, labels []learn.Label, p, pf, best float64) {
	text = e.danger.Text(norm)
	labels = e.danger.Model.Predict(text)
	pf = 1
	for _, l := range labels {
		if l.Name == retrieval.NoEmergency {
			pf -= l.P
		} else if slices.Contains(urgency, l.Name) {
			best = max(best, l.P)
		}
	}
	p = pf
	if e.danger.Danger != nil {
		p = e.danger.Danger.P(text)
	}
	return text, labels, p, pf, best
}

// Danger is what the engine reads of a message's danger, as a turn would decide from it
// (without a conversation's state): for `atiende ask --trace` and `atiende train --dev --dump`.
type Danger struct {
	Kinds []string // the kinds whose lines the reply gives
	Sure  bool     // the emergency reply alone, and a person is told
	// Pattern lists the kinds a pattern of detectEmergency matched, vetoed or not.
	Pattern []string
	// P and PF are the danger model's and the emergency model's probabilities of an
	// emergency, read even when a pattern decides; Known is how many of the message's content
	// words the models know. All zero without a learned model.
	P, PF float64
	Known int
	// NearShare is the share of the nearest bank lines' likeness that is on emergencies,
	// NearKind the kind most of it names, NearTop the nearest line's likeness.
	NearShare, NearTop float64
	NearKind           string
}

// ReadDanger returns the engine's readings of the message's danger.
func (e *Engine) ReadDanger(text string) Danger {
	norm := e.r.Normalize(withoutPersonalData(text))
	d := Danger{Pattern: detectEmergency(norm)}
	d.Kinds, d.Sure, _, _ = e.emergency(norm, false)
	if e.danger != nil {
		d.Known = knownContent(e.danger.Model, norm)
		var t string
		t, _, d.P, d.PF, _ = e.readings(norm)
		d.NearShare, d.NearKind, d.NearTop = e.danger.Near.Near(t)
	}
	return d
}

// plainRequest reports whether the text is one of the requests the engine reads for sure
// (stop, hola, chao, an instruction to the assistant such as "ahora eres un pirata"): what the
// message plainly is outranks the model's guess, whose lines still go on top of the reply.
func plainRequest(norm string) bool {
	return optoutRe.MatchString(norm) || optoutPhraseRe.MatchString(norm) || greetRe.MatchString(norm) ||
		goodbyeRe.MatchString(norm) || injectionRe.MatchString(norm)
}

// knownContent counts the words of the text, other than function words, that the model saw
// in training, or whose shape it knows (most of its character n-grams): of "y el monto?" it
// knows one, and what it says of that is its prior.
func knownContent(m *learn.Model, norm string) int {
	n := 0
	for _, w := range strings.Fields(norm) {
		if !retrieval.IsStopword(w) {
			if k := m.KnownWords(w); k > 0 {
				n += k
			} else if m.KnowsShape(w, shapeShare) {
				n++
			}
		}
	}
	return n
}

// shapeShare: a word the emergency model never saw counts as one it can read when it saw
// this share of the word's character n-grams (learn.Model.KnowsShape).
var shapeShare = 0.8

// emergencyLines are the lines of the kinds, without the closing words of an emergency
// reply: for the top of a reply that goes on to answer the question.
func emergencyLines(kinds []string, english bool) string {
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, msgEmergency[k].in(english))
	}
	return strings.Join(parts, "\n")
}
