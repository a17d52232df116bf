package tor

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// isolationPrefix starts the text form of an Isolation, so that a stored
// value is recognisable and the format can change later.
const isolationPrefix = "iso1-"

// Isolation is a stream isolation token: the SOCKS5 username and password
// sent to Tor. Tor's SocksPort runs with IsolateSOCKSAuth, so connections
// made with different Isolation values never share a circuit, while the same
// value keeps reusing its circuits. Give every bookmark its own Isolation
// and store it with the bookmark; "new circuit" means replacing it with a
// fresh NewIsolation.
//
// The zero Isolation is not valid for dialing; use NewIsolation or
// ParseIsolation. Isolation implements encoding.TextMarshaler and
// encoding.TextUnmarshaler.
type Isolation struct {
	token [32]byte
	set   bool
}

// NewIsolation returns fresh random credentials (from crypto/rand).
func NewIsolation() Isolation {
	var iso Isolation
	rand.Read(iso.token[:]) // never returns an error (crypto/rand, Go 1.24+)
	iso.set = true
	return iso
}

// IsZero reports whether iso is the zero (unset) value.
func (iso Isolation) IsZero() bool { return !iso.set }

// Username returns the SOCKS5 username sent to Tor.
func (iso Isolation) Username() string { return hex.EncodeToString(iso.token[:16]) }

// Password returns the SOCKS5 password sent to Tor.
func (iso Isolation) Password() string { return hex.EncodeToString(iso.token[16:]) }

// String returns the text form, "iso1-" followed by 64 hex digits, suitable
// for storing in a bookmark. The zero value prints as "".
func (iso Isolation) String() string {
	if !iso.set {
		return ""
	}
	return isolationPrefix + hex.EncodeToString(iso.token[:])
}

// ParseIsolation parses the text form produced by Isolation.String.
func ParseIsolation(s string) (Isolation, error) {
	var iso Isolation
	if err := iso.UnmarshalText([]byte(s)); err != nil {
		return Isolation{}, err
	}
	return iso, nil
}

// MarshalText implements encoding.TextMarshaler.
func (iso Isolation) MarshalText() ([]byte, error) {
	if !iso.set {
		return nil, fmt.Errorf("tor: marshal isolation: zero value")
	}
	return []byte(iso.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (iso *Isolation) UnmarshalText(text []byte) error {
	s := string(text)
	if len(s) != len(isolationPrefix)+64 || s[:len(isolationPrefix)] != isolationPrefix {
		return fmt.Errorf("tor: parse isolation: want %q followed by 64 hex digits (%d characters given)", isolationPrefix, len(s))
	}
	var tok [32]byte
	if _, err := hex.Decode(tok[:], text[len(isolationPrefix):]); err != nil {
		return fmt.Errorf("tor: parse isolation: %w", err)
	}
	iso.token, iso.set = tok, true
	return nil
}
