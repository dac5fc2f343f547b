package learn_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/atiende/atiende/retrieval/learn"
)

var danger = []learn.Example{
	{Text: "mi marido me pega todos los dias", Label: "women"},
	{Text: "me quiero matar ya no puedo mas", Label: "suicide"},
	{Text: "mi papa se desmayo y no respira", Label: "medical"},
	{Text: "me quiero morir jaja cuando pagan el bono", Label: "none"},
	{Text: "mi jefe me va a matar si llego tarde", Label: "none"},
	{Text: "cuando pagan la pension", Label: "none"},
	{Text: "como saco la clave unica", Label: "none"},
}

func TestLinearLearnsAndIsDeterministic(t *testing.T) {
	cfg := learn.LinearConfig{Epochs: 40, LR: 0.5, L2: 1e-6, MinCount: 1, MinN: 3, MaxN: 4, Seed: 3, PosWeight: 1}
	pos := func(l string) bool { return l != "none" }
	a, err := learn.TrainLinear(danger, pos, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := learn.TrainLinear(danger, pos, cfg)
	var wa, wb bytes.Buffer
	a.WriteTo(&wa)
	b.WriteTo(&wb)
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Fatal("the same examples and settings gave two different models")
	}
	hi, lo := a.P("mi pareja me pega"), a.P("cuando pagan el bono")
	if hi < 0.5 || lo > 0.5 {
		t.Errorf("P(mi pareja me pega) = %.2f, P(cuando pagan el bono) = %.2f", hi, lo)
	}
	if a.P("zzz qqq") != 0 {
		t.Error("a text of unknown features should get 0")
	}
	r, err := learn.ReadLinear(bytes.NewReader(wa.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Digest != a.Digest || r.Digest != learn.LinearDigest(danger, cfg) || r.Config() != cfg || r.Size() != a.Size() {
		t.Errorf("read back: digest %s config %+v", r.Digest, r.Config())
	}
	if got, want := r.P("mi pareja me pega"), hi; got != want {
		t.Errorf("the model read back gives %v, it gave %v", got, want)
	}
}

func TestReadLinearRefusesWhatIsNotOne(t *testing.T) {
	var model bytes.Buffer
	m, _ := learn.Train(toy, learn.Config{Dim: 4, Epochs: 1, LR: 0.5, MinCount: 1, MinN: 3, MaxN: 4, Seed: 1})
	m.WriteTo(&model)
	for _, data := range []string{"", "not gzip", model.String()} {
		if _, err := learn.ReadLinear(strings.NewReader(data)); err == nil {
			t.Errorf("%.20q read as a linear model", data)
		}
	}
}
