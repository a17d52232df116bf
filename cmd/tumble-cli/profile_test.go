package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// TestProfiler writes the CPU profile, the end-of-run profiles and
// memory.tsv.
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
	// memory.tsv: a header and the line written at the end, the RSS
	// next to the Go runtime's memory classes.
	b, err := os.ReadFile(filepath.Join(dir, "memory.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("memory.tsv has %d lines, want a header and a line:\n%s", len(lines), b)
	}
	head, last := strings.Split(lines[0], "\t"), strings.Split(lines[len(lines)-1], "\t")
	if len(head) != len(last) || !slices.Contains(head, "heap/objects") || head[1] != "VmRSS" {
		t.Fatalf("memory.tsv header %q, line %q", head, last)
	}
	for i, v := range last {
		if n, err := strconv.ParseUint(v, 10, 64); err != nil || (head[i] == "VmRSS" && n == 0) {
			t.Errorf("memory.tsv %s = %q", head[i], v)
		}
	}
}
