// Package atomicfile replaces files atomically: a reader sees the old or
// the new contents, never a mix, even if the process or the machine dies in
// the middle of a write.
//
// It is the one atomic-write helper of the module, used by app (bookmarks,
// settings) and tor (the embedded Tor's torrc). It imports nothing from the
// module, so any package may use it. It lives under tor/ because the
// module's top level is fixed and tor is the lowest package that writes
// files: app may import tor's tree, while tor may not import app's (a
// package in app/internal or tor/internal would be out of reach of the
// other).
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// tempInfix marks the temporary files of a Write: ".<name>.tmp-<random>" in
// the directory of <name>.
const tempInfix = ".tmp-"

// Write replaces the file at path with data, with permission perm: it
// writes a temporary file in the same directory, fsyncs and closes it,
// renames it over path and fsyncs the directory. On any error before the
// rename, path is untouched and the temporary file is removed.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("atomicfile: create temporary file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	// CreateTemp uses 0600; Chmod sets perm independently of that detail.
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: chmod temporary file: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("atomicfile: write temporary file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: fsync temporary file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close temporary file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: rename temporary file: %w", err)
	}
	// The new file is in place; make the rename itself durable.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: fsync directory: %w", err)
	}
	return nil
}

// IsTemp reports whether name (a base name) is a temporary file of Write,
// such as one left behind by a process that died in the middle of a write.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}

// syncDir fsyncs a directory so that a rename inside it is durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Directories cannot be opened for fsync on Windows; rename there is
		// made durable by the file system itself.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
