// Package lockdir holds directories that belong to one running process:
// an exclusive lock on a directory, held until the process releases it or
// ends (kill -9 included: the kernel drops the lock), and temporary
// directories that a later start removes once their owner is gone.
package lockdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lockName is the lock file inside a locked directory.
const lockName = ".tumble.lock"

// ErrLocked means another process holds the directory's lock.
var ErrLocked = errors.New("lockdir: directory in use by another process")

// A Lock is an exclusive lock on a directory.
type Lock struct {
	f *os.File
}

// TryLock takes the lock of dir without waiting. It returns an error
// wrapping ErrLocked if another process holds it.
func TryLock(dir string) (*Lock, error) {
	// The lock file is locked under a temporary name and then linked into
	// place, so that a lock file seen under its real name is always held by
	// its creator or free for good (see removeStale). A link, unlike a
	// rename, never replaces a lock file another process has just put there.
	final := filepath.Join(dir, lockName)
	for {
		if f, err := os.OpenFile(final, os.O_RDWR, 0); err == nil {
			if err := flock(f); err != nil {
				f.Close()
				return nil, fmt.Errorf("lockdir: %s: %w", dir, err)
			}
			return &Lock{f: f}, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lockdir: %w", err)
		}
		f, err := os.CreateTemp(dir, lockName+".new*")
		if err != nil {
			return nil, fmt.Errorf("lockdir: %w", err)
		}
		if err := flock(f); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("lockdir: %s: %w", dir, err)
		}
		err = os.Link(f.Name(), final)
		os.Remove(f.Name())
		if err == nil {
			return &Lock{f: f}, nil
		}
		f.Close()
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("lockdir: %w", err)
		}
		// Another taker put its lock file there first: try that one.
	}
}

// Release drops the lock. It is safe on a nil Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the lock
	l.f = nil
	return err
}

// RuntimeDir returns where temporary directories go: $XDG_RUNTIME_DIR if it
// is set and a private directory of this user (a tmpfs on systemd
// machines, emptied at logout and never written to disk), else
// os.TempDir().
func RuntimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 == 0 {
			return d
		}
	}
	return os.TempDir()
}

// TempDir creates a fresh directory named prefix followed by random
// characters in RuntimeDir, mode 0700, and locks it; the caller removes it
// and releases the lock when done. It first removes the directories of
// that prefix left by processes that ended without removing theirs (killed,
// crashed): those whose lock is free.
func TempDir(prefix string) (dir string, l *Lock, err error) {
	parent := RuntimeDir()
	removeStale(parent, prefix)
	dir, err = os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", nil, fmt.Errorf("lockdir: %w", err)
	}
	l, err = TryLock(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, l, nil
}

// removeStale removes the directories prefix* in parent whose lock file
// exists and is free. A directory without a lock file is left alone: its
// creator may be about to lock it.
func removeStale(parent, prefix string) {
	if !canLock {
		return
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if flock(f) == nil {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}
