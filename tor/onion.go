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

// IsOnion reports whether host is an onion service name (ends in ".onion",
// any case). It does not validate the address; see ParseOnion.
func IsOnion(host string) bool {
	return len(host) > len(".onion") && strings.EqualFold(host[len(host)-len(".onion"):], ".onion")
}

// ParseOnion checks that host is a valid v3 onion service name and returns
// the service's ed25519 identity key. host may carry subdomains
// ("www.<addr>.onion", as Tor allows) and may omit the ".onion" suffix; case
// is ignored. Errors wrap ErrV2Onion for 16-character (v2) addresses and
// ErrBadOnion for everything else (length, alphabet, checksum, version).
//
// ParseOnion does not check that the key is a valid curve point; Tor itself
// rejects such an address when dialing (ErrOnionBadAddress).
func ParseOnion(host string) (ed25519.PublicKey, error) {
	label := onionLabel(host)
	switch {
	case len(label) == onionV2Len:
		return nil, fmt.Errorf("tor: onion address %q: %w", host, ErrV2Onion)
	case len(label) != onionV3Len:
		return nil, fmt.Errorf("tor: onion address %q: %w: %d characters, a v3 address has %d", host, ErrBadOnion, len(label), onionV3Len)
	}
	raw, err := onionBase32.DecodeString(strings.ToUpper(label))
	if err != nil || len(raw) != 35 {
		return nil, fmt.Errorf("tor: onion address %q: %w: not base32 (letters a-z and digits 2-7 only)", host, ErrBadOnion)
	}
	pub, sum, version := raw[:32], raw[32:34], raw[34]
	if version != onionVersion {
		return nil, fmt.Errorf("tor: onion address %q: %w: version %d, want %d", host, ErrBadOnion, version, onionVersion)
	}
	want := onionChecksum(pub, version)
	if sum[0] != want[0] || sum[1] != want[1] {
		return nil, fmt.Errorf("tor: onion address %q: %w: checksum mismatch (typo in the address?)", host, ErrBadOnion)
	}
	return ed25519.PublicKey(pub), nil
}

// onionLabel returns the address label of host: the last label before the
// ".onion" suffix, lower-cased; host without the suffix is taken as is.
func onionLabel(host string) string {
	h := strings.ToLower(host)
	if IsOnion(h) {
		h = h[:len(h)-len(".onion")]
		if i := strings.LastIndexByte(h, '.'); i >= 0 {
			h = h[i+1:]
		}
	}
	return h
}

// onionServiceID returns the 56-character service ID of a valid onion host
// name (the form Tor's control commands take).
func onionServiceID(host string) (string, error) {
	if _, err := ParseOnion(host); err != nil {
		return "", err
	}
	return onionLabel(host), nil
}
