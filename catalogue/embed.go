// Package catalogue holds the bundled catalogue: the fichas (one JSON file per topic under
// fichas/) and the glossary of acronyms, colloquial words and misspellings citizens use.
// It is embedded in the binary; retrieval loads and validates it. See docs/catalogue.md.
package catalogue

import "embed"

// FS holds fichas/*.json, glossary.tsv, offices.json, comunas.tsv, holidays.txt, the
// citizens' questions (questions/*.tsv), the emergency bank (emergency/*.tsv) and the
// learned models atiende train makes from them (model/).
//
//go:embed fichas/*.json glossary.tsv offices.json comunas.tsv holidays.txt offtopic.tsv offtopic.fichas.tsv person.tsv followups.tsv concepts.tsv questions/*.tsv emergency/*.tsv model
var FS embed.FS
