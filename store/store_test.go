package store_test

import (
	"errors"
	"testing"

	"github.com/atiende/atiende/store"
)

func TestInBatches(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		batches []int // rows each call reports
		errAt   int   // the call (1-based) that fails; 0: none
		want    int
		calls   int
	}{
		{name: "nothing to do", batches: []int{0}, want: 0, calls: 1},
		{name: "one partial batch", batches: []int{3}, want: 3, calls: 1},
		{name: "full batches then a partial one", batches: []int{5, 5, 2}, want: 12, calls: 3},
		{name: "full batches then none", batches: []int{5, 5, 0}, want: 10, calls: 3},
		{name: "an error stops, keeping the count", batches: []int{5, 5, 5}, errAt: 2, want: 10, calls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			got, err := store.InBatches(5, func() (int, error) {
				calls++
				if calls == tc.errAt {
					return tc.batches[calls-1], boom
				}
				return tc.batches[calls-1], nil
			})
			if got != tc.want || calls != tc.calls || (tc.errAt > 0) != errors.Is(err, boom) {
				t.Errorf("InBatches = %d, %v after %d calls; want %d after %d", got, err, calls, tc.want, tc.calls)
			}
		})
	}
}
