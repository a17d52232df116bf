package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tumble-voip/tumble/tor"
)

// ParseClientAuthKey parses an onion service client authorization key as
// users get it from the service operator, for the onion service at
// onionAddr, in either of two forms:
//
//   - Tor's ".auth_private" line:
//     "<56-character onion address without .onion>:descriptor:x25519:<base32 key>"
//   - the bare base32 private key (52 characters; "=" padding allowed).
//
// Letters may be in either case. If onionAddr is not empty and the line names
// an onion address, the two must match; a bare key needs onionAddr. The
// decoding is tor's (tor.ParseClientAuthKey, tor.NewClientAuthKey); this
// only accepts the forms users paste.
func ParseClientAuthKey(s, onionAddr string) (tor.ClientAuthKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return tor.ClientAuthKey{}, errors.New("is empty")
	}
	if !strings.Contains(s, ":") {
		if onionAddr == "" {
			return tor.ClientAuthKey{}, errors.New("is a bare key, which needs the onion address it is for")
		}
		k, err := tor.NewClientAuthKey(onionAddr, s)
		if err != nil {
			return tor.ClientAuthKey{}, fmt.Errorf("is not valid: %w", err)
		}
		return k, nil
	}
	k, err := tor.ParseClientAuthKey(s)
	if err != nil {
		return tor.ClientAuthKey{}, fmt.Errorf("is not valid: %w", err)
	}
	if onionAddr != "" && !clientAuthFor(k, onionAddr) {
		return tor.ClientAuthKey{}, errors.New("is for a different onion address than this bookmark")
	}
	return k, nil
}

// clientAuthFor reports whether k is the key of the onion service at addr.
func clientAuthFor(k tor.ClientAuthKey, addr string) bool {
	a, err := tor.ParseOnion(addr)
	return err == nil && a.ServiceID() == k.Onion
}

// SetClientAuthKey sets ClientAuthKey from text as a user pastes it (see
// ParseClientAuthKey), for the bookmark's address; blank text removes the
// key. An error is a *FieldError for "client_auth_key" and leaves b
// unchanged.
func (b *Bookmark) SetClientAuthKey(text string) error {
	if strings.TrimSpace(text) == "" {
		b.ClientAuthKey = tor.ClientAuthKey{}
		return nil
	}
	addr := NormalizeAddress(b.Address)
	if !tor.IsOnion(addr) {
		return &FieldError{Field: "client_auth_key", Err: errors.New("only applies to .onion addresses")}
	}
	k, err := ParseClientAuthKey(text, addr)
	if err != nil {
		return &FieldError{Field: "client_auth_key", Err: err}
	}
	b.ClientAuthKey = k
	return nil
}
