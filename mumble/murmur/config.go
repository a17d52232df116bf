package murmur

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// Limits written into every server's ini.
const (
	// ChannelNestingLimit is the deepest channel nesting guests may create.
	ChannelNestingLimit = 10
	// TextMessageLength is the longest text message, in characters.
	TextMessageLength = 5000
)

// Default values for a Config.
const (
	DefaultMaxUsers = 50
	// DefaultBandwidth is the per-user voice limit in bit/s: what the
	// official client budgets in TCP mode for Tumble's "Tor recommended"
	// preset (13 kb/s Opus in 20 ms packets) with headroom for 40 kb/s,
	// since every guest talks over TCP through Tor.
	DefaultBandwidth = 72000
)

// Config is what the host can change about a room's server. Everything
// else keeps the privacy defaults of the package.
type Config struct {
	// Name is the server's name, shown as the root channel's name.
	Name string
	// Welcome is the welcome text shown to guests (plain text).
	Welcome string
	// Password is the server password every guest must give. Use
	// GeneratePassword for a strong one; empty means none.
	Password string
	// SuperUserPassword is the password of the server's SuperUser account,
	// set before the server starts. Required.
	SuperUserPassword string
	// MaxUsers is the most guests connected at once (ini users); 0 means
	// DefaultMaxUsers.
	MaxUsers int
	// Bandwidth is the per-user voice bandwidth limit in bit/s; 0 means
	// DefaultBandwidth.
	Bandwidth int
	// RememberChannel puts returning registered users back into their
	// last channel.
	RememberChannel bool
	// CertRequired refuses guests without a client certificate.
	CertRequired bool
	// Host is the IP address to listen on, e.g. a Whonix Workstation's
	// address so that its Gateway can reach the server. If empty,
	// 127.0.0.1: only this machine's Tor can.
	Host string
	// Port is the port on Host to listen on; 0 picks a free one.
	Port int
	// WriteFile writes the server's files (ini, certificate, key, pid)
	// with permission perm. The room's certificate and key are what its
	// guests pinned: callers pass an atomic write (Tumble's
	// tor/atomicfile.Write; this package may not import it). If nil,
	// os.WriteFile.
	WriteFile func(name string, data []byte, perm os.FileMode) error
}

// GeneratePassword returns a random password of 26 characters (130 bits).
func GeneratePassword() string { return rand.Text() }

// normalize fills in defaults and checks c.
func (c Config) normalize() (Config, error) {
	if c.MaxUsers == 0 {
		c.MaxUsers = DefaultMaxUsers
	}
	if c.WriteFile == nil {
		c.WriteFile = os.WriteFile
	}
	if c.Bandwidth == 0 {
		c.Bandwidth = DefaultBandwidth
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	ip := net.ParseIP(c.Host)
	switch {
	case c.MaxUsers < 1 || c.MaxUsers > 10000:
		return c, fmt.Errorf("murmur: max users %d is outside 1-10000", c.MaxUsers)
	case c.Bandwidth < 8000 || c.Bandwidth > 1000000:
		return c, fmt.Errorf("murmur: bandwidth %d bit/s is outside 8000-1000000", c.Bandwidth)
	case c.Port < 0 || c.Port > 65535:
		return c, fmt.Errorf("murmur: port %d is outside 1-65535", c.Port)
	case ip == nil:
		return c, fmt.Errorf("murmur: listen address %q is not an IP address", c.Host)
	case ip.IsUnspecified():
		return c, fmt.Errorf("murmur: listen address %s would listen on every interface; give one address of this machine", c.Host)
	case c.SuperUserPassword == "":
		return c, errors.New("murmur: no SuperUser password")
	case strings.ContainsAny(c.SuperUserPassword, "\r\n\x00"):
		return c, errors.New("murmur: the SuperUser password contains a line break")
	case strings.ContainsAny(c.Name+c.Password, "\x00\r\n"):
		return c, errors.New("murmur: the name or password contains a line break")
	case len(c.Welcome) > TextMessageLength:
		return c, fmt.Errorf("murmur: the welcome text is longer than %d bytes", TextMessageLength)
	}
	return c, nil
}
