package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/app"
)

// TestMain runs the program itself when the test binary is started with
// TUMBLE_TEST_MAIN=1, so tests can check exit status and output.
func TestMain(m *testing.M) {
	if os.Getenv("TUMBLE_TEST_MAIN") == "1" {
		os.Args = append([]string{"tumble"}, strings.Fields(os.Getenv("TUMBLE_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs the program with args and the environment env (plus the
// test switch), and returns its exit code and standard error.
func runMain(t *testing.T, args string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(env, "TUMBLE_TEST_MAIN=1", "TUMBLE_TEST_ARGS="+args,
		"HOME="+t.TempDir(), "LANG=en_US.UTF-8", "PATH="+os.Getenv("PATH"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stderr.String()
}

func TestNoDisplay(t *testing.T) {
	// Neither DISPLAY nor WAYLAND_DISPLAY: one line, status 1, and no
	// configuration directory created.
	cfg := filepath.Join(t.TempDir(), "cfg")
	code, stderr := runMain(t, "--config-dir "+cfg)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "tumble: no display: DISPLAY and WAYLAND_DISPLAY are not set") {
		t.Errorf("stderr is not one clear line:\n%s", stderr)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Error("the configuration directory was created without a display")
	}
}

func TestDeadDisplay(t *testing.T) {
	// A display number no X server answers on.
	num := "7391"
	if _, err := os.Stat("/tmp/.X11-unix/X" + num); err == nil {
		t.Skipf("display :%s exists here", num)
	}
	code, stderr := runMain(t, "", "DISPLAY=:"+num)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "tumble: no display: cannot reach the X server of DISPLAY=:"+num) {
		t.Errorf("status %d, stderr:\n%s", code, stderr)
	}
	if e := checkDisplay(func(k string) string { return map[string]string{"DISPLAY": "nonsense"}[k] }); e == nil {
		t.Error("DISPLAY=nonsense accepted")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range []string{"--bogus", "--audio loud", "extra"} {
		if code, stderr := runMain(t, args); code != 2 || stderr == "" {
			t.Errorf("%q: status %d, stderr %q; want 2 and a reason", args, code, stderr)
		}
	}
	if _, err := parseOptions([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestControllerConfig(t *testing.T) {
	torrc := filepath.Join(t.TempDir(), "torrc")
	if err := os.WriteFile(torrc, []byte("# test network\nTestingTorNetwork 1\n\nDirAuthority a 127.0.0.1:1 x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions([]string{"--amnesic", "--config-dir", "/x", "--tor", "socks=127.0.0.1:9050",
		"--torrc", torrc, "--audio", "null", "--connect", "Lab"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.controllerConfig(app.Environment{})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Amnesic || cfg.ConfigDir != "/x" || cfg.TorMode != "socks=127.0.0.1:9050" || cfg.AudioBackend != app.AudioNull ||
		!cfg.AllowTestingTor || len(cfg.Torrc) != 2 || cfg.Torrc[0] != "TestingTorNetwork 1" || o.connect != "Lab" {
		t.Errorf("config %+v from %+v", cfg, o)
	}
	if (torCreator() == nil) != (cfg.TorCreator == nil) {
		t.Error("the embedded Tor creator is not passed on")
	}

	// A Qubes disposable VM is amnesic without the flag.
	o, _ = parseOptions(nil, io.Discard)
	if cfg, _ := o.controllerConfig(app.Environment{QubesDisposable: true}); !cfg.Amnesic {
		t.Error("not amnesic in a Qubes disposable VM")
	}
	o.torrc = filepath.Join(t.TempDir(), "missing")
	if _, err := o.controllerConfig(app.Environment{}); err == nil || !strings.Contains(err.Error(), "--torrc") {
		t.Errorf("missing torrc: %v", err)
	}
}

func TestFindBookmark(t *testing.T) {
	list := []app.Bookmark{
		{ID: "1", Label: "Lab", Address: "a.example"},
		{ID: "2", Address: "b.example"},
		{ID: "3", Label: "Twin", Address: "c.example"},
		{ID: "4", Label: "Twin", Address: "d.example"},
	}
	for key, want := range map[string]string{"Lab": "1", "b.example": "2", "3": "3"} {
		if b, err := findBookmark(list, key); err != nil || b.ID != want {
			t.Errorf("findBookmark(%q) = %q, %v; want %q", key, b.ID, err, want)
		}
	}
	for _, key := range []string{"Twin", "nothing"} {
		if _, err := findBookmark(list, key); err == nil {
			t.Errorf("findBookmark(%q) found one", key)
		}
	}
}

func TestVersionNeedsNoDisplay(t *testing.T) {
	var out, errOut strings.Builder
	err := run([]string{"--version"}, &out, &errOut, func(string) string { return "" })
	if err != nil || out.String() != "tumble "+version+"\n" {
		t.Errorf("--version without a display: %v, %q %q", err, out.String(), errOut.String())
	}
}
