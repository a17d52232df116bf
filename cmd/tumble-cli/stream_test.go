package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// cliStream is a running tumble-cli whose JSON events are read as they
// come, so that a test can wait for one instead of sleeping.
type cliStream struct {
	cmd    *exec.Cmd
	events chan map[string]any // closed at the end of standard output
	stderr strings.Builder
	seen   []map[string]any
}

// streamCLI starts tumble-cli with --json and the given arguments.
func streamCLI(ctx context.Context, t testing.TB, args ...string) *cliStream {
	t.Helper()
	s := &cliStream{events: make(chan map[string]any, 1024)}
	s.cmd = exec.CommandContext(ctx, cliPath, append([]string{"--json"}, args...)...)
	s.cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD=")
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start tumble-cli: %v", err)
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = map[string]any{"event": "not-json", "line": sc.Text()}
			}
			s.events <- ev
		}
	}()
	return s
}

// waitFor reads events until one of kind for which match (if not nil)
// holds, and returns it; false if the output ended first.
func (s *cliStream) waitFor(kind string, match func(map[string]any) bool) (map[string]any, bool) {
	for ev := range s.events {
		s.seen = append(s.seen, ev)
		if ev["event"] == kind && (match == nil || match(ev)) {
			return ev, true
		}
	}
	return nil, false
}

// wait reads the remaining events and waits for the process to exit.
func (s *cliStream) wait(t testing.TB) *cliRun {
	t.Helper()
	for ev := range s.events {
		s.seen = append(s.seen, ev)
	}
	err := s.cmd.Wait()
	for _, ev := range s.seen {
		if ev["event"] == "not-json" {
			t.Errorf("stdout line is not JSON: %q", ev["line"])
		}
	}
	return &cliRun{events: s.seen, stderr: s.stderr.String(), err: err}
}
