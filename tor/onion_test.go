package tor

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

// testOnion returns the onion host name of a fresh key.
func testOnion(t testing.TB) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	host, err := OnionAddress(pub)
	if err != nil {
		t.Fatal(err)
	}
	return host
}

func TestOnionAddressRoundTrip(t *testing.T) {
	for i := 0; i < 50; i++ {
		pub, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		host, err := OnionAddress(pub)
		if err != nil {
			t.Fatal(err)
		}
		if len(host) != 56+len(".onion") || host != strings.ToLower(host) || !strings.HasSuffix(host, ".onion") {
			t.Fatalf("OnionAddress = %q", host)
		}
		if !strings.HasSuffix(strings.TrimSuffix(host, ".onion"), "d") {
			// The last base32 character carries the low bits of the
			// version byte 3 (0b00011 -> 'd').
			t.Fatalf("OnionAddress %q does not end in the version character", host)
		}
		for _, form := range []string{host, strings.ToUpper(host), "www." + host, strings.TrimSuffix(host, ".onion"), "a.b." + host} {
			got, err := ParseOnion(form)
			if err != nil {
				t.Fatalf("ParseOnion(%q): %v", form, err)
			}
			if !bytes.Equal(got.PublicKey(), pub) || got.ServiceID()+".onion" != host {
				t.Fatalf("ParseOnion(%q) returned another key", form)
			}
		}
	}
	if _, err := OnionAddress(make([]byte, 31)); err == nil {
		t.Error("OnionAddress accepted a 31-byte key")
	}
}

// Well-known v3 addresses published by their operators; their checksums
// were computed by Tor, independently of this package.
var knownOnions = []string{
	"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", // torproject.org
	"duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", // DuckDuckGo
}

func TestParseOnionKnownAddresses(t *testing.T) {
	for _, host := range knownOnions {
		a, err := ParseOnion(host)
		if err != nil {
			t.Errorf("ParseOnion(%q): %v", host, err)
			continue
		}
		again, err := OnionAddress(a.PublicKey())
		if err != nil || again != host {
			t.Errorf("OnionAddress(ParseOnion(%q)) = %q, %v", host, again, err)
		}
	}
}

func TestParseOnionErrors(t *testing.T) {
	good := strings.TrimSuffix(testOnion(t), ".onion")
	// An address with a correct checksum for version 4.
	a, _ := ParseOnion(good)
	pub := a.PublicKey()
	raw := append(append([]byte{}, pub...), 0, 0, 4)
	sum := onionChecksum(pub, 4)
	raw[32], raw[33] = sum[0], sum[1]
	v4 := strings.ToLower(onionBase32.EncodeToString(raw))

	cases := []struct {
		host string
		want error
		text string
	}{
		{"expyuzz4wqqyqhjn.onion", ErrV2Onion, "v2 onion addresses are no longer supported"},
		{"EXPYUZZ4WQQYQHJN.ONION", ErrV2Onion, "no longer supported"},
		{typo(good, 53) + ".onion", ErrBadOnion, "checksum mismatch"}, // in the checksum
		{typo(good, 3) + ".onion", ErrBadOnion, "checksum mismatch"},  // in the key
		{good[:55] + ".onion", ErrBadOnion, "55 characters"},
		{good + "a.onion", ErrBadOnion, "57 characters"},
		{good[:50] + "018abc.onion", ErrBadOnion, "not base32"},
		{v4 + ".onion", ErrBadOnion, "version 4"},
		{".onion", ErrBadOnion, "0 characters"},
		{"onion", ErrBadOnion, "5 characters"},
		{".." + good + ".onion", ErrBadOnion, "subdomain"},
		{"a b." + good + ".onion", ErrBadOnion, "subdomain"},
		{typo(good, 3) + ".onion.", ErrBadOnion, "checksum mismatch"},
		{good + ".onion..", ErrBadOnion, "characters"},
		// torproject.org's address with one character mistyped.
		{"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wyd.onion", ErrBadOnion, "checksum mismatch"},
	}
	for _, c := range cases {
		_, err := ParseOnion(c.host)
		var oe *OnionError
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || !strings.HasPrefix(err.Error(), "tor: ") ||
			!errors.As(err, &oe) || oe.Host != c.host {
			t.Errorf("ParseOnion(%q) = %v, want %v containing %q", c.host, err, c.want, c.text)
		}
	}
}

func TestIsOnion(t *testing.T) {
	for host, want := range map[string]bool{
		"x.onion": true, "X.ONION": true, "a.b.onion": true, "x.onion.": true, "X.Onion.": true,
		".onion": false, "onion": false, "example.com": false, "x.onion.example": false, ".onion.": false, "x.onion..": false,
	} {
		if IsOnion(host) != want {
			t.Errorf("IsOnion(%q) = %v", host, !want)
		}
	}
}

// TestParseOnionCanonical checks that every spelling of an address (case,
// the root's trailing dot, no suffix) parses to one canonical form.
func TestParseOnionCanonical(t *testing.T) {
	host := testOnion(t)
	id := strings.TrimSuffix(host, ".onion")
	for _, c := range []struct{ in, want string }{
		{host, host},
		{host + ".", host},
		{strings.ToUpper(host) + ".", host},
		{strings.ToUpper(id), host},
		{"WWW." + strings.ToUpper(host) + ".", "www." + host},
	} {
		a, err := ParseOnion(c.in)
		if err != nil {
			t.Errorf("ParseOnion(%q): %v", c.in, err)
			continue
		}
		if a.String() != c.want || a.ServiceID() != id || a.IsZero() {
			t.Errorf("ParseOnion(%q) = %q (id %q), want %q (id %q)", c.in, a, a.ServiceID(), c.want, id)
		}
	}
	var zero OnionAddr
	if !zero.IsZero() || zero.String() != "" || zero.PublicKey() != nil {
		t.Errorf("zero OnionAddr = %q", zero)
	}
}
