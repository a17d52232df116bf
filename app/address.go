package app

import (
	"bytes"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// DefaultPort is the Mumble server port used when none is given.
const DefaultPort = 64738

// onionV3Len is the length of a v3 onion address label: 35 bytes
// (32-byte ed25519 key, 2-byte checksum, version byte) in base32.
const onionV3Len = 56

// AddressKind says what a bookmark address is.
type AddressKind int

const (
	// AddressOnion is a v3 onion service name ("<56 chars>.onion").
	AddressOnion AddressKind = iota + 1
	// AddressHostName is a DNS host name. With Tor on it is resolved by
	// the exit relay, never locally.
	AddressHostName
	// AddressIP is an IPv4 or IPv6 literal.
	AddressIP
)

// String returns "onion", "host name" or "IP address".
func (k AddressKind) String() string {
	switch k {
	case AddressOnion:
		return "onion"
	case AddressHostName:
		return "host name"
	case AddressIP:
		return "IP address"
	}
	return fmt.Sprintf("AddressKind(%d)", int(k))
}

// NormalizeAddress cleans up an address as a user typed it: surrounding
// space is trimmed, letters are lowered, one trailing dot and the brackets
// around an IPv6 literal are removed. It does not validate; see
// ValidateAddress.
func NormalizeAddress(addr string) string {
	addr = strings.TrimSpace(addr)
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		addr = addr[1 : len(addr)-1]
	}
	addr = strings.TrimSuffix(addr, ".")
	return strings.ToLower(addr)
}

// ValidateAddress checks a normalized server address and says what kind it
// is. A ".onion" address must be a v3 onion service name: 56 base32
// characters whose version byte and checksum are right (so a typo is caught
// before Tor spends a minute looking for a service that does not exist),
// optionally preceded by subdomain labels. Otherwise the address must be an
// IP literal (IPv6 without brackets, no zone) or a DNS host name in ASCII
// (internationalized names in their xn-- form).
func ValidateAddress(addr string) (AddressKind, error) {
	if addr == "" {
		return 0, errors.New("is empty")
	}
	if len(addr) > 253 {
		return 0, fmt.Errorf("is %d characters long, the limit is 253", len(addr))
	}
	if addr != strings.TrimSpace(addr) {
		return 0, errors.New("has spaces around it")
	}
	if strings.HasPrefix(addr, "[") || strings.HasSuffix(addr, "]") {
		return 0, errors.New("has brackets; write an IPv6 address without them and the port in the port field")
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		if ip.Zone() != "" {
			return 0, errors.New("is an IPv6 address with a zone, which cannot be reached through a server")
		}
		return AddressIP, nil
	}
	if strings.Contains(addr, "://") || strings.ContainsAny(addr, "/?#@") {
		return 0, errors.New("must be a host name or address, not a link (use Import link for mumble:// links)")
	}
	if strings.Contains(addr, ":") {
		if strings.Count(addr, ":") == 1 {
			return 0, errors.New("contains a port; put the port in the port field")
		}
		return 0, errors.New("is not a valid IPv6 address")
	}
	labels := strings.Split(addr, ".")
	if last := labels[len(labels)-1]; strings.EqualFold(last, "onion") {
		if len(labels) < 2 {
			return 0, errors.New(`is just ".onion"`)
		}
		if labels[len(labels)-2] == "" {
			return 0, errors.New("has an empty label before .onion")
		}
		if err := checkOnionLabel(labels[len(labels)-2]); err != nil {
			return 0, err
		}
		for _, l := range labels[:len(labels)-2] {
			if err := checkHostLabel(l); err != nil {
				return 0, fmt.Errorf("has an invalid subdomain %q: %w", l, err)
			}
		}
		return AddressOnion, nil
	}
	for _, l := range labels {
		if err := checkHostLabel(l); err != nil {
			if l == "" {
				return 0, errors.New("has an empty label (two dots in a row, or a leading dot)")
			}
			return 0, fmt.Errorf("has an invalid label %q: %w", l, err)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return 0, errors.New("is neither a valid IPv4 address nor a host name (the last label is all digits)")
	}
	return AddressHostName, nil
}

// IsOnion reports whether addr (normalized or not) names an onion service.
func IsOnion(addr string) bool {
	return strings.HasSuffix(NormalizeAddress(addr), ".onion")
}

// onionLabel returns the 56-character service label of a valid onion
// address (dropping subdomains and ".onion").
func onionLabel(addr string) string {
	labels := strings.Split(NormalizeAddress(addr), ".")
	if len(labels) < 2 {
		return ""
	}
	return labels[len(labels)-2]
}

var onionBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// checkOnionLabel validates the 56-character label of a v3 onion address,
// including its version byte and checksum (rend-spec-v3, "Encoding onion
// addresses": checksum = SHA3-256(".onion checksum" | pubkey | version)[:2]).
func checkOnionLabel(l string) error {
	l = strings.ToLower(l)
	switch {
	case len(l) == 16:
		return errors.New("is a v2 onion address; Tor no longer reaches those, ask for the v3 address (56 characters)")
	case len(l) != onionV3Len:
		return fmt.Errorf("is not a v3 onion address: the part before .onion has %d characters, it must have %d", len(l), onionV3Len)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return fmt.Errorf("is not a v3 onion address: %q is not a base32 character (a-z, 2-7)", c)
		}
	}
	raw, err := onionBase32.DecodeString(strings.ToUpper(l))
	if err != nil || len(raw) != 35 {
		return errors.New("is not a v3 onion address: it does not decode")
	}
	if raw[34] != 3 {
		return fmt.Errorf("is not a v3 onion address: version byte is %d, not 3", raw[34])
	}
	if !bytes.Equal(onionChecksum(raw[:32], raw[34]), raw[32:34]) {
		return errors.New("has a wrong checksum: a character was mistyped")
	}
	return nil
}

// onionChecksum computes the 2-byte checksum of a v3 onion address.
func onionChecksum(pub []byte, version byte) []byte {
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(pub)
	h.Write([]byte{version})
	return h.Sum(nil)[:2]
}

// checkHostLabel validates one DNS label: 1-63 letters, digits, hyphens or
// underscores, not starting or ending with a hyphen.
func checkHostLabel(l string) error {
	if l == "" {
		return errors.New("is empty")
	}
	if len(l) > 63 {
		return fmt.Errorf("is %d characters long, the limit is 63", len(l))
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return errors.New("starts or ends with a hyphen")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			if c >= 0x80 {
				return errors.New("has non-ASCII characters; use the xn-- (punycode) form of the name")
			}
			return fmt.Errorf("has the character %q, only letters, digits and hyphens are allowed", c)
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
