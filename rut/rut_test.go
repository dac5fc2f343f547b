package rut_test

import (
	"strings"
	"testing"

	"github.com/atiende/atiende/rut"
)

func TestCheckDigit(t *testing.T) {
	tests := []struct{ body, want string }{
		{"12345678", "5"}, {"11111111", "1"}, {"10000013", "K"}, {"1234567", "4"}, {"7654321", "6"}, {"22222222", "2"},
	}
	for _, tt := range tests {
		if got := rut.CheckDigit(tt.body); got != tt.want {
			t.Errorf("CheckDigit(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "12.345.678-5", want: "12.345.678-5"},
		{in: "12345678-5", want: "12.345.678-5"},
		{in: " 123456785 ", want: "12.345.678-5"},
		{in: "10000013-k", want: "10.000.013-K"},
		{in: "12.345.678-9", err: true},
		{in: "12.345.678", err: true},
		{in: "rut 12.345.678-5", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := rut.Parse(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFindAndScan(t *testing.T) {
	text := "mi rut es 12.345.678-5 y el de mi hijo 11111111-1, no 12.345.678-9 ni 123456789"
	if got := strings.Join(rut.Find(text), ","); got != "12.345.678-5,11.111.111-1" {
		t.Errorf("Find = %s", got)
	}
	ms := rut.Scan(text)
	if len(ms) != 4 {
		t.Fatalf("Scan found %d, want 4: %+v", len(ms), ms)
	}
	if ms[2].Valid() || !ms[2].Punctuated || ms[3].Punctuated || text[ms[3].Start:ms[3].End] != "123456789" {
		t.Errorf("Scan = %+v", ms)
	}
}
