package retrieval

import (
	"fmt"
	"strings"
)

// Concepts reads what a message speaks of beyond its words: a weapon, a blow, a threat, harm
// to oneself, hopelessness, a collapse; who is affected (a child, a partner, an elder); now
// or then; a negation or an everyday exaggeration; a benefit. The emergency model learns
// from these features as from words, so that a weapon it never saw in training ("una
// escopeta") weighs as the ones it did. The list is catalogue/concepts.tsv.
type Concepts struct {
	names   []string
	words   []map[string]bool // of each concept: whole words
	prefix  [][]string        // words that begin with these
	phrases [][]string        // several words, matched in order
}

// ParseConcepts reads the concepts' TSV: name<TAB>phrases separated by "; ".
func ParseConcepts(name string, data []byte) (*Concepts, error) {
	c := &Concepts{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		concept, list, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(concept) == "" || strings.ContainsAny(concept, " #") {
			return nil, fmt.Errorf("%s:%d: expected concept<TAB>phrases", name, i+1)
		}
		words, prefix, phrases := map[string]bool{}, []string(nil), []string(nil)
		for _, p := range strings.Split(list, ";") {
			star := strings.HasSuffix(strings.TrimSpace(p), "*")
			p = strings.Join(Words(p), " ")
			switch {
			case p == "":
			case star:
				prefix = append(prefix, p)
			case strings.Contains(p, " "):
				phrases = append(phrases, " "+p+" ")
			default:
				words[p] = true
			}
		}
		c.names = append(c.names, concept)
		c.words = append(c.words, words)
		c.prefix = append(c.prefix, prefix)
		c.phrases = append(c.phrases, phrases)
	}
	return c, nil
}

// Tag returns the normalised text followed by a "#name" token for each concept it names.
func (c *Concepts) Tag(norm string) string {
	if c == nil {
		return norm
	}
	words := strings.Fields(norm)
	padded := " " + norm + " "
	var b strings.Builder
	b.WriteString(norm)
	for i, name := range c.names {
		if c.has(i, words, padded) {
			b.WriteString(" #" + name)
		}
	}
	return b.String()
}

// has reports whether the text names concept i.
func (c *Concepts) has(i int, words []string, padded string) bool {
	for _, w := range words {
		if c.words[i][w] {
			return true
		}
		for _, p := range c.prefix[i] {
			if strings.HasPrefix(w, p) {
				return true
			}
		}
	}
	for _, p := range c.phrases[i] {
		if strings.Contains(padded, p) {
			return true
		}
	}
	return false
}
