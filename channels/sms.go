package channels

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SMS encodings.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet; gsmExt are the characters of its extension
// table, which take two septets each.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExt   = "^{}\\[~]|€\f"
)

var gsmSet = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExt {
		m[r] = 2
	}
	return m
}()

// toGSM turns the letters GSM-7 lacks into their nearest GSM-7 letter, so that a Spanish
// reply keeps 160 characters a segment: á, í, ó, ú lose their accent (é, ñ, ü, ¿, ¡ are in
// GSM-7 and stay), typographic quotes and dashes become plain ones.
var toGSM = map[rune]string{
	'á': "a", 'í': "i", 'ó': "o", 'ú': "u", 'Á': "A", 'Í': "I", 'Ó': "O", 'Ú': "U",
	'â': "a", 'ê': "e", 'î': "i", 'ô': "o", 'û': "u", 'ã': "a", 'õ': "o", 'ç': "c",
	'È': "E", 'Ì': "I", 'Ò': "O", 'Ù': "U", 'À': "A", 'ï': "i", 'ë': "e",
	'“': "\"", '”': "\"", '«': "\"", '»': "\"", '‘': "'", '’': "'", '´': "'", '`': "'",
	'–': "-", '—': "-", '…': "...", '•': "-", '·': "-", '\u00a0': " ", '\t': " ",
}

// GSMText rewrites text for SMS in GSM-7: letters mapped as toGSM says; emoji and any other
// character outside GSM-7 dropped.
func GSMText(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if _, ok := gsmSet[r]; ok {
			b.WriteRune(r)
			continue
		}
		if s, ok := toGSM[r]; ok {
			b.WriteString(s)
			continue
		}
		if unicode.IsSpace(r) {
			b.WriteByte(' ')
		}
		// Emoji, symbols and other scripts are dropped.
	}
	// A dropped emoji leaves doubled or trailing spaces behind.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// Segments returns how many SMS segments text takes and in which encoding: GSM-7 holds 160
// septets in one segment and 153 in each part of a longer message; UCS-2, 70 and 67 UTF-16
// units.
func Segments(text string) (int, string) {
	septets, gsm := 0, true
	for _, r := range text {
		n, ok := gsmSet[r]
		if !ok {
			gsm = false
			break
		}
		septets += n
	}
	if gsm {
		return parts(septets, 160, 153), GSM7
	}
	units := 0
	for _, r := range text {
		if utf8.RuneLen(r) == 4 || r > 0xFFFF {
			units += 2
		} else {
			units++
		}
	}
	return parts(units, 70, 67), UCS2
}

func parts(n, single, multi int) int {
	if n == 0 {
		return 1
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
