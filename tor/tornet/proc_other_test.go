//go:build !linux

package tornet

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

func checkLoopbackOnly(t *testing.T, n *Network) {
	t.Skip("reading sockets needs Linux's /proc")
}

func (n *Network) rss() (int64, error) {
	return 0, errors.New("resident memory is read from Linux's /proc")
}

func processExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

func (n *Network) idleCPU(d time.Duration) (float64, error) {
	return 0, errors.New("CPU time is read from Linux's /proc")
}
