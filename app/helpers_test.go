package app

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
)

// onionFromKey encodes an ed25519 public key as a v3 onion address, the way
// Tor does (rend-spec-v3), independently of ValidateAddress.
func onionFromKey(pub ed25519.PublicKey) string {
	raw := make([]byte, 0, 35)
	raw = append(raw, pub...)
	raw = append(raw, onionChecksum(pub, 3)...)
	raw = append(raw, 3)
	return strings.ToLower(onionBase32.EncodeToString(raw)) + ".onion"
}

// newTestOnion returns a fresh valid v3 onion address.
func newTestOnion(t testing.TB) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return onionFromKey(pub)
}

// testIdentity caches one generated identity: RSA key generation is slow and
// most tests only need some valid identity.
var testIdentity = sync.OnceValues(NewIdentity)

// newTestBookmark returns a valid bookmark reusing the cached identity.
func newTestBookmark(t testing.TB, addr, user string) Bookmark {
	t.Helper()
	id, err := testIdentity()
	if err != nil {
		t.Fatal(err)
	}
	b := Bookmark{Address: addr, Username: user, Identity: id}
	b.Normalize()
	if err := b.generateMissing(); err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(); err != nil {
		t.Fatalf("test bookmark invalid: %v", err)
	}
	return b
}

// hasFieldError reports whether err contains a FieldError for field.
func hasFieldError(err error, field string) bool {
	for _, fe := range FieldErrors(err) {
		if fe.Field == field {
			return true
		}
	}
	return false
}
