package mumble

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Fingerprint is the SHA-256 of a certificate's DER encoding: what a client
// pins (Config.PinnedFingerprint, Client.Fingerprint). Its text form is 64
// lower-case hex digits. The zero value means no fingerprint and prints as
// "". Fingerprint implements encoding.TextMarshaler and
// encoding.TextUnmarshaler.
type Fingerprint [sha256.Size]byte

// FingerprintOf returns the fingerprint of a DER-encoded certificate.
func FingerprintOf(der []byte) Fingerprint { return sha256.Sum256(der) }

// ParseFingerprint parses a hex SHA-256 in either case, with optional ':'
// or space separators (as other tools print it) and space around it.
func ParseFingerprint(s string) (Fingerprint, error) {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
	if len(h) != 2*sha256.Size {
		return Fingerprint{}, fmt.Errorf("mumble: fingerprint: a SHA-256 fingerprint has %d hex digits, this has %d", 2*sha256.Size, len(h))
	}
	var f Fingerprint
	if _, err := hex.Decode(f[:], []byte(h)); err != nil {
		return Fingerprint{}, errors.New("mumble: fingerprint: a SHA-256 fingerprint is hex digits (0-9, a-f)")
	}
	return f, nil
}

// IsZero reports whether f is the zero value (no fingerprint).
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// String returns 64 lower-case hex digits, or "" for the zero value.
func (f Fingerprint) String() string {
	if f.IsZero() {
		return ""
	}
	return hex.EncodeToString(f[:])
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (f Fingerprint) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: ParseFingerprint, and
// empty text for the zero value.
func (f *Fingerprint) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*f = Fingerprint{}
		return nil
	}
	v, err := ParseFingerprint(string(text))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// TLSVersion returns the negotiated TLS version (tls.VersionTLS13 or
// tls.VersionTLS12).
func (c *Client) TLSVersion() uint16 { return c.tlsVersion }

// CertificateExposed reports whether the client certificate crossed the
// network unencrypted: TLS 1.2 sends it before encryption starts, so anyone
// on the path (a Tor exit relay, for a server reached by host name) can read
// the user's identity on the server. With TLS 1.3 it is encrypted. It is
// false when no certificate was presented.
func (c *Client) CertificateExposed() bool {
	return c.certSent && c.tlsVersion < tls.VersionTLS13
}

// tlsConfig returns the client TLS configuration: TLS 1.2 or later, no CA
// verification, the server certificate checked against the pinned
// fingerprint, the optional client certificate, no session resumption.
func (c *Client) tlsConfig() *tls.Config {
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		host = c.addr
	}
	cert := c.cfg.Certificate
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: host,
		// Mumble servers use self-signed certificates: instead of the CA
		// check, VerifyConnection pins the certificate.
		InsecureSkipVerify: true,
		VerifyConnection:   c.verifyConnection,
		// TLS 1.3 is offered and preferred (Go's default maximum); 1.2
		// remains for old servers, with CertificateExposed telling.
		MaxVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return new(tls.Certificate), nil // send none
			}
			c.certSent = true
			return cert, nil
		},
	}
}

func (c *Client) verifyConnection(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server sent no certificate")
	}
	got := FingerprintOf(cs.PeerCertificates[0].Raw)
	if pinned := c.cfg.PinnedFingerprint; !pinned.IsZero() && got != pinned {
		return &CertificateMismatchError{Pinned: pinned, Got: got}
	}
	c.fingerprint = got
	return nil
}

// checkServer verifies the certificate of a server reached by a DNS name
// when none is pinned, once the handshake is done and before anything is
// sent (see Config.PinnedFingerprint).
func (c *Client) checkServer(ctx context.Context, cs tls.ConnectionState) error {
	if !c.cfg.PinnedFingerprint.IsZero() || len(cs.PeerCertificates) == 0 {
		return nil // the pin was checked in the handshake
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		host = c.addr
	}
	if !isDNSName(host) {
		return nil
	}
	inter := x509.NewCertPool()
	for _, ic := range cs.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, verr := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		DNSName:       strings.TrimSuffix(host, "."),
		Roots:         c.cfg.RootCAs,
		Intermediates: inter,
	})
	if verr == nil {
		return nil
	}
	e := &UnverifiedCertificateError{Host: host, Fingerprint: c.fingerprint, Err: verr}
	if c.cfg.VerifyServer == nil {
		return e
	}
	if err := c.cfg.VerifyServer(ctx, e); err != nil {
		return fmt.Errorf("server certificate for %s refused: %w", host, err)
	}
	return nil
}

// isDNSName reports whether host is a DNS name other than an onion
// address: not an IP address, not .onion.
func isDNSName(host string) bool {
	if net.ParseIP(host) != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h != "" && h != "onion" && !strings.HasSuffix(h, ".onion")
}
