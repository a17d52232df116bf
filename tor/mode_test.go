package tor

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestParseMode(t *testing.T) {
	cases := []struct {
		in   string
		mode Mode
		addr string
		err  string
	}{
		{"", ModeDefault, "", ""},
		{"default", ModeDefault, "", ""},
		{"embedded", ModeEmbedded, "", ""},
		{" Embedded ", ModeEmbedded, "", ""},
		{"off", ModeOff, "", ""},
		{"socks=127.0.0.1:9050", ModeSOCKS, "127.0.0.1:9050", ""},
		{"socks=localhost:9150", ModeSOCKS, "127.0.0.1:9150", ""},
		{"socks=10.152.152.10:9050", ModeSOCKS, "10.152.152.10:9050", ""},
		{"socks=[::1]:9050", ModeSOCKS, "[::1]:9050", ""},
		{"socks", 0, "", "socks mode needs an address"},
		{"socks=", 0, "", "socks mode needs an address"},
		{"socks=tor.example:9050", 0, "", "must be an IP address"},
		{"socks=127.0.0.1", 0, "", "missing port"},
		{"socks=127.0.0.1:0", 0, "", "1..65535"},
		{"socks=127.0.0.1:socks", 0, "", "1..65535"},
		{"socks=127.0.0.1:70000", 0, "", "1..65535"},
		{"embedded=1", 0, "", "unknown mode"},
		{"off=yes", 0, "", "unknown mode"},
		{"tor", 0, "", "want embedded, socks=HOST:PORT or off"},
	}
	for _, c := range cases {
		mode, addr, err := ParseMode(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "tor: ") {
				t.Errorf("ParseMode(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || mode != c.mode || addr != c.addr {
			t.Errorf("ParseMode(%q) = %v, %q, %v; want %v, %q", c.in, mode, addr, err, c.mode, c.addr)
		}
	}
	for _, m := range []Mode{ModeDefault, ModeEmbedded, ModeOff} {
		if got, _, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%v.String()) = %v, %v", m, got, err)
		}
	}
}

// whonixRoot returns a directory that looks like a Whonix workstation's
// root file system (just the marker file).
func whonixRoot(t *testing.T) string {
	root := t.TempDir()
	marker := filepath.Join(root, whonixWorkstationMarker)
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestResolveModeWhonix(t *testing.T) {
	plain, whonix := t.TempDir(), whonixRoot(t)
	cases := []struct {
		root string
		mode Mode
		addr string
		want Mode
		wadd string
		err  error
	}{
		{plain, ModeDefault, "", ModeEmbedded, "", nil},
		{whonix, ModeDefault, "", ModeSOCKS, WhonixGatewaySOCKS, nil},
		{whonix, ModeEmbedded, "", 0, "", ErrTorOverTor},
		{whonix, ModeSOCKS, "127.0.0.1:9050", ModeSOCKS, "127.0.0.1:9050", nil},
		{whonix, ModeOff, "", ModeOff, "", nil},
		{plain, ModeSOCKS, "", 0, "", nil}, // error without sentinel
	}
	for _, c := range cases {
		m, a, err := resolveMode(c.mode, c.addr, c.root)
		if c.want == 0 {
			if err == nil || (c.err != nil && !errors.Is(err, c.err)) {
				t.Errorf("resolveMode(%v, %q, whonix=%v) error = %v, want %v", c.mode, c.addr, c.root == whonix, err, c.err)
			}
			continue
		}
		if err != nil || m != c.want || a != c.wadd {
			t.Errorf("resolveMode(%v, %q, whonix=%v) = %v, %q, %v; want %v, %q", c.mode, c.addr, c.root == whonix, m, a, err, c.want, c.wadd)
		}
	}
}

// TestWhonixDefaultNeverDialsInTests starts a default-mode Server on a fake
// Whonix root: it must pick the gateway's SOCKS port without connecting to
// it (Start does not dial; only Up probes).
func TestWhonixDefaultStart(t *testing.T) {
	s := &Server{rootDir: whonixRoot(t), netDialer: &net.Dialer{
		Control: func(_, address string, _ syscall.RawConn) error {
			t.Errorf("dialed %s", address)
			return errors.New("test must not dial")
		},
	}}
	defer s.Close()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if st.Mode != ModeSOCKS || st.Ready || !strings.Contains(st.Summary, WhonixGatewaySOCKS) {
		t.Errorf("status on Whonix = %+v", st)
	}
	if !s.IsProtected() {
		t.Error("not protected on Whonix")
	}
	if _, err := s.Dial(context.Background(), "tcp", "example.com:80"); !errors.Is(err, ErrNotReady) {
		t.Errorf("Dial before Up: %v", err)
	}

	s2 := &Server{Mode: ModeEmbedded, rootDir: whonixRoot(t)}
	if err := s2.Start(context.Background()); !errors.Is(err, ErrTorOverTor) {
		t.Errorf("embedded on Whonix: %v, want ErrTorOverTor", err)
	}
}
