package childproc

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// endThreads ends n OS threads the way the murmur package does, each by a
// goroutine that locks its thread and returns, and waits until each thread
// is gone from /proc/self/task. (The runtime never ends the main thread: a
// goroutine that returns locked to it leaves it idle for good.)
func endThreads(t *testing.T, n int) {
	t.Helper()
	for range n {
		tids := make(chan int, 1)
		go func() {
			runtime.LockOSThread()
			tids <- syscall.Gettid()
		}()
		tid := <-tids
		if tid == os.Getpid() {
			continue
		}
		task := "/proc/self/task/" + strconv.Itoa(tid)
		tick := time.NewTicker(time.Millisecond)
		for {
			if _, err := os.Stat(task); errors.Is(err, os.ErrNotExist) {
				break
			}
			select {
			case <-t.Context().Done():
				t.Fatal("a locked thread did not end")
			case <-tick.C:
			}
		}
		tick.Stop()
	}
}

// TestChildOutlivesEndedThreads starts a child, ends many threads as a
// server goroutine does, and checks that the child was not sent its death
// signal: it then dies by the test's SIGTERM, not by SIGKILL. A child
// forked by cmd.Start on an ordinary goroutine (and waited for on another)
// died here by SIGKILL in 39 of 40 runs.
func TestChildOutlivesEndedThreads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	cmd := exec.Command("sleep", "600")
	exited := make(chan error, 1)
	if err := Start(cmd, func(err error) { exited <- err }); err != nil {
		t.Fatal(err)
	}
	endThreads(t, 32)
	select {
	case err := <-exited:
		t.Fatalf("the child exited while threads ended: %v", err)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child exit: %v", err)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("child exit: %v; want it ended by the test's SIGTERM", err)
	}
}

func TestRun(t *testing.T) {
	var out strings.Builder
	cmd := exec.Command("sh", "-c", "echo hello; exit 3")
	cmd.Stdout = &out
	err := Run(cmd)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Run = %v; want exit status 3", err)
	}
	if out.String() != "hello\n" {
		t.Errorf("output %q", out.String())
	}
	if err := Run(exec.Command("/nonexistent/tumble-childproc")); err == nil {
		t.Error("Run of a missing program succeeded")
	}
	if runtime.GOOS == "linux" && (cmd.SysProcAttr == nil || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL) {
		t.Errorf("SysProcAttr = %+v; want the death signal set", cmd.SysProcAttr)
	}
}
