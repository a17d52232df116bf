package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileFlagHidden: --pprof-dir parses but --help does not list it.
func TestProfileFlagHidden(t *testing.T) {
	var help bytes.Buffer
	if _, err := parseOptions([]string{"--help"}, &help, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if strings.Contains(help.String(), "pprof") || !strings.Contains(help.String(), "--record-dir") && !strings.Contains(help.String(), "-record-dir") {
		t.Errorf("help text:\n%s", help.String())
	}
	o, err := parseOptions([]string{"--server", "h:1", "--user", "u", "--pprof-dir", "/tmp/x"}, &help, func(string) string { return "" })
	if err != nil || o.pprofDir != "/tmp/x" {
		t.Fatalf("--pprof-dir: %v %+v", err, o)
	}
}

// TestProfiler writes the CPU profile and the end-of-run profiles.
func TestProfiler(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	p, err := startProfiler(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cpu", "heap", "allocs", "block", "mutex", "goroutine"} {
		if fi, err := os.Stat(filepath.Join(dir, name+".pprof")); err != nil || fi.Size() == 0 {
			t.Errorf("%s profile: %v", name, err)
		}
	}
}
