package e2e

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// TrustState is what a member's key is known as.
type TrustState uint8

// Trust states of a member's key.
const (
	// Unverified: first seen (trusted on first use), not yet compared.
	Unverified TrustState = iota
	// Verified: the user compared safety numbers and marked it.
	Verified
	// Changed: the member is known with another key. Loud warning: the
	// member reinstalled, or someone (the server) slipped in a key.
	Changed
)

func (s TrustState) String() string {
	switch s {
	case Verified:
		return "verified"
	case Changed:
		return "KEY CHANGED"
	default:
		return "unverified"
	}
}

// A Trust remembers the keys of the members seen on one bookmark (trust on
// first use, like the server certificate pin). It is safe for concurrent
// use; save it with MarshalText.
type Trust struct {
	mu      sync.Mutex
	keys    map[string]trusted // by member name
	version uint64             // counts changes, for Version
}

type trusted struct {
	fp       Fingerprint
	verified bool
}

// NewTrust returns an empty trust store.
func NewTrust() *Trust { return &Trust{keys: map[string]trusted{}} }

// See records that member name presented key fp and returns its state. A
// first sighting is remembered; a different key than remembered is
// Changed and does not replace the remembered one (Accept does).
func (t *Trust) See(name string, fp Fingerprint) TrustState {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.keys[name]
	switch {
	case !ok:
		t.keys[name] = trusted{fp: fp}
		t.version++
		return Unverified
	case k.fp != fp:
		return Changed
	case k.verified:
		return Verified
	default:
		return Unverified
	}
}

// Accept replaces the remembered key of name by fp, unverified (after the
// user acknowledged a change).
func (t *Trust) Accept(name string, fp Fingerprint) {
	t.mu.Lock()
	t.keys[name] = trusted{fp: fp}
	t.version++
	t.mu.Unlock()
}

// Verify marks key fp of name verified; false if it is not the
// remembered key.
func (t *Trust) Verify(name string, fp Fingerprint) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.keys[name]
	if !ok || k.fp != fp {
		return false
	}
	if !k.verified {
		k.verified = true
		t.keys[name] = k
		t.version++
	}
	return true
}

// MarshalText encodes the store: one line per member, "v|u fingerprint
// name", sorted by name.
func (t *Trust) MarshalText() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.keys))
	for n := range t.keys {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, n := range names {
		k := t.keys[n]
		mark := "u"
		if k.verified {
			mark = "v"
		}
		fmt.Fprintf(&b, "%s %s %s\n", mark, hex.EncodeToString(k.fp[:]), n)
	}
	return b.Bytes(), nil
}

// UnmarshalText restores a store saved with MarshalText.
func (t *Trust) UnmarshalText(b []byte) error {
	keys := map[string]trusted{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 || (parts[0] != "u" && parts[0] != "v") {
			return fmt.Errorf("e2e: trust line %d: malformed", i+1)
		}
		raw, err := hex.DecodeString(parts[1])
		if err != nil || len(raw) != len(Fingerprint{}) {
			return fmt.Errorf("e2e: trust line %d: bad fingerprint", i+1)
		}
		var k trusted
		copy(k.fp[:], raw)
		k.verified = parts[0] == "v"
		keys[parts[2]] = k
	}
	t.mu.Lock()
	t.keys = keys
	t.version++
	t.mu.Unlock()
	return nil
}

// Version returns a number that changes whenever the store does: save it
// when it differs from the one last saved.
func (t *Trust) Version() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.version
}
