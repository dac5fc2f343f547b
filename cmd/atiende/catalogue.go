package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
)

const catalogueUsage = `usage:
  atiende catalogue validate [FILE|DIR]          check a catalogue; list every problem
  atiende catalogue stats [--json] [FILE|DIR]    counts by topic and institution, gaps, oldest reviews
  atiende catalogue import --format chileatiende FILE [--out FILE]
                                                 convert ChileAtiende API JSON to our format
  atiende catalogue synth --n N [--seed S] [--out FILE]
                                                 a synthetic catalogue for benchmarks (never served)`

func cmdCatalogue(cfg config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"catalogue: " + catalogueUsage}
	}
	switch args[0] {
	case "validate":
		return catalogueValidate(cfg, args[1:], stdout)
	case "stats":
		return catalogueStats(cfg, args[1:], stdout)
	case "import":
		return catalogueImport(args[1:], stdout, stderr)
	case "synth":
		return catalogueSynth(cfg, args[1:], stdout)
	}
	return usageError{fmt.Sprintf("catalogue: unknown command %q\n%s", args[0], catalogueUsage)}
}

// fichasOf loads the fichas of a path, of ATIENDE_CATALOGUE, or the bundled ones.
func fichasOf(cfg config, path string) ([]*retrieval.Ficha, error) {
	switch {
	case path != "":
		return retrieval.LoadPath(path)
	case cfg.Catalogue != "":
		return retrieval.LoadPath(cfg.Catalogue)
	}
	return retrieval.LoadFS(catalogue.FS, "fichas")
}

func catalogueValidate(cfg config, args []string, stdout io.Writer) error {
	fs := flags("catalogue validate", stdout)
	listWarnings := fs.Bool("warnings", false, "list each warning (a ficha without sources, a link to a home page)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	path := ""
	if len(rest) > 0 {
		path = rest[0]
	}
	fichas, err := fichasOf(cfg, path)
	if err != nil {
		return err
	}
	// The citizens' questions of the bundled catalogue name only its fichas; beside a catalogue
	// of one's own, those of fichas it lacks are skipped.
	bundled := path == "" && cfg.Catalogue == ""
	if err := retrieval.LoadQuestions(catalogue.FS, "questions", fichas, bundled); err != nil {
		return err
	}
	asked := 0
	for _, f := range fichas {
		if len(f.Questions) > 0 {
			asked++
		}
	}
	fmt.Fprintf(stdout, "ok: %d fichas, %d with citizens' questions\n", len(fichas), asked)
	byField := map[string]int{}
	for _, f := range fichas {
		for _, w := range retrieval.Warnings(f) {
			byField[w.Field]++
			if *listWarnings {
				fmt.Fprintln(stdout, "warning: "+w.String())
			}
		}
	}
	if n := byField["sources"] + byField["url"]; n > 0 {
		fmt.Fprintf(stdout, "%d warnings: %d fichas without sources, %d linking to a home page", n, byField["sources"], byField["url"])
		if !*listWarnings {
			fmt.Fprint(stdout, " (--warnings lists them)")
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// stats is the JSON of "atiende catalogue stats --json".
type stats struct {
	Fichas         int                 `json:"fichas"`
	Slugs          []string            `json:"slugs"`
	Offices        int                 `json:"offices"`
	Regions        int                 `json:"regions"`
	Mobile         int                 `json:"mobile_offices"`
	Comunas        int                 `json:"comunas"`
	ByTopic        map[string]int      `json:"by_topic"`
	ByInstitution  map[string]int      `json:"by_institution"`
	MissingSection map[string][]string `json:"missing_section"`
	OldestReviewed []reviewed          `json:"oldest_reviewed"`
	// The shares of fichas with at least one source, with a link to the benefit's own page
	// (not a home page), and reviewed in the 6 months before today.
	WithSources   float64 `json:"with_sources"`
	SpecificLinks float64 `json:"specific_links"`
	RecentReview  float64 `json:"reviewed_last_6_months"`
	// CommonReview is the review date the most fichas share, and how many: a date stamped on
	// many at once is a bulk stamp, not a review.
	CommonReview string `json:"most_common_reviewed"`
	CommonCount  int    `json:"most_common_reviewed_count"`
}

type reviewed struct {
	Slug     string `json:"slug"`
	Reviewed string `json:"reviewed"`
}

func catalogueStats(cfg config, args []string, stdout io.Writer) error {
	fs := flags("catalogue stats", stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	path := ""
	if len(rest) > 0 {
		path = rest[0]
	}
	fichas, err := fichasOf(cfg, path)
	if err != nil {
		return err
	}
	net, err := embeddedNetwork()
	if err != nil {
		return err
	}
	st := stats{Fichas: len(fichas), Offices: len(net.Offices), Mobile: len(net.Mobile), Comunas: len(net.Comunas),
		ByTopic: map[string]int{}, ByInstitution: map[string]int{}, MissingSection: map[string][]string{}}
	regions := map[string]bool{}
	for _, o := range net.Offices {
		regions[o.Region] = true
	}
	st.Regions = len(regions)
	for _, f := range fichas {
		st.Slugs = append(st.Slugs, f.Slug)
		st.ByTopic[f.Topics[0]]++
		st.ByInstitution[f.Institution]++
		for _, a := range []string{retrieval.AspectRequisitos, retrieval.AspectMonto, retrieval.AspectComo, retrieval.AspectDocumentos, retrieval.AspectFechas, retrieval.AspectCosto} {
			if len(f.Sections.Items(a)) == 0 {
				st.MissingSection[a] = append(st.MissingSection[a], f.Slug)
			}
		}
	}
	sort.Strings(st.Slugs)
	sixMonths := time.Now().AddDate(0, -6, 0)
	days := map[string]int{}
	for _, f := range fichas {
		if len(f.Sources) > 0 {
			st.WithSources++
		}
		if retrieval.SpecificLink(f.URL) {
			st.SpecificLinks++
		}
		if f.Reviewed.After(sixMonths) {
			st.RecentReview++
		}
		d := f.Reviewed.Format(time.DateOnly)
		if days[d]++; days[d] > st.CommonCount || (days[d] == st.CommonCount && d < st.CommonReview) {
			st.CommonReview, st.CommonCount = d, days[d]
		}
	}
	if n := float64(len(fichas)); n > 0 {
		st.WithSources, st.SpecificLinks, st.RecentReview = st.WithSources/n, st.SpecificLinks/n, st.RecentReview/n
	}
	byAge := append([]*retrieval.Ficha(nil), fichas...)
	sort.SliceStable(byAge, func(i, j int) bool { return byAge[i].Reviewed.Before(byAge[j].Reviewed.Time) })
	for _, f := range byAge[:min(10, len(byAge))] {
		st.OldestReviewed = append(st.OldestReviewed, reviewed{f.Slug, f.Reviewed.Format(time.DateOnly)})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(stdout, "%d fichas; %d offices in %d regions, %d mobile offices, %d comunas\n", st.Fichas, st.Offices, st.Regions, st.Mobile, st.Comunas)
	printCounts(stdout, "by topic", st.ByTopic)
	printCounts(stdout, "by institution", st.ByInstitution)
	fmt.Fprintln(stdout, "\nfichas without a section:")
	for _, a := range []string{"requisitos", "monto", "como", "documentos", "fechas", "costo"} {
		fmt.Fprintf(stdout, "  %-11s %d\n", a, len(st.MissingSection[a]))
	}
	fmt.Fprintf(stdout, "\nwith sources %.0f%%, linking to the benefit's own page %.0f%%, reviewed in the last 6 months %.0f%%; %d fichas share the review date %s\n",
		100*st.WithSources, 100*st.SpecificLinks, 100*st.RecentReview, st.CommonCount, st.CommonReview)
	fmt.Fprintln(stdout, "\noldest reviewed:")
	for _, r := range st.OldestReviewed {
		fmt.Fprintf(stdout, "  %s  %s\n", r.Reviewed, r.Slug)
	}
	fmt.Fprintln(stdout, "\nslugs:")
	fmt.Fprintln(stdout, "  "+strings.Join(st.Slugs, "\n  "))
	return nil
}

func printCounts(w io.Writer, title string, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, k := range keys {
		fmt.Fprintf(w, "  %4d  %s\n", m[k], k)
	}
}

func writeFichas(path string, stdout io.Writer, fichas []*retrieval.Ficha) error {
	data, err := json.MarshalIndent(fichas, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "" || path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func catalogueImport(args []string, stdout, stderr io.Writer) error {
	fs := flags("catalogue import", stderr)
	format := fs.String("format", "", "the input's format: chileatiende")
	out := fs.String("out", "", "write the fichas here (default: standard output)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *format != "chileatiende" {
		return usageError{"catalogue import: --format chileatiende is the one format known"}
	}
	if len(files) != 1 {
		return usageError{"catalogue import: give one FILE"}
	}
	name := files[0]
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	fichas, notes, err := retrieval.ImportChileAtiende(data, time.Now().UTC().Truncate(24*time.Hour))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	skipped := 0
	for _, n := range notes {
		switch {
		case n.Skipped != "":
			skipped++
			fmt.Fprintf(stderr, "%s: record %d (id %q): skipped: %s\n", name, n.Record, n.ID, n.Skipped)
		case len(n.Notes) > 0:
			fmt.Fprintf(stderr, "%s: record %d (id %q) → %s: %s\n", name, n.Record, n.ID, n.Slug, strings.Join(n.Notes, "; "))
		}
	}
	fmt.Fprintf(stderr, "%d records: %d imported, %d skipped\n", len(notes), len(fichas), skipped)
	if err := writeFichas(*out, stdout, fichas); err != nil {
		return err
	}
	if skipped > 0 {
		return exitError{1, fmt.Errorf("%d record(s) could not be imported; the others were written", skipped)}
	}
	return nil
}

func catalogueSynth(cfg config, args []string, stdout io.Writer) error {
	fs := flags("catalogue synth", stdout)
	n := fs.Int("n", 2500, "how many fichas")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same catalogue")
	out := fs.String("out", "", "write the fichas here (default: standard output)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *n <= 0 {
		return usageError{"catalogue synth: --n must be positive"}
	}
	real, err := fichasOf(cfg, "")
	if err != nil {
		return err
	}
	return writeFichas(*out, stdout, retrieval.Synthesize(real, *n, *seed))
}
