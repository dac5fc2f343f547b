package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/atiende/atiende/ratelimit"
)

// security is the configuration of docs/operations.md, "Security".
type security struct {
	// IPRate limits chat sessions, messages and event streams per client IP (ATIENDE_RATE_IP).
	IPRate ratelimit.Rate
	// SenderRate limits messages per web session and per phone number (ATIENDE_RATE_SENDER).
	SenderRate ratelimit.Rate
	// TrustedProxies are the load balancers whose X-Forwarded-For names the client
	// (ATIENDE_TRUSTED_PROXIES: IPs or CIDRs, comma-separated); none by default.
	TrustedProxies []string
	// RetentionDays: conversations idle longer are anonymised; 0 keeps them forever
	// (ATIENDE_RETENTION_DAYS).
	RetentionDays int
}

// Defaults for a national service: many citizens share an address behind the carriers'
// NAT, so the per-IP rate is generous; one person does not write more than 15 messages a
// minute.
const (
	defaultIPRate        = "120/min"
	defaultSenderRate    = "15/min"
	defaultRetentionDays = 365
)

func loadSecurity(getenv func(string) string) (security, error) {
	var s security
	var err error
	if s.IPRate, err = ratelimit.ParseRate(or(getenv("ATIENDE_RATE_IP"), defaultIPRate)); err != nil {
		return s, fmt.Errorf("ATIENDE_RATE_IP: %w", err)
	}
	if s.SenderRate, err = ratelimit.ParseRate(or(getenv("ATIENDE_RATE_SENDER"), defaultSenderRate)); err != nil {
		return s, fmt.Errorf("ATIENDE_RATE_SENDER: %w", err)
	}
	if s.SenderRate.Off() {
		return s, fmt.Errorf("ATIENDE_RATE_SENDER %q: a sender's rate cannot be off; raise it instead, e.g. 60/min", getenv("ATIENDE_RATE_SENDER"))
	}
	s.TrustedProxies = strings.FieldsFunc(getenv("ATIENDE_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' })
	s.RetentionDays = defaultRetentionDays
	if v := getenv("ATIENDE_RETENTION_DAYS"); v != "" {
		if s.RetentionDays, err = strconv.Atoi(v); err != nil || s.RetentionDays < 0 {
			return s, fmt.Errorf("ATIENDE_RETENTION_DAYS %q: want a number of days, or 0 to keep conversations forever", v)
		}
	}
	return s, nil
}
