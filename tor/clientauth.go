package tor

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
)

// clientAuthBase32 is how Tor writes x25519 keys in client authorization
// files: RFC 4648 base32 without padding, upper case (52 characters).
var clientAuthBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ClientAuthKey is a client's credential for a v3 onion service that
// requires client authorization: the service's address and the client's
// x25519 private key. Its text form (String) is the line of a Tor
// ClientOnionAuthDir "*.auth_private" file:
//
//	<56-char onion address>:descriptor:x25519:<base32 private key>
//
// The service operator puts the matching PublicLine in the service's
// authorized_clients directory.
type ClientAuthKey struct {
	// Onion is the service ID: the 56-character address without ".onion".
	Onion string
	key   *ecdh.PrivateKey
}

// ParseClientAuthKey parses the auth_private line form
// "<onion address>:descriptor:x25519:<base32 key>" (the address may end in
// ".onion"; case is ignored).
func ParseClientAuthKey(s string) (ClientAuthKey, error) {
	const form = "want <onion address>:descriptor:x25519:<base32 private key>"
	parts := strings.Split(strings.TrimSpace(s), ":")
	switch {
	case len(parts) != 4:
		return ClientAuthKey{}, fmt.Errorf("tor: client authorization key: %s (%d \":\"-separated parts given)", form, len(parts))
	case !strings.EqualFold(parts[1], "descriptor"):
		return ClientAuthKey{}, fmt.Errorf("tor: client authorization key: %s (%q where \"descriptor\" belongs)", form, parts[1])
	case !strings.EqualFold(parts[2], "x25519"):
		return ClientAuthKey{}, fmt.Errorf("tor: client authorization key: %s (key type %q; Tor uses x25519)", form, parts[2])
	}
	return NewClientAuthKey(parts[0], parts[3])
}

// NewClientAuthKey makes a ClientAuthKey from an onion address (with or
// without ".onion") and a base32 x25519 private key (52 characters, as Tor
// prints it; case and "=" padding are ignored).
func NewClientAuthKey(onion, privateKey string) (ClientAuthKey, error) {
	id, err := onionServiceID(onion)
	if err != nil {
		return ClientAuthKey{}, err
	}
	text := strings.ToUpper(strings.TrimRight(strings.TrimSpace(privateKey), "="))
	raw, err := clientAuthBase32.DecodeString(text)
	if err != nil || len(raw) != 32 {
		return ClientAuthKey{}, fmt.Errorf("tor: client authorization key for %s.onion: want 52 base32 characters (A-Z, 2-7; an x25519 private key), %d characters given", id, len(text))
	}
	k, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return ClientAuthKey{}, fmt.Errorf("tor: client authorization key for %s.onion: %w", id, err)
	}
	return ClientAuthKey{Onion: id, key: k}, nil
}

// GenerateClientAuthKey makes a new random client key for the onion
// service at onion. Give PublicLine to the service operator.
func GenerateClientAuthKey(onion string) (ClientAuthKey, error) {
	id, err := onionServiceID(onion)
	if err != nil {
		return ClientAuthKey{}, err
	}
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return ClientAuthKey{}, fmt.Errorf("tor: generate client authorization key: %w", err)
	}
	return ClientAuthKey{Onion: id, key: k}, nil
}

// IsZero reports whether k holds no key.
func (k ClientAuthKey) IsZero() bool { return k.key == nil }

// String returns the auth_private line, or "" for the zero value. It
// contains the private key: store it like a password.
func (k ClientAuthKey) String() string {
	if k.key == nil {
		return ""
	}
	return k.Onion + ":descriptor:x25519:" + clientAuthBase32.EncodeToString(k.key.Bytes())
}

// PublicLine returns the line for the service's authorized_clients
// directory (a "<name>.auth" file): "descriptor:x25519:<base32 public key>".
func (k ClientAuthKey) PublicLine() string {
	if k.key == nil {
		return ""
	}
	return "descriptor:x25519:" + clientAuthBase32.EncodeToString(k.key.PublicKey().Bytes())
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (k ClientAuthKey) MarshalText() ([]byte, error) {
	if k.key == nil {
		return nil, fmt.Errorf("tor: marshal client authorization key: zero value")
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (the String form).
func (k *ClientAuthKey) UnmarshalText(text []byte) error {
	v, err := ParseClientAuthKey(string(text))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// AddClientAuth gives the running embedded Tor the client authorization key
// k (ONION_CLIENT_AUTH_ADD; kept in memory only, replacing an earlier key
// for the same service). No restart is needed: the next connection to the
// service uses it. It needs the embedded Tor; in socks mode there is no
// control connection and the error wraps ErrNoControl (configure the key in
// that Tor's ClientOnionAuthDir instead).
func (s *Server) AddClientAuth(ctx context.Context, k ClientAuthKey) error {
	if k.key == nil {
		return fmt.Errorf("tor: add client authorization: zero key")
	}
	blob := base64.StdEncoding.EncodeToString(k.key.Bytes())
	if err := s.controlCommand(ctx, "ONION_CLIENT_AUTH_ADD "+k.Onion+" x25519:"+blob); err != nil {
		return fmt.Errorf("tor: add client authorization for %s.onion: %w", k.Onion, err)
	}
	return nil
}

// RemoveClientAuth makes the running embedded Tor forget the client
// authorization key for the onion service at onion
// (ONION_CLIENT_AUTH_REMOVE).
func (s *Server) RemoveClientAuth(ctx context.Context, onion string) error {
	id, err := onionServiceID(onion)
	if err != nil {
		return err
	}
	if err := s.controlCommand(ctx, "ONION_CLIENT_AUTH_REMOVE "+id); err != nil {
		return fmt.Errorf("tor: remove client authorization for %s.onion: %w", id, err)
	}
	return nil
}

// controlCommand sends one command line on the control connection.
func (s *Server) controlCommand(ctx context.Context, cmd string) error {
	s.init()
	if err := ctx.Err(); err != nil {
		return err
	}
	emb, err := s.control()
	if err != nil {
		return err
	}
	emb.ctlMu.Lock()
	defer emb.ctlMu.Unlock()
	resp, err := emb.t.Control.SendRequest("%s", cmd)
	if err != nil && resp != nil && resp.Err != nil && resp.Err.Code/100 == 2 {
		// A 2xx status bine does not know, such as ONION_CLIENT_AUTH_ADD's
		// 252 "Registered client and decrypted desc": success.
		return nil
	}
	return err
}
