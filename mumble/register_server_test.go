package mumble_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// registerCert returns a self-signed RSA client certificate, as Mumble clients
// make.
func registerCert(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestRegisterAgainstMurmur: a user with a certificate registers itself;
// the account is known by that certificate at the next connection (under
// the same name), and a user without a certificate is refused with a
// PermissionDeniedError.
func TestRegisterAgainstMurmur(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			srv := murmurtest.Start(t, murmurtest.Options{Version: v})
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cert := registerCert(t, "reggie")
			c := connect(t, srv, "reggie", func(cfg *mumble.Config) { cfg.Certificate = cert })
			if c.Self().Registered {
				t.Fatal("registered before registering")
			}
			if err := c.Register(ctx); err != nil {
				t.Fatalf("Register: %v", err)
			}
			if self := c.Self(); !self.Registered || self.UserID == 0 {
				t.Errorf("after Register: %+v", self)
			}
			if err := c.Register(ctx); err != nil {
				t.Errorf("Register again: %v", err)
			}
			c.Close()

			// The certificate is the account: registered from the start.
			again := connect(t, srv, "reggie", func(cfg *mumble.Config) { cfg.Certificate = cert })
			if !again.Self().Registered {
				t.Error("not registered at the next connection with the same certificate")
			}
			// Another certificate cannot take the registered name.
			_, err := mumble.Dial(ctx, srv.Addr, &mumble.Config{Username: "reggie", DialContext: loopbackDial,
				Certificate: registerCert(t, "mallory"), ConnectTimeout: 20 * time.Second})
			if !errors.Is(err, mumble.ErrWrongUserPW) {
				t.Errorf("another certificate as reggie: %v, want the wrong user password refusal", err)
			}

			anon := connect(t, srv, "anon", nil)
			var pd *mumble.PermissionDeniedError
			if err := anon.Register(ctx); !errors.As(err, &pd) {
				t.Errorf("Register without a certificate: %v, want a PermissionDeniedError", err)
			}
		})
	}
}
