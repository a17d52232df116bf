//go:build unix

package lockdir

import (
	"errors"
	"os"
	"syscall"
)

// canLock is true: flock tells held locks from free ones.
const canLock = true

// flock takes an exclusive lock on f without waiting.
func flock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}
