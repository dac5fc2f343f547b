package retrieval_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
)

// TestBundledCatalogue loads the embedded catalogue: every ficha valid, and every slug the
// product requires (../shared/catalogue/required.tsv, mirrored in testdata) present.
func TestBundledCatalogue(t *testing.T) {
	ix, err := retrieval.Bundled(catalogue.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/required.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		ficha, ok := ix.Ficha(cols[0])
		if !ok {
			t.Errorf("required ficha %q is missing", cols[0])
			continue
		}
		if ficha.Title != cols[1] {
			t.Errorf("ficha %q: title %q, required.tsv says %q", cols[0], ficha.Title, cols[1])
		}
		if ficha.Institution != cols[2] {
			t.Errorf("ficha %q: institution %q, required.tsv says %q", cols[0], ficha.Institution, cols[2])
		}
	}
	t.Logf("%d fichas", len(ix.Fichas()))
}
