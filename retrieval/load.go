package retrieval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Problem is one thing wrong in a catalogue file: where, which ficha, which field, what.
type Problem struct {
	File  string
	Line  int
	Slug  string
	Field string
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Slug != "" {
		fmt.Fprintf(&b, "ficha %q: ", p.Slug)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// LoadError lists every problem found while loading a catalogue.
type LoadError struct{ Problems []Problem }

func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	return fmt.Sprintf("catalogue has %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// LoadPath loads the fichas of a file (.json: one ficha or an array) or of every .json file
// under a directory. A catalogue's root, laid out as the bundled one, keeps its fichas under
// fichas/ beside other files (offices.json is no ficha): given the root, LoadPath reads fichas/.
func LoadPath(p string) ([]*Ficha, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("load catalogue: %w", err)
	}
	if st.IsDir() {
		if sub, err := os.Stat(filepath.Join(p, "fichas")); err == nil && sub.IsDir() {
			p = filepath.Join(p, "fichas")
		}
		return loadFS(os.DirFS(p), ".", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("load catalogue: %w", err)
	}
	fichas, probs := ParseFichas(p, data)
	return finish(fichas, probs)
}

// LoadFS loads every .json file under dir of fsys, in name order.
func LoadFS(fsys fs.FS, dir string) ([]*Ficha, error) {
	return loadFS(fsys, dir, dir)
}

func loadFS(fsys fs.FS, dir, display string) ([]*Ficha, error) {
	var names []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load catalogue %s: %w", display, err)
	}
	sort.Strings(names)
	var all []*Ficha
	var probs []Problem
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load catalogue: %w", err)
		}
		shown := name
		if display != dir {
			shown = filepath.Join(display, filepath.FromSlash(name))
		}
		f, p := ParseFichas(shown, data)
		all = append(all, f...)
		probs = append(probs, p...)
	}
	if len(names) == 0 {
		probs = append(probs, Problem{File: display, Msg: "no .json files"})
	}
	return finish(all, probs)
}

func finish(fichas []*Ficha, probs []Problem) ([]*Ficha, error) {
	seen := map[string]string{}
	for _, f := range fichas {
		if prev, ok := seen[f.Slug]; ok && f.Slug != "" {
			file, line := splitSource(f.Source)
			probs = append(probs, Problem{File: file, Line: line, Slug: f.Slug, Field: "slug", Msg: "duplicate slug, first at " + prev})
			continue
		}
		seen[f.Slug] = f.Source
	}
	// An alias names one ficha only, and no ficha of its own.
	for _, f := range fichas {
		for _, a := range f.Aliases {
			if prev, ok := seen[a]; ok {
				file, line := splitSource(f.Source)
				probs = append(probs, Problem{File: file, Line: line, Slug: f.Slug, Field: "aliases", Msg: fmt.Sprintf("%q is already a slug or alias, at %s", a, prev)})
				continue
			}
			seen[a] = f.Source
		}
	}
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	return fichas, nil
}

func splitSource(src string) (string, int) {
	i := strings.LastIndexByte(src, ':')
	if i < 0 {
		return src, 0
	}
	var n int
	fmt.Sscanf(src[i+1:], "%d", &n)
	return src[:i], n
}

// ParseFichas parses one catalogue file's content (a ficha object or an array of them) and
// validates each ficha. It returns the valid fichas and every problem found.
func ParseFichas(file string, data []byte) ([]*Ficha, []Problem) {
	dec := json.NewDecoder(bytes.NewReader(data))
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	tok, err := dec.Token()
	if err != nil {
		return nil, []Problem{{File: file, Line: lineAt(dec.InputOffset()), Msg: "not JSON: " + jsonMsg(err)}}
	}
	var raws []json.RawMessage
	var lines []int
	switch tok {
	case json.Delim('['):
		for dec.More() {
			start := skipSpace(data, dec.InputOffset())
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				off := dec.InputOffset()
				var se *json.SyntaxError
				if errors.As(err, &se) {
					off = se.Offset
				}
				return nil, []Problem{{File: file, Line: lineAt(off), Msg: "not JSON: " + jsonMsg(err)}}
			}
			raws = append(raws, raw)
			lines = append(lines, lineAt(start))
		}
		if _, err := dec.Token(); err != nil {
			return nil, []Problem{{File: file, Line: lineAt(dec.InputOffset()), Msg: "not JSON: " + jsonMsg(err)}}
		}
	case json.Delim('{'):
		raws = append(raws, json.RawMessage(data))
		lines = append(lines, lineAt(skipSpace(data, 0)))
	default:
		return nil, []Problem{{File: file, Line: 1, Msg: "expected a ficha object or an array of fichas"}}
	}
	var fichas []*Ficha
	var probs []Problem
	for i, raw := range raws {
		f, ps := parseFicha(raw)
		for _, p := range ps {
			p.File, p.Line = file, lines[i]
			probs = append(probs, p)
		}
		if len(ps) == 0 {
			f.Source = fmt.Sprintf("%s:%d", file, lines[i])
			fichas = append(fichas, f)
		}
	}
	return fichas, probs
}

func skipSpace(data []byte, off int64) int64 {
	for int(off) < len(data) && (data[off] == ' ' || data[off] == '\n' || data[off] == '\t' || data[off] == '\r' || data[off] == ',') {
		off++
	}
	return off
}

func jsonMsg(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func parseFicha(raw json.RawMessage) (*Ficha, []Problem) {
	var head struct {
		Slug string `json:"slug"`
	}
	_ = json.Unmarshal(raw, &head)
	var f Ficha
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		p := Problem{Slug: head.Slug, Msg: jsonMsg(err)}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			p.Field = te.Field
			p.Msg = fmt.Sprintf("expected %s, got %s", te.Type, te.Value)
		} else if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			p.Field = m[1]
			p.Msg = "unknown field"
		}
		return nil, []Problem{p}
	}
	probs := Validate(&f)
	return &f, probs
}

var (
	unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)
	slugRe       = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	// amountRe finds an amount of money: "$12.345", "$ 5", "UF 3", "3 UF", "2 UTM".
	amountRe = regexp.MustCompile(`\$\s?\d|\bU(F|TM)\s?\d|\d\s?U(F|TM)\b`)
)

// Warnings are what an editor should fix in a ficha that is still served: no source for its
// facts, or a link to a site's home page rather than to the benefit's own page.
func Warnings(f *Ficha) []Problem {
	var w []Problem
	if len(f.Sources) == 0 {
		w = append(w, Problem{File: f.Source, Slug: f.Slug, Field: "sources", Msg: "no source: list the public pages its facts were checked against"})
	}
	if !SpecificLink(f.URL) {
		w = append(w, Problem{File: f.Source, Slug: f.Slug, Field: "url", Msg: "a home page: link to the benefit's own page"})
	}
	return w
}

// SpecificLink reports whether a URL points to a page of a site rather than to its home page:
// it has a path, or it is the root of a site of its own below the institution's domain
// (consulta.servel.cl, calefactores.mma.gob.cl: sites made for one procedure), not of the
// institution's main site (www.ips.gob.cl, ips.gob.cl).
func SpecificLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return false
	}
	if strings.Trim(u.Path, "/") != "" {
		return true
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	domain, err := publicsuffix.EffectiveTLDPlusOne(host)
	return err == nil && host != domain
}

// MaxItemLen is the longest item text allowed, in characters.
const MaxItemLen = 300

// Validate checks one ficha against the rules of docs/catalogue.md.
func Validate(f *Ficha) []Problem {
	var probs []Problem
	bad := func(field, msg string) { probs = append(probs, Problem{Slug: f.Slug, Field: field, Msg: msg}) }
	switch {
	case f.Slug == "":
		bad("slug", "required")
	case !slugRe.MatchString(f.Slug):
		bad("slug", "use lowercase letters, digits and single hyphens")
	}
	for _, a := range f.Aliases {
		if !slugRe.MatchString(a) || a == f.Slug {
			bad("aliases", fmt.Sprintf("%q: an alias is another slug, in lowercase letters, digits and single hyphens", a))
		}
	}
	if strings.TrimSpace(f.Title) == "" {
		bad("title", "required")
	}
	if strings.TrimSpace(f.Institution) == "" {
		bad("institution", "required")
	}
	if len(f.Topics) == 0 {
		bad("topics", "at least one topic")
	}
	for i, t := range f.Topics {
		if !slugRe.MatchString(t) {
			bad(fmt.Sprintf("topics[%d]", i), "use lowercase letters and hyphens")
		}
	}
	if strings.TrimSpace(f.Summary) == "" {
		bad("summary", "required")
	} else if amountRe.MatchString(f.Summary) {
		bad("summary", "amounts belong in an item with valid_from, not in the summary")
	}
	if u, err := url.Parse(f.URL); f.URL == "" || err != nil || u.Scheme != "https" || u.Host == "" {
		bad("url", "an https:// address is required")
	}
	if msg := f.ValidFrom.check(true); msg != "" {
		bad("valid_from", msg)
	}
	if msg := f.Reviewed.check(true); msg != "" {
		bad("reviewed", msg)
	}
	for i, k := range f.Keywords {
		if strings.TrimSpace(k) == "" {
			bad(fmt.Sprintf("keywords[%d]", i), "empty keyword")
		}
	}
	for i, src := range f.Sources {
		field := fmt.Sprintf("sources[%d]", i)
		if u, err := url.Parse(src.URL); src.URL == "" || err != nil || u.Scheme != "https" || u.Host == "" {
			bad(field+".url", "an https:// address is required")
		}
		if strings.TrimSpace(src.Supports) == "" {
			bad(field+".supports", "say what the page supports (a section, an amount, a rule)")
		}
		if msg := src.Read.check(true); msg != "" {
			bad(field+".read", msg)
		}
	}
	s := f.Sections
	type list struct {
		name  string
		items []Item
	}
	lists := []list{
		{"sections.requisitos", s.Requisitos}, {"sections.monto", s.Monto},
		{"sections.documentos", s.Documentos}, {"sections.fechas", s.Fechas}, {"sections.costo", s.Costo},
	}
	if s.Como != nil {
		if len(s.Como.Online)+len(s.Como.Office)+len(s.Como.Phone) == 0 {
			bad("sections.como", "needs at least one channel: online, office or phone")
		}
		lists = append(lists, list{"sections.como.online", s.Como.Online},
			list{"sections.como.office", s.Como.Office}, list{"sections.como.phone", s.Como.Phone})
	}
	total := 0
	for _, l := range lists {
		for i, it := range l.items {
			total++
			field := fmt.Sprintf("%s[%d]", l.name, i)
			text := strings.TrimSpace(it.Text)
			switch {
			case text == "":
				bad(field, "empty item")
			case len([]rune(text)) > MaxItemLen:
				bad(field, fmt.Sprintf("item longer than %d characters: split it", MaxItemLen))
			case strings.ContainsAny(text, "<>"):
				bad(field, "plain text only: no HTML")
			}
			if msg := it.ValidFrom.check(false); msg != "" {
				bad(field+".valid_from", msg)
			} else if amountRe.MatchString(text) && it.ValidFrom.IsZero() {
				bad(field+".valid_from", "an item with an amount needs valid_from")
			}
			if msg := it.ValidUntil.check(false); msg != "" {
				bad(field+".valid_until", msg)
			} else if !it.ValidUntil.IsZero() && !it.ValidFrom.IsZero() && !it.ValidUntil.After(it.ValidFrom.Time) {
				bad(field+".valid_until", "must come after valid_from")
			}
		}
	}
	if total == 0 {
		bad("sections", "at least one section with items")
	}
	return probs
}
