// Package redact hides the RUTs and phone numbers of citizens in what the service writes to
// its logs, keeping what an operator needs to tell two of them apart: the last digits.
//
// A RUT becomes **.***.678-5. What is written with dots or a dash (12.345.678-9) is masked
// whatever its check digit, since a citizen who mistypes their RUT is still named by it; a
// bare run of digits (123456785) is masked only when its check digit is right, since most
// such runs are other numbers. A phone number (+56 9 1234 5678, whatsapp:+56912345678,
// any E.164 number, with 00 for "+" or a code in parentheses, or a Chilean mobile 9 1234 5678)
// keeps its "+", its first three digits (country code and mobile prefix) and its last four:
// +569****5678. An e-mail address keeps its first letter and its domain: m***@correo.cl.
//
// It is the one place that knows what personal data looks like: the engine (which never
// reads it as a question), the language-model guard (which never sends it) and the logs use
// Replace and Contains.
package redact

import (
	"context"
	"log/slog"
	"regexp"
	"strings"

	"github.com/atiende/atiende/rut"
)

// phone finds E.164 numbers (with spaces or dashes between digits, as people write them),
// the same with 00 for the "+" (0056 9 1234 5678) or with the country code or area code in
// parentheses ((+56) 9 1234 5678, +56 (9) 1234 5678, (2) 2345 6789), and Chilean mobiles
// written without the country code.
var phone = regexp.MustCompile(`(?:\+|\b00[ -]?)\d{1,3}[ -]?\(\d{1,2}\)[ -]?\d(?:[ -]?\d){5,11}\b` +
	`|\(\+?\d{1,3}\)[ -]?\d(?:[ -]?\d){6,13}\b` +
	`|(?:\+|\b00[ -]?)\d(?:[ -]?\d){7,14}\b` +
	`|\b(?:56[ -]?)?9[ -]?\d{4}[ -]?\d{4}\b`)

// email finds e-mail addresses.
var email = regexp.MustCompile(`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`)

// Kind is a kind of personal data.
type Kind int

// The kinds of personal data Replace finds.
const (
	RUT Kind = iota + 1
	Phone
	Email
)

// Replace returns s with every RUT-shaped number (whatever its check digit), phone number and
// e-mail address replaced by what with returns for it.
func Replace(s string, with func(k Kind, match string) string) string {
	s = email.ReplaceAllStringFunc(s, func(m string) string { return with(Email, m) })
	if ms := rut.Scan(s); len(ms) > 0 {
		var b strings.Builder
		last := 0
		for _, m := range ms {
			b.WriteString(s[last:m.Start])
			b.WriteString(with(RUT, s[m.Start:m.End]))
			last = m.End
		}
		b.WriteString(s[last:])
		s = b.String()
	}
	return phone.ReplaceAllStringFunc(s, func(m string) string { return with(Phone, m) })
}

// Contains reports whether s holds a RUT-shaped number, a phone number or an e-mail address.
func Contains(s string) bool {
	return email.MatchString(s) || len(rut.Scan(s)) > 0 || phone.MatchString(s)
}

// String returns s with its RUTs, phone numbers and e-mail addresses masked for a log.
func String(s string) string {
	if strings.Contains(s, "@") {
		s = email.ReplaceAllStringFunc(s, func(m string) string {
			user, domain, _ := strings.Cut(m, "@")
			return user[:1] + "***@" + domain
		})
	}
	digits := 0
	for i := 0; i < len(s) && digits < 7; i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits < 7 { // the shortest RUT or phone number has seven digits or more
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range rut.Scan(s) {
		if !m.Valid() && !m.Punctuated {
			continue
		}
		b.WriteString(s[last:m.Start])
		b.WriteString("**.***." + m.Body[len(m.Body)-3:] + "-" + m.Digit)
		last = m.End
	}
	if last > 0 {
		b.WriteString(s[last:])
		s = b.String()
	}
	return phone.ReplaceAllStringFunc(s, maskPhone)
}

func maskPhone(p string) string {
	plus := strings.HasPrefix(strings.TrimPrefix(p, "("), "+")
	if strings.HasPrefix(p, "00") { // 0056… is +56…
		p, plus = p[2:], true
	}
	digits := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] >= '0' && p[i] <= '9' {
			digits = append(digits, p[i])
		}
	}
	n := len(digits)
	head := max(0, min(3, n-8)) // 569 of +56912345678, 9 of 912345678, 2 of (2) 2345 6789
	out := string(digits[:head]) + strings.Repeat("*", n-head-4) + string(digits[n-4:])
	if plus {
		out = "+" + out
	}
	return out
}

// Handler masks the message and every string attribute of the records it passes on, in
// groups too, and the strings of errors and other values logged as attributes.
type Handler struct{ next slog.Handler }

// NewHandler wraps next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(Attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = Attr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler { return &Handler{next: h.next.WithGroup(name)} }

// Attr returns the attribute with its strings masked.
func Attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		as := v.Group()
		masked := make([]slog.Attr, len(as))
		for i, g := range as {
			masked[i] = Attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		// Errors and Stringers are written as text: mask the text they would write.
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, String(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, String(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
