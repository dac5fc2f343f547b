package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/bot/llm"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/channels"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
)

func loadIndex(cfg config) (*retrieval.Index, error) {
	read := embeddedIndex
	if cfg.Catalogue != "" {
		read = func() (*retrieval.Index, error) { return retrieval.Bundled(catalogue.FS, cfg.Catalogue) }
	}
	ix, err := read()
	if err != nil {
		return nil, fmt.Errorf("load catalogue: %w", err)
	}
	vs, err := embedCatalogue(context.Background(), cfg.Embed, ix)
	if err != nil || vs == nil {
		return ix, err
	}
	return ix.With(retrieval.WithVectors(vs, vectorWeight)), nil
}

// vectorWeight is how much an embedder's cosine lifts a lexical score; docs/eval.md has the
// measurements behind it (made with the local embedder; a model server's are kept at the
// same weight until measured on its own).
const vectorWeight = 0.5

// embedCatalogue embeds the index's fichas with the embedder ec names, reading as the
// index does; nil for ATIENDE_EMBEDDER=none. A model server that cannot be reached, or
// answers vectors of inconsistent length, is an error naming it.
func embedCatalogue(ctx context.Context, ec retrieval.EmbedderConfig, ix *retrieval.Index) (*retrieval.Vectors, error) {
	ec.Gloss = ix.Glossary()
	emb, err := retrieval.NewEmbedder(ec)
	if err != nil || emb == nil {
		return nil, err
	}
	return retrieval.NewVectors(ctx, emb, ix.Fichas())
}

// loadEngine loads the catalogue and the office network and builds the engine.
func loadEngine(cfg config) (*bot.Engine, *retrieval.Index, error) {
	p, err := loadParts(cfg)
	if err != nil {
		return nil, nil, err
	}
	e, err := p.engine(cfg, p.ix)
	return e, p.ix, err
}

// engineParts is what the engines of one command share: the index, the emergency model and
// the office network, each loaded once.
type engineParts struct {
	ix  *retrieval.Index
	det *retrieval.Detector
	net *retrieval.Network
}

func loadParts(cfg config) (engineParts, error) {
	detector := loadDetector()
	ix, err := loadIndex(cfg)
	if err != nil {
		return engineParts{}, err
	}
	det, err := detector()
	if err != nil {
		return engineParts{}, err
	}
	net, err := embeddedNetwork()
	if err != nil {
		return engineParts{}, fmt.Errorf("load office network: %w", err)
	}
	return engineParts{ix: ix, det: det, net: net}, nil
}

// engine builds an engine over r (the index, or Postgres) with the parts and the language
// model cfg configures (its own: two engines share no writer).
func (p engineParts) engine(cfg config, r bot.Retriever) (*bot.Engine, error) {
	opts, err := withWriter(cfg)
	if err != nil {
		return nil, err
	}
	return bot.New(r, p.net, append(opts, bot.WithEmergencyModel(p.det))...), nil
}

// The embedded catalogue's index, emergency model and office network never change while the
// process runs, and nothing changes them once built: each is read once, however many commands
// run in the process. A command runs once in its own process; the tests run about fifty in
// one, and read them once instead of each time (docs/performance.md, "The test suite"). A
// catalogue directory (ATIENDE_CATALOGUE) is read each time: a reload must see its changes.
var (
	embeddedIndex    = sync.OnceValues(func() (*retrieval.Index, error) { return retrieval.Bundled(catalogue.FS, "") })
	embeddedDetector = sync.OnceValues(func() (*retrieval.Detector, error) { return retrieval.LoadDetector(catalogue.FS) })
	embeddedNetwork  = sync.OnceValues(func() (*retrieval.Network, error) { return retrieval.LoadNetwork(catalogue.FS) })
)

// loadDetector starts loading the bundled emergency model and returns what waits for it: it
// and the index each take most of a second to load (docs/performance.md, "The test suite"),
// and load at once on two cores.
func loadDetector() func() (*retrieval.Detector, error) {
	type loaded struct {
		d   *retrieval.Detector
		err error
	}
	ch := make(chan loaded, 1)
	go func() {
		d, err := embeddedDetector()
		ch <- loaded{d, err}
	}()
	return sync.OnceValues(func() (*retrieval.Detector, error) {
		l := <-ch
		if l.err != nil {
			return nil, fmt.Errorf("load emergency model: %w", l.err)
		}
		return l.d, nil
	})
}

// withWriter gives the engine a language model when ATIENDE_LLM asks for one: it writes the
// answers and, unless ATIENDE_LLM_SECOND_OPINION=off, gives its second opinion.
func withWriter(cfg config) ([]bot.EngineOption, error) {
	if cfg.LLM.Provider == "none" {
		return nil, nil
	}
	w, err := llm.New(cfg.LLM)
	if err != nil {
		return nil, err
	}
	opts := []bot.EngineOption{bot.WithWriter(w, cfg.LLM.Timeout)}
	if cfg.SecondOpinion {
		opts = append(opts, bot.WithJudge(w.Judge(), cfg.LLM.Timeout))
	}
	return opts, nil
}

func flags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parse parses flags wherever they stand among the arguments ("import FILE --out X" as well
// as "import --out X FILE") and returns the other arguments, in order; "--" ends the flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError{err.Error()}
		}
		consumed := len(args) - len(fs.Args())
		endOfFlags := consumed > 0 && args[consumed-1] == "--"
		args = fs.Args()
		if endOfFlags {
			return append(rest, args...), nil
		}
		if len(args) == 0 {
			break
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
	return rest, nil
}

// errHelp: -h was asked for; the flag set printed its usage.
var errHelp = errors.New("help shown")

func validChannel(ch string) error {
	switch ch {
	case bot.ChannelWeb, bot.ChannelSMS, bot.ChannelWhatsApp:
		return nil
	}
	return usageError{fmt.Sprintf("--channel %q: want web, sms or whatsapp", ch)}
}

// askOutput is the JSON of "atiende ask --json" (../shared/eval/FORMAT.md).
type askOutput struct {
	Action   string       `json:"action"`
	Reply    string       `json:"reply"`
	Aspect   string       `json:"aspect"`
	Fichas   []askHit     `json:"fichas"`
	Options  []bot.Option `json:"options,omitempty"`
	Offices  []string     `json:"offices,omitempty"`
	More     []string     `json:"more,omitempty"`
	Segments int          `json:"segments,omitempty"`
	Encoding string       `json:"encoding,omitempty"`
}

type askHit struct {
	Slug  string  `json:"slug"`
	Title string  `json:"title"`
	URL   string  `json:"url"`
	Score float64 `json:"score"`
}

func cmdAsk(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flags("ask", stdout)
	channel := fs.String("channel", "web", "render for web, sms or whatsapp")
	asJSON := fs.Bool("json", false, "print JSON")
	trace := fs.Bool("trace", false, "also print how retrieval ranked the fichas")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := validChannel(*channel); err != nil {
		return err
	}
	text := strings.Join(rest, " ")
	if strings.TrimSpace(text) == "" {
		return usageError{`ask: give the text, e.g. atiende ask "cuanto es la pgu"`}
	}
	e, ix, err := loadEngine(cfg)
	if err != nil {
		return err
	}
	if *trace {
		found := ix.Find(ctx, retrieval.Query{Text: text}, 8)
		fmt.Fprintf(stdout, "groups %d vague %v english %v off-topic %.2f outside %.2f person %.2f wants %.2f known %.2f\n", found.Groups, found.Vague, found.English, found.OffTopic, found.Outside, found.Person, found.Wants, found.Known)
		if d, err := embeddedDetector(); err == nil && d != nil {
			fmt.Fprintf(stdout, "danger model:")
			for _, l := range d.Predict(ix.Normalize(text)) {
				if l.P >= 0.01 {
					fmt.Fprintf(stdout, " %s %.2f", l.Name, l.P)
				}
			}
			fmt.Fprintln(stdout)
		}
		d := e.ReadDanger(text)
		fmt.Fprintf(stdout, "danger: kinds %v sure %v pattern %v p %.3f pf %.3f known %d nearest lines %.2f %s (top %.2f)\n",
			d.Kinds, d.Sure, d.Pattern, d.P, d.PF, d.Known, d.NearShare, d.NearKind, d.NearTop)
		for _, r := range found.Results {
			fmt.Fprintf(stdout, "  %-45s score %6.3f lexical %6.3f model %.2f coverage %.2f matched %v\n", r.Ficha.Slug, r.Score, r.Lexical, r.Prob, r.Coverage, r.Matched)
		}
	}
	r, _ := e.Turn(ctx, bot.State{}, text, *channel)
	out := channels.Render(*channel, r.Text)
	if !*asJSON {
		fmt.Fprintln(stdout, out.Text)
		return nil
	}
	o := askOutput{Action: r.Action, Reply: out.Text, Aspect: r.Aspect, Fichas: []askHit{}, Options: r.Options,
		Segments: out.Segments, Encoding: out.Encoding, Offices: r.Offices, More: out.More}
	for _, h := range r.Fichas {
		o.Fichas = append(o.Fichas, askHit(h))
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(o)
}

func cmdEval(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flags("eval", stdout)
	path := fs.String("cases", "", "a JSON Lines file of cases (../shared/eval/FORMAT.md)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	modes := fs.Bool("retrieval-modes", false, "compare lexical, vector and hybrid retrieval on the cases' first turns instead")
	quiet := fs.Bool("summary", false, "leave the failing turns out of the report (for the blind set: figures, not cases to tune against)")
	onPG := fs.Bool("postgres", false, "import the catalogue into DATABASE_URL and compare the Postgres retrieval path with the embedded one instead")
	questions := fs.Bool("catalogue-questions", false, "also run every question of the catalogue's fichas as a one-turn case that expects its ficha: the models learned them, so what fails is mostly a rule in the way")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *path != "" {
		files = append([]string{*path}, files...)
	}
	if len(files) == 0 && !*questions {
		return usageError{"eval: give --cases FILE"}
	}
	var cases []eval.Case
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return exitError{2, err}
		}
		cs, err := eval.ReadCases(name, f)
		f.Close()
		if err != nil {
			return exitError{2, err}
		}
		cases = append(cases, cs...)
	}
	if *modes {
		return compareRetrieval(ctx, cfg, cases, *asJSON, stdout)
	}
	if *onPG {
		return comparePostgres(ctx, cfg, cases, *asJSON, stdout)
	}
	e, ix, err := loadEngine(cfg)
	if err != nil {
		return err
	}
	if *questions {
		cases = append(cases, catalogueQuestions(ix)...)
	}
	ix.WarmNearest() // the latencies measured are turns', not the ranker's first use of a ficha
	rep := eval.Run(ctx, e, cases)
	if *quiet {
		rep.Failures = []eval.Failure{}
	}
	if cfg.LLM.Provider != "none" {
		stats := e.WriterStats()
		rep.LLM = &stats
		if cfg.SecondOpinion {
			js := e.JudgeStats()
			rep.Judge = &js
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.WriteText(stdout)
	return nil
}

func cmdChat(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flags("chat", stdout)
	channel := fs.String("channel", "web", "render for web, sms or whatsapp")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := validChannel(*channel); err != nil {
		return err
	}
	e, _, err := loadEngine(cfg)
	if err != nil {
		return err
	}
	var st bot.State
	var more []string // held for MAS, as the SMS and WhatsApp channels hold it
	fmt.Fprintln(stdout, "Atiende — escriba su consulta (Ctrl-D para salir).")
	sc := bufio.NewScanner(stdin)
	for {
		fmt.Fprint(stdout, "> ")
		if !sc.Scan() {
			fmt.Fprintln(stdout)
			return sc.Err()
		}
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		if *channel != bot.ChannelWeb && twilio.AsksMore(sc.Text()) && len(more) > 0 {
			out := channels.RenderMore(*channel, more)
			more = out.More
			fmt.Fprintf(stdout, "%s\n[more", out.Text)
			if out.Segments > 0 {
				fmt.Fprintf(stdout, " · %d SMS %s", out.Segments, out.Encoding)
			}
			fmt.Fprintln(stdout, "]")
			continue
		}
		var r bot.Reply
		r, st = e.Turn(ctx, st, sc.Text(), *channel)
		out := channels.Render(*channel, r.Text)
		more = out.More
		fmt.Fprintf(stdout, "%s\n[%s · %s", out.Text, r.Action, r.Aspect)
		if out.Segments > 0 {
			fmt.Fprintf(stdout, " · %d SMS %s", out.Segments, out.Encoding)
		}
		fmt.Fprintln(stdout, "]")
		if ctx.Err() != nil {
			return nil
		}
	}
}

// compareRetrieval measures the lexical index, the configured embedder's vectors (the
// local one when ATIENDE_EMBEDDER is none) and their reciprocal rank fusion on the same
// cases (docs/eval.md has the figures).
func compareRetrieval(ctx context.Context, cfg config, cases []eval.Case, asJSON bool, stdout io.Writer) error {
	ec := cfg.Embed
	if ec.Provider == "none" {
		ec.Provider = "local"
	}
	cfg.Embed.Provider = "none" // the lexical ranking alone; the vectors are searched apart
	ix, err := loadIndex(cfg)
	if err != nil {
		return err
	}
	vs, err := embedCatalogue(ctx, ec, ix)
	if err != nil {
		return err
	}
	slugs := func(fs []*retrieval.Ficha) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = f.Slug
		}
		return out
	}
	lexical := func(text string) []*retrieval.Ficha {
		var out []*retrieval.Ficha
		for _, r := range ix.Search(ix.Analyze(text), 20) {
			out = append(out, r.Ficha)
		}
		return out
	}
	rankers := map[string]eval.Ranker{
		"lexical": func(_ context.Context, text string) ([]string, error) { return slugs(lexical(text)), nil },
		"vector": func(ctx context.Context, text string) ([]string, error) {
			v, err := vs.Search(ctx, text, 20)
			return slugs(v), err
		},
		"hybrid": func(ctx context.Context, text string) ([]string, error) {
			v, err := vs.Search(ctx, text, 20)
			return slugs(retrieval.FuseRRF(lexical(text), v)), err
		},
	}
	scores, err := eval.CompareRankers(ctx, cases, []string{"lexical", "vector", "hybrid"}, rankers)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(scores)
	}
	eval.WriteModes(stdout, scores)
	return nil
}

// catalogueQuestions are the questions of the index's fichas as one-turn cases, each expecting
// its own ficha, on the web channel.
func catalogueQuestions(ix *retrieval.Index) []eval.Case {
	var cases []eval.Case
	for _, f := range ix.Fichas() {
		for i, q := range f.Questions {
			cases = append(cases, eval.Case{ID: fmt.Sprintf("%s-q%d", f.Slug, i+1), Channel: bot.ChannelWeb,
				Turns: []eval.Turn{{User: q, Expect: eval.Expect{Fichas: []string{f.Slug}}}}})
		}
	}
	return cases
}
