package retrieval

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/atiende/atiende/retrieval/learn"
)

// Query is what the dialogue engine asks of the catalogue.
type Query struct {
	// Text is the citizen's words.
	Text string
	// Context is text from the conversation (the previous ficha's title) that helps an
	// elliptic follow-up ("y el de matrimonio?") find its ficha. Its words weigh little and do
	// not count towards coverage.
	Context string
	// Only, when set, limits the search to these slugs (choosing among offered options).
	Only []string
	// Exact turns typo matching off (for English, whose words would fuzz into Spanish noise).
	Exact bool
	// Whole, when set, is what the learned model reads instead of Text: the whole message,
	// where Text may have lost the words that only say what is asked ("cuanto", "requisitos").
	Whole string
	// InConversation asks for Found.FollowUp: the message comes in a conversation about a
	// ficha. Other searches (a first question, a choice among options, the console's) do not
	// pay for the follow-up model's reading.
	InConversation bool
}

// Found is the answer to a Query.
type Found struct {
	Results []Result
	// Groups is how many meaningful words (or phrases) the citizen's text has.
	Groups int
	// Vague is true when every meaningful word names a kind of thing that many fichas share
	// ("bono", "certificado", "subsidio") rather than one thing.
	Vague bool
	// English is true when the glossary recognised the words as English.
	English bool
	// OffTopic is the learned model's probability that no ficha answers the question (it
	// reads like the greetings, thanks and other matters of offtopic.tsv).
	OffTopic float64
	// Person is the learned model's probability that the message wants a person (it reads
	// like person.tsv: a request for one, or a case of the citizen's own).
	Person float64
	// Known is the share of the question's words, other than function words, that the
	// learned model saw in training (1 without a model, or with no such word).
	Known float64
	// FollowUp is the follow-up model's probability that the message is what citizens write
	// about the ficha already being talked about ("y donde lo pido", "por cuantos meses se
	// paga?") rather than a question that names its own matter; -1 without the model or
	// when the query is not Query.InConversation.
	FollowUp float64
	// Outside is the scope model's probability that the message is about nothing the
	// catalogue holds (ScopeModel); -1 without the model.
	Outside float64
	// Wants is the person model's probability that the message asks for a person
	// (PersonModel); -1 without the model.
	Wants float64
}

// contextWeight is how much a word of Query.Context counts beside one of the citizen's.
const contextWeight = 0.15

// A word names a kind of thing rather than one thing when it is in the titles of at least
// vagueTitleShare fichas, or in the title, keywords or summary of at least vagueStrongShare.
const (
	vagueTitleShare  = 3
	vagueStrongShare = 8
)

func (ix *Index) generic(key string) bool {
	return ix.titleDF[key] >= vagueTitleShare || ix.strongDF[key] >= vagueStrongShare
}

// Find analyses the query and ranks the fichas for it, best first, at most k (all if k <= 0).
func (ix *Index) Find(ctx context.Context, q Query, k int) Found {
	a := ix.analyze(q.Text, q.Exact)
	f := Found{Groups: a.Groups, English: a.English, Known: 1, FollowUp: -1, Outside: -1, Wants: -1}
	// The learned models, when there are any, read the message once, as they were trained
	// (ModelText).
	var mt string
	if ix.scope != nil || ix.wants != nil || ix.followUp != nil || ix.model != nil {
		mt = ix.ModelText(cmp.Or(q.Whole, q.Text))
	}
	if ix.scope != nil {
		f.Outside = ix.scope.P(mt)
	}
	if ix.wants != nil {
		f.Wants = ix.wants.P(mt)
	}
	if ix.followUp != nil && q.InConversation {
		f.FollowUp = ix.followUp.P(FollowUpText(mt))
	}
	if a.Groups > 0 && a.Groups <= 2 {
		f.Vague = true
		for g := 0; g < a.Groups && f.Vague; g++ {
			generic, specific := false, false
			for _, t := range a.Terms {
				if t.Group != g || !t.Known {
					continue
				}
				if ix.generic(t.Key) {
					generic = true
				} else if !t.Fuzzy && ix.strongDF[t.Key] > 0 {
					specific = true
				}
			}
			f.Vague = generic && !specific
		}
	}
	if q.Context != "" {
		c := ix.analyze(q.Context, true)
		for _, t := range c.Terms {
			if !t.Known {
				continue
			}
			t.Group = -1
			t.Weight *= contextWeight
			a.Terms = append(a.Terms, t)
		}
	}
	// With the model, fuse sorts what the words found (byScore), and Search need not.
	res := ix.search(a, 0, ix.model == nil)
	if ix.vectors != nil && len(res) > 1 {
		ix.vectors.lift(ctx, q.Text, res, ix.vectorWeight)
	}
	if ix.model != nil {
		// One reading of the text gives the model's labels and its vector (for the ranker's
		// nearest questions).
		labels, vec := ix.model.PredictEmbed(mt)
		res, f.OffTopic, f.Person, f.Known = ix.fuse(mt, labels, res)
		// The ranker learned from questions about fichas, asked first: a message the model
		// reads as about nothing the catalogue holds, or as wanting a person, and a choice
		// among offered options keep the fused order.
		if f.OffTopic < rankOutside && f.Person < rankOutside && len(q.Only) == 0 {
			res = ix.rerank(cmp.Or(q.Whole, q.Text), vec, res, f.Known)
		}
	}
	if len(q.Only) > 0 {
		keep := map[string]bool{}
		for _, s := range q.Only {
			keep[s] = true
		}
		filtered := res[:0]
		for _, r := range res {
			if keep[r.Ficha.Slug] {
				filtered = append(filtered, r)
			}
		}
		res = filtered
	}
	if k > 0 && len(res) > k {
		res = res[:k]
	}
	f.Results = res
	return f
}

// Normalize returns the citizen's text folded, split into words and respelled by the
// glossary ("kiero ablar cn alguien" → "quiero ablar cn alguien"), joined by single spaces.
func (ix *Index) Normalize(text string) string {
	words := ix.gloss.Respell(Words(text))
	out := make([]byte, 0, len(text)+2)
	for i, w := range words {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, w...)
	}
	return string(out)
}

// How the learned model's probabilities join the lexical scores (docs/eval.md has the
// measurements behind them).
const (
	// modelWeight: a ficha the model is sure of gains this share of the best lexical score.
	modelWeight = 0.5
	// modelScaleFloor is that scale when the lexical scores are low or absent: the question's
	// words are not the catalogue's, and the model alone has an opinion.
	modelScaleFloor = 4.0
	// modelCandidate: a ficha the model gives at least this probability is a candidate even
	// when none of the question's words is in it.
	modelCandidate = 0.05
)

// An IndexOption adds a learned part to an index when it is built (NewIndex, With): an
// index never changes once built, so it needs no "call before use".
type IndexOption func(*Index)

// WithModel makes Find fuse the learned model's probabilities with the lexical scores. The
// fichas' questions must be final when the index is built.
func WithModel(m *learn.Model) IndexOption { return func(ix *Index) { ix.model = m } }

// WithScope sets the scope model (ScopeModel) Find reads Found.Outside with.
func WithScope(m *learn.Linear) IndexOption { return func(ix *Index) { ix.scope = m } }

// WithPerson sets the person model (PersonModel) Find reads Found.Wants with.
func WithPerson(m *learn.Linear) IndexOption { return func(ix *Index) { ix.wants = m } }

// WithFollowUp sets the follow-up model (FollowUpModel) Find reads Found.FollowUp with.
func WithFollowUp(m *learn.Linear) IndexOption { return func(ix *Index) { ix.followUp = m } }

// With returns an index over the same fichas and glossary with ix's learned parts, changed by
// opts (WithRanker(nil) leaves the ranker out, say). ix itself is unchanged; the new one is
// built anew (a fraction of a second over the bundled catalogue): for training and
// measuring, not for a turn.
func (ix *Index) With(opts ...IndexOption) *Index {
	keep := []IndexOption{WithModel(ix.model), WithRanker(ix.ranker), WithScope(ix.scope),
		WithPerson(ix.wants), WithFollowUp(ix.followUp), WithVectors(ix.vectors, ix.vectorWeight)}
	return NewIndex(ix.fichas, ix.gloss, append(keep, opts...)...)
}

// Model is the learned model set with WithModel, or nil.
func (ix *Index) Model() *learn.Model { return ix.model }

// ModelText is a text as the fichas model reads it: folded, respelled by the glossary, with
// what the glossary adds (an acronym's meaning, the Spanish of an English word) after the
// words it explains.
func (ix *Index) ModelText(text string) string {
	return strings.Join(ix.gloss.Expand(Words(text)), " ")
}

// fichaVocabulary is the set of words the fichas' own training examples hold, as the model
// reads them (ModelText of each of ownTexts and each question): what TrainingData teaches
// the model under a ficha's label.
func (ix *Index) fichaVocabulary() map[string]bool {
	words := map[string]bool{}
	for _, f := range ix.fichas {
		for _, t := range append(ownTexts(f), f.Questions...) {
			for _, w := range strings.Fields(ix.ModelText(t)) {
				words[w] = true
			}
		}
	}
	return words
}

// fuse adds to each result the model's probability for its ficha (labels: the model's
// reading of mt, the question as the model reads it, ModelText), scaled to the lexical
// scores, brings in the fichas the model favours that no word matched, and re-sorts; it also returns the model's probabilities that
// no ficha answers (OffTopic) and that the message wants a person (Person), and the share of
// the question's words it knows (Known).
func (ix *Index) fuse(mt string, labels []learn.Label, res []Result) ([]Result, float64, float64, float64) {
	if len(labels) == 0 {
		slices.SortFunc(res, byScore)
		return res, 0, 0, 1
	}
	// The model knows nothing of the words it never saw ("el bono para mascotas"): its
	// probabilities are shrunk by the share of the question's words it knows. A word it saw
	// only in messages no ficha answers (the off-topic lines' "mascota del club") is no
	// knowledge of any ficha: it counts as unknown.
	words, known := 0, 0
	for _, w := range strings.Fields(mt) {
		if !IsStopword(w) {
			words++
			if ix.fichaWords[w] {
				known += ix.model.KnownWords(w)
			}
		}
	}
	share := 1.0
	if words > 0 {
		share = float64(known) / float64(words)
	}
	// Not so the labels that are no ficha: words the model never saw are no evidence against
	// a message being about nothing the catalogue holds, or wanting a person.
	// The fichas' probabilities are kept by ficha: a pointer hashes faster than a slug, for
	// each of thousands of results.
	var offTopic, person float64
	byFicha := make(map[*Ficha]float64, 32)
	for i, l := range labels[:min(len(labels), 32)] {
		switch l.Name {
		case OffTopic:
			offTopic = l.P
		case Person:
			person = l.P
		default:
			labels[i].P *= share
			if d, ok := ix.bySlug[l.Name]; ok {
				byFicha[ix.fichas[d]] = labels[i].P
			}
		}
	}
	scale := modelScaleFloor
	for _, r := range res {
		scale = max(scale, r.Lexical)
	}
	// The fichas the model makes candidates of (a few: their probabilities add up to at most
	// 1), and which of them the words found already: a set of the few rather than of every
	// result, which at thousands of fichas was a large map a turn.
	var cands []learn.Label
	for _, l := range labels {
		if l.P < modelCandidate {
			break
		}
		if _, ok := ix.bySlug[l.Name]; ok {
			cands = append(cands, l)
		}
	}
	seen := make([]bool, len(cands))
	for i := range res {
		res[i].Prob = byFicha[res[i].Ficha]
		res[i].Score += modelWeight * scale * res[i].Prob
		if res[i].Prob >= modelCandidate {
			for j, c := range cands {
				if c.Name == res[i].Ficha.Slug {
					seen[j] = true
				}
			}
		}
	}
	for j, l := range cands {
		if !seen[j] {
			res = append(res, Result{Ficha: ix.fichas[ix.bySlug[l.Name]], Prob: l.P, Score: modelWeight * scale * l.P})
		}
	}
	slices.SortFunc(res, byScore)
	return res, offTopic, person, share
}
