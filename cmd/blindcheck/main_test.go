package main

import (
	"slices"
	"testing"
)

// TestOverlapping: a line is listed for four words in a row of a turn, or for a whole short
// turn, as the engine folds words (accents and case aside); other lines are not.
func TestOverlapping(t *testing.T) {
	turns := []string{"El gato azul comió pan tostado los lunes", "zorro pardo saltarín"}
	lines := []string{
		`re("gato azul comio pan")`,
		`// ZORRO, pardo saltarín!`,
		`el gato verde`,
		`comio pan`,
	}
	got := overlapping(turns, lines)
	want := []string{lines[0], lines[1]}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
