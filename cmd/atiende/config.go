package main

import (
	"fmt"
	"net"
	"path/filepath"
)

// config is everything the environment sets, read and checked once at start.
type config struct {
	Addr        string // ATIENDE_ADDR
	DataDir     string // ATIENDE_DATA_DIR
	DatabaseURL string // DATABASE_URL (production; not yet supported)
	Catalogue   string // ATIENDE_CATALOGUE: a catalogue file or directory instead of the bundled one
	Origins     string // ATIENDE_WIDGET_ORIGINS
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:        or(getenv("ATIENDE_ADDR"), ":8080"),
		DataDir:     or(getenv("ATIENDE_DATA_DIR"), "./data"),
		DatabaseURL: getenv("DATABASE_URL"),
		Catalogue:   getenv("ATIENDE_CATALOGUE"),
		Origins:     getenv("ATIENDE_WIDGET_ORIGINS"),
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("ATIENDE_ADDR %q: want host:port, e.g. :8080", c.Addr)
	}
	c.DataDir = filepath.Clean(c.DataDir)
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
