package tor

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// Decoders of bytes that come from outside the program: Tor's control
// connection (bootstrap status), its SOCKS port (replies), and user or
// bookmark input (onion addresses, client authorization keys). Seed corpora
// are in testdata/fuzz.

func FuzzParseBootstrap(f *testing.F) {
	f.Add(`NOTICE BOOTSTRAP PROGRESS=45 TAG=requesting_descriptors SUMMARY="Asking for relay descriptors"`)
	f.Fuzz(func(t *testing.T, line string) {
		ph, err := parseBootstrap(line)
		if err != nil {
			return
		}
		if ph.Progress < 0 || ph.Progress > 100 {
			t.Fatalf("progress %d accepted", ph.Progress)
		}
	})
}

// socksPeer plays back a server's bytes and swallows the client's.
type socksPeer struct {
	io.Reader
	sent bytes.Buffer
}

func (p *socksPeer) Write(b []byte) (int, error) { return p.sent.Write(b) }

func FuzzSOCKSConnect(f *testing.F) {
	f.Add([]byte("\x05\x02\x01\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"), "example.com", true)
	f.Add([]byte("\x05\x02\x01\x00\x05\xf4\x00\x01\x00\x00\x00\x00\x00\x00"), "x.onion", true)
	f.Add([]byte("\x05\x00\x05\x00\x00\x03\x03abc\x00\x50"), "127.0.0.1", false)
	f.Fuzz(func(t *testing.T, server []byte, host string, auth bool) {
		user, pass := "", ""
		if auth {
			user, pass = "u", "p"
		}
		peer := &socksPeer{Reader: bytes.NewReader(server)}
		err := socksConnect(peer, host, 443, user, pass)
		if err == nil && !auth && server[1] != 0 {
			t.Fatal("success without the no-auth method")
		}
		// Whatever the server says, a name is never sent as anything but
		// a name: the request holds it verbatim.
		if err == nil && len(host) > 0 && !strings.Contains(peer.sent.String(), host) && !isIPLiteral(host) {
			t.Fatalf("request does not carry the host name %q", host)
		}
	})
}

func FuzzParseOnion(f *testing.F) {
	f.Add("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion")
	f.Add("expyuzz4wqqyqhjn.onion")
	f.Fuzz(func(t *testing.T, host string) {
		a, err := ParseOnion(host)
		if err != nil {
			return
		}
		again, err := OnionAddress(a.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseOnion(a.String())
		if err != nil || b != a {
			t.Fatalf("ParseOnion(%q) = %q, which parses to %q, %v", host, a, b, err)
		}
		if again != a.ServiceID()+".onion" {
			t.Fatalf("ParseOnion(%q) round trips to %q", host, again)
		}
	})
}

func FuzzParseClientAuthKey(f *testing.F) {
	f.Add("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad:descriptor:x25519:UAW6U4S45VURCYTDH3YQBUIE3KEV2ELFVH65RPMVMS75CDPCNQ5Q")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseClientAuthKey(s)
		if err != nil {
			return
		}
		back, err := ParseClientAuthKey(k.String())
		if err != nil || back.String() != k.String() {
			t.Fatalf("round trip of %q: %q, %v", s, back, err)
		}
	})
}

// FuzzParseBridgeLine: bridge lines are pasted by users, read from files
// and QR codes.
func FuzzParseBridgeLine(f *testing.F) {
	f.Add("obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=qqTGb50kxZAGtS9vNwiWv6+lU1LmLUqySKZBPsSjLmAtKIjQUMr4cm2DAC0oZe0r9B6W5g iat-mode=0")
	f.Fuzz(func(t *testing.T, line string) {
		b, err := ParseBridgeLine(line)
		if err != nil {
			return
		}
		// A parsed line must parse again to the same bridge (it is
		// written to torrc in this form).
		b2, err := ParseBridgeLine(b.String())
		if err != nil || b2.String() != b.String() {
			t.Fatalf("%q -> %q -> %q, %v", line, b.String(), b2.String(), err)
		}
		if strings.ContainsAny(b.String(), "\r\n\x00") {
			t.Fatalf("line break in %q", b.String())
		}
	})
}

// FuzzParseConnWarning: Tor's warnings arrive on the control connection.
func FuzzParseConnWarning(f *testing.F) {
	f.Add(`Proxy Client: unable to connect OR connection (handshaking (proxy)) with 127.0.0.2:1 ID=<none> RSA_ID=D9A82D2F9C2F65A18407B1D2B764F130847F8B5D ("general SOCKS server failure")`)
	f.Fuzz(func(t *testing.T, raw string) {
		parseConnWarning(raw)
	})
}
