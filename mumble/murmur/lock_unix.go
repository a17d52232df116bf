//go:build unix

package murmur

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on the file name, held until the returned
// function is called or the process dies, so two Tumbles never run one
// room's server.
func lockDir(name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("murmur: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("murmur: this room's server is already running in another Tumble")
		}
		return nil, fmt.Errorf("murmur: lock: %w", err)
	}
	return func() { f.Close() }, nil
}
