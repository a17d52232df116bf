package app

import (
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/tumble-voip/tumble/tor"
)

// newTestOnion returns a fresh valid v3 onion address.
func newTestOnion(t testing.TB) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := tor.OnionAddress(pub)
	if err != nil {
		t.Fatal(err)
	}
	return addr
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
