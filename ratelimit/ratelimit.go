// Package ratelimit limits how often each key (a client IP, a web session, a phone number)
// may act: one token bucket per key (golang.org/x/time/rate) in memory, with the keys kept
// bounded. Each process limits on its own: with several replicas behind a load balancer a
// key may act up to N times the rate on N replicas (docs/operations.md, "Security").
package ratelimit

import (
	"container/list"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is N events per Per; a zero N means no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Off reports whether the rate limits nothing.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

// PerMinute is the rate as a count per minute, at least 1 (0 when Off).
func (r Rate) PerMinute() int {
	if r.Off() {
		return 0
	}
	return max(1, int(float64(r.N)*float64(time.Minute)/float64(r.Per)))
}

func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	for _, u := range units {
		if r.Per == u.d {
			return fmt.Sprintf("%d/%s", r.N, u.name)
		}
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

var units = []struct {
	name string
	d    time.Duration
}{{"s", time.Second}, {"min", time.Minute}, {"h", time.Hour}}

// ParseRate reads "N/s", "N/min" or "N/h" ("30/min"); "0" or "off" is no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return Rate{}, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/s, N/min or N/h (e.g. 30/min), or off", s)
	}
	v, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || v < 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a count", s, n)
	}
	for _, u := range units {
		if strings.TrimSpace(unit) == u.name {
			return Rate{N: v, Per: u.d}, nil
		}
	}
	return Rate{}, fmt.Errorf("rate %q: unit %q: want s, min or h", s, unit)
}

// Decision is what Allow says of one event.
type Decision struct {
	OK bool
	// RetryAfter is how long until the key may act again (zero when OK).
	RetryAfter time.Duration
	// First is true for the first refusal since the key last passed: the moment to tell the
	// sender once, not at every refused event.
	First bool
}

// Seconds is RetryAfter in whole seconds, rounded up and at least 1: the value of an HTTP
// Retry-After header.
func (d Decision) Seconds() int {
	return max(1, int((d.RetryAfter+time.Second-1)/time.Second))
}

// Limiter holds one token bucket per key: N events at once, then one every Per/N.
type Limiter struct {
	rate    Rate
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *entry
	lru  list.List                // most recently seen first
}

type entry struct {
	key     string
	bucket  *rate.Limiter
	seen    time.Time
	refused bool // refused since it last passed
}

// DefaultMaxKeys bounds a limiter's memory unless New is told otherwise: a few hundred bytes
// a key, so a few tens of MB at most.
const DefaultMaxKeys = 100_000

// New returns a limiter at r that keeps at most maxKeys keys (DefaultMaxKeys when <= 0).
// A key idle for Per has a full bucket again and is forgotten; past maxKeys the least
// recently seen key is forgotten, which only gives it a fresh bucket. now is the clock
// (nil: time.Now).
func New(r Rate, maxKeys int, now func() time.Time) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: r, maxKeys: maxKeys, now: now, keys: map[string]*list.Element{}}
}

// Rate is the limiter's rate.
func (l *Limiter) Rate() Rate { return l.rate }

// Allow takes one event of key.
func (l *Limiter) Allow(key string) Decision {
	if l == nil || l.rate.Off() {
		return Decision{OK: true}
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evict(now)
	var e *entry
	if el, ok := l.keys[key]; ok {
		e = el.Value.(*entry)
		l.lru.MoveToFront(el)
	} else {
		e = &entry{key: key, bucket: rate.NewLimiter(rate.Every(l.rate.Per/time.Duration(l.rate.N)), l.rate.N)}
		l.keys[key] = l.lru.PushFront(e)
		for l.lru.Len() > l.maxKeys {
			l.remove(l.lru.Back())
		}
	}
	e.seen = now
	if e.bucket.AllowN(now, 1) {
		e.refused = false
		return Decision{OK: true}
	}
	d := Decision{First: !e.refused, RetryAfter: retryAfter(e.bucket, now)}
	e.refused = true
	return d
}

// retryAfter is how long until the bucket holds a whole token.
func retryAfter(b *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - b.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(missing / float64(b.Limit()) * float64(time.Second)))
}

// evict forgets the keys idle for Per or more, from the least recently seen.
func (l *Limiter) evict(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*entry).seen) < l.rate.Per {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*entry).key)
	l.lru.Remove(el)
}

// Len is how many keys the limiter holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
