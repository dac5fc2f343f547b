package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atiende/atiende/ratelimit"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ratelimit.Rate
		perMin  int
		wantErr bool
	}{
		{in: "30/min", want: ratelimit.Rate{N: 30, Per: time.Minute}, perMin: 30},
		{in: " 5/s ", want: ratelimit.Rate{N: 5, Per: time.Second}, perMin: 300},
		{in: "120/h", want: ratelimit.Rate{N: 120, Per: time.Hour}, perMin: 2},
		{in: "1/h", want: ratelimit.Rate{N: 1, Per: time.Hour}, perMin: 1},
		{in: "off", want: ratelimit.Rate{}},
		{in: "0", want: ratelimit.Rate{}},
		{in: "30", wantErr: true},
		{in: "x/min", wantErr: true},
		{in: "-1/min", wantErr: true},
		{in: "30/day", wantErr: true},
		{in: "", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ratelimit.ParseRate(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseRate(%q) = %v; want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want || got.PerMinute() != tc.perMin {
				t.Fatalf("ParseRate(%q) = %v (%d/min), %v; want %v (%d/min)", tc.in, got, got.PerMinute(), err, tc.want, tc.perMin)
			}
			if again, err := ratelimit.ParseRate(got.String()); err != nil || again != got {
				t.Errorf("String %q does not parse back: %v %v", got.String(), again, err)
			}
		})
	}
}

// clock is a hand-moved time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAllowBurstThenRefuse(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Rate{N: 3, Per: time.Minute}, 0, c.now)
	for i := range 3 {
		if d := l.Allow("a"); !d.OK {
			t.Fatalf("event %d of the burst refused: %+v", i, d)
		}
	}
	d := l.Allow("a")
	if d.OK || !d.First || d.RetryAfter <= 0 || d.RetryAfter > 20*time.Second {
		t.Fatalf("4th event: %+v; want refused, first, retry within 20s (one token every 20s)", d)
	}
	if d.Seconds() != int((d.RetryAfter+time.Second-1)/time.Second) || d.Seconds() < 1 || d.Seconds() > 20 {
		t.Errorf("Seconds() = %d for %s", d.Seconds(), d.RetryAfter)
	}
	if d := l.Allow("a"); d.OK || d.First {
		t.Fatalf("5th event: %+v; want refused, not first", d)
	}
	if d := l.Allow("b"); !d.OK {
		t.Fatalf("another key is limited by the first: %+v", d)
	}
	c.add(20 * time.Second)
	if d := l.Allow("a"); !d.OK {
		t.Fatalf("after 20s a token is back: %+v", d)
	}
	if d := l.Allow("a"); d.OK || !d.First {
		t.Fatalf("after passing, the next refusal is a first again: %+v", d)
	}
}

func TestOffAllowsAll(t *testing.T) {
	l := ratelimit.New(ratelimit.Rate{}, 0, nil)
	for range 1000 {
		if !l.Allow("a").OK {
			t.Fatal("an off limiter refused")
		}
	}
	var none *ratelimit.Limiter
	if !none.Allow("a").OK {
		t.Fatal("a nil limiter refused")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Rate{N: 2, Per: time.Minute}, 100, c.now)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("%d keys held; want the bound, 100", n)
	}
	// Idle keys go once their bucket is full again.
	c.add(time.Minute)
	l.Allow("fresh")
	if n := l.Len(); n != 1 {
		t.Fatalf("%d keys after a minute idle; want 1", n)
	}
}

func TestConcurrentKeysKeepTheirCount(t *testing.T) {
	l := ratelimit.New(ratelimit.Rate{N: 10, Per: time.Hour}, 0, nil)
	var mu sync.Mutex
	passed := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprint((g + i) % 4)
				if l.Allow(key).OK {
					mu.Lock()
					passed[key]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for k, n := range passed {
		if n != 10 {
			t.Errorf("key %s passed %d times; want 10", k, n)
		}
	}
	if len(passed) != 4 {
		t.Errorf("%d keys passed; want 4", len(passed))
	}
}
