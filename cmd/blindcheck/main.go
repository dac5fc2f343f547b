// Command blindcheck lists the lines a change adds that share words with the blind set: four
// words in a row with a blind turn, or a whole blind turn of three words or more. It prints
// only the change's own lines, never the blind turns, so that whoever writes rules, keywords,
// questions or training data can check their work without reading the blind set.
//
//	go run ./cmd/blindcheck [BASE]
//
// BASE (default HEAD) is the commit the change is compared with; files not yet added to git
// count too. Lines under eval/ and catalogue/pending/ are not checked. The exit status is 1
// when a line is listed.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/atiende/atiende/eval"
	"github.com/atiende/atiende/retrieval"
)

// gram is how many words in a row a line may share with a blind turn.
const gram = 4

// wholeTurn is the fewest words of a blind turn that, found whole in a line, list it.
const wholeTurn = 3

func main() {
	base := "HEAD"
	if len(os.Args) > 1 {
		base = os.Args[1]
	}
	turns, err := blindTurns("eval/blind")
	if err != nil {
		fmt.Fprintln(os.Stderr, "blindcheck:", err)
		os.Exit(2)
	}
	lines, err := addedLines(base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "blindcheck:", err)
		os.Exit(2)
	}
	flagged := overlapping(turns, lines)
	for _, l := range flagged {
		fmt.Println(l)
	}
	fmt.Fprintf(os.Stderr, "blindcheck: %d added lines read, %d share words with the blind set\n", len(lines), len(flagged))
	if len(flagged) > 0 {
		os.Exit(1)
	}
}

// blindTurns reads what the citizen writes in every case of the JSON Lines files in dir.
func blindTurns(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no blind set in %s", dir)
	}
	var turns []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		cases, err := eval.ReadCases(name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			for _, t := range c.Turns {
				turns = append(turns, t.User)
			}
		}
	}
	return turns, nil
}

// addedLines returns the lines the working tree adds to base, and the lines of files git does
// not track yet, outside eval/ and catalogue/pending/.
func addedLines(base string) ([]string, error) {
	paths := []string{"--", ".", ":!eval", ":!catalogue/pending"}
	diff, err := exec.Command("git", append([]string{"diff", "--no-color", "--no-ext-diff", base}, paths...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("git diff %s: %w", base, err)
	}
	var lines []string
	for _, l := range strings.Split(string(diff), "\n") {
		if strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++") {
			lines = append(lines, l[1:])
		}
	}
	untracked, err := exec.Command("git", append([]string{"ls-files", "--others", "--exclude-standard"}, paths...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	for _, name := range strings.Fields(string(untracked)) {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	return lines, nil
}

// overlapping returns the lines that share gram words in a row with a turn, or hold a whole
// turn of wholeTurn words or more, compared as the engine folds words (retrieval.Words).
func overlapping(turns, lines []string) []string {
	grams := map[string]bool{}
	var whole []string
	for _, t := range turns {
		w := retrieval.Words(t)
		for i := 0; i+gram <= len(w); i++ {
			grams[strings.Join(w[i:i+gram], " ")] = true
		}
		if len(w) >= wholeTurn {
			whole = append(whole, " "+strings.Join(w, " ")+" ")
		}
	}
	var out []string
	for _, l := range lines {
		w := retrieval.Words(l)
		hit := false
		for i := 0; i+gram <= len(w) && !hit; i++ {
			hit = grams[strings.Join(w[i:i+gram], " ")]
		}
		joined := " " + strings.Join(w, " ") + " "
		for _, t := range whole {
			if hit {
				break
			}
			hit = strings.Contains(joined, t)
		}
		if hit {
			out = append(out, l)
		}
	}
	return out
}
