package murmur

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FormatINI renders settings as a Qt ini file for the Mumble server, one
// key=value line per key in key order, after a comment line. Values are
// written verbatim: quote them with QuoteINI where needed.
func FormatINI(comment string, settings map[string]string) []byte {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("; " + strings.ReplaceAll(comment, "\n", " ") + "\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, settings[k])
	}
	return []byte(b.String())
}

// QuoteINI returns s as a double-quoted Qt (QSettings) ini value, so that
// commas, semicolons, quotes, backslashes and line breaks survive.
func QuoteINI(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ParseINI reads the key=value lines of an ini file as FormatINI writes
// them, undoing QuoteINI. Comments, blank lines and section headers are
// skipped. It is meant for checking written files.
func ParseINI(data []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == ';' || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\r`, "\r", `\t`, "\t")
			v = r.Replace(v[1 : len(v)-1])
		}
		m[strings.TrimSpace(k)] = v
	}
	return m
}

// iniSettings returns the server's ini settings for c in dir on port
// (c normalized).
func iniSettings(dir string, port int, c *Config) map[string]string {
	b := func(v bool) string { return strconv.FormatBool(v) }
	m := map[string]string{
		"database":  QuoteINI(filepath.Join(dir, DatabaseName)),
		"sslCert":   QuoteINI(filepath.Join(dir, CertName)),
		"sslKey":    QuoteINI(filepath.Join(dir, KeyName)),
		"host":      c.Host,
		"port":      strconv.Itoa(port),
		"logfile":   `""`, // in the foreground the server logs to stdout only
		"pidfile":   `""`,
		"logdays":   "-1", // no log table in the database either
		"obfuscate": "true",
		// A fixed PBKDF2 count (what the server's own benchmark picks here)
		// instead of a one-second benchmark at every new database.
		"kdfiterations": "16000",
		"ice":           `""`,
		"dbus":          `""`,
		"bonjour":       "false",
		"allowping":     "false",
		"sendversion":   "false",
		"registerName":  QuoteINI(c.Name),
		// Public server list registration needs these; empty turns it off.
		"registerPassword": `""`,
		"registerUrl":      `""`,
		"registerHostname": `""`,
		"registerLocation": `""`,
		// Every guest arrives from 127.0.0.1 through Tor: an autoban
		// would ban them all.
		"autobanAttempts":     "0",
		"opusthreshold":       "0",
		"allowhtml":           "false",
		"serverpassword":      QuoteINI(c.Password),
		"welcometext":         QuoteINI(c.Welcome),
		"users":               strconv.Itoa(c.MaxUsers),
		"bandwidth":           strconv.Itoa(c.Bandwidth),
		"rememberchannel":     b(c.RememberChannel),
		"certrequired":        b(c.CertRequired),
		"channelnestinglimit": strconv.Itoa(ChannelNestingLimit),
		"textmessagelength":   strconv.Itoa(TextMessageLength),
		"imagemessagelength":  strconv.Itoa(TextMessageLength),
	}
	if os.Geteuid() == 0 {
		// As root the server would switch to the mumble-server user and
		// could not open a database in this directory.
		m["uname"] = "root"
	}
	return m
}
