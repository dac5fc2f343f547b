package retrieval

import (
	"bytes"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode/utf8"
)

// ParseQuestions reads a file of citizens' questions: one `slug<TAB>question` a line; blank
// lines and lines that start with # are skipped. Every problem names the file and line.
func ParseQuestions(name string, data []byte) (map[string][]string, []Problem) {
	out := map[string][]string{}
	var probs []Problem
	for i, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimRight(string(line), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		bad := func(field, msg string) {
			probs = append(probs, Problem{File: name, Line: i + 1, Field: field, Msg: msg})
		}
		if !utf8.ValidString(text) {
			bad("question", "not UTF-8 text")
			continue
		}
		slug, q, ok := strings.Cut(text, "\t")
		slug, q = strings.TrimSpace(slug), strings.TrimSpace(q)
		switch {
		case !ok:
			bad("question", "expected slug<TAB>question")
		case slug == "":
			bad("slug", "empty")
		case q == "" || strings.Contains(q, "\t"):
			bad("question", "empty, or a tab inside the question")
		default:
			out[slug] = append(out[slug], q)
		}
	}
	return out, probs
}

// FichasOnlySuffix ends the name of a file of questions that the emergency models do not learn
// as ordinary text (Ficha.FichasOnly).
const FichasOnlySuffix = ".fichas.tsv"

// LoadQuestions reads every .tsv file of dir in fsys (none is fine) and gives each ficha its
// questions. A question for a slug the fichas do not have is a problem when strict (the
// bundled catalogue), and is skipped otherwise (a catalogue of one's own beside the bundled
// questions).
func LoadQuestions(fsys fs.FS, dir string, fichas []*Ficha, strict bool) error {
	names, err := fs.Glob(fsys, path.Join(dir, "*.tsv"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	bySlug := make(map[string]*Ficha, len(fichas))
	for _, f := range fichas {
		bySlug[f.Slug] = f
		for _, a := range f.Aliases {
			bySlug[a] = f // the questions of a ficha merged into this one
		}
		f.Questions, f.FichasOnly = nil, nil
	}
	var probs []Problem
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		qs, p := ParseQuestions(name, data)
		probs = append(probs, p...)
		slugs := make([]string, 0, len(qs))
		for s := range qs {
			slugs = append(slugs, s)
		}
		sort.Strings(slugs)
		for _, s := range slugs {
			f, ok := bySlug[s]
			if !ok {
				if strict {
					probs = append(probs, Problem{File: name, Line: lineOf(data, s+"\t"), Slug: s, Field: "slug", Msg: "no ficha has this slug"})
				}
				continue
			}
			f.Questions = append(f.Questions, qs[s]...)
			if strings.HasSuffix(name, FichasOnlySuffix) {
				if f.FichasOnly == nil {
					f.FichasOnly = map[string]bool{}
				}
				for _, q := range qs[s] {
					f.FichasOnly[q] = true
				}
			}
		}
	}
	if len(probs) > 0 {
		return &LoadError{Problems: probs}
	}
	return nil
}

// lineOf is the line number where prefix first starts a line of data.
func lineOf(data []byte, prefix string) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(prefix)) {
			return i + 1
		}
	}
	return 0
}
