package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestShutdownSettings: the shutdown timeout and drain delay have their defaults, take
// durations, and refuse what cannot work (a drain as long as the whole shutdown).
func TestShutdownSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		env            map[string]string
		timeout, drain time.Duration
		err            string
	}{
		{name: "defaults", env: map[string]string{}, timeout: 25 * time.Second},
		{name: "both set", env: map[string]string{"ATIENDE_SHUTDOWN_TIMEOUT": "40s", "ATIENDE_DRAIN_DELAY": "10s"}, timeout: 40 * time.Second, drain: 10 * time.Second},
		{name: "bad timeout", env: map[string]string{"ATIENDE_SHUTDOWN_TIMEOUT": "soon"}, err: "ATIENDE_SHUTDOWN_TIMEOUT"},
		{name: "zero timeout", env: map[string]string{"ATIENDE_SHUTDOWN_TIMEOUT": "0s"}, err: "ATIENDE_SHUTDOWN_TIMEOUT"},
		{name: "negative drain", env: map[string]string{"ATIENDE_DRAIN_DELAY": "-1s"}, err: "ATIENDE_DRAIN_DELAY"},
		{name: "drain as long as the timeout", env: map[string]string{"ATIENDE_DRAIN_DELAY": "25s"}, err: "shorter than ATIENDE_SHUTDOWN_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil || c.ShutdownTimeout != tt.timeout || c.DrainDelay != tt.drain {
				t.Errorf("got %s, %s, %v; want %s, %s", c.ShutdownTimeout, c.DrainDelay, err, tt.timeout, tt.drain)
			}
		})
	}
}

func TestConfigPprofOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{"127.0.0.1:6060": true, "[::1]:6060": true, ":6060": false, "0.0.0.0:6060": false, "10.0.0.5:6060": false, "localhost": false} {
		c, err := loadConfig(func(k string) string {
			if k == "ATIENDE_PPROF_ADDR" {
				return addr
			}
			return ""
		})
		if ok && (err != nil || c.Pprof != addr) {
			t.Errorf("ATIENDE_PPROF_ADDR=%s: %v, pprof %q", addr, err, c.Pprof)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "ATIENDE_PPROF_ADDR")) {
			t.Errorf("ATIENDE_PPROF_ADDR=%s accepted (err %v): the profiler must stay on loopback", addr, err)
		}
	}
}

func TestConfigReplicaID(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(func(k string) string { return map[string]string{"ATIENDE_ADDR": "127.0.0.1:9090"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if c.ReplicaID != host+":9090" {
		t.Errorf("default replica ID %q, want the host name and the port, %q", c.ReplicaID, host+":9090")
	}
	c, err = loadConfig(func(k string) string { return map[string]string{"ATIENDE_ADDR": "127.0.0.1:0"}[k] })
	if err != nil || c.ReplicaID != "" {
		t.Errorf("on port 0 the replica ID is %q (%v), want none: two replicas on one host would share it", c.ReplicaID, err)
	}
	c, err = loadConfig(func(k string) string { return map[string]string{"ATIENDE_REPLICA_ID": "pod-7"}[k] })
	if err != nil || c.ReplicaID != "pod-7" {
		t.Errorf("ATIENDE_REPLICA_ID=pod-7: %q, %v", c.ReplicaID, err)
	}
	if _, err := loadConfig(func(k string) string { return map[string]string{"ATIENDE_REPLICA_ID": strings.Repeat("x", 101)}[k] }); err == nil {
		t.Error("a replica ID River would refuse (over 100 characters) was accepted")
	}
}

// TestConfigSecondOpinion: a language model's second opinion is on by default, off on asking,
// and a value that is neither is refused.
func TestConfigSecondOpinion(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"": true, "on": true, "off": false} {
		c, err := loadConfig(func(k string) string { return map[string]string{"ATIENDE_LLM_SECOND_OPINION": v}[k] })
		if err != nil || c.SecondOpinion != want {
			t.Errorf("ATIENDE_LLM_SECOND_OPINION=%q: %v, %v", v, c.SecondOpinion, err)
		}
	}
	if _, err := loadConfig(func(k string) string { return map[string]string{"ATIENDE_LLM_SECOND_OPINION": "yes"}[k] }); err == nil || !strings.Contains(err.Error(), "ATIENDE_LLM_SECOND_OPINION") {
		t.Errorf("ATIENDE_LLM_SECOND_OPINION=yes: %v", err)
	}
}
