package tor

import (
	"context"
	"crypto/ecdh"
	"errors"
	"strings"
	"testing"
)

func TestClientAuthKey(t *testing.T) {
	onion := testOnion(t)
	id := strings.TrimSuffix(onion, ".onion")
	k, err := GenerateClientAuthKey(onion)
	if err != nil {
		t.Fatal(err)
	}
	line := k.String()
	parts := strings.Split(line, ":")
	if len(parts) != 4 || parts[0] != id || parts[1] != "descriptor" || parts[2] != "x25519" || len(parts[3]) != 52 || parts[3] != strings.ToUpper(parts[3]) {
		t.Fatalf("String() = %q", line)
	}
	for _, in := range []string{line, strings.ToLower(line), onion + line[len(id):], " " + line + "\n"} {
		back, err := ParseClientAuthKey(in)
		if err != nil {
			t.Fatalf("ParseClientAuthKey(%q): %v", in, err)
		}
		if back.String() != line || back.Onion != id {
			t.Errorf("ParseClientAuthKey(%q) = %q", in, back)
		}
	}
	// Address and bare key.
	back, err := NewClientAuthKey(onion, parts[3])
	if err != nil || back.String() != line {
		t.Errorf("NewClientAuthKey = %q, %v", back, err)
	}
	// The public line matches the private key.
	raw, _ := clientAuthBase32.DecodeString(parts[3])
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := "descriptor:x25519:" + clientAuthBase32.EncodeToString(priv.PublicKey().Bytes())
	if got := k.PublicLine(); got != want {
		t.Errorf("PublicLine = %q, want %q", got, want)
	}
	// Text marshalling.
	var u ClientAuthKey
	if err := u.UnmarshalText([]byte(line)); err != nil || u.String() != line {
		t.Errorf("UnmarshalText: %q, %v", u, err)
	}
	if _, err := (ClientAuthKey{}).MarshalText(); err == nil {
		t.Error("zero key marshalled")
	}
	if !(ClientAuthKey{}).IsZero() || (ClientAuthKey{}).String() != "" || (ClientAuthKey{}).PublicLine() != "" {
		t.Error("zero key")
	}
}

func TestParseClientAuthKeyErrors(t *testing.T) {
	onion := testOnion(t)
	id := strings.TrimSuffix(onion, ".onion")
	k, _ := GenerateClientAuthKey(onion)
	key := strings.Split(k.String(), ":")[3]
	cases := []struct {
		in   string
		want error
		text string
	}{
		{"", nil, "want <onion address>:descriptor:x25519:<base32 private key>"},
		{id + ":descriptor:ed25519:" + key, nil, "key type \"ed25519\""},
		{id + ":intro:x25519:" + key, nil, "\"intro\" where \"descriptor\" belongs"},
		{id + ":x25519:" + key, nil, "3 \":\"-separated parts"},
		{id + ":descriptor:x25519:" + key + "====", nil, ""},
		{id + ":descriptor:x25519:" + key[:51], nil, "52 base32 characters"},
		{id + ":descriptor:x25519:" + key[:51] + "1", nil, "52 base32 characters"},
		{"expyuzz4wqqyqhjn:descriptor:x25519:" + key, ErrV2Onion, "no longer supported"},
		{typo(id, 10) + ":descriptor:x25519:" + key, ErrBadOnion, "checksum"},
	}
	for _, c := range cases {
		_, err := ParseClientAuthKey(c.in)
		if c.text == "" {
			if err != nil {
				t.Errorf("ParseClientAuthKey(%q): %v", c.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.text) || (c.want != nil && !errors.Is(err, c.want)) || !strings.HasPrefix(err.Error(), "tor: ") {
			t.Errorf("ParseClientAuthKey(%q) = %v, want %q", c.in, err, c.text)
		}
		if err != nil && strings.Contains(err.Error(), key[:20]) {
			t.Errorf("error %q echoes the private key", err)
		}
	}
	if _, err := NewClientAuthKey("nonsense", key); !errors.Is(err, ErrBadOnion) {
		t.Errorf("NewClientAuthKey(bad address) = %v", err)
	}
}

// typo changes the character at i.
func typo(s string, i int) string {
	b := []byte(s)
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}

func TestClientAuthNeedsControl(t *testing.T) {
	k, _ := GenerateClientAuthKey(testOnion(t))
	ctx := context.Background()
	s := &Server{Mode: ModeSOCKS, SOCKSAddr: "127.0.0.1:9", rootDir: t.TempDir()}
	defer s.Close()
	if err := s.AddClientAuth(ctx, k); !errors.Is(err, ErrNotStarted) {
		t.Errorf("AddClientAuth before Start: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.AddClientAuth(ctx, k)
	if !errors.Is(err, ErrNoControl) || !strings.HasPrefix(err.Error(), "tor: add client authorization for ") {
		t.Errorf("AddClientAuth in socks mode: %v, want ErrNoControl", err)
	}
	if err := s.RemoveClientAuth(ctx, k.Onion); !errors.Is(err, ErrNoControl) {
		t.Errorf("RemoveClientAuth in socks mode: %v", err)
	}
	if err := s.AddClientAuth(ctx, ClientAuthKey{}); err == nil {
		t.Error("zero key accepted")
	}
	if _, err := s.Listen(ctx, 80, nil); err == nil || !strings.Contains(err.Error(), "ed25519 private key") {
		t.Errorf("Listen without key: %v", err)
	}
}
