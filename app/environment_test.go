package app

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// fakeRoot builds a file tree standing in for "/" with the given files, and
// an executable qubesdb-read script (a real shell script, run for real)
// whose behaviour per key is given as shell snippets.
func fakeRoot(t *testing.T, files []string, qubesdb map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if qubesdb != nil {
		script := "#!/bin/sh\ncase \"$1\" in\n"
		for key, body := range qubesdb {
			script += key + ") " + body + " ;;\n"
		}
		script += "*) echo \"Failed to read $1\" >&2; exit 1 ;;\nesac\n"
		p := filepath.Join(root, defaultQubesDBRead)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, qubesRunDir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestEnvironmentProbe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Qubes and Whonix are Linux")
	}
	tests := []struct {
		name       string
		files      []string
		qubesdb    map[string]string
		disposable bool
		whonix     string
	}{
		{name: "plain Linux"},
		{name: "marker file", files: []string{qubesPersistenceNone}, disposable: true},
		{name: "qubesdb DispVM", qubesdb: map[string]string{"/type": "echo DispVM", "/name": "echo disp4242"}, disposable: true},
		{name: "qubesdb AppVM named disp-like", qubesdb: map[string]string{"/type": "echo AppVM", "/name": "echo dispatcher"}},
		{name: "qubesdb AppVM", qubesdb: map[string]string{"/type": "echo AppVM", "/name": "echo work"}},
		{name: "no /type, disp name", qubesdb: map[string]string{"/name": "echo disp17"}, disposable: true},
		{name: "no /type, other name", qubesdb: map[string]string{"/name": "echo personal"}},
		{name: "Whonix", files: []string{whonixWorkstationMarker}, whonix: "10.152.152.10:9050"},
		{name: "Qubes-Whonix disposable",
			files:      []string{whonixWorkstationMarker},
			qubesdb:    map[string]string{"/type": "echo DispVM", "/qubes-gateway": "echo 10.137.0.5"},
			disposable: true, whonix: "10.137.0.5:9050"},
		{name: "Qubes-Whonix, gateway unreadable",
			files:   []string{whonixWorkstationMarker},
			qubesdb: map[string]string{"/type": "echo AppVM", "/qubes-gateway": "echo not-an-ip"},
			whonix:  "10.152.152.10:9050"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fakeRoot(t, tt.files, tt.qubesdb)
			env := EnvironmentProbe{Root: root, Timeout: 5 * time.Second}.Detect(context.Background())
			if env.QubesDisposable != tt.disposable {
				t.Errorf("QubesDisposable = %v (%s), want %v", env.QubesDisposable, env.QubesReason, tt.disposable)
			}
			if env.QubesDisposable && env.QubesReason == "" {
				t.Error("no reason given")
			}
			if env.WhonixWorkstation != (tt.whonix != "") || env.WhonixSOCKS != tt.whonix {
				t.Errorf("Whonix = %v %q, want %q", env.WhonixWorkstation, env.WhonixSOCKS, tt.whonix)
			}
			mode, socks := env.DefaultTorMode()
			s := env.DefaultSettings()
			if tt.whonix != "" {
				if mode != TorSOCKS || socks != tt.whonix || s.Network.TorMode != TorSOCKS || s.Network.SOCKSAddress != tt.whonix {
					t.Errorf("Whonix default Tor mode = %s %q", mode, socks)
				}
			} else if mode != TorEmbedded || s.Network.TorMode != TorEmbedded {
				t.Errorf("default Tor mode = %s", mode)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("environment defaults invalid: %v", err)
			}
		})
	}
}

func TestEnvironmentProbeHangingQubesDB(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	// A qubesdb-read that never answers (and leaves a child holding its
	// output open) must not hold up start-up.
	root := fakeRoot(t, nil, map[string]string{"/type": "sleep 3 & exec sleep 60", "/name": "exec sleep 60"})
	start := time.Now()
	env := EnvironmentProbe{Root: root, Timeout: 300 * time.Millisecond}.Detect(context.Background())
	elapsed := time.Since(start)
	if env.QubesDisposable {
		t.Error("hanging qubesdb-read counted as disposable")
	}
	// Two reads (/type, then /name), each bounded by the timeout plus the
	// wait delay; allow generous slack for a loaded machine.
	if elapsed > 10*time.Second {
		t.Errorf("Detect took %v with a hanging qubesdb-read", elapsed)
	}
	t.Logf("Detect with a hanging qubesdb-read returned after %v", elapsed.Round(time.Millisecond))

	// A cancelled context stops it at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	EnvironmentProbe{Root: root, Timeout: time.Minute}.Detect(ctx)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Detect with a cancelled context took %v", d)
	}
}

func TestDetectEnvironmentRealSystem(t *testing.T) {
	// On the real system the probe must return promptly; what it finds
	// depends on the machine, so it is only logged.
	start := time.Now()
	env := DetectEnvironment(context.Background())
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("DetectEnvironment took %v", d)
	}
	t.Logf("this system: %+v", env)
}

func TestDecideAmnesia(t *testing.T) {
	qubes := Environment{QubesDisposable: true, QubesReason: "test"}
	tests := []struct {
		flag  bool
		env   Environment
		saved bool
		on    bool
	}{
		{false, Environment{}, false, false},
		{true, Environment{}, false, true},
		{false, qubes, false, true},
		{false, Environment{}, true, true},
		{true, qubes, true, true},
	}
	for _, tt := range tests {
		a := DecideAmnesia(tt.flag, tt.env, tt.saved)
		if a.On != tt.on || (a.On && a.Reason == "") || (!a.On && a.Reason != "") {
			t.Errorf("DecideAmnesia(%v, %+v, %v) = %+v", tt.flag, tt.env, tt.saved, a)
		}
	}
}
