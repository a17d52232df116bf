package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tumble-voip/tumble/tor/atomicfile"
)

// Storage keeps the small files Tumble saves (bookmarks, settings) by name.
// Implementations must be safe for concurrent use, and WriteFile must replace
// a file atomically: a reader sees either the old or the new contents, never
// a mix, even if the process dies in the middle of a write.
type Storage interface {
	// ReadFile returns the contents of the named file. A file that was never
	// written yields an error matching fs.ErrNotExist.
	ReadFile(name string) ([]byte, error)
	// WriteFile atomically replaces the named file with data.
	WriteFile(name string, data []byte) error
	// Persistent reports whether written files survive the process.
	// It is false in amnesic mode.
	Persistent() bool
}

// FileMode is the permission of every file a DirStorage writes: readable and
// writable by the owner only, since bookmarks hold passwords and keys.
const FileMode fs.FileMode = 0o600

// DirMode is the permission of the configuration directory a DirStorage
// creates.
const DirMode fs.FileMode = 0o700

// DirStorage is a Storage backed by a directory on disk. Files are written
// with mode 0600 through a temporary file in the same directory that is
// fsynced, renamed over the target, and followed by an fsync of the
// directory, so a crash at any moment leaves either the old or the new file.
type DirStorage struct {
	dir string
}

// NewDirStorage returns a DirStorage for dir, creating the directory with
// mode 0700 if needed. Temporary files left behind by a process that died in
// the middle of a write are removed.
func NewDirStorage(dir string) (*DirStorage, error) {
	if dir == "" {
		return nil, errors.New("app: storage directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("app: storage directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, DirMode); err != nil {
		return nil, fmt.Errorf("app: create storage directory: %w", err)
	}
	s := &DirStorage{dir: abs}
	s.removeStaleTemps()
	return s, nil
}

// Dir returns the absolute directory the storage writes to.
func (s *DirStorage) Dir() string { return s.dir }

// Path returns the path of the named file inside the storage directory.
func (s *DirStorage) Path(name string) string { return filepath.Join(s.dir, name) }

// Persistent reports true: files outlive the process.
func (s *DirStorage) Persistent() bool { return true }

// ReadFile reads the named file from the storage directory.
func (s *DirStorage) ReadFile(name string) ([]byte, error) {
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.Path(name))
	if err != nil {
		return nil, fmt.Errorf("app: read %s: %w", name, err)
	}
	return b, nil
}

// WriteFile atomically replaces the named file with data, with mode 0600.
func (s *DirStorage) WriteFile(name string, data []byte) error {
	if err := checkFileName(name); err != nil {
		return err
	}
	if err := atomicfile.Write(s.Path(name), data, FileMode); err != nil {
		return fmt.Errorf("app: write %s: %w", name, err)
	}
	return nil
}

// removeStaleTemps deletes temporary files of interrupted atomic writes.
// Errors are ignored: a leftover temporary file wastes space but never
// replaces a real file.
func (s *DirStorage) removeStaleTemps() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && atomicfile.IsTemp(n) {
			_ = os.Remove(filepath.Join(s.dir, n))
		}
	}
}

// checkFileName rejects names that would escape the storage directory or
// collide with temporary files.
func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("app: invalid storage file name %q", name)
	}
	if strings.HasPrefix(name, ".") {
		return fmt.Errorf("app: storage file name %q must not start with a dot", name)
	}
	return nil
}

// MemoryStorage is a Storage that keeps what is written in memory only.
// Amnesic mode uses it so that nothing is ever written to disk. It can read
// through to a directory: a file never written in memory is read from
// there, so bookmarks and settings already on disk (for example those a
// Qubes disposable VM inherits from its template) are available, while
// every change stays in memory. The directory is only read, never created
// or written. The zero value is ready to use and reads nothing from disk.
type MemoryStorage struct {
	base string // directory to read through to, or ""

	mu    sync.Mutex
	files map[string][]byte
}

// NewMemoryStorage returns an empty MemoryStorage that reads nothing from
// disk.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{} }

// NewMemoryStorageOver returns a MemoryStorage that reads files it does not
// hold from dir (which need not exist) and never writes there.
func NewMemoryStorageOver(dir string) *MemoryStorage { return &MemoryStorage{base: dir} }

// Persistent reports false: written files vanish with the process.
func (m *MemoryStorage) Persistent() bool { return false }

// ReadFile returns a copy of the named file's contents: as last written to
// the MemoryStorage, else as found in the read-through directory.
func (m *MemoryStorage) ReadFile(name string) ([]byte, error) {
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	m.mu.Lock()
	b, ok := m.files[name]
	m.mu.Unlock()
	if ok {
		return append([]byte(nil), b...), nil
	}
	if m.base == "" {
		return nil, fmt.Errorf("app: read %s: %w", name, fs.ErrNotExist)
	}
	b, err := os.ReadFile(filepath.Join(m.base, name))
	if err != nil {
		return nil, fmt.Errorf("app: read %s: %w", name, err)
	}
	return b, nil
}

// WriteFile stores a copy of data under name, in memory.
func (m *MemoryStorage) WriteFile(name string, data []byte) error {
	if err := checkFileName(name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = make(map[string][]byte)
	}
	m.files[name] = append([]byte(nil), data...)
	return nil
}

// DefaultConfigDir returns the directory Tumble keeps its files in when no
// --config-dir is given: "tumble" under os.UserConfigDir.
func DefaultConfigDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("app: find configuration directory: %w", err)
	}
	return filepath.Join(base, "tumble"), nil
}

// OpenStorage returns the Storage for a session, for dir or, when dir is
// empty, DefaultConfigDir. When amnesic is true it is a MemoryStorage that
// reads existing files from the directory but writes nothing (the directory
// is not even created); otherwise a DirStorage.
func OpenStorage(dir string, amnesic bool) (Storage, error) {
	if dir == "" {
		d, err := DefaultConfigDir()
		if err != nil {
			if amnesic {
				// Nothing to read from; memory alone is fine.
				return NewMemoryStorage(), nil
			}
			return nil, err
		}
		dir = d
	}
	if amnesic {
		return NewMemoryStorageOver(dir), nil
	}
	return NewDirStorage(dir)
}
