package e2e

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// An Identity is a member's long-term E2E key for one bookmark: an ed25519
// key that signs its announcements and an X25519 key for the pairwise
// channels. Tumble keeps one per bookmark so that servers cannot link a
// user across servers.
type Identity struct {
	sign ed25519.PrivateKey
	dh   *ecdh.PrivateKey
}

// IdentitySize is the length of a marshalled Identity.
const IdentitySize = ed25519.SeedSize + 32

// NewIdentity makes a fresh random identity.
func NewIdentity() (*Identity, error) {
	seed := make([]byte, IdentitySize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("e2e: new identity: %w", err)
	}
	return UnmarshalIdentity(seed)
}

// UnmarshalIdentity restores an identity saved with MarshalBinary.
func UnmarshalIdentity(b []byte) (*Identity, error) {
	if len(b) != IdentitySize {
		return nil, fmt.Errorf("e2e: identity is %d bytes, want %d", len(b), IdentitySize)
	}
	dh, err := ecdh.X25519().NewPrivateKey(b[ed25519.SeedSize:])
	if err != nil {
		return nil, fmt.Errorf("e2e: identity: %w", err)
	}
	return &Identity{sign: ed25519.NewKeyFromSeed(b[:ed25519.SeedSize]), dh: dh}, nil
}

// MarshalBinary returns the secret key material, for the bookmark store.
func (id *Identity) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, IdentitySize)
	out = append(out, id.sign.Seed()...)
	return append(out, id.dh.Bytes()...), nil
}

// Public returns the identity's public half.
func (id *Identity) Public() PublicKey {
	var p PublicKey
	copy(p.Sign[:], id.sign.Public().(ed25519.PublicKey))
	copy(p.DH[:], id.dh.PublicKey().Bytes())
	return p
}

// A PublicKey is the public half of an Identity.
type PublicKey struct {
	Sign [ed25519.PublicKeySize]byte
	DH   [32]byte
}

// Fingerprint is a hash of a PublicKey; members are told apart by it.
type Fingerprint [32]byte

// Fingerprint returns the key's fingerprint.
func (p PublicKey) Fingerprint() Fingerprint {
	h := sha256.New()
	h.Write([]byte("tumble-e2e fingerprint v1"))
	h.Write(p.Sign[:])
	h.Write(p.DH[:])
	var f Fingerprint
	h.Sum(f[:0])
	return f
}

// String returns the fingerprint's first 16 bytes in hex.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:16]) }

// SafetyNumber returns the safety number of two members: 20 digits in four
// groups of five, the same whichever side computes it, meant to be read
// aloud over the call. Equal numbers on both sides mean nobody (the server
// included) slipped in a key.
func SafetyNumber(a, b PublicKey) string {
	fa, fb := a.Fingerprint(), b.Fingerprint()
	if string(fb[:]) < string(fa[:]) {
		fa, fb = fb, fa
	}
	h := sha256.New()
	h.Write([]byte("tumble-e2e safety number v1"))
	h.Write(fa[:])
	h.Write(fb[:])
	sum := h.Sum(nil)
	out := make([]byte, 0, 23)
	for g := range 4 {
		// 5 digits from 3 bytes (2^24 > 10^5; the bias is negligible).
		v := (uint32(sum[3*g])<<16 | uint32(sum[3*g+1])<<8 | uint32(sum[3*g+2])) % 100000
		if g > 0 {
			out = append(out, ' ')
		}
		out = fmt.Appendf(out, "%05d", v)
	}
	return string(out)
}

var errBadSignature = errors.New("e2e: bad signature")
