package retrieval

import (
	"fmt"
	"io/fs"
)

// Bundled loads the fichas and glossary of a catalogue laid out as the bundled one:
// fichas/*.json and glossary.tsv at the root of fsys. When path is set, the fichas come from
// that file or directory instead (ATIENDE_CATALOGUE) and the glossary from fsys.
func Bundled(fsys fs.FS, path string) (*Index, error) {
	var fichas []*Ficha
	var err error
	if path != "" {
		fichas, err = LoadPath(path)
	} else {
		fichas, err = LoadFS(fsys, "fichas")
	}
	if err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(fsys, "glossary.tsv")
	if err != nil {
		return nil, fmt.Errorf("read glossary: %w", err)
	}
	g, err := ParseGlossary("glossary.tsv", data)
	if err != nil {
		return nil, err
	}
	return NewIndex(fichas, g), nil
}
