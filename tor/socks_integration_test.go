package tor

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSOCKSModeTorNet uses the private network's standalone client tor
// through ModeSOCKS: connect to an onion service, get Tor's extended
// errors, and get ErrNoControl for client authorization.
func TestSOCKSModeTorNet(t *testing.T) {
	n := privateNet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rec := &dialRecorder{}
	s := &Server{Mode: ModeSOCKS, SOCKSAddr: n.SOCKSAddr(), rootDir: t.TempDir(), netDialer: rec.dialer(), Logf: t.Logf}
	defer s.Close()
	if _, err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}

	svc, err := n.AddOnionService(ctx, echoServer(t), 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := s.Isolated(NewIsolation()).DialContext(ctx, "tcp", svc.Addr())
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// Seen once in a loaded CI run: the network's client tor gave no
		// answer in 120 s (DefaultConnectTimeout) for a service its own
		// tor had just reached. Once more, on new circuits; the network's
		// logs are in the test's log if that fails too.
		t.Logf("FIGURE socks mode: first onion connect gave up after %.1f s (%v); trying again", time.Since(start).Seconds(), err)
		start = time.Now()
		c, err = s.Isolated(NewIsolation()).DialContext(ctx, "tcp", svc.Addr())
	}
	if err != nil {
		t.Fatalf("dial %s: %v", svc.Addr(), err)
	}
	t.Logf("FIGURE socks mode: first onion connect %.3f s", time.Since(start).Seconds())
	echoRoundTrip(t, c)
	c.Close()

	// An onion service that does not exist: Tor's own answer, typed.
	start = time.Now()
	_, err = s.Dial(ctx, "tcp", testOnion(t)+":64738")
	if !errors.Is(err, ErrOnionNotFound) {
		t.Errorf("dial of an unknown onion: %v after %v, want ErrOnionNotFound", err, time.Since(start))
	}

	// A service that needs client authorization.
	auth, err := n.AddOnionService(ctx, echoServer(t), 64738, true)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = s.Dial(ctx, "tcp", auth.Addr())
	if !errors.Is(err, ErrClientAuthRequired) {
		t.Errorf("dial without key: %v after %v, want ErrClientAuthRequired", err, time.Since(start))
	}
	k, err := ParseClientAuthKey(auth.ClientAuthKey)
	if err != nil {
		t.Fatalf("harness key %q: %v", auth.ClientAuthKey, err)
	}
	if err := s.AddClientAuth(ctx, k); !errors.Is(err, ErrNoControl) {
		t.Errorf("AddClientAuth in socks mode: %v, want ErrNoControl", err)
	}

	for _, a := range rec.Addrs() {
		if a != "tcp4 "+n.SOCKSAddr() {
			t.Errorf("socket to %s, only the SOCKS port %s is allowed", a, n.SOCKSAddr())
		}
	}
}
