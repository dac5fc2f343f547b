package retrieval

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/atiende/atiende/retrieval/learn"
)

// The fields of a ficha that the index scores, each with its weight: a word in the title or
// the keywords says far more about what the ficha is than a word deep in a section.
const (
	fTitle = iota
	fKeywords
	fSummary
	fInstitution
	fRequisitos
	fMonto
	fComo
	fDocumentos
	fFechas
	fCosto
	fQuestions
	nFields
)

var fieldWeight = [nFields]float64{
	fTitle: 4, fKeywords: 3, fSummary: 1.5, fInstitution: 0.5,
	fRequisitos: 0.5, fMonto: 0.5, fComo: 0.4, fDocumentos: 0.4, fFechas: 0.4, fCosto: 0.4,
	fQuestions: questionsWeight,
}

// questionsWeight is the weight of the citizens' questions of a ficha: their words say what
// the ficha is about in the words citizens use, less surely than its title or keywords.
const questionsWeight = 1.0

var sectionOfField = [nFields]string{
	fRequisitos: AspectRequisitos, fMonto: AspectMonto, fComo: AspectComo,
	fDocumentos: AspectDocumentos, fFechas: AspectFechas, fCosto: AspectCosto,
}

// sectionSets lists, for each set of section fields a search matched (scratch.sections, one
// bit a field from fRequisitos), the sections' names in field order: the Results of a search
// share these read-only slices rather than each building its own.
var sectionSets = func() (sets [1 << (fQuestions - fRequisitos)][]string) {
	for mask := range sets {
		for f := fRequisitos; f < fQuestions; f++ {
			if mask&(1<<(f-fRequisitos)) != 0 {
				sets[mask] = append(sets[mask], sectionOfField[f])
			}
		}
		sets[mask] = slices.Clip(sets[mask]) // a caller's append copies, never writes into the table
	}
	return sets
}()

// unknownIDF is how much a word the catalogue does not know weighs in coverage, as a share
// of the rarest known word's weight: a question full of unknown words is likely off-topic.
const unknownIDF = 1.0

// incidentalWeight is the share of its rarity that a word counts in coverage when it appears
// in fichas' sections but in no ficha's title, keywords or summary.
const incidentalWeight = 0.3

// titleBonus is how much more a ficha scores when the question names every word of its title.
const titleBonus = 0.3

// BM25F parameters.
const (
	k1 = 1.2
	bb = 0.75
)

type posting struct {
	doc int
	tf  [nFields]float32
}

// Index is an in-memory BM25F index over the fichas, with Spanish analysis, the glossary and
// typo tolerance. It is safe for concurrent searches once built.
type Index struct {
	// vectors, when set, lift the lexical scores of the fichas nearest the question.
	vectors      *Vectors
	vectorWeight float64
	// model, when set, is the learned classifier of questions into fichas (WithModel).
	model *learn.Model
	// ranker reorders the first fused results (WithRanker); nil: the fused order stands.
	ranker *learn.Ranker
	// qvecs holds each ficha's questions' vectors in the model, made on first use (Nearest).
	qvecs []atomic.Pointer[[]float32]
	// questions indexes the citizens' questions one by one, for the ranker (Nearest).
	questions *questionIndex
	// fichaWords holds the words of the fichas' own examples as the model reads them
	// (fichaVocabulary), set with the model (Known).
	fichaWords map[string]bool
	// followUp, when set, reads whether a message speaks of the ficha already being talked
	// about (FollowUpModel; Found.FollowUp).
	followUp *learn.Linear
	// scope, when set, reads whether a message is about nothing the catalogue holds
	// (ScopeModel; Found.Outside).
	scope *learn.Linear
	// wants, when set, reads whether a message asks for a person (PersonModel;
	// Found.Wants).
	wants *learn.Linear

	fichas   []*Ficha
	bySlug   map[string]int
	postings map[string][]posting
	lens     [][nFields]float32
	avgLen   [nFields]float64
	idf      map[string]float64
	maxIDF   float64
	titleDF  map[string]int
	strongDF map[string]int   // fichas that have the key in their title, keywords or summary
	textDF   map[string]int   // fichas that have the key anywhere but in their questions
	titles   [][]string       // distinct title keys of each ficha
	byLen    map[int][]string // vocabulary keys by length, for typo matching
	gloss    *Glossary
	scratch  sync.Pool // of *scratch, for Search
}

// NewIndex indexes the fichas, with the learned parts opts give. The glossary may be nil.
func NewIndex(fichas []*Ficha, g *Glossary, opts ...IndexOption) *Index {
	ix := &Index{
		fichas:   fichas,
		bySlug:   make(map[string]int, len(fichas)),
		postings: map[string][]posting{},
		lens:     make([][nFields]float32, len(fichas)),
		titles:   make([][]string, len(fichas)),
		idf:      map[string]float64{},
		titleDF:  map[string]int{},
		strongDF: map[string]int{},
		textDF:   map[string]int{},
		byLen:    map[int][]string{},
		gloss:    g,
	}
	ix.scratch.New = func() any { return &scratch{} }
	// Stemming dominates the build; a catalogue repeats its words, so each is stemmed once.
	keys := stems{}
	for d, f := range fichas {
		ix.bySlug[f.Slug] = d
		for _, a := range f.Aliases {
			if _, taken := ix.bySlug[a]; !taken {
				ix.bySlug[a] = d
			}
		}
		tfs := map[string]*[nFields]float32{}
		add := func(field int, text string) {
			for _, k := range keys.of(text) {
				if tfs[k] == nil {
					tfs[k] = new([nFields]float32)
				}
				tfs[k][field]++
				ix.lens[d][field]++
			}
		}
		add(fTitle, f.Title)
		add(fKeywords, strings.Join(f.Keywords, " . "))
		add(fSummary, f.Summary)
		add(fInstitution, f.Institution)
		for field, items := range map[int][]Item{
			fRequisitos: f.Sections.Requisitos, fMonto: f.Sections.Monto, fDocumentos: f.Sections.Documentos,
			fFechas: f.Sections.Fechas, fCosto: f.Sections.Costo, fComo: f.Sections.Items(AspectComo),
		} {
			for _, it := range items {
				add(field, it.Text)
			}
		}
		add(fQuestions, strings.Join(f.Questions, " . "))
		for k, tf := range tfs {
			ix.postings[k] = append(ix.postings[k], posting{doc: d, tf: *tf})
			if tf[fTitle] > 0 {
				ix.titleDF[k]++
				ix.titles[d] = append(ix.titles[d], k)
			}
			if tf[fTitle]+tf[fKeywords]+tf[fSummary] > 0 {
				ix.strongDF[k]++
			}
			if tf[fQuestions] < sumTF(tf) {
				ix.textDF[k]++
			}
		}
	}
	for f := 0; f < nFields; f++ {
		var sum float64
		for d := range fichas {
			sum += float64(ix.lens[d][f])
		}
		ix.avgLen[f] = math.Max(1, sum/math.Max(1, float64(len(fichas))))
	}
	n := float64(len(fichas))
	for k, ps := range ix.postings {
		sort.Slice(ps, func(i, j int) bool { return ps[i].doc < ps[j].doc })
		df := float64(len(ps))
		ix.idf[k] = math.Log(1 + (n-df+0.5)/(df+0.5))
		ix.maxIDF = math.Max(ix.maxIDF, ix.idf[k])
		ix.byLen[len(k)] = append(ix.byLen[len(k)], k)
	}
	for _, ks := range ix.byLen {
		sort.Strings(ks)
	}
	ix.questions = newQuestionIndex(fichas, keys)
	for _, o := range opts {
		o(ix)
	}
	if ix.model != nil {
		ix.fichaWords = ix.fichaVocabulary()
		ix.qvecs = make([]atomic.Pointer[[]float32], len(fichas))
	}
	return ix
}

// stems keeps each word's index key once made: a catalogue repeats its words, and stemming
// dominates building an index.
type stems map[string]string

// of returns the index keys of a text's words, stopwords left out, in order.
func (s stems) of(text string) []string {
	var out []string
	for _, w := range Words(text) {
		if IsStopword(w) {
			continue
		}
		k, ok := s[w]
		if !ok {
			k = Key(w)
			s[w] = k
		}
		out = append(out, k)
	}
	return out
}

// Fichas returns every indexed ficha, in load order.
func (ix *Index) Fichas() []*Ficha { return ix.fichas }

// LocalEmbedder is the local embedder reading as the index does (its glossary).
func (ix *Index) LocalEmbedder() HashEmbedder { return HashEmbedder{Dims: LocalDims, Gloss: ix.gloss} }

// Ficha returns the ficha with that slug, or the one it was merged into (Ficha.Aliases).
func (ix *Index) Ficha(slug string) (*Ficha, bool) {
	d, ok := ix.bySlug[slug]
	if !ok {
		return nil, false
	}
	return ix.fichas[d], true
}

// Term is one analysed word of a query.
type Term struct {
	Word   string  // as the citizen wrote it (folded), or the glossary's word
	Key    string  // index key
	Group  int     // words that stand for the same thing share a group (an acronym and its expansion)
	Weight float64 // 1 for the citizen's own words
	Fuzzy  bool    // Key is the nearest vocabulary key to a word not in the vocabulary
	Known  bool    // Key is in the vocabulary
}

// Analysis is a query after normalization, glossary and typo matching.
type Analysis struct {
	Terms   []Term
	Groups  int
	English bool // the glossary recognised English words
}

// Analyze turns a citizen's text into weighted index terms.
func (ix *Index) Analyze(text string) Analysis { return ix.analyze(text, false) }

func (ix *Index) analyze(text string, exact bool) Analysis {
	var a Analysis
	englishWords, words := 0, 0
	for _, sp := range ix.gloss.Apply(Words(text)) {
		own := sp.Words
		if sp.Replaced != nil {
			own = sp.Replaced
		}
		group := a.Groups
		added := false
		if sp.English {
			own = nil // the Spanish words stand for them; fuzzing English words finds noise
		}
		for _, w := range own {
			if IsStopword(w) || Key(w) == "" { // "h" alone has no sound: it says nothing
				continue
			}
			t := ix.term(w, group, 1, exact)
			if exact && !t.Known {
				continue // an untranslated English word says nothing either way
			}
			a.Terms = append(a.Terms, t)
			added = true
		}
		// What the glossary adds counts as much as one word, however many words it adds,
		// so that a long expansion does not outweigh the rest of the question.
		var extra []string
		for _, w := range sp.Added {
			if !IsStopword(w) && Key(w) != "" {
				extra = append(extra, w)
			}
		}
		for _, w := range extra {
			a.Terms = append(a.Terms, ix.term(w, group, 0.8/float64(len(extra)), exact))
			added = true
		}
		if sp.English {
			englishWords++
		}
		if added {
			words++
			a.Groups++
		}
	}
	a.English = englishWords > 0 && englishWords*2 >= words
	// A key asked twice (a word and the glossary's expansion of another) counts once, at
	// its highest weight, in the first group that asked it.
	seen := map[string]int{}
	terms := a.Terms[:0]
	for _, t := range a.Terms {
		if i, ok := seen[t.Key]; ok {
			terms[i].Weight = math.Max(terms[i].Weight, t.Weight)
			continue
		}
		seen[t.Key] = len(terms)
		terms = append(terms, t)
	}
	a.Terms = terms
	return a
}

func (ix *Index) term(w string, group int, weight float64, exact bool) Term {
	t := Term{Word: w, Key: Key(w), Group: group, Weight: weight}
	if _, ok := ix.idf[t.Key]; ok {
		t.Known = true
		return t
	}
	if exact {
		return t
	}
	if near := ix.nearest(t.Key); near != "" {
		t.Key, t.Fuzzy, t.Known = near, true, true
		t.Weight *= 0.8
	}
	return t
}

// nearest finds the vocabulary key closest to k by edit distance: 1 for keys of 4 to 7
// letters, 2 for longer ones; ties go to the more common key. Digits are never fuzzed.
func (ix *Index) nearest(k string) string {
	if len(k) < 4 || isDigits(k) {
		return ""
	}
	maxD := 1
	if len(k) >= 8 {
		maxD = 2
	}
	best, bestD, bestDF := "", maxD+1, 0
	for l := len(k) - maxD; l <= len(k)+maxD; l++ {
		for _, cand := range ix.byLen[l] {
			if cand[0] != k[0] && maxD == 1 {
				continue
			}
			d := editDistance(k, cand, maxD)
			df := len(ix.postings[cand])
			if d < bestD || (d == bestD && df > bestDF) {
				best, bestD, bestDF = cand, d, df
			}
		}
	}
	if bestD > maxD {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b, or max+1 once it
// is known to exceed max.
func editDistance(a, b string, max int) int {
	if abs(len(a)-len(b)) > max {
		return max + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Result is one ficha found for a query.
type Result struct {
	Ficha *Ficha
	Score float64
	// Coverage is the share of the query's meaning (its word groups, weighted by rarity)
	// that the ficha matches: 1 when every word the citizen wrote is found in it.
	Coverage float64
	// Sections lists the sections where query words were found; shared by the results of
	// every search (sectionSets): read it, never change it in place.
	Sections []string
	// Matched lists the query words found in the ficha.
	Matched []string
	// TitleCoverage is the share of the ficha's title words the question names.
	TitleCoverage float64
	// Strong is how many of the question's words (or phrases) the ficha has in its title,
	// keywords or summary.
	Strong int
	// Named is how many of the question's words (or phrases) the ficha has in its title or
	// keywords: the words that name it, not those that describe it.
	Named int
	// Lexical is the BM25F score alone (Score may add the vectors' lift and the model's
	// probability).
	Lexical float64
	// Prob is the learned model's probability that the question is about this ficha (0
	// without a model).
	Prob float64
	// Rank is the ranker's probability that this ficha, of the first candidates, is the one
	// asked about (0 without a ranker, or below the candidates it reorders).
	Rank float64
}

// Search ranks the fichas for the analysed query and returns the best k (all when k <= 0).
func (ix *Index) Search(a Analysis, k int) []Result { return ix.search(a, k, true) }

// byScore orders results best first, and those of one score by slug: a total order, so that
// any sort gives the same one.
func byScore(a, b Result) int {
	if a.Score != b.Score {
		return cmp.Compare(b.Score, a.Score)
	}
	return strings.Compare(a.Ficha.Slug, b.Ficha.Slug)
}

// search is Search; unsorted, it returns every ficha found in no order, for a caller that
// sorts them again (Find, when the model's probabilities join the scores: at thousands of
// fichas the sort was a fifth of a turn, done twice).
func (ix *Index) search(a Analysis, k int, sorted bool) []Result {
	if len(a.Terms) == 0 {
		return nil
	}
	// Per-ficha accumulators are dense slices indexed by ficha, reused across searches and
	// reset only where a search touched them: maps per posting made most of a search's time.
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	words := (max(a.Groups, 1) + 63) / 64 // group bitmask words per ficha
	sc.reset(len(ix.fichas), words)
	groupIDF := make([]float64, a.Groups)
	for _, t := range a.Terms {
		if t.Group >= 0 {
			// How much the word weighs in coverage: its rarity; less when no ficha is about
			// it (it only appears inside sections: "semana", "queda"); most when the
			// catalogue does not know it at all ("pelicula", "francia").
			// A word only citizens' questions hold ("pizza" in "trabajo repartiendo pizza")
			// weighs in coverage as one the catalogue does not know: no ficha is about it.
			idf := unknownIDF * ix.maxIDF
			if t.Known && ix.textDF[t.Key] > 0 {
				idf = ix.idf[t.Key]
				if ix.strongDF[t.Key] == 0 {
					idf *= incidentalWeight
				}
			}
			groupIDF[t.Group] = math.Max(groupIDF[t.Group], idf)
		}
		if !t.Known {
			continue
		}
		idf := ix.idf[t.Key]
		for _, p := range ix.postings[t.Key] {
			d := p.doc
			if !sc.hit[d] {
				sc.hit[d] = true
				sc.touched = append(sc.touched, d)
			}
			var tf float64
			for f := 0; f < nFields; f++ {
				if p.tf[f] == 0 {
					continue
				}
				norm := (1 - bb) + bb*float64(ix.lens[d][f])/ix.avgLen[f]
				tf += fieldWeight[f] * float64(p.tf[f]) / norm
				if f >= fRequisitos && f < fQuestions {
					sc.sections[d] |= 1 << (f - fRequisitos)
				}
			}
			sc.score[d] += t.Weight * idf * tf / (k1 + tf)
			if t.Group < 0 {
				continue
			}
			bit, w := uint64(1)<<(t.Group%64), d*words+t.Group/64
			sc.matchedGroups[w] |= bit
			if p.tf[fTitle]+p.tf[fKeywords]+p.tf[fSummary] > 0 {
				sc.strongGroups[w] |= bit
			}
			if p.tf[fTitle]+p.tf[fKeywords] > 0 {
				sc.namedGroups[w] |= bit
			}
			sc.matched[d] = append(sc.matched[d], t.Word)
		}
	}
	var total float64
	for _, v := range groupIDF {
		total += v
	}
	asked := map[string]bool{}
	for _, t := range a.Terms {
		if t.Group >= 0 && t.Known {
			asked[t.Key] = true
		}
	}
	out := make([]Result, 0, len(sc.touched))
	// The words each ficha matched, copied out of the scratch into one backing array: a
	// search at thousands of fichas touches most of them, and one allocation each was most of
	// a turn's garbage (docs/performance.md, thirty-first session).
	n := 0
	for _, d := range sc.touched {
		n += len(sc.matched[d])
	}
	words0 := make([]string, 0, n)
	for _, d := range sc.touched {
		s := sc.score[d]
		// A word found only deep in a section says less about what the ficha is than one in
		// its title, keywords or summary: it earns half.
		var cov float64
		strong, named := 0, 0
		for g := range a.Groups {
			bit, w := uint64(1)<<(g%64), d*words+g/64
			if sc.namedGroups[w]&bit != 0 {
				named++
			}
			switch {
			case sc.strongGroups[w]&bit != 0:
				cov += groupIDF[g]
				strong++
			case sc.matchedGroups[w]&bit != 0:
				cov += groupIDF[g] / 2
			}
		}
		// A ficha whose title the question names almost whole is more likely meant than one
		// whose title only shares a word: "rsh" is the Registro Social itself, not its update.
		titleCov := 0.0
		if n := len(ix.titles[d]); n > 0 {
			hit := 0
			for _, k := range ix.titles[d] {
				if asked[k] {
					hit++
				}
			}
			titleCov = float64(hit) / float64(n)
			s *= 1 + titleBonus*titleCov
		}
		var matched []string
		if m := sc.matched[d]; len(m) > 0 {
			at := len(words0)
			words0 = append(words0, m...)
			matched = words0[at:len(words0):len(words0)] // an append by a caller copies
		}
		r := Result{Ficha: ix.fichas[d], Score: s, Lexical: s, Matched: matched, Strong: strong, Named: named, TitleCoverage: titleCov,
			Sections: sectionSets[sc.sections[d]]}
		if total > 0 {
			r.Coverage = cov / total
		}
		out = append(out, r)
	}
	if sorted || k > 0 {
		slices.SortFunc(out, byScore)
	}
	if k > 0 && len(out) > k {
		out = out[:k]
	}
	return out
}

// scratch holds one search's per-ficha accumulators; only the touched fichas' entries are
// ever non-zero between searches.
type scratch struct {
	hit           []bool
	score         []float64
	sections      []uint8
	matched       [][]string
	matchedGroups []uint64 // words bitmask words per ficha: the question's groups it holds
	strongGroups  []uint64 // of those, the ones in its title, keywords or summary
	namedGroups   []uint64 // of those, the ones in its title or keywords
	touched       []int
}

// reset clears what the previous search touched and sizes the slices for n fichas and
// words group bitmask words each.
func (sc *scratch) reset(n, words int) {
	if len(sc.hit) != n {
		*sc = scratch{hit: make([]bool, n), score: make([]float64, n), sections: make([]uint8, n), matched: make([][]string, n)}
	}
	oldWords := 0
	if len(sc.hit) > 0 {
		oldWords = len(sc.matchedGroups) / len(sc.hit)
	}
	for _, d := range sc.touched {
		sc.hit[d], sc.score[d], sc.sections[d], sc.matched[d] = false, 0, 0, sc.matched[d][:0]
		if oldWords == words {
			clear(sc.matchedGroups[d*words : (d+1)*words])
			clear(sc.strongGroups[d*words : (d+1)*words])
			clear(sc.namedGroups[d*words : (d+1)*words])
		}
	}
	if oldWords != words {
		sc.matchedGroups, sc.strongGroups, sc.namedGroups = make([]uint64, n*words), make([]uint64, n*words), make([]uint64, n*words)
	}
	sc.touched = sc.touched[:0]
}

// TitleShare is the share of fichas whose title holds the key: high for words that name a
// kind of thing ("bono", "certificado") rather than one thing.
func (ix *Index) TitleShare(key string) int { return ix.titleDF[key] }

func sumTF(tf *[nFields]float32) float32 {
	var s float32
	for _, v := range tf {
		s += v
	}
	return s
}
