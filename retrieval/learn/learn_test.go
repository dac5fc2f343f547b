package learn_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/atiende/atiende/retrieval/learn"
)

var toy = []learn.Example{
	{Text: "me echaron de la pega", Label: "cesantia"},
	{Text: "quede sin trabajo ayer", Label: "cesantia"},
	{Text: "me despidieron de la fabrica", Label: "cesantia"},
	{Text: "nacio mi guagua", Label: "nacimiento"},
	{Text: "tuve un bebe la semana pasada", Label: "nacimiento"},
	{Text: "mi hija nacio en el hospital", Label: "nacimiento"},
}

func TestTrainLearnsAndIsDeterministic(t *testing.T) {
	cfg := learn.Config{Dim: 16, Epochs: 50, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 7}
	a, err := learn.Train(toy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := learn.Train(toy, cfg)
	var wa, wb bytes.Buffer
	a.WriteTo(&wa)
	b.WriteTo(&wb)
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Fatal("the same examples and settings gave two different models")
	}
	// Words it never saw whole, through their character n-grams.
	for text, want := range map[string]string{"me despidieron del trabajo": "cesantia", "nacio mi bebe": "nacimiento"} {
		if got := a.Predict(text); len(got) == 0 || got[0].Name != want {
			t.Errorf("%q: %v, want %s first", text, got, want)
		}
	}
	if a.Predict("zzz qqq") != nil {
		t.Error("a text of unknown features should get no prediction")
	}
	r, err := learn.Read(bytes.NewReader(wa.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Digest != a.Digest || r.Digest != learn.Digest(toy, cfg) || r.Config() != cfg {
		t.Errorf("read back: digest %s config %+v", r.Digest, r.Config())
	}
	if got := r.Predict("quede sin pega"); got[0].Name != "cesantia" {
		t.Errorf("the model read back predicts %v", got)
	}
}

func TestReadRefusesWhatIsNotAModel(t *testing.T) {
	for _, data := range []string{"", "not gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"} {
		if _, err := learn.Read(strings.NewReader(data)); err == nil {
			t.Errorf("%q read as a model", data)
		}
	}
}

func TestFeatures(t *testing.T) {
	f := strings.Join(learn.Features("la pega #arma", 3, 3), " ")
	for _, want := range []string{"w:la", "w:pega", "b:la pega", "c:<pe", "c:ga>", "w:#arma"} {
		if !strings.Contains(f, want) {
			t.Errorf("features %q lack %q", f, want)
		}
	}
	if strings.Contains(f, "c:#ar") {
		t.Errorf("a concept got n-grams: %q", f)
	}
}

// An ensemble's probabilities are the mean of its members', each trained alone from its own
// seed; it is written and read back whole.
func TestEnsembleAveragesItsMembers(t *testing.T) {
	cfg := learn.Config{Dim: 16, Epochs: 30, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 7, Members: 3}
	e, err := learn.Train(toy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := "me despidieron y nacio mi guagua"
	want := map[string]float64{}
	for i := range 3 {
		one := cfg
		one.Members, one.Seed = 1, cfg.Seed+uint64(i)
		m, _ := learn.Train(toy, one)
		for _, l := range m.Predict(text) {
			want[l.Name] += l.P / 3
		}
	}
	got := e.Predict(text)
	for _, l := range got {
		if d := l.P - want[l.Name]; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s: %.6f, the members' mean is %.6f", l.Name, l.P, want[l.Name])
		}
	}
	var w bytes.Buffer
	e.WriteTo(&w)
	r, err := learn.Read(bytes.NewReader(w.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Config() != cfg {
		t.Errorf("read back config %+v", r.Config())
	}
	// The input vectors are stored as bytes: read back, the mean moves a little, no more.
	for i, l := range r.Predict(text) {
		if l.Name != got[i].Name || l.P-got[i].P > 0.02 || got[i].P-l.P > 0.02 {
			t.Errorf("read back: %v, trained: %v", r.Predict(text), got)
			break
		}
	}
}

// TestKnowsShape: a word the model never saw is readable when it saw most of its n-grams
// (a form of a word it learned), not when it saw few, and never for short words.
func TestKnowsShape(t *testing.T) {
	cfg := learn.Config{Dim: 16, Epochs: 5, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 7}
	m, err := learn.Train(toy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		word  string
		share float64
		want  bool
	}{
		{"despidieron", 1, true},    // seen whole: every n-gram is known
		{"despidio", 0.8, true},     // 12 of its 15 n-grams were seen in "despidieron" and "nacio"
		{"despidio", 0.9, false},    // not 0.9 of them
		{"helicoptero", 0.8, false}, // nothing like it was seen
		{"naci", 0.1, false},        // too short to be read by its shape
	} {
		if got := m.KnowsShape(tc.word, tc.share); got != tc.want {
			t.Errorf("KnowsShape(%q, %v) = %v, want %v", tc.word, tc.share, got, tc.want)
		}
	}
}

// TestPredictEmbedReadsAsBoth: one reading of a text gives what Predict and Embed give apart,
// for an ensemble too (the vector is the first member's).
func TestPredictEmbedReadsAsBoth(t *testing.T) {
	cfg := learn.Config{Dim: 8, Epochs: 50, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 1, Members: 3}
	m, err := learn.Train(toy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"bono invierno", "licencia medica", "zzz qqq"} {
		labels, vec := m.PredictEmbed(text)
		if want := m.Predict(text); !reflect.DeepEqual(labels, want) {
			t.Errorf("%q: labels %v, Predict %v", text, labels, want)
		}
		if want := m.Embed(text); !reflect.DeepEqual(vec, want) {
			t.Errorf("%q: vector %v, Embed %v", text, vec, want)
		}
	}
}

func TestDropoutTrainsAlikeAndNamesItself(t *testing.T) {
	cfg := learn.Config{Dim: 16, Epochs: 50, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 7}
	drop := cfg
	drop.Dropout = 0.3
	a, err := learn.Train(toy, drop)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := learn.Train(toy, drop)
	plain, _ := learn.Train(toy, cfg)
	var wa, wb, wp bytes.Buffer
	a.WriteTo(&wa)
	b.WriteTo(&wb)
	plain.WriteTo(&wp)
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Fatal("the same examples and dropout gave two different models")
	}
	if bytes.Equal(wa.Bytes(), wp.Bytes()) {
		t.Fatal("dropout changed nothing in the weights")
	}
	if learn.Digest(toy, drop) == learn.Digest(toy, cfg) {
		t.Fatal("the digest does not tell a model trained with dropout from one without")
	}
	for text, want := range map[string]string{"me despidieron del trabajo": "cesantia", "nacio mi bebe": "nacimiento"} {
		if got := a.Predict(text); len(got) == 0 || got[0].Name != want {
			t.Errorf("%q: %v, want %s first", text, got, want)
		}
	}
	// Read back, the model still says it was trained with dropout: its digest can be checked
	// against its data (TestModelsMatchTheirData).
	r, err := learn.Read(bytes.NewReader(wa.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Config() != drop || learn.Digest(toy, r.Config()) != r.Digest {
		t.Errorf("read back: config %+v, digest %s", r.Config(), r.Digest)
	}
}
