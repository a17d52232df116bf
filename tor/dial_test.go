package tor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dialRecorder records every address the Server's net.Dialer connects a
// socket to (its Control hook runs for each connect).
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
}

func (r *dialRecorder) dialer() *net.Dialer {
	return &net.Dialer{Control: func(network, address string, _ syscall.RawConn) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.addrs = append(r.addrs, network+" "+address)
		return nil
	}}
}

func (r *dialRecorder) Addrs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.addrs...)
}

// newSOCKSModeServer returns a Server in socks mode, up, using a test SOCKS
// server that answers CONNECT with reply.
func newSOCKSModeServer(t *testing.T, reply byte) (*Server, *socksServer, *dialRecorder) {
	t.Helper()
	ss := newSOCKSServer(t, reply)
	rec := &dialRecorder{}
	s := &Server{
		Mode:           ModeSOCKS,
		SOCKSAddr:      ss.Addr(),
		ConnectTimeout: 10 * time.Second,
		rootDir:        t.TempDir(),
		netDialer:      rec.dialer(),
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.Up(ctx)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	if !st.Ready || st.Mode != ModeSOCKS || st.Progress != 100 {
		t.Fatalf("Up status = %+v", st)
	}
	return s, ss, rec
}

// targetListener is a TCP listener on 127.0.0.1 that counts connections:
// the destination a leak would reach.
func targetListener(t *testing.T) (addr string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

func TestDialSendsHostNamesToTor(t *testing.T) {
	s, ss, rec := newSOCKSModeServer(t, 0)
	onion := testOnion(t)
	cases := []struct {
		addr     string
		wantAtyp byte
		wantHost string
		wantPort uint16
	}{
		{"example.com:443", 3, "example.com", 443},
		{onion + ":64738", 3, onion, 64738},
		// Onion names go to Tor in canonical form, whatever the spelling.
		{"www." + strings.ToUpper(onion) + ":80", 3, "www." + onion, 80},
		{strings.ToUpper(onion) + ".:64738", 3, onion, 64738},
		{"localhost:64738", 3, "localhost", 64738}, // even localhost is Tor's business
		{"192.0.2.7:5", 1, "192.0.2.7", 5},
		{"[2001:db8::1]:64738", 4, "2001:db8::1", 64738},
	}
	ctx := context.Background()
	for _, c := range cases {
		conn, err := s.Dial(ctx, "tcp", c.addr)
		if err != nil {
			t.Fatalf("Dial(%q): %v", c.addr, err)
		}
		if got := conn.RemoteAddr().String(); got != c.addr {
			t.Errorf("RemoteAddr = %q, want %q", got, c.addr)
		}
		// Data flows through the tunnel (the test server echoes).
		msg := []byte("hello " + c.addr)
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo = %q, %v", got, err)
		}
		conn.Close()
		reqs := ss.Requests()
		r := reqs[len(reqs)-1]
		if r.Atyp != c.wantAtyp || r.Host != c.wantHost || r.Port != c.wantPort {
			t.Errorf("Dial(%q): SOCKS request atyp=%d host=%q port=%d, want atyp=%d host=%q port=%d",
				c.addr, r.Atyp, r.Host, r.Port, c.wantAtyp, c.wantHost, c.wantPort)
		}
	}
	// Structural no-DNS/no-leak check: every socket the Server opened went
	// to the SOCKS port (the first one is Up's probe).
	for _, a := range rec.Addrs() {
		if a != "tcp4 "+ss.Addr() {
			t.Errorf("Server connected a socket to %s; only the SOCKS port %s is allowed", a, ss.Addr())
		}
	}
	if got, want := len(rec.Addrs()), len(cases)+1; got != want {
		t.Errorf("%d sockets opened, want %d (one probe + one per dial)", got, want)
	}
}

func TestDialIsolationCredentials(t *testing.T) {
	s, ss, _ := newSOCKSModeServer(t, 0)
	a, b := NewIsolation(), NewIsolation()
	ctx := context.Background()
	for _, iso := range []Isolation{a, b, a, {}} {
		conn, err := s.Isolated(iso).DialContext(ctx, "tcp", "example.org:80")
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	reqs := ss.Requests()[1:] // skip Up's probe
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	for i, r := range reqs {
		if len(r.Methods) != 1 || r.Methods[0] != 2 {
			t.Errorf("request %d offered methods %v, want only username/password", i, r.Methods)
		}
	}
	if reqs[0].User != a.Username() || reqs[0].Pass != a.Password() {
		t.Errorf("first dial sent %q/%q, want isolation a", reqs[0].User, reqs[0].Pass)
	}
	if reqs[1].User == reqs[0].User || reqs[1].Pass == reqs[0].Pass {
		t.Errorf("different isolations sent the same credentials")
	}
	if reqs[2].User != reqs[0].User || reqs[2].Pass != reqs[0].Pass {
		t.Errorf("same isolation sent different requests: %+v vs %+v", reqs[2], reqs[0])
	}
	// The zero Isolation uses the Server's own credentials, not nothing.
	if reqs[3].User == "" || reqs[3].User == a.Username() || reqs[3].User == b.Username() {
		t.Errorf("zero isolation sent user %q", reqs[3].User)
	}
	if d := s.Isolated(Isolation{}); d.Isolation().IsZero() {
		t.Error("Isolated(zero).Isolation() is zero")
	}
}

func TestDialErrorMapping(t *testing.T) {
	cases := []struct {
		code byte
		want error
		text string
	}{
		{0xF0, ErrOnionNotFound, "descriptor not found"},
		{0xF1, ErrOnionInvalid, "descriptor is invalid"},
		{0xF2, ErrOnionIntroFailed, "introduction failed"},
		{0xF3, ErrOnionRendFailed, "rendezvous failed"},
		{0xF4, ErrClientAuthRequired, "client authorization required"},
		{0xF5, ErrClientAuthBad, "client authorization key rejected"},
		{0xF6, ErrOnionBadAddress, "onion address rejected"},
		{0xF7, ErrOnionIntroTimeout, "introduction timed out"},
		{0x05, nil, "connection refused"},
		{0x04, nil, "host unreachable"},
		{0x01, nil, "general SOCKS server failure"},
		{0x42, nil, "unknown SOCKS reply 0x42"},
	}
	for _, c := range cases {
		s, _, _ := newSOCKSModeServer(t, c.code)
		_, err := s.Dial(context.Background(), "tcp", testOnion(t)+":64738")
		if err == nil {
			t.Fatalf("code 0x%02X: Dial succeeded", c.code)
		}
		var se *SOCKSError
		if !errors.As(err, &se) || se.Code != c.code {
			t.Errorf("code 0x%02X: error %v is not a SOCKSError with that code", c.code, err)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("code 0x%02X: error %v does not wrap %v", c.code, err, c.want)
		}
		if !strings.Contains(err.Error(), c.text) || !strings.HasPrefix(err.Error(), "tor: dial ") {
			t.Errorf("code 0x%02X: error %q, want prefix \"tor: dial \" and %q", c.code, err, c.text)
		}
	}
}

// TestDialFailsClosed checks that no connection is made to anything before
// the Server is ready, after Close, or for addresses that are refused.
func TestDialFailsClosed(t *testing.T) {
	target, accepted := targetListener(t)
	ss := newSOCKSServer(t, 0)
	rec := &dialRecorder{}
	s := &Server{Mode: ModeSOCKS, SOCKSAddr: ss.Addr(), rootDir: t.TempDir(), netDialer: rec.dialer()}
	ctx := context.Background()

	_, err := s.Dial(ctx, "tcp", target)
	if !errors.Is(err, ErrNotStarted) || !strings.HasPrefix(err.Error(), "tor: ") {
		t.Errorf("Dial before Start: %v, want ErrNotStarted", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = s.Dial(ctx, "tcp", target)
	if !errors.Is(err, ErrNotReady) {
		t.Errorf("Dial before Up: %v, want ErrNotReady", err)
	}
	if _, err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}
	probes := len(rec.Addrs())

	// Refused before any socket is opened.
	for _, addr := range []string{
		"expyuzz4wqqyqhjn.onion:80", // v2
		"aaaa.onion:80",             // malformed
		strings.ToUpper(typo(strings.TrimSuffix(testOnion(t), ".onion"), 20)) + ".onion.:64738", // bad checksum, trailing dot
		"example.com:http",               // service name: would need a lookup
		"example.com",                    // no port
		"example.com:0",                  // bad port
		strings.Repeat("a", 300) + ":80", // name too long for SOCKS
	} {
		if _, err := s.Dial(ctx, "tcp", addr); err == nil {
			t.Errorf("Dial(%q) succeeded", addr)
		}
	}
	if _, err := s.Dial(ctx, "udp", "example.com:53"); err == nil || !strings.Contains(err.Error(), "only TCP") {
		t.Errorf("Dial udp: %v", err)
	}
	if n := len(rec.Addrs()); n != probes {
		t.Errorf("refused dials opened %d sockets: %v", n-probes, rec.Addrs())
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := len(rec.Addrs())
	_, err = s.Dial(ctx, "tcp", target)
	if !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close: %v, want net.ErrClosed", err)
	}
	if _, err := s.Isolated(NewIsolation()).DialContext(ctx, "tcp", target); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Isolated dial after Close: %v", err)
	}
	if n := len(rec.Addrs()); n != before {
		t.Errorf("Dial after Close opened %d sockets", n-before)
	}
	if n := accepted(); n != 0 {
		t.Errorf("target saw %d connections, want 0", n)
	}
	for _, r := range ss.Requests() {
		if !r.Greeting {
			t.Errorf("SOCKS server got a CONNECT for %s", r.Host)
		}
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	if err := s.Start(ctx); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Start after Close: %v, want net.ErrClosed", err)
	}
}

func TestDialSOCKSUnreachable(t *testing.T) {
	// A SOCKS port that goes away after Up: dialing fails, nothing else is
	// tried.
	target, accepted := targetListener(t)
	ss := newSOCKSServer(t, 0)
	rec := &dialRecorder{}
	s := &Server{Mode: ModeSOCKS, SOCKSAddr: ss.Addr(), rootDir: t.TempDir(), netDialer: rec.dialer()}
	defer s.Close()
	if _, err := s.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	ss.ln.Close()
	if _, err := s.Dial(context.Background(), "tcp", target); err == nil {
		t.Fatal("Dial succeeded with the SOCKS port gone")
	}
	for _, a := range rec.Addrs() {
		if !strings.HasSuffix(a, " "+ss.Addr()) {
			t.Errorf("socket to %s", a)
		}
	}
	if accepted() != 0 {
		t.Error("target reached")
	}
}

func TestDialTimeout(t *testing.T) {
	ss := newSilentSOCKSServer(t)
	s := &Server{Mode: ModeSOCKS, SOCKSAddr: ss.Addr(), rootDir: t.TempDir(), ConnectTimeout: 300 * time.Millisecond}
	defer s.Close()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.setReady("test", "skip the probe: the server is silent")
	start := time.Now()
	_, err := s.Dial(context.Background(), "tcp", "example.com:80")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial to a silent SOCKS server: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial took %v with a 300ms ConnectTimeout", d)
	}

	// Cancellation of the caller's context ends the handshake too.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	s.ConnectTimeout = time.Minute
	_, err = s.Dial(ctx, "tcp", "example.com:80")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Dial: %v, want Canceled", err)
	}
}

func TestModeOffDialsDirectly(t *testing.T) {
	target, accepted := targetListener(t)
	rec := &dialRecorder{}
	s := &Server{Mode: ModeOff, rootDir: t.TempDir(), netDialer: rec.dialer()}
	defer s.Close()
	if s.IsProtected() {
		t.Fatal("ModeOff server claims protection")
	}
	st, err := s.Up(context.Background())
	if err != nil || !st.Ready || st.Mode != ModeOff {
		t.Fatalf("Up: %+v, %v", st, err)
	}
	if !strings.Contains(st.String(), "not protected") {
		t.Errorf("status %q does not say unprotected", st)
	}
	// An onion name would be looked up in the system's DNS: refused.
	onion := testOnion(t)
	for _, addr := range []string{onion + ":64738", strings.ToUpper(onion) + ".:64738"} {
		if _, err := s.Dial(context.Background(), "tcp", addr); !errors.Is(err, ErrOnionNeedsTor) {
			t.Errorf("ModeOff Dial(%q) = %v, want ErrOnionNeedsTor", addr, err)
		}
	}
	c, err := s.Dial(context.Background(), "tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := rec.Addrs(); len(got) != 1 || got[0] != "tcp4 "+target {
		t.Errorf("dialed %v, want the target directly", got)
	}
	for accepted() != 1 {
		time.Sleep(time.Millisecond)
	}
}
