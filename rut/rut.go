// Package rut reads Chile's RUT (Rol Único Tributario), the national identity and tax
// number: its body of up to eight digits and the check digit computed from it (módulo 11),
// written 12.345.678-5, 12345678-5 or 123456785.
package rut

import (
	"fmt"
	"regexp"
	"strings"
)

// pattern finds what is written like a RUT: a body of 7 or 8 digits, in groups of three
// with dots or without, then the check digit after a dash or right after the body.
var pattern = regexp.MustCompile(`\b(\d{1,2})(\.?)(\d{3})(\.?)(\d{3})(-?)([\dkK])\b`)

// Match is one RUT-like text found by Scan.
type Match struct {
	Start, End int    // the byte offsets of the text
	Body       string // the digits before the check digit
	Digit      string // the check digit as written, upper case
	// Punctuated: written with dots or a dash, the way a person writes a RUT (a bare run
	// of digits may be any number).
	Punctuated bool
}

// Valid reports whether the check digit is the one the body gives.
func (m Match) Valid() bool { return CheckDigit(m.Body) == m.Digit }

// Format writes the RUT the standard way, 12.345.678-5.
func (m Match) Format() string {
	n := len(m.Body)
	return m.Body[:n-6] + "." + m.Body[n-6:n-3] + "." + m.Body[n-3:] + "-" + m.Digit
}

// Scan returns what is written like a RUT in a text, valid or not, in order.
func Scan(text string) []Match {
	var out []Match
	for _, ix := range pattern.FindAllStringSubmatchIndex(text, -1) {
		g := func(i int) string { return text[ix[2*i]:ix[2*i+1]] }
		out = append(out, Match{Start: ix[0], End: ix[1], Body: g(1) + g(3) + g(5), Digit: strings.ToUpper(g(7)),
			Punctuated: g(2) != "" || g(4) != "" || g(6) != ""})
	}
	return out
}

// Find returns the RUTs of a text whose check digit is right, as 12.345.678-5.
func Find(text string) []string {
	var out []string
	for _, m := range Scan(text) {
		if m.Valid() {
			out = append(out, m.Format())
		}
	}
	return out
}

// Parse reads one RUT, in any of the usual ways of writing it, and returns it as
// 12.345.678-5; a wrong check digit is an error.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	ms := Scan(s)
	if len(ms) != 1 || ms[0].Start != 0 || ms[0].End != len(s) {
		return "", fmt.Errorf("rut %q: want a RUT such as 12.345.678-5", s)
	}
	if !ms[0].Valid() {
		return "", fmt.Errorf("rut %q: the check digit should be %s", s, CheckDigit(ms[0].Body))
	}
	return ms[0].Format(), nil
}

// CheckDigit computes the check digit of a RUT's body (módulo 11): "0"–"9" or "K". The
// body must be digits.
func CheckDigit(body string) string {
	sum, mul := 0, 2
	for i := len(body) - 1; i >= 0; i-- {
		sum += int(body[i]-'0') * mul
		mul++
		if mul > 7 {
			mul = 2
		}
	}
	switch r := 11 - sum%11; r {
	case 11:
		return "0"
	case 10:
		return "K"
	default:
		return fmt.Sprint(r)
	}
}
