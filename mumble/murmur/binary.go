package murmur

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// ErrNoServer is wrapped by the error Binary returns when no Mumble server
// is installed.
var ErrNoServer = errors.New("murmur: no Mumble server found: install the Debian package mumble-server")

// binaryNames are the server's names on PATH, newest first.
var binaryNames = []string{"mumble-server", "murmurd"}

// binaryPaths are where distributions install the server.
var binaryPaths = []string{"/usr/sbin/murmurd", "/usr/bin/mumble-server", "/usr/sbin/mumble-server", "/usr/bin/murmurd"}

// Binary returns the path of the Mumble server executable: mumble-server or
// murmurd on PATH, else one of the usual Debian paths. If none is found the
// error wraps ErrNoServer, whose text says how to install it.
func Binary() (string, error) {
	for _, n := range binaryNames {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	for _, p := range binaryPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked for %v on PATH and %v)", ErrNoServer, binaryNames, binaryPaths)
}
