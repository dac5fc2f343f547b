// Package retrieval is the catalogue and how to search it: the fichas (benefits and
// services) with their loading and validation (docs/catalogue.md), the glossary of what
// citizens write, Spanish normalization (accents, case, stemming, phonetic spelling, typo
// matching) and an in-memory BM25F index with field weights that ranks fichas for a
// question and says how much of the question each one covers.
package retrieval
