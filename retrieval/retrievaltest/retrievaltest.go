// Package retrievaltest gives tests the bundled catalogue's index, loaded once per test
// binary.
package retrievaltest

import (
	"sync"
	"testing"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
)

var bundled = sync.OnceValues(func() (*retrieval.Index, error) { return retrieval.Bundled(catalogue.FS, "") })

// Bundled returns the bundled catalogue's index. Loading it (the learned models, the nearest
// lines) takes about a second, and an index never changes once built, so a package's tests
// share one; a test that wants it without a part makes another with Index.With.
func Bundled(t testing.TB) *retrieval.Index {
	t.Helper()
	ix, err := bundled()
	if err != nil {
		t.Fatal(err)
	}
	return ix
}
