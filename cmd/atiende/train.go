package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

// cmdTrain trains the learned models from a catalogue directory (the fichas, their citizens'
// questions and the emergency bank) and writes them into its model/ folder; --dev trains on
// four fifths of the questions and of the bank and measures the engine on the rest instead.
func cmdTrain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("train", stdout)
	dir := fs.String("catalogue", "catalogue", "the catalogue directory to train from and write model/ into")
	dev := fs.Bool("dev", false, "hold out a fifth of the questions and of the bank, train on the rest, and report the engine on the held-out part; writes nothing")
	asJSON := fs.Bool("json", false, "with --dev: print the report as JSON")
	dump := fs.String("dump", "", "with --dev: write each held-out turn, the engine's reply and its readings of danger to this file (tab-separated, a header first)")
	cache := fs.String("cache", "", "a directory to keep the models trained without the held-out fifth in, reused while their data and settings are the same (to try engine changes in seconds)")
	fcfg, ecfg := learn.DefaultConfig, learn.EmergencyConfig
	fs.IntVar(&fcfg.Dim, "dim", fcfg.Dim, "with --dev: the fichas model's vector size, to try settings on held-out data")
	fs.IntVar(&fcfg.Epochs, "epochs", fcfg.Epochs, "with --dev: the fichas model's passes")
	fs.Float64Var(&fcfg.LR, "lr", fcfg.LR, "with --dev: the fichas model's learning rate")
	fs.IntVar(&ecfg.Epochs, "emergency-epochs", ecfg.Epochs, "with --dev: the emergency model's passes")
	fs.IntVar(&ecfg.Members, "emergency-members", ecfg.Members, "with --dev: how many emergency models to train and average")
	fs.Float64Var(&fcfg.Dropout, "dropout", fcfg.Dropout, "with --dev: the chance that the fichas model leaves out each feature of an example in one pass")
	fs.Float64Var(&ecfg.Dropout, "emergency-dropout", ecfg.Dropout, "with --dev: the same for the emergency model")
	fold := fs.Int("fold", 0, "with --dev: which fifth of the texts to hold out (0 to 4; retrieval.InFold): each is a measure on other texts, to see whether a change holds beyond one fifth")
	seed := fs.Uint64("seed", fcfg.Seed, "with --dev: the fichas and emergency models' seed (an ensemble's members take the next ones: 1 and 4 share none), to see how far one training run's chance moves the figures")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *seed != fcfg.Seed {
		fcfg.Seed, ecfg.Seed = *seed, *seed
	}
	fsys := os.DirFS(*dir)
	if *fold < 0 || *fold >= retrieval.Folds {
		return fmt.Errorf("train: --fold %d: a fold is 0 to %d", *fold, retrieval.Folds-1)
	}
	if *dev {
		return trainDev(ctx, fsys, fcfg, ecfg, *fold, *cache, *dump, *asJSON, stdout)
	}
	if *dump != "" || *fold != 0 {
		return errors.New("train: --dump and --fold are for --dev (the ranker of the bundled models learns from fold 0)")
	}
	if fcfg != learn.DefaultConfig || ecfg != learn.EmergencyConfig {
		return errors.New("train: --dim, --epochs, --lr, --dropout, --seed and the --emergency-* settings only try settings with --dev; the bundled models use learn.DefaultConfig and learn.EmergencyConfig")
	}
	start := time.Now()
	if err := trainRanker(ctx, fsys, *dir, *cache, stdout); err != nil {
		return err
	}
	t, err := retrieval.TrainingData(fsys, nil)
	if err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		data []learn.Example
		cfg  learn.Config
	}{{retrieval.FichasModel, t.Fichas, learn.DefaultConfig}, {retrieval.EmergencyModel, t.Emergency, learn.EmergencyConfig}} {
		model, err := learn.Train(m.data, m.cfg)
		if err != nil {
			return err
		}
		path, size, err := writeModel(*dir, m.name, model)
		if err != nil {
			return err
		}
		feats, dim := model.Size()
		fmt.Fprintf(stdout, "%s: %d examples, %d labels, %d features × %d, %d KiB, digest %s\n",
			path, len(m.data), len(model.Labels), feats, dim, size/1024, model.Digest)
	}
	for _, m := range linearModels(t) {
		lin, err := learn.TrainLinear(m.data, m.positive, m.cfg)
		if err != nil {
			return err
		}
		path, size, err := writeModel(*dir, m.name, lin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d examples, %d features, %d KiB, digest %s\n", path, len(m.data), lin.Size(), size/1024, lin.Digest)
	}
	fmt.Fprintf(stdout, "trained in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// linearModel is one of the sparse logistic models (learn.Linear) and what it learns from.
type linearModel struct {
	name     string // its file in the catalogue
	data     []learn.Example
	positive func(string) bool
	cfg      learn.LinearConfig
}

// linearModels lists the sparse logistic models: the danger reading, the follow-up, scope and
// person models, as atiende train and the held-out measure both train them.
func linearModels(t retrieval.Training) []linearModel {
	return []linearModel{
		{retrieval.DangerModel, t.Emergency, retrieval.IsEmergency, learn.DefaultLinearConfig},
		{retrieval.FollowUpModel, t.FollowUp, retrieval.IsFollowUp, retrieval.FollowUpConfig},
		{retrieval.ScopeModel, t.Scope, retrieval.IsOutside, retrieval.ScopeConfig},
		{retrieval.PersonModel, t.Wants, retrieval.IsWantsPerson, retrieval.WantsConfig},
	}
}

// writeModel writes a trained model into the catalogue's model folder (name is its path in
// the catalogue) and returns the file's path and size.
func writeModel(dir, name string, m io.WriterTo) (string, int, error) {
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return "", 0, err
	}
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", 0, err
	}
	return path, buf.Len(), os.WriteFile(path, buf.Bytes(), 0o644)
}

// heldOutSetup is the engine as trained without the held-out fifth of the data (a fold of
// retrieval.InFold; fold 0 is retrieval.HeldOut): the fichas and emergency models trained on
// the rest, the lexical index without the held-out questions (Index.With adds the models),
// and the held-out texts as cases with what each expects — held-out questions as first turns
// (their ficha expected), bank lines as emergencies or, for "none", look-alikes, off-topic and
// person messages as such.
type heldOutSetup struct {
	fichas, emergency *learn.Model
	followUp, scope   *learn.Linear
	wants             *learn.Linear
	ix                *retrieval.Index
	det               *retrieval.Detector
	cases             []eval.Case
	heldOut           func(string) bool // the fold held out
}

func newHeldOutSetup(fsys iofs.FS, fcfg, ecfg learn.Config, fold int, cache string) (*heldOutSetup, error) {
	heldOut := func(text string) bool { return retrieval.InFold(text, fold) }
	t, err := retrieval.TrainingData(fsys, heldOut)
	if err != nil {
		return nil, err
	}
	fm, err := trainCached(t.Fichas, fcfg, cache)
	if err != nil {
		return nil, err
	}
	em, err := trainCached(t.Emergency, ecfg, cache)
	if err != nil {
		return nil, err
	}
	lins := map[string]*learn.Linear{}
	for _, m := range linearModels(t) {
		if lins[m.name], err = learn.TrainLinear(m.data, m.positive, m.cfg); err != nil {
			return nil, err
		}
	}
	full, err := retrieval.BundledLexical(fsys, "")
	if err != nil {
		return nil, err
	}
	var cases []eval.Case
	for _, f := range full.Fichas() {
		var kept []string
		for _, q := range f.Questions {
			if heldOut(q) {
				cases = append(cases, eval.Case{ID: "q-" + f.Slug, Tags: []string{"dev-question"},
					Turns: []eval.Turn{{User: q, Expect: eval.Expect{Fichas: []string{f.Slug}}}}})
			} else {
				kept = append(kept, q)
			}
		}
		f.Questions = kept
	}
	bank, err := retrieval.ReadBank(fsys, "emergency")
	if err != nil {
		return nil, err
	}
	off, _, err := retrieval.ReadOffTopic(fsys)
	if err != nil {
		return nil, err
	}
	for _, o := range off {
		if heldOut(o) {
			cases = append(cases, eval.Case{ID: "offtopic", Tags: []string{"dev-offtopic"},
				Turns: []eval.Turn{{User: o, Expect: eval.Expect{Action: eval.Strings{bot.ActionGreet, bot.ActionGoodbye, bot.ActionOutOfScope, bot.ActionHandoff, bot.ActionOptout}}}}})
		}
	}
	person, err := iofs.ReadFile(fsys, "person.tsv")
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return nil, err
	}
	for _, o := range strings.Split(string(person), "\n") {
		if o = strings.TrimSpace(o); o != "" && !strings.HasPrefix(o, "#") && heldOut(o) {
			cases = append(cases, eval.Case{ID: "person", Tags: []string{"dev-person"},
				Turns: []eval.Turn{{User: o, Expect: eval.Expect{Action: eval.Strings{bot.ActionHandoff}}}}})
		}
	}
	for _, b := range bank {
		if !heldOut(b.Text) {
			continue
		}
		c := eval.Case{ID: "bank-" + b.Label, Tags: []string{"dev-bank-" + b.Label}, Turns: []eval.Turn{{User: b.Text}}}
		if b.Label == retrieval.NoEmergency {
			c.Tags = append(c.Tags, "lookalike")
		} else {
			c.Turns[0].Expect.Action = eval.Strings{bot.ActionEmergency}
		}
		cases = append(cases, c)
	}
	concepts, err := retrieval.LoadConcepts(fsys)
	if err != nil {
		return nil, err
	}
	lines, err := retrieval.NeighbourExamples(fsys, heldOut)
	if err != nil {
		return nil, err
	}
	return &heldOutSetup{fichas: fm, emergency: em, followUp: lins[retrieval.FollowUpModel], scope: lins[retrieval.ScopeModel], wants: lins[retrieval.PersonModel], ix: retrieval.NewIndex(full.Fichas(), full.Glossary()),
		det: &retrieval.Detector{Model: em, Danger: lins[retrieval.DangerModel], Concepts: concepts, Near: retrieval.NewNeighbours(lines)}, cases: cases, heldOut: heldOut}, nil
}

// trainDev measures what the models learn on texts they did not see (heldOutSetup): the
// lexical index alone, the model alone, the two fused, and the ranker on top, which learns
// from one half of the held-out questions and is measured on the other.
func trainDev(ctx context.Context, fsys iofs.FS, fcfg, ecfg learn.Config, fold int, cache, dump string, asJSON bool, stdout io.Writer) error {
	h, err := newHeldOutSetup(fsys, fcfg, ecfg, fold, cache)
	if err != nil {
		return err
	}
	cases := h.cases
	lexical := eval.Run(ctx, bot.New(h.ix, nil), cases) // the bundled emergency model saw every bank line: not a measure of it
	ix := h.ix.With(retrieval.WithModel(h.fichas), retrieval.WithScope(h.scope), retrieval.WithPerson(h.wants))
	fused := eval.Run(ctx, engineOver(ix, h.det), cases)
	r, err := rankDev(ctx, ix, h.det, cases, stdout)
	if err != nil {
		return err
	}
	ix = ix.With(retrieval.WithRanker(r))
	rep := eval.Run(ctx, engineOver(ix, h.det), cases)
	if dump != "" {
		if err := writeDump(ctx, dump, ix, engineOver(ix, h.det), cases); err != nil {
			return err
		}
	}
	// The model alone: its first label for each held-out question.
	var alone, n float64
	for _, c := range cases {
		if f := c.Turns[0].Expect.Fichas; len(f) > 0 {
			n++
			if l := h.fichas.Predict(ix.ModelText(c.Turns[0].User)); len(l) > 0 && l[0].Name == f[0] {
				alone++
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "held-out questions: hit@1 %.3f lexical index alone, %.3f model alone, %.3f fused, %.3f ranked (the engine; the ranker saw these questions)\n",
		lexical.ByTag["dev-question"].HitAt1Value(), alone/n, fused.ByTag["dev-question"].HitAt1Value(), rep.ByTag["dev-question"].HitAt1Value())
	fmt.Fprintf(stdout, "all held-out turns, fused → ranked: hit@3 %.3f → %.3f, action %.3f → %.3f, in scope → out %.3f → %.3f\n",
		fused.HitAt3, rep.HitAt3, fused.ActionAccuracy, rep.ActionAccuracy, fused.InScopeOutOfScope, rep.InScopeOutOfScope)
	stay, move, named, err := followUpPairs(fsys, ix, cases, h.heldOut)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "without the follow-up model:")
	writeFollowDev(ctx, stdout, engineOver(ix, h.det), stay, move, named, false)
	ix = ix.With(retrieval.WithFollowUp(h.followUp))
	fmt.Fprintln(stdout, "with it:")
	writeFollowDev(ctx, stdout, engineOver(ix, h.det), stay, move, named, true)
	withFollow := eval.Run(ctx, engineOver(ix, h.det), cases)
	fmt.Fprintf(stdout, "held-out questions with it: hit@1 %.3f, hit@3 %.3f, action %.3f\n",
		withFollow.ByTag["dev-question"].HitAt1Value(), withFollow.HitAt3, withFollow.ActionAccuracy)
	writeSeeAlsoDev(ctx, stdout, engineOver(ix, h.det), cases)
	fmt.Fprintln(stdout)
	rep.WriteText(stdout)
	return nil
}

// writeDump writes each held-out turn (all are one turn long), the engine's reply, its
// readings of danger (bot.Engine.ReadDanger) and what the index reads of the message
// (retrieval.Index.Find: the off-topic, scope and person readings, the share of its words the
// fichas model knows, the first three candidates and the first one's model probability and
// coverage), one a line: what the held-out analyses of docs/eval.md are made from.
func writeDump(ctx context.Context, path string, ix *retrieval.Index, e *bot.Engine, cases []eval.Case) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "tag\texpected\taction\tficha\tlines\tsure\tpattern\tp\tpf\tknown\tnear_share\tnear_kind\t"+
		"offtopic\toutside\twants\tknown_share\ttop3\tprob\tcoverage\ttext")
	flat := strings.NewReplacer("\t", " ", "\n", " ")
	for _, c := range cases {
		t := c.Turns[0]
		r, _ := e.Turn(ctx, bot.State{}, t.User, bot.ChannelWeb)
		d := e.ReadDanger(t.User)
		found := ix.Find(ctx, retrieval.Query{Text: t.User}, 3)
		var top []string
		var prob, coverage float64
		for i, res := range found.Results {
			if i == 0 {
				prob, coverage = res.Prob, res.Coverage
			}
			top = append(top, res.Ficha.Slug)
		}
		expected := strings.Join(t.Expect.Fichas, "|")
		if expected == "" {
			expected = strings.Join(t.Expect.Action, "|")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\t%s\t%.3f\t%.3f\t%d\t%.2f\t%s\t%.3f\t%.3f\t%.3f\t%.2f\t%s\t%.3f\t%.2f\t%s\n",
			c.Tags[0], expected, r.Action, r.Ficha, strings.Join(r.Emergency, ","), d.Sure, strings.Join(d.Pattern, ","), d.P, d.PF,
			d.Known, d.NearShare, d.NearKind, found.OffTopic, found.Outside, found.Wants, found.Known, strings.Join(top, ","),
			prob, coverage, flat.Replace(t.User))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// trainRanker trains the ranker on the held-out questions as the models trained without them
// read them, and writes it into dir.
func trainRanker(ctx context.Context, fsys iofs.FS, dir, cache string, stdout io.Writer) error {
	h, err := newHeldOutSetup(fsys, learn.DefaultConfig, learn.EmergencyConfig, 0, cache)
	if err != nil {
		return err
	}
	ix := h.ix.With(retrieval.WithModel(h.fichas), retrieval.WithScope(h.scope), retrieval.WithPerson(h.wants))
	var groups []learn.RankGroup
	for _, d := range rankData(ctx, ix, h.det, h.cases) {
		groups = append(groups, d.group)
	}
	r, err := learn.TrainRanker(groups, learn.DefaultRankConfig)
	if err != nil {
		return err
	}
	r.Digest = retrieval.RankerDigest(h.fichas.Digest, h.emergency.Digest, learn.DefaultRankConfig)
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.FromSlash(retrieval.RankerFile))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d held-out questions, %d weights, digest %s\n", path, len(groups), len(r.Weights), r.Digest)
	return nil
}

// trainCached trains a model, or reads the one a former run left in dir (when dir is set)
// if it was trained from the same examples and settings.
func trainCached(data []learn.Example, cfg learn.Config, dir string) (*learn.Model, error) {
	digest := learn.Digest(data, cfg)
	path := filepath.Join(dir, digest+".model")
	if dir != "" {
		if f, err := os.Open(path); err == nil {
			defer f.Close()
			if m, err := learn.Read(f); err == nil && m.Digest == digest {
				return m, nil
			}
		}
	}
	m, err := learn.Train(data, cfg)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, err
	}
	// The model as the engine reads it from a file, not as it was in memory: a file keeps the
	// input vectors as bytes (Model.WriteTo), so the first run of a seed (which trained) and the
	// next (which read the cache) were about ten held-out rows apart (docs/eval.md,
	// twenty-eighth session).
	if m, err = learn.Read(bytes.NewReader(buf.Bytes())); err != nil {
		return nil, err
	}
	if dir == "" {
		return m, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return m, os.WriteFile(path, buf.Bytes(), 0o644)
}
