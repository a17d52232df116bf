package app

import (
	"errors"
	"fmt"
	"strings"
)

// x25519KeyBase32Len is the length of a 32-byte key in unpadded base32.
const x25519KeyBase32Len = 52

// ParseClientAuthKey parses an onion service client authorization key as
// users get it from the service operator, in either of two forms:
//
//   - Tor's ".auth_private" line:
//     "<56-character onion address without .onion>:descriptor:x25519:<base32 key>"
//   - the bare base32 private key (52 characters; "=" padding allowed).
//
// Letters may be in either case. If onionAddr is not empty and the line names
// an onion address, the two must match. It returns the 32-byte x25519
// private key.
func ParseClientAuthKey(s, onionAddr string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("is empty")
	}
	keyText := s
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) != 4 {
			return nil, fmt.Errorf(`has %d ":"-separated parts; the form is "<onion address>:descriptor:x25519:<key>" or just the key`, len(parts))
		}
		addr, kind, alg := strings.ToLower(parts[0]), strings.ToLower(parts[1]), strings.ToLower(parts[2])
		addr = strings.TrimSuffix(addr, ".onion")
		if err := checkOnionLabel(addr); err != nil {
			return nil, fmt.Errorf("names an onion address that %w", err)
		}
		if kind != "descriptor" {
			return nil, fmt.Errorf(`has %q where "descriptor" belongs`, parts[1])
		}
		if alg != "x25519" {
			return nil, fmt.Errorf("uses the key type %q; Tor client authorization uses x25519", parts[2])
		}
		if onionAddr != "" && addr != onionLabel(onionAddr) {
			return nil, errors.New("is for a different onion address than this bookmark")
		}
		keyText = parts[3]
	}
	keyText = strings.ToUpper(strings.TrimRight(keyText, "="))
	if len(keyText) != x25519KeyBase32Len {
		return nil, fmt.Errorf("has a key of %d characters; an x25519 key in base32 has %d", len(keyText), x25519KeyBase32Len)
	}
	key, err := onionBase32.DecodeString(keyText)
	if err != nil || len(key) != 32 {
		return nil, errors.New("has a key that is not valid base32 (A-Z, 2-7)")
	}
	return key, nil
}
