//go:build libtor

package tor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cretz/bine/control"
)

// clientControl opens the private network's client tor's control port.
func clientControl(t *testing.T) *control.Conn {
	t.Helper()
	tc, err := textproto.Dial("tcp", sharedNet.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := control.NewConn(tc)
	if err := c.Authenticate(sharedNet.ControlPassword()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEmbeddedHostClientAuthRevoke(t *testing.T) {
	s := up(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	onion, _ := OnionAddress(key.Public().(ed25519.PublicKey))
	dir := filepath.Join(t.TempDir(), "onion")
	ka, _ := GenerateClientAuthKey(onion)
	kb, _ := GenerateClientAuthKey(onion)

	start := time.Now()
	h, err := s.Host(ctx, dir, key, 64738, echoServer(t), map[string]ClientAuthKey{"alice": ka, "bob": kb})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	t.Logf("FIGURE Host: published in %.3f s", time.Since(start).Seconds())
	if h.Onion() != onion {
		t.Fatalf("onion %s, want %s", h.Onion(), onion)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "hostname")); err != nil || string(got) != onion+"\n" {
		t.Fatalf("Tor's hostname file: %q, %v (want %s)", got, err, onion)
	}
	addr := onion + ":64738"

	// Bob is the embedded Tor itself; his connection must outlive Alice's
	// revocation.
	if err := s.AddClientAuth(ctx, kb); err != nil {
		t.Fatal(err)
	}
	bob, err := s.Isolated(NewIsolation()).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("bob: %v", err)
	}
	defer bob.Close()
	echoRoundTrip(t, bob)

	// A client without a key.
	client := &Server{Mode: ModeSOCKS, SOCKSAddr: sharedNet.SOCKSAddr(), rootDir: t.TempDir()}
	defer client.Close()
	if _, err := client.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Isolated(NewIsolation()).DialContext(ctx, "tcp", addr); !errors.Is(err, ErrClientAuthRequired) {
		t.Fatalf("dial without a key: %v, want ErrClientAuthRequired", err)
	}
	// Alice on the client tor.
	cc := clientControl(t)
	addAuth := func(k ClientAuthKey) {
		blob := base64.StdEncoding.EncodeToString(k.key.Bytes())
		if _, err := cc.SendRequest("ONION_CLIENT_AUTH_ADD %s x25519:%s", k.Onion, blob); err != nil {
			var e *textproto.Error
			if !errors.As(err, &e) || e.Code/100 != 2 {
				t.Fatalf("ONION_CLIENT_AUTH_ADD: %v", err)
			}
		}
	}
	addAuth(ka)
	alice, err := client.Isolated(NewIsolation()).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	echoRoundTrip(t, alice)
	alice.Close()

	// Revoke Alice.
	start = time.Now()
	if err := h.SetClients(ctx, map[string]ClientAuthKey{"bob": kb}); err != nil {
		t.Fatal(err)
	}
	t.Logf("FIGURE Host: revoked in %.3f s", time.Since(start).Seconds())
	if names, err := h.Clients(); err != nil || len(names) != 1 || names[0] != "bob" {
		t.Fatalf("clients %v, %v", names, err)
	}
	echoRoundTrip(t, bob) // still connected

	// Alice's tor forgets the descriptor it decrypted (as a fresh start
	// would) and fetches the new one, which her key cannot open.
	if _, err := cc.SendRequest("SIGNAL NEWNYM"); err != nil {
		t.Fatal(err)
	}
	_, err = client.Isolated(NewIsolation()).DialContext(ctx, "tcp", addr)
	if !errors.Is(err, ErrClientAuthBad) && !errors.Is(err, ErrClientAuthRequired) {
		t.Fatalf("alice after revocation: %v, want a client authorization error", err)
	}
	t.Logf("alice after revocation: %v", err)
	echoRoundTrip(t, bob)

	// Closing removes the service; the address can be hosted again.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2, err := s.Host(ctx, dir, key, 64738, echoServer(t), nil)
	if err != nil {
		t.Fatalf("host again: %v", err)
	}
	defer h2.Close()
	// The client's Tor still holds the descriptor that needs a key: have
	// it forget it (Tor may delay a NEWNYM that follows another closely),
	// and dial until the new descriptor is used, within ctx.
	if _, err := cc.SendRequest("SIGNAL NEWNYM"); err != nil {
		t.Fatal(err)
	}
	var c net.Conn
	for {
		c, err = client.Isolated(NewIsolation()).DialContext(ctx, "tcp", addr)
		if err == nil || !(errors.Is(err, ErrClientAuthRequired) || errors.Is(err, ErrClientAuthBad)) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second): // the delayed NEWNYM takes effect
		}
	}
	if err != nil {
		t.Fatalf("dial after re-host without client authorization: %v", err)
	}
	echoRoundTrip(t, c)
	c.Close()
}
