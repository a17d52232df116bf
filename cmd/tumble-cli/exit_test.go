package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// checkExitEvents checks how a failed run ended: a non-zero status, and
// as its last event exactly one disconnected event whose reason contains
// want; no talk events (nobody spoke), no Tor progress after tor-ready, and
// nothing after it.
func checkExitEvents(t *testing.T, r *cliRun, want string) {
	t.Helper()
	if r.err == nil {
		t.Errorf("exit status 0, want failure")
	}
	if len(r.events) == 0 {
		t.Fatalf("no events (stderr %q)", r.stderr)
	}
	d := r.find("disconnected")
	if len(d) != 1 {
		t.Errorf("%d disconnected events, want 1: %v", len(d), r.events)
	}
	last := r.events[len(r.events)-1]
	reason, _ := last["reason"].(string)
	if last["event"] != "disconnected" || !strings.Contains(reason, want) {
		t.Errorf("last event %v, want disconnected with a reason containing %q", last, want)
	}
	ready := false
	for _, ev := range r.events {
		switch ev["event"] {
		case "tor-ready":
			ready = true
		case "tor":
			if ready {
				t.Errorf("tor event after tor-ready: %v", ev)
			}
		}
	}
	for _, kind := range []string{"voice-start", "voice-end", "voice-error"} {
		if n := len(r.find(kind)); n != 0 {
			t.Errorf("%d spurious %s events", n, kind)
		}
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not say %q", r.stderr, want)
	}
}

func TestExitPathsEndWithOneDisconnected(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Password: "right", Channels: []string{"Lab"}})
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("right\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong password", []string{"--server", srv.Addr, "--tor", "off", "--password-file", wrong}, "wrong server password"},
		{"unknown channel", []string{"--server", srv.Addr, "--tor", "off", "--password-file", pw, "--channel", "Root/Nope"}, `channel "Root/Nope" does not exist`},
		{"unknown channel recording", []string{"--server", srv.Addr, "--tor", "off", "--password-file", pw, "--channel", "Root/Nope",
			"--record-dir", filepath.Join(dir, "rec")}, `channel "Root/Nope" does not exist`},
		{"no server", []string{"--server", dead, "--tor", "off"}, "connection refused"},
		{"tor not ready", []string{"--server", srv.Addr, "--tor", "socks=" + dead}, "tor"},
		{"certificate mismatch", []string{"--server", srv.Addr, "--tor", "off", "--password-file", pw, "--pin", strings.Repeat("ab", 32)}, srv.Fingerprint()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r := startCLI(ctx, t, append(tc.args, "--user", "eve")...)()
			checkExitEvents(t, r, tc.want)
		})
	}
}

func TestExitWhenServerGoes(t *testing.T) {
	// The server dies while tumble-cli records in a channel: one
	// disconnected event, last, and a failure status.
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{"Lab"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := streamCLI(ctx, t, "--server", srv.Addr, "--tor", "off", "--user", "carol",
		"--channel", "Root/Lab", "--record-dir", t.TempDir())
	_, joined := l.waitFor("joined", nil)
	if joined {
		srv.Kill()
	}
	r := l.wait(t)
	if !joined {
		t.Fatalf("never joined: %v (stderr %q)", r.events, r.stderr)
	}
	checkExitEvents(t, r, "server closed the connection")
}
