package learn_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/atiende/atiende/retrieval/learn"
)

// rankToy: the right candidate is the one whose first feature is highest; the second
// feature is noise that looks useful on a few questions.
func rankToy(n int, seed uint64) []learn.RankGroup {
	rng := rand.New(rand.NewPCG(seed, 1))
	var gs []learn.RankGroup
	for range n {
		g := learn.RankGroup{Right: -1}
		best := -1.0
		for i := range 5 {
			x := []float64{rng.Float64(), rng.Float64()}
			if x[0] > best {
				best, g.Right = x[0], i
			}
			g.Features = append(g.Features, x)
		}
		gs = append(gs, g)
	}
	return gs
}

func TestRankerLearnsAndIsDeterministic(t *testing.T) {
	train := rankToy(300, 1)
	a, err := learn.TrainRanker(train, learn.DefaultRankConfig)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := learn.TrainRanker(train, learn.DefaultRankConfig)
	var wa, wb bytes.Buffer
	a.WriteTo(&wa)
	b.WriteTo(&wb)
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Fatal("the same groups gave two different rankers")
	}
	if a.Weights[0] <= 0 || a.Weights[0] < 5*abs(a.Weights[1]) {
		t.Errorf("weights %v: the first feature decides", a.Weights)
	}
	right := 0
	test := rankToy(200, 2)
	for _, g := range test {
		best, bs := 0, a.Score(g.Features[0])
		for i, x := range g.Features {
			if s := a.Score(x); s > bs {
				best, bs = i, s
			}
		}
		if best == g.Right {
			right++
		}
	}
	if right < 190 {
		t.Errorf("%d of 200 new groups ranked right", right)
	}
	back, err := learn.ReadRanker(&wa)
	if err != nil || len(back.Weights) != 2 || abs(back.Weights[0]-a.Weights[0]) > 1e-6 {
		t.Fatalf("read back %+v, %v", back, err)
	}
}

func TestRankerRefusesWhatItCannotLearn(t *testing.T) {
	if _, err := learn.TrainRanker(nil, learn.DefaultRankConfig); err == nil {
		t.Error("no groups: want an error")
	}
	one := []learn.RankGroup{{Features: [][]float64{{1, 2}}, Right: 0}}
	if _, err := learn.TrainRanker(one, learn.DefaultRankConfig); err == nil {
		t.Error("a single candidate teaches nothing: want an error")
	}
	ragged := []learn.RankGroup{{Features: [][]float64{{1, 2}, {1}}, Right: 0}}
	if _, err := learn.TrainRanker(ragged, learn.DefaultRankConfig); err == nil {
		t.Error("candidates with different numbers of features: want an error")
	}
	for _, bad := range []string{"", "ranker abc 2\n0.5\n", "ranker abc 1\nx\n", "model abc 1\n1\n"} {
		if _, err := learn.ReadRanker(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
