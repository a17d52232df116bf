package app

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	qrreader "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/tumble-voip/tumble/mumble"
)

func TestParseLink(t *testing.T) {
	onion := newTestOnion(t)
	tests := []struct {
		link string
		want Bookmark
	}{
		{"mumble://example.com", Bookmark{Address: "example.com", Port: 64738}},
		{"mumble://alice@example.com:1234/", Bookmark{Address: "example.com", Port: 1234, Username: "alice"}},
		{"mumble://alice:s3cret@example.com/Lab/Quiet?version=1.2.0",
			Bookmark{Address: "example.com", Port: 64738, Username: "alice", Password: "s3cret", Channel: []string{"Lab", "Quiet"}}},
		{"MUMBLE://Example.COM./", Bookmark{Address: "example.com", Port: 64738}},
		{"mumble://al%20ice:p%40ss%3Aw@[2001:DB8::1]:64739/a%2Fb/c%20d?title=My%20Server&version=1.2.0",
			Bookmark{Label: "My Server", Address: "2001:db8::1", Port: 64739, Username: "al ice", Password: "p@ss:w", Channel: []string{"a/b", "c d"}}},
		{"mumble://[::1]/", Bookmark{Address: "::1", Port: 64738}},
		{"mumble://192.0.2.7:80", Bookmark{Address: "192.0.2.7", Port: 80}},
		{"mumble://bob@" + strings.ToUpper(onion) + "/Root%C3%A9?title=Caf%C3%A9+Tor",
			Bookmark{Label: "Café Tor", Address: onion, Port: 64738, Username: "bob", Channel: []string{"Rooté"}}},
		{"  mumble://example.com//a///b?unknown=1#frag  ", Bookmark{Address: "example.com", Port: 64738, Channel: []string{"a", "b"}}},
		{"mumble://:pw@example.com", Bookmark{Address: "example.com", Port: 64738, Password: "pw"}},
	}
	for _, tt := range tests {
		got, err := ParseLink(tt.link)
		if err != nil {
			t.Errorf("ParseLink(%q): %v", tt.link, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseLink(%q)\n got %+v\nwant %+v", tt.link, got, tt.want)
		}
	}
}

func TestParseLinkErrors(t *testing.T) {
	tests := map[string]string{
		"":                                  "mumble://",
		"example.com":                       "mumble://",
		"http://example.com":                `"http"`,
		"mumble:example.com":                "no server address",
		"mumble://":                         "no server address",
		"mumble:///Lab":                     "no server address",
		"mumble://user@":                    "no server address",
		"mumble://example.com:0":            "outside",
		"mumble://example.com:65536":        "outside",
		"mumble://example.com:port":         "port",
		"mumble://exa mple.com":             "invalid",
		"mumble://[fe80::1%25eth0]/":        "zone",
		"mumble://[::1":                     "missing ']'",
		"mumble://example.com/a%ZZ":         "escape",
		"mumble://example.com/?title=%ZZ":   "query",
		"mumble://bad..host/":               "empty label",
		"mumble://x.onion/":                 "onion",
		"mumble://example.com/?title=a%07b": "label",
		"mumble://a%0Ab@example.com/":       "username",
		"mumble://example.com/a%00b":        "channel",
		"mumble://example.com/" + strings.Repeat("a", maxLinkLen): "longer",
	}
	for link, want := range tests {
		_, err := ParseLink(link)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLink(%q) err = %v; want one mentioning %q", link, err, want)
		}
	}
}

func TestFormatLink(t *testing.T) {
	onion := newTestOnion(t)
	b := newTestBookmark(t, onion, "alice")
	b.Label = "Lab server"
	b.Password = "p@ss word"
	b.Channel = []string{"Lab", "a/b"}
	b.ClientAuthKey = testClientAuthKey(t, onion)
	b.PinnedFingerprint = mumble.FingerprintOf([]byte("x"))

	plain := FormatLink(b, LinkOptions{})
	want := "mumble://alice@" + onion + "/Lab/a%2Fb?pin=" + b.PinnedFingerprint.String() + "&title=Lab+server&version=1.2.0"
	if plain != want {
		t.Errorf("FormatLink = %q\n          want %q", plain, want)
	}
	key := strings.Split(b.ClientAuthKey.String(), ":")[3]
	for _, secret := range []string{b.Password, "p%40ss", key, strings.ToLower(key), b.Isolation.Username(), b.Isolation.Password(), b.ID} {
		if strings.Contains(plain, secret) {
			t.Errorf("exported link %q contains a secret %q", plain, secret)
		}
	}
	withPW := FormatLink(b, LinkOptions{IncludePassword: true})
	if !strings.Contains(withPW, "alice:p%40ss%20word@") {
		t.Errorf("FormatLink with password = %q", withPW)
	}
	anon := FormatLink(b, LinkOptions{OmitUsername: true, Channel: []string{"Other"}})
	if anon != "mumble://"+onion+"/Other?pin="+b.PinnedFingerprint.String()+"&title=Lab+server&version=1.2.0" {
		t.Errorf("FormatLink anonymous = %q", anon)
	}
	v6 := Bookmark{Address: "2001:db8::1", Port: 1234}
	if got := FormatLink(v6, LinkOptions{}); got != "mumble://[2001:db8::1]:1234?version=1.2.0" {
		t.Errorf("IPv6 link = %q", got)
	}
	v6.Port = DefaultPort
	if got := FormatLink(v6, LinkOptions{}); got != "mumble://[2001:db8::1]?version=1.2.0" {
		t.Errorf("IPv6 link on the default port = %q", got)
	}
}

// TestLinkRoundTrip exports bookmarks with every kind of awkward content and
// checks that importing gives the same server fields back.
func TestLinkRoundTrip(t *testing.T) {
	onion := newTestOnion(t)
	cases := []Bookmark{
		{Address: "example.com", Port: DefaultPort, Username: "alice"},
		{Address: onion, Port: 1, Username: "bob smith", Password: "p@ss:/?#[]%word", Label: "Tor & friends / 100%"},
		{Address: "2001:db8::1", Port: 65535, Username: "ünïcödé", Channel: []string{"Ro ot", "a/b", "?#%", "日本語"}},
		{Address: "192.0.2.1", Port: 64739, Username: "user:with:colons@at", Label: "+plus+"},
		{Address: "example.org", Port: DefaultPort},
	}
	for _, b := range cases {
		link := FormatLink(b, LinkOptions{IncludePassword: true})
		got, err := ParseLink(link)
		if err != nil {
			t.Errorf("ParseLink(FormatLink(%+v)) = %v (link %q)", b, err, link)
			continue
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("round trip via %q\n got %+v\nwant %+v", link, got, b)
		}
	}
}

// FuzzParseLink checks ParseLink never panics, and that whatever it accepts
// survives export and import unchanged and is valid.
func FuzzParseLink(f *testing.F) {
	for _, s := range []string{
		"mumble://example.com",
		"mumble://alice:pw@example.com:1234/Lab/Sub?title=X&version=1.2.0",
		"mumble://[2001:db8::1]:64738/a%2Fb",
		"mumble://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion/",
		"mumble://%41:%42@h/%43?title=%44",
		"mumble://h:/",
		"mumble:opaque",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseLink(s)
		if err != nil {
			return
		}
		var errs fieldErrs
		b.validateServerFields(&errs, false)
		if err := errs.join(); err != nil {
			t.Fatalf("ParseLink(%q) returned invalid fields: %v", s, err)
		}
		if !utf8.ValidString(b.Username) || !utf8.ValidString(b.Password) || !utf8.ValidString(b.Label) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		link := FormatLink(b, LinkOptions{IncludePassword: true})
		again, err := ParseLink(link)
		if err != nil {
			t.Fatalf("ParseLink(%q) ok but its export %q fails: %v", s, link, err)
		}
		if !reflect.DeepEqual(again, b) {
			t.Fatalf("round trip of %q via %q:\n got %+v\nwant %+v", s, link, again, b)
		}
	})
}

// TestLinkKeepsPin: a link carries the pinned fingerprint, so a link kept
// in a safe place authenticates the server in every fresh session;
// ParseLink(FormatLink(b)) keeps it, in any spelling, and refuses a bad one.
func TestLinkKeepsPin(t *testing.T) {
	b := Bookmark{Address: "mumble.example.org", Port: DefaultPort, Username: "alice",
		PinnedFingerprint: mumble.FingerprintOf([]byte("server cert"))}
	got, err := ParseLink(FormatLink(b, LinkOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if got.PinnedFingerprint != b.PinnedFingerprint {
		t.Errorf("pin after a round trip %q, want %q", got.PinnedFingerprint, b.PinnedFingerprint)
	}
	hex := b.PinnedFingerprint.String()
	upper := strings.ToUpper(hex[:2]) + ":" + hex[2:]
	if got, err := ParseLink("mumble://h.example/?pin=" + upper); err != nil || got.PinnedFingerprint != b.PinnedFingerprint {
		t.Errorf("pin %q: %q, %v", upper, got.PinnedFingerprint, err)
	}
	if _, err := ParseLink("mumble://h.example/?pin=abc"); err == nil || !strings.Contains(err.Error(), "pin") {
		t.Errorf("bad pin accepted: %v", err)
	}
	if got, err := ParseLink("mumble://h.example/"); err != nil || !got.PinnedFingerprint.IsZero() {
		t.Errorf("no pin: %q, %v", got.PinnedFingerprint, err)
	}
}

func TestInviteLink(t *testing.T) {
	onion := "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
	key := "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd:descriptor:x25519:" + strings.Repeat("A", 52)
	pin := strings.Repeat("ab", 32)
	b := Bookmark{Label: "Our room", Address: onion, Port: 41234, Username: "guest-1", Password: "s3cret&=?"}
	if err := b.SetClientAuthKey(key); err != nil {
		t.Fatal(err)
	}
	b.PinnedFingerprint, _ = mumble.ParseFingerprint(pin)
	link := FormatLink(b, LinkOptions{IncludePassword: true, Invite: true})
	got, err := ParseLink(link)
	if err != nil {
		t.Fatalf("ParseLink(%s): %v", link, err)
	}
	if got.Address != onion || got.Port != 41234 || got.Username != "guest-1" || got.Password != b.Password ||
		got.ClientAuthKey.String() != b.ClientAuthKey.String() || got.PinnedFingerprint != b.PinnedFingerprint || got.Label != "Our room" {
		t.Errorf("round trip of %s:\n got %+v", link, got)
	}
	// Without Invite, no secret beyond the password (the pin is public).
	plain := FormatLink(b, LinkOptions{IncludePassword: true})
	if strings.Contains(plain, "auth=") {
		t.Errorf("plain link carries the client key: %s", plain)
	}
	// Bad invitation fields are refused with a field name.
	for _, bad := range []string{
		"mumble://" + onion + "/?pin=xyz",
		"mumble://" + onion + "/?auth=notakey",
		"mumble://example.org/?auth=" + strings.Repeat("A", 52),
	} {
		if _, err := ParseLink(bad); err == nil {
			t.Errorf("ParseLink(%s) accepted", bad)
		}
	}
}

func TestInviteQR(t *testing.T) {
	link := "mumble://guest@pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion:41234/?auth=x&pin=" + strings.Repeat("ab", 32)
	img, err := InviteQR(link, 384)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrreader.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	if res.GetText() != link {
		t.Errorf("QR says %q, want %q", res.GetText(), link)
	}
}
