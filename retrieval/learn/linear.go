package learn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
)

// Linear is a sparse binary logistic regression over the same features as Model (words, word
// pairs, character n-grams, concepts): one weight per feature, no shared vector. Where Model
// squeezes every feature through a few dimensions shared by all labels, Linear gives each
// feature its own say on one question (is this text of the positive label?); beside Model it
// is a second reading with other errors, trained on the same examples.
type Linear struct {
	Digest string
	cfg    LinearConfig
	feats  map[string]int32
	grams  []atomic.Pointer[[]int32] // a slot per feature (featureIDs)
	w      []float32
	bias   float32
}

// LinearConfig holds Linear's training settings.
type LinearConfig struct {
	Epochs   int
	LR       float64 // AdaGrad's step
	L2       float64 // weight decay, per example
	MinCount int     // a pair or n-gram seen fewer times is not a feature (words always are)
	MinN     int
	MaxN     int
	Seed     uint64
	// PosWeight multiplies the loss of the positive examples: above 1, a miss costs more
	// than a false alarm.
	PosWeight float64
}

// DefaultLinearConfig was chosen on the held-out bank (atiende train --dev).
var DefaultLinearConfig = LinearConfig{Epochs: 8, LR: 0.2, L2: 1e-6, MinCount: 2, MinN: 3, MaxN: 5, Seed: 1, PosWeight: 1}

// TrainLinear fits a Linear model: examples whose label is in positive are the positive
// class, the others the negative one.
func TrainLinear(examples []Example, positive func(label string) bool, cfg LinearConfig) (*Linear, error) {
	if len(examples) == 0 {
		return nil, errors.New("learn: no examples")
	}
	if cfg.Epochs <= 0 || cfg.LR <= 0 || cfg.MinN <= 0 || cfg.MaxN < cfg.MinN {
		return nil, fmt.Errorf("learn: bad settings %+v", cfg)
	}
	m := &Linear{Digest: linearDigest(examples, cfg), cfg: cfg, feats: map[string]int32{}}
	count := map[string]int{}
	feats := make([][]string, len(examples))
	for i, e := range examples {
		feats[i] = Features(e.Text, cfg.MinN, cfg.MaxN)
		for _, f := range feats[i] {
			count[f]++
		}
	}
	var vocab []string
	for f, n := range count {
		if n >= cfg.MinCount || strings.HasPrefix(f, "w:") {
			vocab = append(vocab, f)
		}
	}
	sort.Strings(vocab)
	for i, f := range vocab {
		m.feats[f] = int32(i)
	}
	m.grams = make([]atomic.Pointer[[]int32], len(vocab))
	rows := make([][]int32, len(examples))
	ys := make([]float64, len(examples))
	for i, e := range examples {
		rows[i] = m.ids(feats[i])
		if positive(e.Label) {
			ys[i] = 1
		}
	}
	m.w = make([]float32, len(vocab))
	g2 := make([]float64, len(vocab)) // AdaGrad's sums of squared gradients
	var b2 float64
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c69_6e65_6172))
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			ids := rows[i]
			if len(ids) == 0 {
				continue
			}
			w := examples[i].Weight
			if w == 0 {
				w = 1
			}
			if ys[i] == 1 {
				w *= cfg.PosWeight
			}
			x := 1 / math.Sqrt(float64(len(ids))) // each feature's value: the row has unit length
			p := m.score(ids, x)
			g := (p - ys[i]) * w
			for _, id := range ids {
				gi := g*x + cfg.L2*float64(m.w[id])
				g2[id] += gi * gi
				m.w[id] -= float32(cfg.LR * gi / (math.Sqrt(g2[id]) + 1e-8))
			}
			b2 += g * g
			m.bias -= float32(cfg.LR * g / (math.Sqrt(b2) + 1e-8))
		}
	}
	return m, nil
}

func (m *Linear) ids(feats []string) []int32 {
	ids := make([]int32, 0, len(feats))
	for _, f := range feats {
		if id, ok := m.feats[f]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

func (m *Linear) score(ids []int32, x float64) float64 {
	s := float64(m.bias)
	for _, id := range ids {
		s += float64(m.w[id]) * x
	}
	return 1 / (1 + math.Exp(-s))
}

// P returns the probability that the text is of the positive label; 0 when the model knows
// none of its features.
func (m *Linear) P(text string) float64 {
	ids := featureIDs(text, m.feats, m.grams, m.cfg.MinN, m.cfg.MaxN)
	if len(ids) == 0 {
		return 0
	}
	return m.score(ids, 1/math.Sqrt(float64(len(ids))))
}

// linearDigest names a Linear model's training data and settings, as Digest does a Model's.
func linearDigest(examples []Example, cfg LinearConfig) string {
	h := sha256.New()
	fmt.Fprintf(h, "linear %+v\n", cfg)
	for _, e := range examples {
		fmt.Fprintf(h, "%s\t%s\t%g\n", e.Label, e.Text, e.Weight)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

const linearMagic = "atiende-linear-1"

// WriteTo writes the model, gzipped, in a form Read reads back with the same predictions.
// The same model gives the same bytes.
func (m *Linear) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // no name, no time: same bytes
	bw := bufio.NewWriter(zw)
	str := func(s string) {
		binary.Write(bw, binary.LittleEndian, uint32(len(s)))
		bw.WriteString(s)
	}
	str(linearMagic)
	str(m.Digest)
	c := m.cfg
	binary.Write(bw, binary.LittleEndian, []int32{int32(c.Epochs), int32(c.MinCount), int32(c.MinN), int32(c.MaxN)})
	binary.Write(bw, binary.LittleEndian, []float64{c.LR, c.L2, float64(c.Seed), c.PosWeight})
	names := make([]string, len(m.feats))
	for f, i := range m.feats {
		names[i] = f
	}
	binary.Write(bw, binary.LittleEndian, uint32(len(names)))
	for _, f := range names {
		str(f)
	}
	binary.Write(bw, binary.LittleEndian, m.w)
	binary.Write(bw, binary.LittleEndian, m.bias)
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.WriteTo(w)
}

// ReadLinear reads a model written by Linear.WriteTo.
func ReadLinear(r io.Reader) (*Linear, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("learn: %w", err)
	}
	br := bufio.NewReader(zr)
	var rerr error
	read := func(v any) {
		if rerr == nil {
			rerr = binary.Read(br, binary.LittleEndian, v)
		}
	}
	_, str := readers(br, &rerr)
	if v := str(); v != linearMagic {
		return nil, fmt.Errorf("learn: not a linear model (%q)", v)
	}
	m := &Linear{Digest: str(), feats: map[string]int32{}}
	ints, floats := make([]int32, 4), make([]float64, 4)
	read(ints)
	read(floats)
	m.cfg = LinearConfig{Epochs: int(ints[0]), MinCount: int(ints[1]), MinN: int(ints[2]), MaxN: int(ints[3]),
		LR: floats[0], L2: floats[1], Seed: uint64(floats[2]), PosWeight: floats[3]}
	var nf uint32
	read(&nf)
	if rerr != nil || nf > 1<<24 || m.cfg.MinN <= 0 || m.cfg.MaxN < m.cfg.MinN {
		return nil, fmt.Errorf("learn: bad linear model header: %v", rerr)
	}
	m.feats = make(map[string]int32, nf)
	for i := range nf {
		m.feats[str()] = int32(i)
	}
	m.grams = make([]atomic.Pointer[[]int32], nf)
	m.w = make([]float32, nf)
	read(m.w)
	read(&m.bias)
	if rerr != nil {
		return nil, fmt.Errorf("learn: truncated linear model: %w", rerr)
	}
	return m, nil
}

// Size returns the number of features the model knows.
func (m *Linear) Size() int { return len(m.feats) }

// Config returns the settings the model was trained with.
func (m *Linear) Config() LinearConfig { return m.cfg }

// LinearDigest is the digest a Linear model trained from these examples and settings records.
func LinearDigest(examples []Example, cfg LinearConfig) string { return linearDigest(examples, cfg) }
