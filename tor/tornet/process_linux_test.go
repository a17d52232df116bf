package tornet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary, run by TestTorDiesWithTestProcess, start
// one tor in the directory it names and block.
const helperEnv = "TORNET_TEST_HELPER_DIR"

// TestTorDiesWithTestProcess checks that a tor started by this package dies
// when the test process that started it is killed (Pdeathsig), without any
// cleanup running.
func TestTorDiesWithTestProcess(t *testing.T) {
	if dir := os.Getenv(helperEnv); dir != "" {
		runHelperTor(t, dir)
		return
	}
	if err := Available(Options{}); err != nil && os.Getenv("TUMBLE_REQUIRE_SERVERS") != "1" {
		t.Skipf("%v; set TUMBLE_REQUIRE_SERVERS=1 to fail instead of skipping", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestTorDiesWithTestProcess$", "-test.timeout=1m")
	cmd.Env = append(os.Environ(), helperEnv+"="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "tor pid "); ok {
			pid, _ = strconv.Atoi(v)
			break
		}
	}
	if pid == 0 {
		t.Fatal("the helper process did not start a tor")
	}
	if !processExists(pid) {
		t.Fatalf("tor %d is not running", pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for processExists(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("tor %d still runs 10 s after the process that started it was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runHelperTor starts one client tor in dir as Start would, prints its pid
// and blocks until the process is killed.
func runHelperTor(t *testing.T, dir string) {
	n, nd := loneTor(t, dir)
	if err := n.launch(nd); err != nil {
		t.Fatal(err)
	}
	if _, err := nd.waitListening(t.Context()); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("tor pid %d\n", nd.pid())
	time.Sleep(time.Minute) // killed by the parent test long before
}

// loneTor prepares one client tor in dir as Start would, without a
// network, for n.launch(nd).
func loneTor(t *testing.T, dir string) (*Network, *node) {
	n := &Network{dir: dir, password: "helper"}
	n.tor, n.gencert = binaries(Options{})
	n.hashedPassword = hashControlPassword(n.password, [8]byte{})
	n.emptyTorrc = filepath.Join(dir, emptyTorrcName)
	// An authority that does not exist: this tor only has to run.
	n.dirAuthorities = []string{"DirAuthority placeholder orport=1 no-v2 v3ident=" +
		strings.Repeat("F", 40) + " 127.0.0.1:1 " + strings.Repeat("F", 40)}
	nd := &node{name: "client", kind: client, dir: filepath.Join(dir, "client")}
	for _, err := range []error{
		os.WriteFile(n.emptyTorrc, nil, 0o600),
		os.MkdirAll(nd.dir, 0o700),
		n.writeTorrc(nd),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return n, nd
}

// TestTorOutlivesEndedThreads starts a tor, then ends OS threads as the
// murmur package's server goroutine does (locked, returning), and checks
// that the tor was not sent its death signal: it then exits on the test's
// SIGTERM, not by SIGKILL. A tor launched from an ordinary goroutine died
// so in a CI run, in mid-test, when a room's server stopped.
func TestTorOutlivesEndedThreads(t *testing.T) {
	if err := Available(Options{}); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	n, nd := loneTor(t, t.TempDir())
	if err := n.launch(nd); err != nil {
		t.Fatal(err)
	}
	defer nd.kill()
	// Right after the fork, as when Start launches the relays one after
	// another: the thread that forked is free for the next goroutine.
	for range 32 {
		tids := make(chan int, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends
			tids <- syscall.Gettid()
		}()
		tid := <-tids
		if tid == os.Getpid() {
			continue // the runtime never ends the main thread
		}
		// Wait for the thread to be gone.
		for {
			if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); errors.Is(err, os.ErrNotExist) {
				break
			}
			select {
			case <-t.Context().Done():
				t.Fatal("a locked thread did not end")
			case <-time.After(time.Millisecond):
			}
		}
	}
	if _, err := nd.waitListening(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(nd.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-nd.done
	if err := nd.exitErr(); strings.Contains(err.Error(), "killed") {
		t.Fatalf("tor exit: %v; want it to exit on the test's SIGTERM", err)
	}
	// What Network.Close reports: a tor that exited before Close.
	if err := nd.exited(); err == nil {
		t.Error("exited() = nil for a tor that exited on its own")
	}
}
