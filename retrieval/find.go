package retrieval

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
func (ix *Index) Find(q Query, k int) Found {
	a := ix.analyze(q.Text, q.Exact)
	f := Found{Groups: a.Groups, English: a.English}
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
	res := ix.Search(a, 0)
	if ix.vectors != nil && len(res) > 1 {
		ix.vectors.lift(q.Text, res, ix.vectorWeight)
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
