package lockdir

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestTryLockExclusiveAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Another process cannot take it.
	out, err := helper(t, "lock", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Errorf("second process: %v %s, want in use", err, out)
	}
	l.Release()
	if out, err := helper(t, "lock", dir).CombinedOutput(); err != nil {
		t.Errorf("after release: %v %s", err, out)
	}
}

// TestTryLockRace: many takers of a fresh directory's lock at the same
// moment (each its own open file, as separate processes have): exactly one
// gets it. Renaming a new lock file into place let a second taker replace
// the first one's file and hold a lock of its own.
func TestTryLockRace(t *testing.T) {
	if !canLock {
		t.Skip("no file locks here")
	}
	const takers = 8
	for round := 0; round < 200; round++ {
		dir := t.TempDir()
		start := make(chan struct{})
		results := make(chan error, takers)
		var locks []*Lock
		var mu sync.Mutex
		for i := 0; i < takers; i++ {
			go func() {
				<-start
				l, err := TryLock(dir)
				if err == nil {
					mu.Lock()
					locks = append(locks, l)
					mu.Unlock()
				}
				results <- err
			}()
		}
		close(start)
		won := 0
		for i := 0; i < takers; i++ {
			switch err := <-results; {
			case err == nil:
				won++
			case !errors.Is(err, ErrLocked):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		for _, l := range locks {
			l.Release()
		}
		if won != 1 {
			t.Fatalf("round %d: %d of %d takers hold the lock, want 1", round, won, takers)
		}
	}
}

// TestStaleTempDirRemovedAfterKill: a process holding a temporary directory
// is killed with SIGKILL; the next TempDir of the same prefix removes its
// directory, and leaves that of a live holder alone.
func TestStaleTempDirRemovedAfterKill(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	os.Chmod(rt, 0o700)
	live, l, err := TempDir("tumble-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	cmd := helper(t, "hold", "")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := stdout.Read(buf) // the helper prints its directory once it holds it
	dead := strings.TrimSpace(string(buf[:n]))
	if filepath.Dir(dead) != rt {
		t.Fatalf("helper made %q, not in %s", dead, rt)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(dead); err != nil {
		t.Fatalf("killed process's directory already gone: %v", err)
	}
	next, l2, err := TempDir("tumble-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Release()
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale directory %s still there after the next start", dead)
	}
	for _, d := range []string{live, next} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("live directory removed: %v", err)
		}
	}
}

func TestRuntimeDirPrefersXDG(t *testing.T) {
	rt := t.TempDir()
	os.Chmod(rt, 0o700)
	t.Setenv("XDG_RUNTIME_DIR", rt)
	if RuntimeDir() != rt {
		t.Errorf("RuntimeDir %s, want %s", RuntimeDir(), rt)
	}
	os.Chmod(rt, 0o755) // not private: not used
	if RuntimeDir() != os.TempDir() {
		t.Errorf("RuntimeDir %s with a shared XDG_RUNTIME_DIR", RuntimeDir())
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if RuntimeDir() != os.TempDir() {
		t.Errorf("RuntimeDir %s without XDG_RUNTIME_DIR", RuntimeDir())
	}
}

// helper runs this test binary as a helper process (see TestMain).
func helper(t *testing.T, mode, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOCKDIR_HELPER="+mode, "LOCKDIR_DIR="+dir)
	return cmd
}

func TestMain(m *testing.M) {
	switch os.Getenv("LOCKDIR_HELPER") {
	case "lock":
		if _, err := TryLock(os.Getenv("LOCKDIR_DIR")); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		os.Exit(0)
	case "hold":
		dir, _, err := TempDir("tumble-test-")
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		os.Stdout.WriteString(dir + "\n")
		time.Sleep(time.Hour) // until killed
	}
	os.Exit(m.Run())
}
