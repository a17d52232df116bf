package murmurtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Version selects which Mumble server a test runs.
type Version int

// The server versions murmurtest can start.
const (
	// V13 is Debian bookworm's murmurd 1.3.4 (/usr/sbin/murmurd). It speaks
	// only the legacy voice packet format. The zero Version means V13.
	V13 Version = 13
	// V15 is the Mumble 1.5 server from Debian trixie, unpacked into
	// $TUMBLE_MURMUR15_PREFIX (default $TUMBLE_CACHE/murmur-1.5, and
	// $HOME/.cache/tumble/murmur-1.5 if TUMBLE_CACHE is unset) by
	// prepare-murmur15.sh.
	V15 Version = 15
)

// Versions returns every server version, oldest first, for tests that run
// against each of them.
func Versions() []Version { return []Version{V13, V15} }

// String returns "1.3" or "1.5".
func (v Version) String() string {
	switch v.normalize() {
	case V13:
		return "1.3"
	case V15:
		return "1.5"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

func (v Version) normalize() Version {
	if v == 0 {
		return V13
	}
	return v
}

// murmur13Path is where Debian installs murmurd.
const murmur13Path = "/usr/sbin/murmurd"

// Murmur15Prefix returns the directory holding the unpacked Mumble 1.5
// server: $TUMBLE_MURMUR15_PREFIX if set, else $TUMBLE_CACHE/murmur-1.5, else
// $HOME/.cache/tumble/murmur-1.5 (the same defaults as the Makefile).
func Murmur15Prefix() string {
	if p := os.Getenv("TUMBLE_MURMUR15_PREFIX"); p != "" {
		return p
	}
	if c := os.Getenv("TUMBLE_CACHE"); c != "" {
		return filepath.Join(c, "murmur-1.5")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "tumble", "murmur-1.5")
}

// serverBinary returns the executable that runs server version v.
func serverBinary(v Version) (string, error) {
	switch v.normalize() {
	case V13:
		if _, err := os.Stat(murmur13Path); err == nil {
			return murmur13Path, nil
		}
		if p, err := exec.LookPath("murmurd"); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("murmurtest: Mumble 1.3 server: %s not found and no murmurd in PATH (install Debian package mumble-server: make deps): %w",
			murmur13Path, os.ErrNotExist)
	case V15:
		prefix := Murmur15Prefix()
		if prefix == "" {
			return "", errors.New("murmurtest: Mumble 1.5 server: no TUMBLE_MURMUR15_PREFIX and no home directory")
		}
		p := filepath.Join(prefix, "bin", "mumble-server-1.5")
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("murmurtest: Mumble 1.5 server not prepared (run make deps, or mumble/murmurtest/prepare-murmur15.sh %s): %w", prefix, err)
		}
		if fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("murmurtest: Mumble 1.5 server: %s is not executable", p)
		}
		return p, nil
	}
	return "", fmt.Errorf("murmurtest: unknown server version %d", int(v))
}

// Available reports whether server version v can be started: nil if its
// binary is present, otherwise an error saying what is missing and how to
// get it (wrapping os.ErrNotExist when a file is absent).
func Available(v Version) error {
	_, err := serverBinary(v)
	return err
}
