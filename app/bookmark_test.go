package app

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor"
)

// Well-known v3 onion services, checked against an implementation of the
// checksum written from the spec.
var knownOnions = []string{
	"duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
	"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion",
}

func TestValidateAddress(t *testing.T) {
	onion := newTestOnion(t)
	label := strings.TrimSuffix(onion, ".onion")
	// Flip one character of the label to something else in the alphabet.
	flipped := []byte(label)
	if flipped[10] == 'a' {
		flipped[10] = 'b'
	} else {
		flipped[10] = 'a'
	}
	tests := []struct {
		addr    string
		kind    AddressKind
		wantErr string
	}{
		{onion, AddressOnion, ""},
		{knownOnions[0], AddressOnion, ""},
		{knownOnions[1], AddressOnion, ""},
		{"www." + onion, AddressOnion, ""},
		{"example.com", AddressHostName, ""},
		{"mumble.example.co.uk", AddressHostName, ""},
		{"localhost", AddressHostName, ""},
		{"xn--bcher-kva.example", AddressHostName, ""},
		{"192.0.2.1", AddressIP, ""},
		{"2001:db8::1", AddressIP, ""},
		{"::1", AddressIP, ""},
		{"", 0, "empty"},
		{string(flipped) + ".onion", 0, "checksum"},
		{"expyuzz4wqqyqhjn.onion", 0, "v2 onion"},
		{strings.Repeat("a", 55) + ".onion", 0, "55 characters"},
		{strings.Repeat("a", 55) + "1.onion", 0, "base32"},
		{".onion", 0, "empty label"},
		{"onion", 0, "just"},
		{"example.com:64738", 0, "port"},
		{"[2001:db8::1]", 0, "brackets"},
		{"fe80::1%eth0", 0, "zone"},
		{"exa mple.com", 0, "character"},
		{"-bad.example", 0, "hyphen"},
		{"a..b", 0, "empty label"},
		{"bücher.example", 0, "punycode"},
		{"1.2.3", 0, "all digits"},
		{"256.1.1.1", 0, "all digits"},
		{"mumble://example.com", 0, "link"},
		{"user@example.com", 0, "link"},
		{strings.Repeat("a", 64) + ".com", 0, "63"},
		{strings.Repeat("a.", 130) + "com", 0, "253"},
		{" example.com", 0, "spaces"},
	}
	for _, tt := range tests {
		kind, err := ValidateAddress(tt.addr)
		if tt.wantErr == "" {
			if err != nil || kind != tt.kind {
				t.Errorf("ValidateAddress(%q) = %v, %v; want %v, nil", tt.addr, kind, err, tt.kind)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ValidateAddress(%q) err = %v; want one mentioning %q", tt.addr, err, tt.wantErr)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	for in, want := range map[string]string{
		"  Example.COM. ": "example.com",
		"[2001:DB8::1]":   "2001:db8::1",
		"ABC.onion":       "abc.onion",
	} {
		if got := NormalizeAddress(in); got != want {
			t.Errorf("NormalizeAddress(%q) = %q, want %q", in, got, want)
		}
	}
	for addr, want := range map[string]bool{"X.ONION": true, "x.onion.": true, "example.com": false} {
		if got := (Bookmark{Address: addr}).IsOnion(); got != want {
			t.Errorf("Bookmark{Address: %q}.IsOnion() = %v", addr, got)
		}
	}
}

func TestNewBookmark(t *testing.T) {
	onion := newTestOnion(t)
	b, err := NewBookmark("  "+strings.ToUpper(onion)+" ", 0, " alice ")
	if err != nil {
		t.Fatal(err)
	}
	if b.Address != onion || b.Port != DefaultPort || b.Username != "alice" {
		t.Errorf("normalized bookmark = %q %d %q", b.Address, b.Port, b.Username)
	}
	if len(b.ID) != 32 || !isLowerHex(b.ID) {
		t.Errorf("ID = %q", b.ID)
	}
	if b.Isolation.IsZero() || b.Isolation.Username() == b.Isolation.Password() {
		t.Errorf("isolation = %+v", b.Isolation)
	}
	if b.Name() != onion || b.HostPort() != onion+":64738" || !b.IsOnion() {
		t.Errorf("Name/HostPort/IsOnion = %q %q %v", b.Name(), b.HostPort(), b.IsOnion())
	}
	v6, err := NewBookmark("2001:db8::1", 1234, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if v6.HostPort() != "[2001:db8::1]:1234" {
		t.Errorf("HostPort = %q", v6.HostPort())
	}
	if _, err := NewBookmark("not an address", 0, "x"); err == nil {
		t.Error("NewBookmark accepted an invalid address")
	}
	// A trailing dot changes nothing: a good onion is normalized, a
	// mistyped one refused, never taken as a host name.
	dot, err := NewBookmark(strings.ToUpper(onion)+".", 0, "alice")
	if err != nil || dot.Address != onion || !dot.IsOnion() {
		t.Errorf("NewBookmark(%q.) = %q, %v", strings.ToUpper(onion), dot.Address, err)
	}
	typo := []byte(onion)
	typo[5] ^= 'a' ^ 'b'
	if typo[5] < 'a' || typo[5] > 'z' {
		typo[5] = 'q'
	}
	if _, err := NewBookmark(strings.ToUpper(string(typo))+".", 0, "alice"); !hasFieldError(err, "address") || !strings.Contains(err.Error(), "onion") {
		t.Errorf("NewBookmark with a mistyped onion and a trailing dot: %v", err)
	}
}

func TestBookmarksDoNotShareSecrets(t *testing.T) {
	onion := newTestOnion(t)
	a, err := NewBookmark(onion, 0, "alice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBookmark(onion, 0, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Error("two bookmarks got the same ID")
	}
	if a.Isolation == b.Isolation || a.Isolation.Username() == b.Isolation.Username() {
		t.Error("two bookmarks share SOCKS isolation credentials")
	}
	ha, err := a.Identity.Hash()
	if err != nil {
		t.Fatal(err)
	}
	hb, err := b.Identity.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if ha == hb {
		t.Error("two bookmarks share a certificate hash")
	}
	old := a.Isolation
	if err := a.NewCircuit(); err != nil {
		t.Fatal(err)
	}
	if a.Isolation.Username() == old.Username() || a.Isolation.Password() == old.Password() {
		t.Error("NewCircuit did not replace both credentials")
	}
	oldHash := ha
	if err := a.NewIdentity(); err != nil {
		t.Fatal(err)
	}
	if h, _ := a.Identity.Hash(); h == oldHash {
		t.Error("NewIdentity kept the certificate")
	}
}

func TestBookmarkValidate(t *testing.T) {
	onion := newTestOnion(t)
	good := newTestBookmark(t, onion, "alice")
	tests := []struct {
		name  string
		mod   func(*Bookmark)
		field string
	}{
		{"bad id", func(b *Bookmark) { b.ID = "xyz" }, "id"},
		{"upper id", func(b *Bookmark) { b.ID = strings.ToUpper(b.ID) }, "id"},
		{"label control", func(b *Bookmark) { b.Label = "a\x07b" }, "label"},
		{"label long", func(b *Bookmark) { b.Label = strings.Repeat("x", maxLabelLen+1) }, "label"},
		{"address", func(b *Bookmark) { b.Address = "bad address" }, "address"},
		{"address case", func(b *Bookmark) { b.Address = "Example.com" }, "address"},
		{"port 0", func(b *Bookmark) { b.Port = 0 }, "port"},
		{"port high", func(b *Bookmark) { b.Port = 65536 }, "port"},
		{"no user", func(b *Bookmark) { b.Username = "" }, "username"},
		{"user spaces", func(b *Bookmark) { b.Username = " alice" }, "username"},
		{"user newline", func(b *Bookmark) { b.Username = "al\nice" }, "username"},
		{"user utf8", func(b *Bookmark) { b.Username = "\xff" }, "username"},
		{"password NUL", func(b *Bookmark) { b.Password = "a\x00" }, "password"},
		{"client auth on host", func(b *Bookmark) {
			b.ClientAuthKey = testClientAuthKey(t, b.Address)
			b.Address = "example.com"
		}, "client_auth_key"},
		{"client auth other onion", func(b *Bookmark) { b.ClientAuthKey = testClientAuthKey(t, newTestOnion(t)) }, "client_auth_key"},
		{"no isolation", func(b *Bookmark) { b.Isolation = tor.Isolation{} }, "isolation"},
		{"no identity", func(b *Bookmark) { b.Identity = Identity{} }, "identity"},
		{"broken identity", func(b *Bookmark) { b.Identity.PrivateKeyPEM = "garbage" }, "identity"},
		{"channel empty level", func(b *Bookmark) { b.Channel = []string{"a", ""} }, "channel"},
		{"channel control", func(b *Bookmark) { b.Channel = []string{"a\x1b[31m"} }, "channel"},
		{"channel deep", func(b *Bookmark) { b.Channel = make([]string, maxChannelPath+1) }, "channel"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good bookmark: %v", err)
	}
	for _, tt := range tests {
		b := good.Clone()
		tt.mod(&b)
		err := b.Validate()
		if !hasFieldError(err, tt.field) {
			t.Errorf("%s: Validate() = %v; want a FieldError for %q", tt.name, err, tt.field)
		}
	}
	// Several problems are all reported.
	b := good.Clone()
	b.Port, b.Username, b.Address = -1, "", "x y"
	if n := len(FieldErrors(b.Validate())); n != 3 {
		t.Errorf("3 bad fields gave %d FieldErrors: %v", n, b.Validate())
	}
}

func testAuthKey(t testing.TB) string {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(k.Bytes())
}

// testClientAuthKey returns a fresh client authorization key for onion.
func testClientAuthKey(t testing.TB, onion string) tor.ClientAuthKey {
	t.Helper()
	k, err := tor.NewClientAuthKey(onion, testAuthKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseClientAuthKey(t *testing.T) {
	onion := newTestOnion(t)
	label := strings.TrimSuffix(onion, ".onion")
	other := strings.TrimSuffix(newTestOnion(t), ".onion")
	key := testAuthKey(t)
	want := label + ":descriptor:x25519:" + key
	good := []string{
		key,
		strings.ToLower(key),
		key + "====",
		label + ":descriptor:x25519:" + key,
		strings.ToUpper(label) + ":DESCRIPTOR:X25519:" + strings.ToLower(key),
		"  " + label + ":descriptor:x25519:" + key + "\n",
	}
	for _, s := range good {
		got, err := ParseClientAuthKey(s, onion)
		if err != nil {
			t.Errorf("ParseClientAuthKey(%q): %v", s, err)
			continue
		}
		if got.String() != want {
			t.Errorf("ParseClientAuthKey(%q) = %q, want %q", s, got, want)
		}
	}
	bad := map[string]string{
		"":                                      "empty",
		key[:51]:                                "51 characters",
		key + "A":                               "53 characters",
		strings.Repeat("1", 52):                 "base32",
		label + ":descriptor:x25519":            "parts",
		label + ":descriptor:ed25519:" + key:    "key type",
		label + ":intro:x25519:" + key:          "descriptor",
		other + ":descriptor:x25519:" + key:     "different onion",
		"abc:descriptor:x25519:" + key:          "onion address",
		label + ":descriptor:x25519:" + key[:5]: "characters",
	}
	for s, wantErr := range bad {
		if _, err := ParseClientAuthKey(s, onion); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseClientAuthKey(%q) err = %v; want one mentioning %q", s, err, wantErr)
		}
	}
	if _, err := ParseClientAuthKey(key, ""); err == nil {
		t.Error("a bare key without an onion address was accepted")
	}

	// SetClientAuthKey: the form's path, with field errors.
	b := newTestBookmark(t, onion, "alice")
	if !b.ClientAuthKey.IsZero() {
		t.Errorf("new bookmark has a key: %v", b.ClientAuthKey)
	}
	if err := b.SetClientAuthKey(" " + key + " "); err != nil || b.ClientAuthKey.String() != want {
		t.Fatalf("SetClientAuthKey = %v, key %q", err, b.ClientAuthKey)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := b.SetClientAuthKey("nonsense"); !hasFieldError(err, "client_auth_key") || b.ClientAuthKey.String() != want {
		t.Errorf("SetClientAuthKey(nonsense) = %v, key now %q", err, b.ClientAuthKey)
	}
	host := newTestBookmark(t, "example.com", "alice")
	if err := host.SetClientAuthKey(key); !hasFieldError(err, "client_auth_key") {
		t.Errorf("SetClientAuthKey on a host name = %v", err)
	}
	if err := b.SetClientAuthKey("  "); err != nil || !b.ClientAuthKey.IsZero() {
		t.Errorf("SetClientAuthKey(blank) = %v, key %q", err, b.ClientAuthKey)
	}
}

func TestIdentityCertificate(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	c, err := id.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.Leaf
	if leaf.Subject.String() != "CN=Mumble User" || leaf.Issuer.String() != "CN=Mumble User" {
		t.Errorf("subject %q issuer %q; want the neutral CN=Mumble User", leaf.Subject, leaf.Issuer)
	}
	if len(leaf.Subject.Names) != 1 || len(leaf.EmailAddresses) != 0 || len(leaf.DNSNames) != 0 || len(leaf.IPAddresses) != 0 || len(leaf.URIs) != 0 {
		t.Errorf("certificate carries identifying names: %+v", leaf.Subject.Names)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 2048 {
		t.Errorf("public key %T, want RSA 2048", leaf.PublicKey)
	}
	if leaf.SerialNumber.Int64() != 1 || leaf.IsCA || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("serial %v, CA %v, EKU %v", leaf.SerialNumber, leaf.IsCA, leaf.ExtKeyUsage)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d != identityValidity {
		t.Errorf("validity %v, want %v", d, identityValidity)
	}
	now := time.Now()
	if leaf.NotBefore.After(now) || now.Sub(leaf.NotBefore) > identityBackdateMax+time.Minute {
		t.Errorf("NotBefore %v not within the backdating window", leaf.NotBefore)
	}
	// The certificate verifies itself.
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	h, err := id.Hash()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(leaf.Raw)
	if h != hex.EncodeToString(sum[:]) || len(h) != 40 {
		t.Errorf("Hash = %q, want SHA-1 of the DER", h)
	}
	if _, err := (Identity{CertificatePEM: id.CertificatePEM}).TLSCertificate(); err == nil {
		t.Error("identity without key accepted")
	}
	other, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	mixed := Identity{CertificatePEM: id.CertificatePEM, PrivateKeyPEM: other.PrivateKeyPEM}
	if _, err := mixed.TLSCertificate(); err == nil {
		t.Error("certificate with someone else's key accepted")
	}
}

// TestIdentityTLSHandshake presents the identity in a real TLS 1.2 and 1.3
// handshake (over net.Pipe, no network) and checks the server sees the
// certificate whose SHA-1 is Identity.Hash: what a Mumble server records.
func TestIdentityTLSHandshake(t *testing.T) {
	id, err := testIdentity()
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := id.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	serverID, err := NewIdentity() // any self-signed certificate will do
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := serverID.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := id.Hash()
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c1, c2 := net.Pipe()
		server := tls.Server(c1, &tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAnyClientCert,
			MaxVersion:   version,
		})
		client := tls.Client(c2, &tls.Config{
			Certificates:       []tls.Certificate{clientCert},
			InsecureSkipVerify: true, // the test server's certificate is throwaway
			MaxVersion:         version,
		})
		errc := make(chan error, 1)
		go func() { errc <- client.Handshake() }()
		if err := server.Handshake(); err != nil {
			t.Fatalf("TLS %x: server handshake: %v", version, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("TLS %x: client handshake: %v", version, err)
		}
		peer := server.ConnectionState().PeerCertificates
		if len(peer) != 1 || CertificateHash(peer[0].Raw) != want {
			t.Errorf("TLS %x: server saw %d certificates, hash mismatch", version, len(peer))
		}
		if server.ConnectionState().Version != version {
			t.Errorf("negotiated %x, want %x", server.ConnectionState().Version, version)
		}
		// Close the pipe ends, not the TLS conns: a close_notify on a
		// synchronous pipe nobody reads would wait for its 5 s deadline.
		c1.Close()
		c2.Close()
	}
}

func TestCertificateHash(t *testing.T) {
	if h := CertificateHash([]byte("not really a certificate")); len(h) != 40 || !isLowerHex(h) {
		t.Errorf("CertificateHash = %q, want SHA-1 hex", h)
	}
}

func TestFieldErrors(t *testing.T) {
	var errs fieldErrs
	errs.addf("a", "one")
	errs.add("b", errors.New("two"))
	errs.add("c", nil)
	err := errs.join()
	wrapped := errors.Join(errors.New("context"), err)
	fes := FieldErrors(wrapped)
	if len(fes) != 2 || fes[0].Field != "a" || fes[1].Field != "b" {
		t.Fatalf("FieldErrors = %v", fes)
	}
	if fes[0].Error() != "a: one" {
		t.Errorf("Error() = %q", fes[0].Error())
	}
	if FieldErrors(nil) != nil {
		t.Error("FieldErrors(nil) not nil")
	}
}
