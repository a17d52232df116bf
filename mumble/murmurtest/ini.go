package murmurtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tumble-voip/tumble/mumble/murmur"
)

// File names inside Server.Dir.
const (
	iniName      = "murmur.ini"
	databaseName = "murmur.sqlite"
	logfileName  = "murmur.log" // unused by a server in the foreground, kept for completeness
	pidfileName  = "murmur.pid"
	consoleName  = "console.log" // the server's stdout and stderr: its log when run with -fg
)

// iniSettings returns the server settings for opts on port, keyed by ini key.
// Extra keys override the defaults.
func iniSettings(dir string, port int, opts *Options) map[string]string {
	m := map[string]string{
		"database":        murmur.QuoteINI(filepath.Join(dir, databaseName)),
		"logfile":         murmur.QuoteINI(filepath.Join(dir, logfileName)),
		"pidfile":         murmur.QuoteINI(filepath.Join(dir, pidfileName)),
		"host":            "127.0.0.1",
		"port":            strconv.Itoa(port),
		"ice":             `""`,
		"dbus":            `""`,
		"bonjour":         "false",
		"autobanAttempts": "0",
		"opusthreshold":   "0",
		// A fixed, cheap PBKDF2 count: without it each new database runs a
		// one-second benchmark to choose one.
		"kdfiterations":  "1000",
		"welcometext":    murmur.QuoteINI(opts.Welcome),
		"serverpassword": murmur.QuoteINI(opts.Password),
	}
	if os.Geteuid() == 0 {
		// As root the server would switch to the mumble-server user and could
		// not open a database in the test's directory.
		m["uname"] = "root"
	}
	if opts.MaxBandwidth > 0 {
		m["bandwidth"] = strconv.Itoa(opts.MaxBandwidth)
	}
	if opts.MaxUsers > 0 {
		m["users"] = strconv.Itoa(opts.MaxUsers)
	}
	for k, v := range opts.Extra {
		m[k] = v
	}
	return m
}

// checkExtra rejects Extra entries that would break the ini file's structure.
func checkExtra(extra map[string]string) error {
	for k, v := range extra {
		if k == "" || strings.ContainsAny(k, "=;[]\"\r\n \t") {
			return fmt.Errorf("murmurtest: invalid ini key %q in Options.Extra", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("murmurtest: ini value for %q in Options.Extra contains a line break", k)
		}
	}
	return nil
}
