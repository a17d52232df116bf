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

// Fingerprint returns the hex SHA-256 of a certificate's DER encoding, the
// form Config.PinnedFingerprint and Client.Fingerprint use.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// normalizeFingerprint accepts a hex SHA-256 with optional colons or spaces
// in either case and returns it in lower case without separators.
func normalizeFingerprint(s string) (string, error) {
	fp := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(s))
	if b, err := hex.DecodeString(fp); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("mumble: PinnedFingerprint %q is not a hex SHA-256", s)
	}
	return fp, nil
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
	got := Fingerprint(cs.PeerCertificates[0].Raw)
	if pinned := c.cfg.PinnedFingerprint; pinned != "" && got != pinned {
		return &CertificateMismatchError{Pinned: pinned, Got: got}
	}
	c.fingerprint = got
	return nil
}

// checkServer verifies the certificate of a server reached by a DNS name
// when none is pinned, once the handshake is done and before anything is
// sent (see Config.PinnedFingerprint).
func (c *Client) checkServer(ctx context.Context, cs tls.ConnectionState) error {
	if c.cfg.PinnedFingerprint != "" || len(cs.PeerCertificates) == 0 {
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
