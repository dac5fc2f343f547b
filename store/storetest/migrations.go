package storetest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// MigrationVersionsAreUnique fails when two files of a migrations directory share a version
// number: a store's runner applies one file per version, so the other (two branches merged,
// each with its own next number) would be skipped without a word.
func MigrationVersionsAreUnique(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			t.Errorf("%s: no version number", e.Name())
			continue
		}
		if other, ok := seen[v]; ok {
			t.Errorf("%s and %s share version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
	}
}
