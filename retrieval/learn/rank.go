package learn

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Ranker orders a question's candidates: a linear score over each candidate's features, a
// softmax over the candidates of one question (a listwise model, as in ListNet: Cao et al.,
// "Learning to Rank: From Pairwise Approach to Listwise Approach", 2007). It is trained on
// questions the models did not see, so that it learns how far to trust each signal where it
// is used: on new words.
type Ranker struct {
	Weights []float64
	// Digest names the data and settings it was trained from.
	Digest string
}

// RankGroup is one question's candidates: the features of each, and which one is right
// (Right < 0: none is, and the group teaches nothing).
type RankGroup struct {
	Features [][]float64
	Right    int
}

// RankConfig holds a ranker's training settings.
type RankConfig struct {
	Iterations int     // full passes of gradient descent
	LR         float64 // step size
	L2         float64 // weight decay
}

// DefaultRankConfig converges on a few thousand questions in well under a second.
var DefaultRankConfig = RankConfig{Iterations: 400, LR: 0.5, L2: 1e-4}

// TrainRanker fits a ranker by full-batch gradient descent from zero weights: deterministic.
func TrainRanker(groups []RankGroup, cfg RankConfig) (*Ranker, error) {
	nf := 0
	for _, g := range groups {
		for _, x := range g.Features {
			if nf == 0 {
				nf = len(x)
			} else if len(x) != nf {
				return nil, fmt.Errorf("learn: ranker features of %d and %d values", nf, len(x))
			}
		}
	}
	if nf == 0 {
		return nil, errors.New("learn: no ranking examples")
	}
	w := make([]float64, nf)
	grad := make([]float64, nf)
	n := 0
	for _, g := range groups {
		if g.Right >= 0 && g.Right < len(g.Features) && len(g.Features) > 1 {
			n++
		}
	}
	if n == 0 {
		return nil, errors.New("learn: no question has its right candidate among others")
	}
	var s []float64
	for range cfg.Iterations {
		clear(grad)
		for _, g := range groups {
			if g.Right < 0 || g.Right >= len(g.Features) || len(g.Features) < 2 {
				continue
			}
			s = scores(w, g.Features, s)
			softmaxInPlace(s)
			for i, x := range g.Features {
				d := s[i]
				if i == g.Right {
					d--
				}
				for k, v := range x {
					grad[k] += d * v
				}
			}
		}
		for k := range w {
			w[k] -= cfg.LR * (grad[k]/float64(n) + cfg.L2*w[k])
		}
	}
	return &Ranker{Weights: w}, nil
}

// Score is the ranker's score of one candidate.
func (r *Ranker) Score(x []float64) float64 {
	s := 0.0
	for k, v := range x {
		if k < len(r.Weights) {
			s += r.Weights[k] * v
		}
	}
	return s
}

func scores(w []float64, xs [][]float64, s []float64) []float64 {
	s = s[:0]
	for _, x := range xs {
		v := 0.0
		for k, f := range x {
			v += w[k] * f
		}
		s = append(s, v)
	}
	return s
}

func softmaxInPlace(s []float64) {
	m := math.Inf(-1)
	for _, v := range s {
		m = max(m, v)
	}
	sum := 0.0
	for i, v := range s {
		s[i] = math.Exp(v - m)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
}

// WriteTo writes the ranker as text: a line "ranker DIGEST N" ("-" for no digest), then its N
// weights, one a line.
func (r *Ranker) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "ranker %s %d\n", cmp.Or(r.Digest, "-"), len(r.Weights))
	for _, v := range r.Weights {
		b.WriteString(strconv.FormatFloat(v, 'g', 10, 64))
		b.WriteByte('\n')
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// ReadRanker reads what WriteTo wrote.
func ReadRanker(rd io.Reader) (*Ranker, error) {
	sc := bufio.NewScanner(rd)
	if !sc.Scan() {
		return nil, errors.New("learn: empty ranker")
	}
	head := strings.Fields(sc.Text())
	if len(head) != 3 || head[0] != "ranker" {
		return nil, fmt.Errorf("learn: ranker header %q: want \"ranker DIGEST N\"", sc.Text())
	}
	n, err := strconv.Atoi(head[2])
	if err != nil {
		return nil, fmt.Errorf("learn: ranker header %q: %w", sc.Text(), err)
	}
	r := &Ranker{Digest: head[1]}
	if r.Digest == "-" {
		r.Digest = ""
	}
	for sc.Scan() {
		v, err := strconv.ParseFloat(strings.TrimSpace(sc.Text()), 64)
		if err != nil {
			return nil, fmt.Errorf("learn: ranker weight %d: %w", len(r.Weights)+1, err)
		}
		r.Weights = append(r.Weights, v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.Weights) != n {
		return nil, fmt.Errorf("learn: ranker has %d weights, its header says %d", len(r.Weights), n)
	}
	return r, nil
}
