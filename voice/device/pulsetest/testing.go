package pulsetest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// StartT starts a server with the given sinks for the test t, points this
// process's PulseAudio clients at it (t.Setenv, so not in parallel tests)
// and stops it when the test ends, logging the server's output if the
// test failed. Without pulseaudio the test is skipped, or fails when
// TUMBLE_REQUIRE_SERVERS=1 (make test demands every dependency). With
// -short (make check) it skips the test: sound servers are for the full
// suite.
func StartT(t *testing.T, sinks ...string) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a PulseAudio server; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Config{Sinks: sinks})
	if errors.Is(err, ErrNoPulseAudio) && os.Getenv("TUMBLE_REQUIRE_SERVERS") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pulseaudio log:\n%s", s.Log())
		}
		s.Close()
	})
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return s
}
