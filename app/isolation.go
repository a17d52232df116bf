package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Isolation holds the SOCKS5 user name and password a bookmark presents to
// Tor. Tor keeps streams with different SOCKS credentials on different
// circuits (IsolateSOCKSAuth, on by default), so giving every bookmark its
// own random pair means no two servers ever share a circuit, and a server
// cannot correlate you with your other connections by exit relay.
// Regenerating the pair (Bookmark.NewCircuit) makes Tor build a new circuit
// for the next connection.
type Isolation struct {
	// Username is the SOCKS5 user name: 32 random hex digits.
	Username string `json:"username"`
	// Password is the SOCKS5 password: 32 random hex digits.
	Password string `json:"password"`
}

// torExtendedSOCKSPrefix starts SOCKS credentials that Tor interprets as
// extended parameters (proposal 351), not as isolation tokens.
const torExtendedSOCKSPrefix = "<torS0X>"

// NewIsolation returns fresh random credentials (128 bits each, from
// crypto/rand).
func NewIsolation() (Isolation, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Isolation{}, fmt.Errorf("app: generate isolation credentials: %w", err)
	}
	return Isolation{
		Username: hex.EncodeToString(b[:16]),
		Password: hex.EncodeToString(b[16:]),
	}, nil
}

// IsZero reports whether no credentials are set.
func (i Isolation) IsZero() bool { return i.Username == "" && i.Password == "" }

// validate checks the credentials fit SOCKS5 (1-255 bytes each) and are not
// taken by Tor as extended parameters.
func (i Isolation) validate() error {
	for _, f := range []struct{ name, v string }{{"user name", i.Username}, {"password", i.Password}} {
		switch {
		case f.v == "":
			return fmt.Errorf("SOCKS %s is empty", f.name)
		case len(f.v) > 255:
			return fmt.Errorf("SOCKS %s is %d bytes, SOCKS5 allows 255", f.name, len(f.v))
		case strings.HasPrefix(f.v, torExtendedSOCKSPrefix):
			return fmt.Errorf("SOCKS %s starts with %q, which Tor reads as extended parameters", f.name, torExtendedSOCKSPrefix)
		}
		if err := checkText(f.v, 255); err != nil {
			return fmt.Errorf("SOCKS %s %w", f.name, err)
		}
	}
	return nil
}

var errNoIsolation = errors.New("no SOCKS isolation credentials")
