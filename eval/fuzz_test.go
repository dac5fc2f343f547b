package eval_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/atiende/atiende/eval"
)

// FuzzReadCases: the case reader never panics; a file it refuses is a *CaseError naming
// the file and a line of it, every line before which reads; a file it accepts holds cases
// with distinct ids that read back the same once written out again.
func FuzzReadCases(f *testing.F) {
	if data, err := os.ReadFile("cases/followups.jsonl"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("{\"id\":\"a\",\"turns\":[{\"user\":\"x\"}]}\n{oops\n"))
	f.Add([]byte("{\"id\":\"a\",\"channel\":\"fax\",\"turns\":[{\"user\":\"x\"}]}"))
	f.Add([]byte("\r\n\n{\"id\":\"a\",\"turns\":[{\"user\":\"x\",\"expect\":{\"action\":[\"answer\",\"handoff\"],\"fichas\":\"pgu\"}}]}\r\n"))
	f.Add([]byte("{\"id\":\"a\",\"turns\":[{\"user\":\"x\",\"expect\":{\"aspect\":\"monto\"}}]}\n{\"id\":\"a\",\"turns\":[{\"user\":\"y\"}]}"))
	f.Add([]byte("null\n[]\n\"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := eval.ReadCases("f.jsonl", bytes.NewReader(data))
		lines := bytes.Split(data, []byte("\n"))
		if err != nil {
			var ce *eval.CaseError
			if !errors.As(err, &ce) || ce.File != "f.jsonl" || ce.Line < 1 || ce.Line > len(lines) || ce.Msg == "" {
				t.Fatalf("error %#v for a file of %d lines", err, len(lines))
			}
			if cases != nil {
				t.Fatalf("%d cases with the error %v", len(cases), err)
			}
			before := bytes.Join(lines[:ce.Line-1], []byte("\n"))
			if _, err := eval.ReadCases("f.jsonl", bytes.NewReader(before)); err != nil {
				t.Fatalf("error on line %d, but the lines before it fail too: %v", ce.Line, err)
			}
			return
		}
		ids := map[string]bool{}
		var out bytes.Buffer
		for _, c := range cases {
			if c.ID == "" || ids[c.ID] || len(c.Turns) == 0 {
				t.Fatalf("case %+v accepted", c)
			}
			ids[c.ID] = true
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(append(b, '\n'))
		}
		again, err := eval.ReadCases("g.jsonl", &out)
		if err != nil || len(again) != len(cases) {
			t.Fatalf("written out, the cases do not read back: %v\n%s", err, out.String())
		}
		for i := range cases {
			if !reflect.DeepEqual(normal(t, cases[i]), normal(t, again[i])) {
				t.Fatalf("case %d reads back as %+v, was %+v", i, again[i], cases[i])
			}
		}
	})
}

// normal is a case as JSON values, so that nil and empty lists compare equal.
func normal(t *testing.T, c eval.Case) any {
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
