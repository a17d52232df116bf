package tornet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// A node is one tor process of the network.
type node struct {
	name string
	kind nodeKind
	dir  string // DataDirectory, torrc and logs

	orPort, dirPort int // authorities only; other tors choose their ports

	// With a network profile, authorities and relays advertise orPort,
	// where proxy listens, and tor listens on innerORPort.
	innerORPort int
	proxy       *DelayProxy

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // the exit status, valid after done

	mu          sync.Mutex
	killed      bool   // Close killed the process
	controlAddr string // from ControlPortWriteToFile, once listening
}

// errPortInUse reports that a tor could not bind a port another process had
// taken since it was chosen.
var errPortInUse = errors.New("port taken by another process")

// launch starts nd's tor in the foreground. It does not wait for it.
func (n *Network) launch(nd *node) error {
	for _, f := range []string{controlPortName, noticeLogName} {
		if err := os.Remove(filepath.Join(nd.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	out, err := os.OpenFile(filepath.Join(nd.dir, stdoutName), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close() // the child holds its own descriptor
	cmd := exec.Command(n.tor, "--defaults-torrc", n.emptyTorrc, "-f", filepath.Join(nd.dir, torrcName))
	cmd.Dir = nd.dir
	cmd.Stdout = out
	cmd.Stderr = out
	done := make(chan struct{})
	err = startChild(cmd, func(err error) {
		nd.mu.Lock()
		nd.waitErr = err
		nd.mu.Unlock()
		close(done)
	})
	if err != nil {
		return fmt.Errorf("start tor %s: %w", nd.name, err)
	}
	nd.mu.Lock()
	nd.cmd = cmd
	nd.done = done
	nd.killed = false
	nd.controlAddr = ""
	nd.mu.Unlock()
	return nil
}

// waitListening waits until nd's tor has opened its listeners, which it
// does before anything else, and returns its control port address. A tor
// that exits because a port is taken yields an error wrapping errPortInUse.
func (nd *node) waitListening(ctx context.Context) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(filepath.Join(nd.dir, controlPortName))
		if err == nil && bytes.HasSuffix(b, []byte("\n")) {
			addr, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "PORT=")
			if !ok || checkLoopback(addr) != nil {
				return "", fmt.Errorf("tor %s: unexpected control port file %q", nd.name, b)
			}
			nd.mu.Lock()
			nd.controlAddr = addr
			nd.mu.Unlock()
			return addr, nil
		}
		select {
		case <-nd.done:
			err := fmt.Errorf("tor %s exited during start: %v", nd.name, nd.exitErr())
			if strings.Contains(nd.log(0), "Address already in use") {
				err = fmt.Errorf("%w: %w", err, errPortInUse)
			}
			return "", err
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for tor %s to listen: %w", nd.name, ctx.Err())
		case <-tick.C:
		}
	}
}

// exitErr returns the process's exit status; call it after done is closed.
func (nd *node) exitErr() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.waitErr == nil {
		return errors.New("exit status 0")
	}
	return nd.waitErr
}

// exited returns an error if the process was started and has exited
// without being killed by kill.
func (nd *node) exited() error {
	nd.mu.Lock()
	done, killed := nd.done, nd.killed
	nd.mu.Unlock()
	if done == nil || killed {
		return nil
	}
	select {
	case <-done:
		return fmt.Errorf("tor %s (%s) exited: %v", nd.name, nd.kind, nd.exitErr())
	default:
		return nil
	}
}

// kill kills the process, if started, and waits for it to exit.
func (nd *node) kill() {
	nd.mu.Lock()
	cmd, done := nd.cmd, nd.done
	nd.killed = true
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill() // an error means it has exited already
	<-done
}

// pid returns the process id, or 0 if nd was not started.
func (nd *node) pid() int {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil || nd.cmd.Process == nil {
		return 0
	}
	return nd.cmd.Process.Pid
}

// log returns the tor's output and notice log, the last n lines of each if
// n > 0.
func (nd *node) log(n int) string {
	var b strings.Builder
	for _, f := range []string{stdoutName, noticeLogName} {
		data, err := os.ReadFile(filepath.Join(nd.dir, f))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		s := string(data)
		if n > 0 {
			s = tail(s, n)
		}
		fmt.Fprintf(&b, "--- tor %s (%s) %s:\n%s\n", nd.name, nd.kind, f, strings.TrimRight(s, "\n"))
	}
	return b.String()
}
