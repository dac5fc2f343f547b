package retrieval

import (
	_ "embed"
	"strings"
	"unicode"

	"github.com/kljensen/snowball/spanish"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lowercases s and removes its accents and diacritics ("Pensión" → "pension",
// "Ñuñoa" → "nunoa") so that text written with or without accents matches. Text shown to a
// citizen is never folded: ñ and accents are kept for display.
func Fold(s string) string {
	s = strings.ToLower(s)
	if isASCII(s) {
		return s
	}
	// The letters of Spanish and its neighbours (á, ñ, ü, ç…) fold by a table made once from
	// the same transform; a text with any other rune above ASCII (a combining mark, an emoji,
	// another script) takes the transform whole. Each citizen's message and each of the
	// catalogue's ~19,000 questions is folded: the transform cost a fifth of a server's start.
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteByte(byte(r))
		case r < foldTableEnd:
			b.WriteString(foldTable[r])
		default:
			return foldSlow(s)
		}
	}
	return b.String()
}

// foldTableEnd is the end of Latin Extended-B: every rune under it folds alone (a rune
// there has no combining mark of its own to meet a neighbour's).
const foldTableEnd = 0x250

// foldTable holds what foldSlow makes of each rune under foldTableEnd.
var foldTable = func() (t [foldTableEnd]string) {
	for r := rune(0); r < foldTableEnd; r++ {
		t[r] = foldSlow(string(r))
	}
	return t
}()

// foldSlow removes the accents and diacritics of a lowercased s: decomposed, without its
// nonspacing marks, composed again.
func foldSlow(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Words folds s and splits it into words of letters and digits; everything else separates.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

//go:embed stopwords.txt
var stopwordsText string

// stopwords holds folded Spanish and English function words and conversational fillers
// ("quiero saber", "xfa") that say nothing about which ficha is meant.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(stopwordsText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			m[Fold(w)] = true
		}
	}
	return m
}()

// IsStopword reports whether a folded word carries no meaning for retrieval.
func IsStopword(w string) bool { return stopwords[w] }

// Key is the index key of a folded word: its Spanish stem, spelled phonetically so that the
// usual spelling mistakes meet ("pencion"/"pension", "garantisada"/"garantizada",
// "sertificado"/"certificado", "bono"/"vono").
func Key(w string) string {
	w = spellK(dropSilentH(w))
	if len(w) > 3 && !isDigits(w) {
		w = spanish.Stem(w, true)
	}
	return phonetic(w)
}

// spellK writes an SMS k as Spanish spells that sound before stemming ("electroniko" →
// "electronico", "kiero" → "quiero"), so that the stemmer finds the same suffixes; the
// phonetic key turns c and qu back into k, so words spelt right keep their keys.
func spellK(w string) string {
	if !strings.Contains(w, "k") {
		return w
	}
	b := make([]byte, 0, len(w)+2)
	for i := 0; i < len(w); i++ {
		if w[i] != 'k' {
			b = append(b, w[i])
			continue
		}
		if i+1 < len(w) && (w[i+1] == 'e' || w[i+1] == 'i') {
			b = append(b, 'q', 'u')
		} else {
			b = append(b, 'c')
		}
	}
	return string(b)
}

// dropSilentH removes every h but that of ch, before stemming, so that "hijos" and "ijos"
// stem alike.
func dropSilentH(w string) string {
	if !strings.Contains(w, "h") {
		return w
	}
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		if w[i] == 'h' && (i == 0 || w[i-1] != 'c') {
			continue
		}
		b = append(b, w[i])
	}
	return string(b)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// phonetic spells a folded word by how it sounds in Chilean Spanish: c/z/s before e, i are
// one sound, as are b/v, ll/y, k/qu/c; h is silent; doubled letters count once.
func phonetic(w string) string {
	if isDigits(w) {
		return w
	}
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		c := w[i]
		var next byte
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch c {
		case 'h':
			if i > 0 && w[i-1] == 'c' {
				b[len(b)-1] = 'x' // ch
			}
			continue
		case 'c':
			switch next {
			case 'e', 'i':
				c = 's'
			case 'h':
			default:
				c = 'k'
			}
		case 'q':
			c = 'k'
			if next == 'u' && i+2 < len(w) && (w[i+2] == 'e' || w[i+2] == 'i') {
				i++ // qu before e, i: the u is silent
			}
		case 'z':
			c = 's'
		case 'n':
			if next == 'b' || next == 'v' || next == 'p' {
				c = 'm' // "imbierno" sounds like "invierno"
			}
		case 'v', 'w':
			c = 'b'
		case 'y':
			if i == len(w)-1 && i > 0 {
				c = 'i'
			}
		case 'l':
			if next == 'l' {
				c = 'y'
				i++
			}
		case 'g':
			if next == 'e' || next == 'i' {
				c = 'j'
			}
		}
		// Only ASCII letters collapse: the bytes of a multi-byte letter are not sounds, and
		// dropping one ("ぁ" is E3 81 81) would leave invalid UTF-8 in the index.
		if len(b) > 0 && b[len(b)-1] == c && c < 0x80 && !isDigit(c) {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
