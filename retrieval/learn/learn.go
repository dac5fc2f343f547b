// Package learn is a small text classifier trained here from our own data: a fastText-style
// model (Joulin et al., "Bag of Tricks for Efficient Text Classification", 2016). A text is
// the mean of the vectors of its features (its words, their pairs and the character n-grams
// of each word); a linear layer and a softmax over that mean give each label's probability.
// Character n-grams let a misspelt or unseen word ("enbarasada", "despidieron") share most of
// its features with the words of the training data.
//
// Training is deterministic: one thread, a seeded generator, features in sorted order. The
// same examples and settings give the same bytes.
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
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Example is one labelled text of the training data. Text is already normalised by the
// caller (folded words separated by spaces), as Predict's input will be.
type Example struct {
	Text   string
	Label  string
	Weight float64 // 0 counts as 1
}

// Config holds the training settings.
type Config struct {
	Dim      int     // size of the text vector
	Epochs   int     // passes over the examples
	LR       float64 // starting learning rate; it falls linearly to 0
	MinCount int     // a pair or n-gram seen fewer times is not a feature (words always are)
	MinN     int     // shortest character n-gram
	MaxN     int     // longest character n-gram
	Seed     uint64
	// Members: how many models, trained alike from seeds Seed, Seed+1, …, average their
	// probabilities (0 or 1: one). Each alone ranks a few texts in a hundred differently from
	// the next; their mean is steadier than any of them.
	Members int
	// Dropout is the chance that each of an example's features is left out of one pass over
	// it (0: none): a model that cannot lean on one strong word every time learns from the
	// others too, and reads texts that have only some of them.
	Dropout float64
}

// DefaultConfig trains in about three minutes on two cores for some 20,000 examples. The
// learning rate and passes were chosen on held-out questions (atiende train --dev): 1.5 and 60
// beat 0.5 and 40 by two points of hit@1 there. Three members: single models from seeds 1, 2
// and 3 differed by up to a point of hit@1 on eval/dev and the shipped cases; their mean beat
// each of them on both (docs/eval.md). Dropout 0.3 (thirteenth session): held-out questions
// hit@1 0.872 → 0.882 (0.1, 0.2 and 0.4 gave less), eval/dev 0.968 → 0.961. It makes the
// model surer of a lone word, so a follow-up that leaves its noun out ("y el de matrimonio?")
// is read with the previous ficha's title (bot.elidedNounRe).
var DefaultConfig = Config{Dim: 48, Epochs: 60, LR: 1.5, MinCount: 2, MinN: 3, MaxN: 5, Seed: 1, Members: 3, Dropout: 0.3}

// EmergencyConfig trains the emergency model: a lower learning rate than the fichas model's,
// for probabilities less sure of themselves on words that mean two things ("pega": a job, or
// hits). One member: three changed neither recall nor look-alike alarms on the held-out bank.
// Thirty passes: with the eighth bank round, 10 → 15, 20, 30 recognised two more held-out
// emergencies (0.982 → 0.984) and alarmed two fewer look-alikes (0.104 → 0.101); 45 and 60
// changed nothing more (docs/eval.md).
var EmergencyConfig = Config{Dim: 48, Epochs: 30, LR: 0.5, MinCount: 2, MinN: 3, MaxN: 5, Seed: 1}

// Model is a trained classifier. It is safe for concurrent use.
type Model struct {
	Labels []string
	// Digest names the training data and settings the model was trained from (Digest).
	Digest string
	cfg    Config
	feats  map[string]int32
	grams  []atomic.Pointer[[]int32] // a slot per feature (featureIDs); shared by the members
	in     []float32                 // len(feats) × Dim
	out    []float32                 // len(Labels) × Dim
	bias   []float32
	// members are the other models of an ensemble (Config.Members): the same labels and
	// features, their own weights.
	members []*Model
}

// Label is one label's probability for a text.
type Label struct {
	Name string
	P    float64
}

// Features lists a text's features: each word ("w:"), each pair of neighbouring words
// ("b:"), and the character n-grams of each word with its boundaries ("<casa>" gives "<ca",
// "cas", "asa", "sa>", …). A token that starts with '#' is a concept the caller recognised:
// it is a feature of its own and has no n-grams.
func Features(text string, minN, maxN int) []string {
	out := make([]string, 0, len(strings.Fields(text))*8)
	EachFeature(text, minN, maxN, func(kind byte, a, b string) {
		if kind == 'b' {
			out = append(out, "b:"+a+" "+b)
		} else {
			out = append(out, string(kind)+":"+a)
		}
	})
	return out
}

// EachFeature calls fn with each of the text's features (Features), in Features' order, as
// its kind ('w', 'b' or 'c') and its text: a, or for a pair of words a, a space and b. A
// caller can then hash or look a feature up without building a string for it.
func EachFeature(text string, minN, maxN int, fn func(kind byte, a, b string)) {
	prev := ""
	var offs []int
	for _, w := range strings.Fields(text) {
		fn('w', w, "")
		if strings.HasPrefix(w, "#") {
			continue
		}
		if prev != "" {
			fn('b', prev, w)
		}
		prev = w
		full := "<" + w + ">"
		offs = runeOffsets(full, offs)
		runes := len(offs) - 1
		for n := minN; n <= maxN; n++ {
			if n == runes {
				continue // the whole word is already a feature
			}
			for i := 0; i+n <= runes; i++ {
				fn('c', full[offs[i]:offs[i+n]], "")
			}
		}
	}
}

// runeOffsets returns the byte offsets of s's runes and, last, its length, in offs reused:
// the n-gram of n runes from rune i is s[offs[i]:offs[i+n]].
func runeOffsets(s string, offs []int) []int {
	offs = offs[:0]
	for i := range s {
		offs = append(offs, i)
	}
	return append(offs, len(s))
}

// Digest is a hash of the examples and settings: a model records the one it was trained
// from, so that a test can tell when the data changed and the model was not retrained.
func Digest(examples []Example, cfg Config) string {
	h := sha256.New()
	// The settings as they were written before Dropout existed; Dropout only when set, so that
	// models trained without it keep their digest.
	type settings struct {
		Dim, Epochs          int
		LR                   float64
		MinCount, MinN, MaxN int
		Seed                 uint64
		Members              int
	}
	fmt.Fprintf(h, "%+v\n", settings{cfg.Dim, cfg.Epochs, cfg.LR, cfg.MinCount, cfg.MinN, cfg.MaxN, cfg.Seed, cfg.Members})
	if cfg.Dropout != 0 {
		fmt.Fprintf(h, "dropout %g\n", cfg.Dropout)
	}
	for _, e := range examples {
		fmt.Fprintf(h, "%s\t%s\t%g\n", e.Label, e.Text, e.Weight)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Train fits a model to the examples: an ensemble of cfg.Members models when that is more
// than one.
func Train(examples []Example, cfg Config) (*Model, error) {
	m, err := train(examples, cfg)
	if err != nil {
		return nil, err
	}
	for i := 1; i < cfg.Members; i++ {
		c := cfg
		c.Seed += uint64(i)
		o, err := train(examples, c)
		if err != nil {
			return nil, err
		}
		m.members = append(m.members, &Model{Labels: m.Labels, cfg: m.cfg, feats: m.feats, grams: m.grams, in: o.in, out: o.out, bias: o.bias})
	}
	return m, nil
}

func train(examples []Example, cfg Config) (*Model, error) {
	if len(examples) == 0 {
		return nil, errors.New("learn: no examples")
	}
	if cfg.Dim <= 0 || cfg.Epochs <= 0 || cfg.LR <= 0 || cfg.MinN <= 0 || cfg.MaxN < cfg.MinN {
		return nil, fmt.Errorf("learn: bad settings %+v", cfg)
	}
	m := &Model{Digest: Digest(examples, cfg), cfg: cfg, feats: map[string]int32{}}
	labelID := map[string]int{}
	for _, e := range examples {
		if _, ok := labelID[e.Label]; !ok {
			labelID[e.Label] = 0
			m.Labels = append(m.Labels, e.Label)
		}
	}
	sort.Strings(m.Labels)
	for i, l := range m.Labels {
		labelID[l] = i
	}
	// The vocabulary, in sorted order so that rows do not depend on map order.
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
	for i := range examples {
		rows[i] = m.ids(feats[i])
	}

	d, nl := cfg.Dim, len(m.Labels)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6174_6965_6e64_65))
	m.in = make([]float32, len(vocab)*d)
	for i := range m.in {
		m.in[i] = float32((rng.Float64()*2 - 1) / float64(d))
	}
	m.out = make([]float32, nl*d)
	m.bias = make([]float32, nl)

	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	h := make([]float32, d)
	gh := make([]float32, d)
	p := make([]float64, nl)
	var kept []int32
	total := float64(cfg.Epochs * len(examples))
	step := 0.0
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := cfg.LR * (1 - step/total)
			step++
			ids := rows[i]
			if len(ids) == 0 {
				continue
			}
			if cfg.Dropout > 0 {
				kept = kept[:0]
				for _, id := range ids {
					if rng.Float64() >= cfg.Dropout {
						kept = append(kept, id)
					}
				}
				if len(kept) == 0 {
					kept = append(kept, ids[rng.IntN(len(ids))])
				}
				ids = kept
			}
			w := examples[i].Weight
			if w == 0 {
				w = 1
			}
			m.hidden(ids, h)
			m.softmax(h, p)
			clear(gh)
			y := labelID[examples[i].Label]
			for l := range nl {
				g := p[l]
				if l == y {
					g--
				}
				g *= lr * w
				if g == 0 {
					continue
				}
				o := m.out[l*d : (l+1)*d]
				for k := range d {
					gh[k] += float32(g) * o[k]
					o[k] -= float32(g) * h[k]
				}
				m.bias[l] -= float32(g)
			}
			scale := 1 / float32(len(ids))
			for _, id := range ids {
				row := m.in[int(id)*d : (int(id)+1)*d]
				for k := range d {
					row[k] -= gh[k] * scale
				}
			}
		}
	}
	return m, nil
}

// idsOf is ids(Features(text)) without building a string per feature: a prediction's cost
// was mostly those strings.
func (m *Model) idsOf(text string) []int32 {
	return featureIDs(text, m.feats, m.grams, m.cfg.MinN, m.cfg.MaxN)
}

// featureIDs returns the ids, in feats, of the text's features (Features) that feats holds.
// It walks the text as EachFeature does, inline: on every message, a callback cost twenty
// allocations a turn. grams, when it has a slot per feature, keeps the ids of each known
// word's character n-grams the first time the word is met: a word of eight letters is 21
// n-grams, looked up once instead of at each of its uses (the ranker reads some 19,000
// questions at a server's start).
func featureIDs(text string, feats map[string]int32, grams []atomic.Pointer[[]int32], minN, maxN int) []int32 {
	words := strings.Fields(text)
	ids := make([]int32, 0, len(words)*16)
	buf := make([]byte, 0, 64)
	var offs []int
	prev := ""
	for _, w := range words {
		buf = append(append(buf[:0], "w:"...), w...)
		wid, known := feats[string(buf)]
		if known {
			ids = append(ids, wid)
		}
		if strings.HasPrefix(w, "#") {
			continue
		}
		if prev != "" {
			buf = append(append(append(append(buf[:0], "b:"...), prev...), ' '), w...)
			if id, ok := feats[string(buf)]; ok {
				ids = append(ids, id)
			}
		}
		prev = w
		if !known || int(wid) >= len(grams) {
			ids, buf, offs = appendGrams(ids, buf, offs, w, feats, minN, maxN)
			continue
		}
		if g := grams[wid].Load(); g != nil {
			ids = append(ids, *g...)
			continue
		}
		from := len(ids)
		ids, buf, offs = appendGrams(ids, buf, offs, w, feats, minN, maxN)
		g := slices.Clone(ids[from:])
		grams[wid].Store(&g) // two readers may make it at once: either is right
	}
	return ids
}

// appendGrams appends to ids the ids of the word's character n-grams that feats holds, in
// Features' order; buf and offs are scratch space, returned for reuse. It repeats
// EachFeature's loop on purpose: through a callback, or a scratch struct passed by pointer,
// the word and its buffers escape to the heap (BenchmarkTurn: 329 → 338–341 allocations).
func appendGrams(ids []int32, buf []byte, offs []int, w string, feats map[string]int32, minN, maxN int) ([]int32, []byte, []int) {
	full := "<" + w + ">"
	offs = runeOffsets(full, offs)
	runes := len(offs) - 1
	for n := minN; n <= maxN; n++ {
		if n == runes {
			continue // the whole word is already a feature
		}
		for i := 0; i+n <= runes; i++ {
			buf = append(append(buf[:0], "c:"...), full[offs[i]:offs[i+n]]...)
			if id, ok := feats[string(buf)]; ok { // the conversion in a map index does not allocate
				ids = append(ids, id)
			}
		}
	}
	return ids, buf, offs
}

func (m *Model) ids(feats []string) []int32 {
	ids := make([]int32, 0, len(feats))
	for _, f := range feats {
		if id, ok := m.feats[f]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// hidden sets h to the mean of the rows of ids.
func (m *Model) hidden(ids []int32, h []float32) {
	d := m.cfg.Dim
	h = h[:d]
	clear(h)
	for _, id := range ids {
		row := m.in[int(id)*d : (int(id)+1)*d]
		row = row[:len(h)] // both of one length: the loop has no bounds to check (twice as fast)
		for k := range h {
			h[k] += row[k]
		}
	}
	inv := 1 / float32(len(ids))
	for k := range h {
		h[k] *= inv
	}
}

// softmax sets p to the labels' probabilities for the text vector h.
func (m *Model) softmax(h []float32, p []float64) {
	d := m.cfg.Dim
	hi := math.Inf(-1)
	for l := range p {
		o := m.out[l*d : (l+1)*d]
		var s float32
		for k := range d {
			s += o[k] * h[k]
		}
		p[l] = float64(s + m.bias[l])
		hi = math.Max(hi, p[l])
	}
	var sum float64
	for l := range p {
		p[l] = math.Exp(p[l] - hi)
		sum += p[l]
	}
	for l := range p {
		p[l] /= sum
	}
}

// Predict returns every label's probability for the text, best first; nil when the model
// knows none of the text's features.
func (m *Model) Predict(text string) []Label {
	labels, _ := m.read(m.idsOf(text), false)
	return labels
}

// PredictEmbed is Predict and Embed of one text, reading its features once: a turn asks the
// fichas model for both.
func (m *Model) PredictEmbed(text string) ([]Label, []float32) {
	return m.read(m.idsOf(text), true)
}

// read returns the labels' probabilities for the features ids, best first, and, when embed,
// the first member's vector of unit length (Embed); nils when ids is empty.
func (m *Model) read(ids []int32, embed bool) ([]Label, []float32) {
	if len(ids) == 0 {
		return nil, nil
	}
	h := make([]float32, m.cfg.Dim)
	p := make([]float64, len(m.Labels))
	m.hidden(ids, h)
	var vec []float32
	if embed {
		vec = unit(slices.Clone(h))
	}
	m.softmax(h, p)
	if len(m.members) > 0 {
		q := make([]float64, len(p))
		for _, o := range m.members {
			o.hidden(ids, h)
			o.softmax(h, q)
			for l := range p {
				p[l] += q[l]
			}
		}
		for l := range p {
			p[l] /= float64(1 + len(m.members))
		}
	}
	out := make([]Label, len(p))
	for l := range p {
		out[l] = Label{Name: m.Labels[l], P: p[l]}
	}
	slices.SortStableFunc(out, func(a, b Label) int {
		switch {
		case a.P > b.P:
			return -1
		case a.P < b.P:
			return 1
		}
		return 0
	})
	return out, vec
}

// Embed returns the text's vector as the model reads it (the first member's), of unit length;
// nil when the model knows none of its features. Two texts the model takes for the same
// question have vectors close to each other.
func (m *Model) Embed(text string) []float32 {
	ids := m.idsOf(text)
	if len(ids) == 0 {
		return nil
	}
	h := make([]float32, m.cfg.Dim)
	m.hidden(ids, h)
	return unit(h)
}

// unit scales h to unit length in place and returns it; nil when h is all zeros.
func unit(h []float32) []float32 {
	var n float32
	for _, v := range h {
		n += v * v
	}
	if n == 0 {
		return nil
	}
	inv := float32(1 / math.Sqrt(float64(n)))
	for k := range h {
		h[k] *= inv
	}
	return h
}

// Config returns the settings the model was trained with.
func (m *Model) Config() Config { return m.cfg }

// KnownWords counts the words of the text the model saw in training: below two or so, what
// it predicts is the prior of its training data, not evidence.
func (m *Model) KnownWords(text string) int {
	n := 0
	for _, w := range strings.Fields(text) {
		if _, ok := m.feats["w:"+w]; ok {
			n++
		}
	}
	return n
}

// KnowsShape reports whether the model, though it never saw the word w, saw at least share
// of its character n-grams (of the lengths it was trained with): "colgarme" learned from
// training lines makes "colgar" a word it can read. Words shorter than five letters are
// never read this way: their n-grams are common to too many words.
func (m *Model) KnowsShape(w string, share float64) bool {
	r := []rune("<" + w + ">")
	if len(r) < 7 || strings.HasPrefix(w, "#") {
		return false
	}
	seen, all := 0, 0
	buf := make([]byte, 0, 32)
	for n := m.cfg.MinN; n <= m.cfg.MaxN; n++ {
		for i := 0; i+n <= len(r); i++ {
			all++
			buf = append(buf[:0], "c:"...)
			for _, c := range r[i : i+n] {
				buf = utf8.AppendRune(buf, c)
			}
			if _, ok := m.feats[string(buf)]; ok { // the conversion in a map index does not allocate
				seen++
			}
		}
	}
	return all > 0 && float64(seen) >= share*float64(all)
}

// Size returns how many features the model knows and the size of its vectors.
func (m *Model) Size() (features, dim int) { return len(m.feats), m.cfg.Dim }

// magic names the format; version 2 added the ensemble's members after the first model's
// weights, version 3 the dropout after the seed (written only for a model trained with
// dropout, so that the others keep their bytes). Versions 1 and 2 are still read.
const (
	magic   = "atiende-learn-2"
	magicV1 = "atiende-learn-1"
	magicV3 = "atiende-learn-3"
)

// WriteTo writes the model, gzipped. The input vectors are kept as bytes with one scale per
// row (a quarter of the size, and no measurable change in what it predicts).
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // no name, no time: same bytes
	bw := bufio.NewWriter(zw)
	str := func(s string) {
		binary.Write(bw, binary.LittleEndian, uint32(len(s)))
		bw.WriteString(s)
	}
	c := m.cfg
	floats := []float64{c.LR, float64(c.Seed)}
	if c.Dropout != 0 {
		str(magicV3)
		floats = append(floats, c.Dropout)
	} else {
		str(magic)
	}
	str(m.Digest)
	binary.Write(bw, binary.LittleEndian, []int32{int32(c.Dim), int32(c.Epochs), int32(c.MinCount), int32(c.MinN), int32(c.MaxN), int32(c.Members)})
	binary.Write(bw, binary.LittleEndian, floats)
	binary.Write(bw, binary.LittleEndian, uint32(len(m.Labels)))
	for _, l := range m.Labels {
		str(l)
	}
	names := make([]string, len(m.feats))
	for f, i := range m.feats {
		names[i] = f
	}
	binary.Write(bw, binary.LittleEndian, uint32(len(names)))
	for _, f := range names {
		str(f)
	}
	for _, w := range append([]*Model{m}, m.members...) {
		w.writeWeights(bw, len(names))
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.WriteTo(w)
}

// writeWeights writes one model's weights: the input vectors as bytes with one scale per row
// (a quarter of the size, and no measurable change in what it predicts), then the output.
func (m *Model) writeWeights(bw io.Writer, nf int) {
	d := m.cfg.Dim
	q := make([]int8, d)
	for i := range nf {
		row := m.in[i*d : (i+1)*d]
		var hi float32
		for _, v := range row {
			hi = max(hi, float32(math.Abs(float64(v))))
		}
		scale := hi / 127
		for k, v := range row {
			if scale > 0 {
				q[k] = int8(math.Round(float64(v / scale)))
			} else {
				q[k] = 0
			}
		}
		binary.Write(bw, binary.LittleEndian, scale)
		binary.Write(bw, binary.LittleEndian, q)
	}
	binary.Write(bw, binary.LittleEndian, m.out)
	binary.Write(bw, binary.LittleEndian, m.bias)
}

// Read reads a model WriteTo wrote.
func Read(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("learn: %w", err)
	}
	br := bufio.NewReader(zr)
	var rerr error
	u32, str := readers(br, &rerr)
	version := str()
	if version != magic && version != magicV1 && version != magicV3 {
		return nil, fmt.Errorf("learn: not a model (%q)", version)
	}
	m := &Model{Digest: str(), feats: map[string]int32{}}
	ints := make([]int32, 5)
	if version != magicV1 {
		ints = make([]int32, 6)
	}
	floats := make([]float64, 2)
	if version == magicV3 {
		floats = make([]float64, 3)
	}
	if rerr == nil {
		rerr = binary.Read(br, binary.LittleEndian, ints)
	}
	if rerr == nil {
		rerr = binary.Read(br, binary.LittleEndian, floats)
	}
	m.cfg = Config{Dim: int(ints[0]), Epochs: int(ints[1]), MinCount: int(ints[2]), MinN: int(ints[3]), MaxN: int(ints[4]), LR: floats[0], Seed: uint64(floats[1])}
	if len(ints) > 5 {
		m.cfg.Members = int(ints[5])
	}
	if len(floats) > 2 {
		m.cfg.Dropout = floats[2]
		if !(m.cfg.Dropout >= 0 && m.cfg.Dropout < 1) {
			return nil, fmt.Errorf("learn: bad model header: dropout %g", m.cfg.Dropout)
		}
	}
	nl := u32()
	for range nl {
		m.Labels = append(m.Labels, str())
	}
	nf := u32()
	if rerr != nil || m.cfg.Dim <= 0 || m.cfg.Dim > 1024 || nl > 1<<16 || nf > 1<<24 {
		return nil, fmt.Errorf("learn: bad model header: %v", rerr)
	}
	m.feats = make(map[string]int32, nf)
	for i := range nf {
		m.feats[str()] = int32(i)
	}
	m.grams = make([]atomic.Pointer[[]int32], nf)
	if m.cfg.Members > 64 {
		return nil, fmt.Errorf("learn: bad model header: %d members", m.cfg.Members)
	}
	read := func(w *Model) {
		d := w.cfg.Dim
		w.in = make([]float32, int(nf)*d)
		// A row is its scale (a float32) and d int8s, read whole: binary.Read for each
		// value was most of the time a model took to load.
		row := make([]byte, 4+d)
		for i := range int(nf) {
			if rerr != nil {
				break
			}
			if _, err := io.ReadFull(br, row); err != nil {
				rerr = err
				break
			}
			scale := math.Float32frombits(binary.LittleEndian.Uint32(row))
			for k, b := range row[4:] {
				w.in[i*d+k] = float32(int8(b)) * scale
			}
		}
		w.out = make([]float32, int(nl)*d)
		w.bias = make([]float32, nl)
		if rerr == nil {
			rerr = binary.Read(br, binary.LittleEndian, w.out)
		}
		if rerr == nil {
			rerr = binary.Read(br, binary.LittleEndian, w.bias)
		}
	}
	read(m)
	for i := 1; i < m.cfg.Members && rerr == nil; i++ {
		o := &Model{Labels: m.Labels, cfg: m.cfg, feats: m.feats, grams: m.grams}
		read(o)
		m.members = append(m.members, o)
	}
	if rerr != nil {
		return nil, fmt.Errorf("learn: truncated model: %w", rerr)
	}
	return m, nil
}

// readers returns the readers of a model file's two kinds of header value, a little-endian
// uint32 and a string (its length as a uint32, then its bytes), over br; the first error is
// kept in *rerr and every later read returns zero. They reuse one buffer: a model holds a
// string for each of its features, hundreds of thousands of them.
func readers(br *bufio.Reader, rerr *error) (u32 func() uint32, str func() string) {
	var scratch [4]byte
	var buf []byte
	u32 = func() uint32 {
		if *rerr != nil {
			return 0
		}
		if _, err := io.ReadFull(br, scratch[:]); err != nil {
			*rerr = err
			return 0
		}
		return binary.LittleEndian.Uint32(scratch[:])
	}
	str = func() string {
		n := u32()
		if *rerr != nil || n > 1<<20 {
			if *rerr == nil {
				*rerr = errors.New("string too long")
			}
			return ""
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		b := buf[:n]
		if _, err := io.ReadFull(br, b); err != nil {
			*rerr = err
			return ""
		}
		return string(b)
	}
	return u32, str
}
