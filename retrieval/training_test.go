package retrieval_test

import (
	"errors"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/retrieval/learn"
)

// TestModelsMatchTheirData: the bundled models were trained from the bundled questions, bank
// and fichas as they are now. When this fails, run make train and commit catalogue/model.
func TestModelsMatchTheirData(t *testing.T) {
	data, err := retrieval.TrainingData(catalogue.FS, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		ex   []learn.Example
	}{{retrieval.FichasModel, data.Fichas}, {retrieval.EmergencyModel, data.Emergency}} {
		m, err := retrieval.LoadModel(catalogue.FS, c.file)
		if err != nil || m == nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := learn.Digest(c.ex, m.Config()); got != m.Digest {
			t.Errorf("%s was trained from other data (digest %s, the data's is %s): run make train", c.file, m.Digest, got)
		}
	}
	for _, c := range []struct {
		file string
		ex   []learn.Example
	}{{retrieval.DangerModel, data.Emergency}, {retrieval.FollowUpModel, data.FollowUp}, {retrieval.ScopeModel, data.Scope}, {retrieval.PersonModel, data.Wants}} {
		lin, err := retrieval.LoadLinear(catalogue.FS, c.file)
		if err != nil || lin == nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := learn.LinearDigest(c.ex, lin.Config()); got != lin.Digest {
			t.Errorf("%s was trained from other data (digest %s, the data's is %s): run make train", c.file, lin.Digest, got)
		}
	}
	// The ranker learned from the readings of models trained without the held-out fifth.
	dev, err := retrieval.TrainingData(catalogue.FS, retrieval.HeldOut)
	if err != nil {
		t.Fatal(err)
	}
	r, err := retrieval.LoadRanker(catalogue.FS)
	if err != nil || r == nil {
		t.Fatalf("%s: %v", retrieval.RankerFile, err)
	}
	want := retrieval.RankerDigest(learn.Digest(dev.Fichas, learn.DefaultConfig), learn.Digest(dev.Emergency, learn.EmergencyConfig), learn.DefaultRankConfig)
	if r.Digest != want {
		t.Errorf("%s was trained from other data (digest %s, the data's is %s): run make train", retrieval.RankerFile, r.Digest, want)
	}
	// Every required ficha has its citizens' questions.
	ix := bundled(t)
	for _, f := range ix.Fichas() {
		if len(f.Questions) < 15 {
			t.Errorf("%s has %d questions", f.Slug, len(f.Questions))
		}
	}
	if ix.Model() == nil {
		t.Error("the bundled index has no learned model")
	}
}

func TestQuestionsProblemsNameFileAndLine(t *testing.T) {
	fsys := fstest.MapFS{"questions/a.tsv": {Data: []byte("# comment\npgu\tcuanto es\nsin tabulador\nno-existe\thola\n\t\n")}}
	fichas := []*retrieval.Ficha{{Slug: "pgu"}}
	err := retrieval.LoadQuestions(fsys, "questions", fichas, true)
	var le *retrieval.LoadError
	if !errors.As(err, &le) || len(le.Problems) != 2 {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"questions/a.tsv:3: question: expected slug<TAB>question", `questions/a.tsv:4: ficha "no-existe": slug: no ficha has this slug`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if len(fichas[0].Questions) != 1 || fichas[0].Questions[0] != "cuanto es" {
		t.Errorf("questions: %q", fichas[0].Questions)
	}
	// Not strict (a catalogue of one's own): unknown slugs are skipped.
	if err := retrieval.LoadQuestions(fstest.MapFS{"questions/a.tsv": {Data: []byte("otra\thola\n")}}, "questions", fichas, false); err != nil {
		t.Error(err)
	}
}

// TestFollowUpTextDropsConnectors: the follow-up model reads a message without the words that
// join it to the conversation, which a follow-up and a switch to another ficha share.
func TestFollowUpTextDropsConnectors(t *testing.T) {
	for in, want := range map[string]string{
		"y el pasaporte":         "el pasaporte",
		"pero y donde lo pido":   "donde lo pido",
		"and how long":           "how long",
		"y":                      "y",
		"cuanto demora":          "cuanto demora",
		"entonces tambien sirve": "sirve",
	} {
		if got := retrieval.FollowUpText(in); got != want {
			t.Errorf("FollowUpText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBankProblemsNameFileLineAndField: a bank line without its tab, or with a kind the engine
// has no lines for (a misspelt one would train a kind of its own), is a problem with its file,
// line and field; the good lines are not returned alone.
func TestBankProblemsNameFileLineAndField(t *testing.T) {
	fsys := fstest.MapFS{"emergency/b.tsv": {Data: []byte("# comment\ndanger\tun hombre con un fierro afuera\nsuicdie\tno quiero seguir\nsin tabulador\nnone\tque dia depositan la pension\n")}}
	lines, err := retrieval.ReadBank(fsys, "emergency")
	var le *retrieval.LoadError
	if !errors.As(err, &le) || len(le.Problems) != 2 || lines != nil {
		t.Fatalf("got %v, %d lines", err, len(lines))
	}
	msg := err.Error()
	for _, want := range []string{`emergency/b.tsv:3: kind: unknown kind "suicdie"`, "emergency/b.tsv:4: bank: expected kind<TAB>text"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	good, err := retrieval.ReadBank(fstest.MapFS{"emergency/b.tsv": {Data: []byte("danger\tun hombre con un fierro afuera\nnone\tque dia depositan la pension\n")}}, "emergency")
	if err != nil || len(good) != 2 || good[0].Label != "danger" {
		t.Errorf("good bank: %v %+v", err, good)
	}
}

// TestBundledConcepts: the concepts file parses and tags what its concepts mean, and leaves an
// ordinary question untagged.
func TestBundledConcepts(t *testing.T) {
	c, err := retrieval.LoadConcepts(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"me pegaron un combo en la calle":             "#golpe",
		"me muero de la risa con ese video":           "#exageracion",
		"no se preocupe, no es nada grave":            "#negacion",
		"ya no aguanto mas, soy una carga para todos": "#desesperanza",
	} {
		if got := c.Tag(text); !strings.Contains(got, want) {
			t.Errorf("%q: %q, want %s", text, got, want)
		}
	}
	if got := c.Tag("cuanto es la pension garantizada universal"); strings.Contains(got, "#") {
		t.Errorf("an ordinary question tagged: %q", got)
	}
}

// TestFichasOnlyDataLeavesTheEmergencyModels: questions of a `*.fichas.tsv` file and the
// off-topic messages of offtopic.fichas.tsv teach the fichas and scope models, and leave the
// emergency models' data as it was, example for example; the same questions in an ordinary
// file reach them.
func TestFichasOnlyDataLeavesTheEmergencyModels(t *testing.T) {
	base := fstest.MapFS{}
	if err := fs.WalkDir(catalogue.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "model/") {
			return err
		}
		data, err := fs.ReadFile(catalogue.FS, p)
		base[p] = &fstest.MapFile{Data: data}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	delete(base, retrieval.OffTopicFichasOnly)
	with := func(files map[string]string) retrieval.Training {
		t.Helper()
		fsys := fstest.MapFS{}
		maps.Copy(fsys, base)
		for name, data := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(data)}
		}
		d, err := retrieval.TrainingData(fsys, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	questions := "pension-garantizada-universal\tmi abuelo cumple 65 y quiere saber si le toca la pension universal\npension-garantizada-universal\tla pgu se cobra en la caja vecina?\n"
	before := with(nil)
	only := with(map[string]string{"questions/zz.fichas.tsv": questions, retrieval.OffTopicFichasOnly: "cual es el rio mas largo de chile\n"})
	if len(only.Fichas) != len(before.Fichas)+3 || len(only.Scope) != len(before.Scope)+3 {
		t.Errorf("fichas-only data: %d fichas and %d scope examples, want %d and %d", len(only.Fichas), len(only.Scope), len(before.Fichas)+3, len(before.Scope)+3)
	}
	if !slices.Equal(only.Emergency, before.Emergency) {
		t.Errorf("fichas-only data changed the emergency models' data: %d examples, %d before", len(only.Emergency), len(before.Emergency))
	}
	if plain := with(map[string]string{"questions/zz.tsv": questions}); len(plain.Emergency) <= len(before.Emergency) {
		t.Errorf("questions of an ordinary file did not reach the emergency models' data (%d examples, %d before)", len(plain.Emergency), len(before.Emergency))
	}
}

// TestFoldsCutTheTextsOnce: every text falls in exactly one fold, fold 0 is the fifth the
// bundled ranker learns from (HeldOut), and the folds are of about the same size, so that
// each is a held-out measure of its own (atiende train --dev --fold).
func TestFoldsCutTheTextsOnce(t *testing.T) {
	data, err := retrieval.TrainingData(catalogue.FS, nil)
	if err != nil {
		t.Fatal(err)
	}
	sizes := make([]int, retrieval.Folds)
	for _, ex := range data.Fichas {
		in := 0
		for n := range retrieval.Folds {
			if retrieval.InFold(ex.Text, n) {
				in++
				sizes[n]++
			}
		}
		if in != 1 {
			t.Fatalf("%q is in %d folds", ex.Text, in)
		}
		if retrieval.HeldOut(ex.Text) != retrieval.InFold(ex.Text, 0) {
			t.Fatalf("%q: HeldOut is not fold 0", ex.Text)
		}
	}
	for n, s := range sizes {
		if share := float64(s) / float64(len(data.Fichas)); share < 0.18 || share > 0.22 {
			t.Errorf("fold %d holds %.3f of the texts, not about a fifth", n, share)
		}
	}
}
