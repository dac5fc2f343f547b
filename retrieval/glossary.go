package retrieval

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Glossary kinds.
const (
	// GlossSpelling replaces a misspelling or SMS spelling by the word meant ("kiero" → "quiero").
	GlossSpelling = "spelling"
	// GlossAlias adds what an acronym or colloquial name means ("pgu" → "pension garantizada
	// universal"); the word itself is kept, since fichas list it among their keywords.
	GlossAlias = "alias"
	// GlossEnglish adds the Spanish words for an English one ("birth" → "nacimiento").
	GlossEnglish = "english"
)

// Entry is one line of the glossary: a folded phrase of one or more words and what it means.
type Entry struct {
	Words     []string
	Kind      string
	Expansion []string
}

// Glossary maps what citizens write to the words the catalogue uses. It is a data file
// (catalogue/glossary.tsv): term, kind, expansion, tab-separated.
type Glossary struct {
	byFirst map[string][]Entry // entries by their first word, longest phrase first
}

// ParseGlossary reads the glossary's TSV text; name is used in errors.
func ParseGlossary(name string, data []byte) (*Glossary, error) {
	g := &Glossary{byFirst: map[string][]Entry{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	var probs []Problem
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			probs = append(probs, Problem{File: name, Line: n, Msg: fmt.Sprintf("want 3 tab-separated columns (term, kind, expansion), got %d", len(cols))})
			continue
		}
		e := Entry{Words: Words(cols[0]), Kind: strings.TrimSpace(cols[1]), Expansion: Words(cols[2])}
		switch {
		case len(e.Words) == 0:
			probs = append(probs, Problem{File: name, Line: n, Field: "term", Msg: "empty"})
		case e.Kind != GlossSpelling && e.Kind != GlossAlias && e.Kind != GlossEnglish:
			probs = append(probs, Problem{File: name, Line: n, Field: "kind", Msg: fmt.Sprintf("%q is not spelling, alias or english", e.Kind)})
		case len(e.Expansion) == 0:
			probs = append(probs, Problem{File: name, Line: n, Field: "expansion", Msg: "empty"})
		default:
			g.byFirst[e.Words[0]] = append(g.byFirst[e.Words[0]], e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read glossary %s: %w", name, err)
	}
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	for k, es := range g.byFirst {
		// Longest phrase first, so "bono marzo" wins over "bono".
		for i := 1; i < len(es); i++ {
			for j := i; j > 0 && len(es[j].Words) > len(es[j-1].Words); j-- {
				es[j], es[j-1] = es[j-1], es[j]
			}
		}
		g.byFirst[k] = es
	}
	return g, nil
}

// Span is a run of words of the citizen's text and what the glossary made of it.
type Span struct {
	Words    []string // the words as written (folded)
	Replaced []string // spelling: the words meant, used instead of Words
	Added    []string // alias and english: words added beside Words
	English  bool
}

// Apply walks folded words and groups them into spans, one for each glossary match and one
// for each other word.
func (g *Glossary) Apply(words []string) []Span {
	var out []Span
	for i := 0; i < len(words); {
		var match *Entry
		if g != nil {
			for _, e := range g.byFirst[words[i]] {
				if i+len(e.Words) <= len(words) && equal(words[i:i+len(e.Words)], e.Words) {
					match = &e
					break
				}
			}
		}
		if match == nil {
			out = append(out, Span{Words: words[i : i+1]})
			i++
			continue
		}
		sp := Span{Words: words[i : i+len(match.Words)]}
		switch match.Kind {
		case GlossSpelling:
			sp.Replaced = match.Expansion
		case GlossAlias:
			sp.Added = match.Expansion
		case GlossEnglish:
			sp.Added = match.Expansion
			sp.English = true
		}
		out = append(out, sp)
		i += len(match.Words)
	}
	return out
}

// Respell returns the words with spelling entries applied and nothing added: the text the
// citizen meant, for the engine's own patterns.
func (g *Glossary) Respell(words []string) []string {
	var out []string
	for _, sp := range g.Apply(words) {
		if sp.Replaced != nil {
			out = append(out, sp.Replaced...)
		} else {
			out = append(out, sp.Words...)
		}
	}
	return out
}

// Expand returns the words respelled, each followed by what the glossary adds to it (an
// acronym's meaning, the Spanish of an English word). A nil glossary keeps the words.
func (g *Glossary) Expand(words []string) []string {
	var out []string
	for _, sp := range g.Apply(words) {
		if sp.Replaced != nil {
			out = append(out, sp.Replaced...)
		} else {
			out = append(out, sp.Words...)
		}
		out = append(out, sp.Added...)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
