package retrieval

import (
	"context"
	"sync/atomic"
)

// Live is an index that can be replaced while it serves: searches in flight finish on the
// index they started with, new ones use the new one. The zero value is not usable; make one
// with NewLive.
type Live struct {
	p atomic.Pointer[Index]
}

// NewLive serves ix.
func NewLive(ix *Index) *Live {
	l := &Live{}
	l.p.Store(ix)
	return l
}

// Swap serves ix from now on and returns the index it replaces.
func (l *Live) Swap(ix *Index) *Index { return l.p.Swap(ix) }

// Index returns the index being served.
func (l *Live) Index() *Index { return l.p.Load() }

// Find searches the current index.
func (l *Live) Find(ctx context.Context, q Query, k int) Found { return l.p.Load().Find(ctx, q, k) }

// Fichas returns the fichas of the index being served.
func (l *Live) Fichas() []*Ficha { return l.p.Load().Fichas() }

// Ficha looks a slug up in the current index.
func (l *Live) Ficha(slug string) (*Ficha, bool) { return l.p.Load().Ficha(slug) }

// Normalize normalizes with the current index's glossary.
func (l *Live) Normalize(text string) string { return l.p.Load().Normalize(text) }
