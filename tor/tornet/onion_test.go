package tornet

import (
	"crypto/ecdh"
	"errors"
	"net"
	"testing"
)

func TestAddOnionServiceBadArguments(t *testing.T) {
	var n Network // no tor needed: arguments are checked first
	for _, tc := range []struct {
		target string
		port   int
	}{
		{"192.0.2.1:80", 80},  // not loopback
		{"localhost:80", 80},  // not an IP literal
		{"127.0.0.1", 80},     // no port
		{"127.0.0.1:0", 80},   // port 0
		{"127.0.0.1:x", 80},   // port not a number
		{"127.0.0.1:80", 0},   // virtual port 0
		{"127.0.0.1:80", 1e5}, // virtual port too big
	} {
		if _, err := n.AddOnionService(t.Context(), tc.target, tc.port, false); err == nil {
			t.Errorf("AddOnionService(%q, %d) succeeded", tc.target, tc.port)
		}
	}
	if _, err := n.AddOnionService(t.Context(), "127.0.0.1:80", 80, false); err == nil {
		t.Error("AddOnionService on a network that was never started succeeded")
	}
	n.closed = true
	if _, err := n.AddOnionService(t.Context(), "127.0.0.1:80", 80, false); !errors.Is(err, net.ErrClosed) {
		t.Errorf("AddOnionService on a closed network: %v, want net.ErrClosed", err)
	}
}

// TestClientAuthKey checks that client-authorization keys are clamped X25519
// scalars whose base32 form has the length Tor's parser requires.
func TestClientAuthKey(t *testing.T) {
	k, err := newClientAuthKey()
	if err != nil {
		t.Fatal(err)
	}
	b := k.Bytes()
	if b[0]&7 != 0 || b[31]&128 != 0 || b[31]&64 == 0 {
		t.Errorf("key %x is not clamped", b)
	}
	if s := base32NoPad.EncodeToString(b); len(s) != 52 {
		t.Errorf("base32 private key %q has %d characters, want 52", s, len(s))
	}
	again, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil || !again.PublicKey().Equal(k.PublicKey()) {
		t.Errorf("key does not round-trip: %v", err)
	}
}
