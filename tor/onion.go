package tor

import (
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/base32"
	"fmt"
	"strings"
)

// onionBase32 is the encoding of onion addresses (RFC 4648 base32, no
// padding); addresses are written in lower case.
var onionBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

const (
	onionV3Len      = 56 // base32 characters of a v3 address
	onionV2Len      = 16
	onionVersion    = 3
	onionChecksumID = ".onion checksum"
)

// OnionAddress returns the v3 onion host name ("<56 base32 chars>.onion")
// of the onion service whose identity key is pub, as defined in Tor's
// rend-spec-v3 section 6:
//
//	onion_address = base32(PUBKEY | CHECKSUM | VERSION) + ".onion"
//	CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]
func OnionAddress(pub ed25519.PublicKey) (string, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("tor: onion address: public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	raw := make([]byte, 0, 35)
	raw = append(raw, pub...)
	sum := onionChecksum(pub, onionVersion)
	raw = append(raw, sum[0], sum[1], onionVersion)
	return strings.ToLower(onionBase32.EncodeToString(raw)) + ".onion", nil
}

func onionChecksum(pub []byte, version byte) [32]byte {
	h := sha3.New256()
	h.Write([]byte(onionChecksumID))
	h.Write(pub)
	h.Write([]byte{version})
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// IsOnion reports whether host is an onion service name: it ends in
// ".onion", in any case, optionally followed by the root's trailing dot
// ("x.onion."). It does not validate the address; see ParseOnion.
func IsOnion(host string) bool {
	host = strings.TrimSuffix(host, ".")
	return len(host) > len(".onion") && strings.EqualFold(host[len(host)-len(".onion"):], ".onion")
}

// OnionAddr is a valid v3 onion service address, as ParseOnion returns it.
// The zero value is no address.
type OnionAddr struct {
	host string // canonical host name: lower case, ends in ".onion", no trailing dot
	id   string // the 56-character service ID
}

// String returns the host name in canonical form, the one sent to Tor:
// lower case, subdomains kept, ending in ".onion" without a trailing dot.
// The zero value prints as "".
func (a OnionAddr) String() string { return a.host }

// ServiceID returns the 56-character service ID: the address label without
// subdomains and ".onion" (the form Tor's control commands and client
// authorization files take).
func (a OnionAddr) ServiceID() string { return a.id }

// PublicKey returns the service's ed25519 identity key.
func (a OnionAddr) PublicKey() ed25519.PublicKey {
	if a.id == "" {
		return nil
	}
	raw, _ := onionBase32.DecodeString(strings.ToUpper(a.id)) // valid: checked by ParseOnion
	return ed25519.PublicKey(raw[:32])
}

// IsZero reports whether a is the zero value.
func (a OnionAddr) IsZero() bool { return a.id == "" }

// OnionError reports an address that is not a valid v3 onion address. It
// wraps ErrV2Onion or ErrBadOnion.
type OnionError struct {
	Host   string // the address as given
	Err    error  // ErrV2Onion or ErrBadOnion
	Reason string // what is wrong, for people ("checksum mismatch ...")
}

func (e *OnionError) Error() string {
	return fmt.Sprintf("tor: onion address %q: %v: %s", e.Host, e.Err, e.Reason)
}

// Unwrap returns ErrV2Onion or ErrBadOnion.
func (e *OnionError) Unwrap() error { return e.Err }

// ParseOnion checks that host is a valid v3 onion service name and returns
// it in canonical form. host may carry subdomains ("www.<addr>.onion", as
// Tor allows), may omit the ".onion" suffix and may end in the root's
// trailing dot; case is ignored. Errors are *OnionError, wrapping
// ErrV2Onion for 16-character (v2) addresses and ErrBadOnion for
// everything else (length, alphabet, checksum, version, empty labels).
//
// ParseOnion does not check that the key is a valid curve point; Tor itself
// rejects such an address when dialing (ErrOnionBadAddress).
func ParseOnion(host string) (OnionAddr, error) {
	bad := func(err error, format string, args ...any) (OnionAddr, error) {
		return OnionAddr{}, &OnionError{Host: host, Err: err, Reason: fmt.Sprintf(format, args...)}
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	h = strings.TrimSuffix(h, ".onion")
	labels := strings.Split(h, ".")
	id, subs := labels[len(labels)-1], labels[:len(labels)-1]
	switch {
	case len(id) == onionV2Len:
		return bad(ErrV2Onion, "ask for the v3 address (%d characters)", onionV3Len)
	case len(id) != onionV3Len:
		return bad(ErrBadOnion, "%d characters, a v3 address has %d", len(id), onionV3Len)
	}
	raw, err := onionBase32.DecodeString(strings.ToUpper(id))
	if err != nil || len(raw) != 35 {
		return bad(ErrBadOnion, "not base32 (letters a-z and digits 2-7 only)")
	}
	pub, sum, version := raw[:32], raw[32:34], raw[34]
	if version != onionVersion {
		return bad(ErrBadOnion, "version %d, want %d", version, onionVersion)
	}
	want := onionChecksum(pub, version)
	if sum[0] != want[0] || sum[1] != want[1] {
		return bad(ErrBadOnion, "checksum mismatch (typo in the address?)")
	}
	for _, l := range subs {
		if err := checkSubdomain(l); err != nil {
			return bad(ErrBadOnion, "subdomain %q %v", l, err)
		}
	}
	return OnionAddr{host: h + ".onion", id: id}, nil
}

// checkSubdomain checks one subdomain label of an onion address: 1-63
// letters, digits, hyphens or underscores.
func checkSubdomain(l string) error {
	if l == "" || len(l) > 63 {
		return fmt.Errorf("has %d characters, a label has 1-63", len(l))
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("has the character %q (letters, digits, '-' and '_' only)", c)
		}
	}
	return nil
}

// onionServiceID returns the 56-character service ID of a valid onion host
// name (the form Tor's control commands take).
func onionServiceID(host string) (string, error) {
	a, err := ParseOnion(host)
	if err != nil {
		return "", err
	}
	return a.ServiceID(), nil
}
