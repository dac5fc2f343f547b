package redact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/atiende/atiende/redact"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"rut with dots", "mi rut es 12.345.678-5", "mi rut es **.***.678-5"},
		{"rut with dash", "rut 12345678-5 gracias", "rut **.***.678-5 gracias"},
		{"bare rut, valid check digit", "123456785", "**.***.678-5"},
		{"rut with K", "rut 10.000.013-K", "rut **.***.013-K"},
		{"seven-digit body", "rut 1.234.567-4", "rut **.***.567-4"},
		{"written rut, wrong check digit: still masked", "mi rut 12.345.678-9", "mi rut **.***.678-9"},
		{"bare digits, wrong check digit: not a rut", "pedido 123456789", "pedido 123456789"},
		{"chilean mobile e164", "from=+56912345678", "from=+569****5678"},
		{"chilean mobile with spaces", "llámame al +56 9 1234 5678 xfa", "llámame al +569****5678 xfa"},
		{"whatsapp address", "whatsapp:+56912345678", "whatsapp:+569****5678"},
		{"national mobile", "mi cel 9 8765 4321", "mi cel 9****4321"},
		{"national mobile bare", "mi cel 987654321", "mi cel 9****4321"},
		{"foreign e164", "to +14155238886", "to +141****8886"},
		{"00 for +", "llamar al 0056 9 1234 5678", "llamar al +569****5678"},
		{"00 bare", "0056912345678", "+569****5678"},
		{"country code in parentheses", "fono (+56) 9 1234 5678", "fono +569****5678"},
		{"mobile prefix in parentheses", "fono +56 (9) 1234 5678", "fono +569****5678"},
		{"area code in parentheses", "fijo (2) 2345 6789", "fijo 2****6789"},
		{"country code in parentheses, no +", "(56) 912345678", "569****5678"},
		{"two of each", "ruts 12.345.678-5 y 11.111.111-1, fonos +56911112222 y +56933334444",
			"ruts **.***.678-5 y **.***.111-1, fonos +569****2222 y +569****4444"},
		{"amount in pesos stays", "monto $214.296 al mes", "monto $214.296 al mes"},
		{"ids and sids stay", "SM0123456789abcdef0123456789abcdef conversation 4f3a", "SM0123456789abcdef0123456789abcdef conversation 4f3a"},
		{"dates stay", "2026-11-27T10:20:23Z", "2026-11-27T10:20:23Z"},
		{"no digits", "hola", "hola"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// TestHandler: the message, plain attributes, attributes bound with With, groups, errors and
// Stringers are masked; numbers pass as they are.
func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil)))
	log.With("from", "whatsapp:+56912345678").WithGroup("g").Info("citizen +56922223333 wrote",
		"text", "mi rut es 12.345.678-5", "err", errors.New("twilio: the 'To' number +56944445555 is not valid"),
		"who", stringer("+56966667777"), "nested", slog.GroupValue(slog.String("phone", "+56988889999")), "delivery", 4242)
	out := buf.String()
	for _, secret := range []string{"22223333", "12.345.678", "44445555", "66667777", "88889999"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q: %s", secret, out)
		}
	}
	var rec struct {
		Msg  string
		From string
		G    struct {
			Text, Err, Who string
			Nested         struct{ Phone string }
			Delivery       int
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Msg != "citizen +569****3333 wrote" || rec.From != "whatsapp:+569****5678" || rec.G.Text != "mi rut es **.***.678-5" ||
		rec.G.Err != "twilio: the 'To' number +569****5555 is not valid" || rec.G.Who != "+569****7777" ||
		rec.G.Nested.Phone != "+569****9999" || rec.G.Delivery != 4242 {
		t.Errorf("record = %+v", rec)
	}
}

// BenchmarkHandler: the cost of masking one typical log line (a webhook's), against the JSON
// handler alone.
func BenchmarkHandler(b *testing.B) {
	for _, bb := range []struct {
		name string
		h    slog.Handler
	}{
		{"json", slog.NewJSONHandler(io.Discard, nil)},
		{"masked", redact.NewHandler(slog.NewJSONHandler(io.Discard, nil))},
	} {
		b.Run(bb.name, func(b *testing.B) {
			log := slog.New(bb.h)
			for b.Loop() {
				log.Info("twilio inbound", "sid", "SM0123456789abcdef0123456789abcdef", "channel", "whatsapp", "from", "whatsapp:+56912345678")
			}
		})
	}
}

// Replace and Contains are the one definition of personal data that the engine, the
// language-model guard and the logs share.
func TestReplaceAndContains(t *testing.T) {
	in := "soy 12.345.678-5, fono (+56) 9 8765 4321 o 0056 9 1111 2222, correo maria.p@correo.cl"
	kinds := map[redact.Kind]int{}
	out := redact.Replace(in, func(k redact.Kind, m string) string { kinds[k]++; return "[x]" })
	if out != "soy [x], fono [x] o [x], correo [x]" || kinds[redact.RUT] != 1 || kinds[redact.Phone] != 2 || kinds[redact.Email] != 1 {
		t.Errorf("replace: %q %v", out, kinds)
	}
	if !redact.Contains("mi rut 123456785") || !redact.Contains("escribame a a@b.cl") || redact.Contains("cuanto es la pgu") {
		t.Error("contains")
	}
	if got := redact.String("escribir a maria.p@correo.cl"); got != "escribir a m***@correo.cl" {
		t.Errorf("log masking of an e-mail: %q", got)
	}
}
