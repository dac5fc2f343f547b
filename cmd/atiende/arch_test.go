package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

type listed struct {
	ImportPath string
	Doc        string
	Imports    []string
	Deps       []string
}

func goList(t *testing.T) []listed {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "-deps=false", "github.com/atiende/atiende/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependencyDirection keeps the layering of docs/architecture.md: the domain types
// (package atiende, the module's root) know no other package of ours, retrieval knows no
// other package of ours, bot no channel, handoff or store, store nothing above it, the
// conversation core no channel or handoff (it declares what it needs of them), and only
// cmd/atiende wires everything.
func TestDependencyDirection(t *testing.T) {
	t.Parallel()
	const mod = "github.com/atiende/atiende/"
	forbidden := map[string][]string{
		"retrieval":    {"bot", "channels", "handoff", "store", "eval"},
		"bot":          {"channels", "handoff", "store", "eval"},
		"store":        {"bot", "channels", "handoff", "retrieval", "eval"},
		"handoff":      {"channels", "eval"},
		"conversation": {"channels", "handoff", "eval", "queue"},
		"channels":     {"eval", "cmd", "queue"},
		"queue":        {"bot", "channels", "handoff", "retrieval", "eval"},
		"rut":          {"bot", "channels", "handoff", "store", "retrieval", "eval", "queue", "events", "redact"},
		"redact":       {"bot", "channels", "handoff", "store", "retrieval", "eval", "queue", "events"},
		"httperr":      {"bot", "channels", "handoff", "store", "retrieval", "eval", "queue", "events", "redact", "rut", "ratelimit", "conversation"},
	}
	for _, p := range goList(t) {
		if p.ImportPath == strings.TrimSuffix(mod, "/") {
			// The domain types (package atiende) are below everything: they import nothing of ours.
			for _, imp := range p.Deps {
				if strings.HasPrefix(imp, mod) {
					t.Errorf("the domain package depends on %s", strings.TrimPrefix(imp, mod))
				}
			}
			continue
		}
		rel := strings.TrimPrefix(p.ImportPath, mod)
		top := strings.SplitN(rel, "/", 2)[0]
		for _, imp := range p.Deps {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.SplitN(strings.TrimPrefix(imp, mod), "/", 2)[0]
			for _, bad := range forbidden[top] {
				if dep == bad {
					t.Errorf("%s depends on %s", rel, strings.TrimPrefix(imp, mod))
				}
			}
		}
	}
}

// TestEveryPackageHasADocComment: a package says what it is for.
func TestEveryPackageHasADocComment(t *testing.T) {
	t.Parallel()
	for _, p := range goList(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
	}
}
