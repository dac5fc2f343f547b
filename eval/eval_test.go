package eval_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
)

func TestReadCasesErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"not json", "{\"id\":\"a\",\"turns\":[{\"user\":\"x\"}]}\n{oops\n", "f.jsonl:2: not a case"},
		{"no id", `{"turns":[{"user":"x"}]}`, "f.jsonl:1: id: required"},
		{"no turns", `{"id":"a","turns":[]}`, "f.jsonl:1: turns: at least one"},
		{"bad action", `{"id":"a","turns":[{"user":"x","expect":{"action":"dance"}}]}`, `f.jsonl:1: turns[0].expect.action: "dance"`},
		{"bad aspect", `{"id":"a","turns":[{"user":"x","expect":{"aspect":"precio"}}]}`, `turns[0].expect.aspect: "precio"`},
		{"bad channel", `{"id":"a","channel":"fax","turns":[{"user":"x"}]}`, `channel: "fax"`},
		{"dup id", "{\"id\":\"a\",\"turns\":[{\"user\":\"x\"}]}\n\n{\"id\":\"a\",\"turns\":[{\"user\":\"y\"}]}", "f.jsonl:3: id \"a\" already used on line 1"},
	} {
		_, err := eval.ReadCases("f.jsonl", strings.NewReader(c.data))
		var ce *eval.CaseError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestActionListOrString(t *testing.T) {
	cs, err := eval.ReadCases("f", strings.NewReader(`{"id":"a","turns":[{"user":"x","expect":{"action":["answer","clarify"]}},{"user":"y","expect":{"action":"greet"}}]}`))
	if err != nil || len(cs[0].Turns[0].Expect.Action) != 2 || cs[0].Turns[1].Expect.Action[0] != "greet" {
		t.Fatalf("%+v %v", cs, err)
	}
}

func TestRunComputesTheReport(t *testing.T) {
	ix, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	data := `{"id":"pgu","channel":"sms","tags":["acronym"],"turns":[{"user":"cuanto es la pgu","expect":{"action":"answer","fichas":["pension-garantizada-universal"],"aspect":"monto"}},{"user":"y los requisitos?","expect":{"action":"answer","fichas":["pension-garantizada-universal"],"aspect":"requisitos"}}]}
{"id":"wrong","turns":[{"user":"cuanto es la pgu","expect":{"action":"clarify","fichas":["bono-invierno"],"contains_any":["no esta aqui"]}}]}
{"id":"ho","turns":[{"user":"quiero hablar con una persona","expect":{"action":"handoff"}}]}
{"id":"em","turns":[{"user":"me quiero morir","expect":{"action":"emergency","contains_any":["*4141"]}}]}
{"id":"zz-alarm","turns":[{"user":"me quiero morir","expect":{"action":"out_of_scope"}}]}`
	cases, err := eval.ReadCases("t", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rep := eval.Run(context.Background(), bot.New(ix, nil), cases)
	if rep.Cases != 5 || rep.Turns != 6 {
		t.Fatalf("cases %d turns %d", rep.Cases, rep.Turns)
	}
	if rep.HitAt1 != 0.6667 || rep.ActionAccuracy != 0.6667 || rep.AspectAccuracy != 1 || rep.ContainsPass != 0.5 {
		t.Errorf("hit@1 %v action %v aspect %v contains %v", rep.HitAt1, rep.ActionAccuracy, rep.AspectAccuracy, rep.ContainsPass)
	}
	if rep.HandoffPrecision != 1 || rep.HandoffRecall != 1 || rep.EmergencyRecall != 1 {
		t.Errorf("handoff %v/%v emergency %v", rep.HandoffPrecision, rep.HandoffRecall, rep.EmergencyRecall)
	}
	// Of the turns that expect neither a ficha nor an emergency, the handoff got no lines and
	// the one that expected "out of scope" did.
	if rep.OtherAlarm != 0.5 || rep.OrdinaryAlarm != 0 {
		t.Errorf("other alarms %v ordinary %v", rep.OtherAlarm, rep.OrdinaryAlarm)
	}
	if rep.SMSSegmentsMean < 1 || rep.SMSUCS2Share != 0 {
		t.Errorf("sms %v %v", rep.SMSSegmentsMean, rep.SMSUCS2Share)
	}
	if got := rep.ByTag["acronym"]; got.Turns != 2 || got.HitAt1 == nil || *got.HitAt1 != 1 {
		t.Errorf("by tag: %+v", got)
	}
	if len(rep.Failures) != 2 || rep.Failures[0].ID != "wrong" || rep.Failures[1].ID != "zz-alarm" || !strings.Contains(rep.Failures[0].Why, "expected clarify got answer") {
		t.Errorf("failures: %+v", rep.Failures)
	}
}

// TestShippedCasesParse reads every case file the project ships.
func TestShippedCasesParse(t *testing.T) {
	files, _ := filepath.Glob("cases/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no case files")
	}
	ix, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ids := map[string]string{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := eval.ReadCases(name, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if prev, ok := ids[c.ID]; ok {
				t.Errorf("id %q in %s and %s", c.ID, prev, name)
			}
			ids[c.ID] = name
			for _, turn := range c.Turns {
				for _, slug := range turn.Expect.Fichas {
					if _, ok := ix.Ficha(slug); !ok {
						t.Errorf("%s: case %s expects ficha %q, which the catalogue lacks", name, c.ID, slug)
					}
				}
			}
		}
		n += len(cs)
	}
	if n < 150 {
		t.Errorf("%d conversations, want at least 150", n)
	}
}

func TestCompareRankers(t *testing.T) {
	cases := []eval.Case{
		{ID: "a", Turns: []eval.Turn{{User: "uno", Expect: eval.Expect{Fichas: []string{"x"}}}}},
		{ID: "b", Turns: []eval.Turn{{User: "dos", Expect: eval.Expect{Fichas: []string{"y"}}}}},
		{ID: "c", Turns: []eval.Turn{{User: "sin fichas"}}},
	}
	fixed := func(out ...string) eval.Ranker {
		return func(context.Context, string) ([]string, error) { return out, nil }
	}
	scores, err := eval.CompareRankers(context.Background(), cases, []string{"good", "bad"},
		map[string]eval.Ranker{"good": fixed("x", "y"), "bad": fixed("z", "w", "v", "x")})
	if err != nil {
		t.Fatal(err)
	}
	// good: x first for a (hit@1), y second for b (hit@3, MRR 1/2). bad: x fourth for a only.
	want := []eval.ModeScore{{Mode: "good", Turns: 2, Hit1: 0.5, Hit3: 1, MRR: 0.75}, {Mode: "bad", Turns: 2, Hit1: 0, Hit3: 0, MRR: 0.125}}
	if !reflect.DeepEqual(scores, want) {
		t.Errorf("scores %+v, want %+v", scores, want)
	}
}
