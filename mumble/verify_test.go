package mumble

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestUnverifiedCertificateStopsBeforeAuthenticate: a server reached by a
// DNS name with a certificate that neither verifies nor is pinned stops
// the connection after the TLS handshake with the fingerprint in the error,
// and the server receives nothing: no user name, no password. VerifyServer
// decides instead when set; a pin, a verifying chain, an onion or an IP
// address need no decision.
func TestUnverifiedCertificateStopsBeforeAuthenticate(t *testing.T) {
	// dial connects to a fake peer that logs in if the client sends
	// anything, and reports whether it did.
	dial := func(addr string, cfg *Config) (*Client, *fakePeer, error) {
		s := newFakeServer(t)
		cfg.Username, cfg.Password, cfg.DialContext, cfg.ConnectTimeout = "me", "hunter2", s.Dial, 20*time.Second
		pc := make(chan *fakePeer, 1)
		got := make(chan bool, 1)
		go func() {
			p := s.peer()
			pc <- p
			if err := p.conn.HandshakeContext(context.Background()); err != nil {
				got <- false
				return
			}
			_, sent := p.next()
			if sent {
				p.loginAfterVersion(defaultSync(Version{1, 5, 0}))
			}
			got <- sent
		}()
		c, err := Dial(context.Background(), addr, cfg)
		p := <-pc
		if err != nil {
			p.close()
		}
		if sent := <-got; err != nil && sent {
			t.Errorf("%s: the server received a frame although Dial failed: %v", addr, err)
		}
		if c != nil {
			t.Cleanup(func() { c.Close(); p.close() })
		}
		return c, p, err
	}

	_, _, err := dial("mumble.example:64738", &Config{})
	var ue *UnverifiedCertificateError
	if !errors.As(err, &ue) || ue.Host != "mumble.example" || ue.Fingerprint.IsZero() || !strings.Contains(err.Error(), ue.Fingerprint.String()) {
		t.Errorf("DNS name, no pin: %v, want an UnverifiedCertificateError naming the fingerprint", err)
	}

	var asked Fingerprint
	_, _, err = dial("fake.example:64738", &Config{VerifyServer: func(_ context.Context, e *UnverifiedCertificateError) error {
		asked = e.Fingerprint
		return errors.New("user cancelled")
	}})
	if err == nil || !strings.Contains(err.Error(), "user cancelled") || asked.IsZero() {
		t.Errorf("refused by VerifyServer: %v (asked about %q)", err, asked)
	}

	for _, tt := range []struct {
		name, addr string
		cfg        *Config
	}{
		{"trusted once", "fake.example:64738", &Config{VerifyServer: func(context.Context, *UnverifiedCertificateError) error { return nil }}},
		{"onion", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz234.onion:64738", &Config{}},
		{"IP", "192.0.2.7:64738", &Config{}},
	} {
		c, _, err := dial(tt.addr, tt.cfg)
		if err != nil || c == nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// A pin needs no decision; a chain valid for the name neither.
	s := newFakeServer(t)
	c, _ := dialFake(t, s, &Config{Username: "me", PinnedFingerprint: s.fp, RootCAs: emptyPool()}, defaultSync(Version{1, 5, 0}), nil)
	if c.Fingerprint() != s.fp {
		t.Errorf("pinned: fingerprint %s", c.Fingerprint())
	}
	dialFake(t, newFakeServer(t), nil, defaultSync(Version{1, 5, 0}), nil) // RootCAs trusting the fake's certificate
}

func emptyPool() *x509.CertPool { return x509.NewCertPool() }
