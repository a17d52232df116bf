// Package xvfbtest runs a private X server (Xvfb) with a real window
// manager for tests of windows, focus and keys, driven by xdotool.
package xvfbtest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Start starts Xvfb on a free display and returns its name (":N"); the
// server stops when the test ends or ctx is done.
func Start(t testing.TB, ctx context.Context) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, "Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb gave no display number: %v\n%s", err, log.String())
	}
	return ":" + strings.TrimSpace(line)
}

// StartWM starts the openbox window manager on display and waits until
// it manages the screen (it has set _NET_SUPPORTING_WM_CHECK on the root
// window).
func StartWM(t testing.TB, ctx context.Context, display string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "openbox", "--sm-disable")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start openbox: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := exec.CommandContext(ctx, "xprop", "-display", display, "-root", "_NET_SUPPORTING_WM_CHECK").Output()
		if strings.Contains(string(out), "window id") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("openbox did not manage the screen within 20 s:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond) // polls the window manager's start
	}
}

// Need skips the test unless every command is installed, or fails it
// when TUMBLE_REQUIRE_SERVERS=1 (CI, where the Makefile installs them).
func Need(t testing.TB, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
				t.Fatalf("%s is not installed (make deps)", c)
			}
			t.Skipf("%s is not installed (make deps)", c)
		}
	}
}

// XDoTool runs xdotool on display and returns its output.
func XDoTool(t testing.TB, ctx context.Context, display string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
