package murmurtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tumble-voip/tumble/mumble/murmur"
)

// forEachVersion runs f as a parallel subtest for every server version.
func forEachVersion(t *testing.T, f func(t *testing.T, v Version)) {
	for _, v := range Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			f(t, v)
		})
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// login connects to s as user and returns the connection and its ServerSync.
func login(t *testing.T, s *Server, user, password string) (*controlConn, *serverSync, error) {
	t.Helper()
	c, err := dialControl(testContext(t), s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sync, err := c.authenticate(user, password)
	return c, sync, err
}

// assertRefused checks that nothing accepts TCP connections on addr.
func assertRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
}

func TestStart(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		s := Start(t, Options{Version: v})
		if s.Version != v {
			t.Errorf("Version = %v, want %v", s.Version, v)
		}
		host, port, err := net.SplitHostPort(s.Addr)
		if err != nil || host != "127.0.0.1" || port != strconv.Itoa(s.Port) || s.Port == 0 {
			t.Fatalf("Addr = %q, Port = %d: want 127.0.0.1:Port", s.Addr, s.Port)
		}
		if len(s.Fingerprint()) != 64 {
			t.Fatalf("Fingerprint() = %q, want 64 hex digits", s.Fingerprint())
		}
		if _, err := hex.DecodeString(s.Fingerprint()); err != nil {
			t.Fatalf("Fingerprint() = %q: %v", s.Fingerprint(), err)
		}
		// A fresh handshake sees the same certificate.
		cert, err := fetchCertificate(testContext(t), s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(cert.Raw); hex.EncodeToString(sum[:]) != s.Fingerprint() {
			t.Errorf("certificate digest %x, Fingerprint() %s", sum, s.Fingerprint())
		}
		if !bytes.Equal(s.Certificate().Raw, cert.Raw) {
			t.Error("Certificate() differs from the certificate the server presents")
		}

		// It is the requested server version, and guests can log in.
		c, sync, err := login(t, s, "guest", "")
		if err != nil {
			t.Fatalf("guest login: %v", err)
		}
		major, minor := c.serverVersion>>48, c.serverVersion>>32&0xFFFF
		if want := map[Version]uint64{V13: 3, V15: 5}[v]; major != 1 || minor != want {
			t.Errorf("server reports version %d.%d, want 1.%d", major, minor, want)
		}
		if sync.session == 0 {
			t.Error("ServerSync has no session")
		}
		if !strings.Contains(s.Log(), "Server listening on "+s.Addr) {
			t.Errorf("log lacks the listening line:\n%s", s.Log())
		}
		if !s.Running() {
			t.Error("Running() = false for a running server")
		}
	})
}

func TestTwoServers(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		a := Start(t, Options{Version: v})
		b := Start(t, Options{Version: v})
		if a.Port == b.Port {
			t.Fatalf("both servers on port %d", a.Port)
		}
		if a.Fingerprint() == b.Fingerprint() {
			t.Errorf("both servers have certificate %s", a.Fingerprint())
		}
		if a.Dir == b.Dir {
			t.Errorf("both servers in %s", a.Dir)
		}
		for _, s := range []*Server{a, b} {
			if _, _, err := login(t, s, "guest", ""); err != nil {
				t.Errorf("%s: %v", s.Addr, err)
			}
		}
	})
}

func TestKill(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		s := Start(t, Options{Version: v})
		c, _, err := login(t, s, "guest", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Kill(); err != nil {
			t.Fatal(err)
		}
		if s.Running() {
			t.Fatal("Running() = true after Kill")
		}
		assertRefused(t, s.Addr)
		// The connected client sees its connection end.
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, _, err := c.recv()
			if err == nil {
				continue // messages sent before the kill
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open 5 s after Kill")
			}
			break
		}
		if err := s.Kill(); err != nil {
			t.Errorf("second Kill: %v", err)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("Stop after Kill: %v", err)
		}
		if strings.Contains(s.Log(), "Shutting down") {
			t.Error("a killed server logged a graceful shutdown")
		}
	})
}

func TestStop(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		s := Start(t, Options{Version: v})
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		if s.Running() {
			t.Fatal("Running() = true after Stop")
		}
		assertRefused(t, s.Addr)
		if !strings.Contains(s.Log(), "Shutting down") {
			t.Errorf("no graceful shutdown in the log:\n%s", s.Log())
		}
	})
}

// TestStopAfterDisconnect stops servers right after a client disconnected,
// which is what happens when a test's client cleanup runs just before the
// server's. Without Stop's settling, the 1.5 server deadlocked in about 5 %
// of such stops.
func TestStopAfterDisconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("repeats server starts; skipped in -short mode")
	}
	forEachVersion(t, func(t *testing.T, v Version) {
		for i := range 6 {
			s := Start(t, Options{Version: v})
			c, _, err := login(t, s, "guest", "")
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			if err := s.Stop(); err != nil {
				t.Fatalf("stop %d: %v", i, err)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		welcome := "Welcome, \"tester\"; <b>bold</b> back\\slash\nline 2 ünïcode"
		s := Start(t, Options{
			Version:           v,
			Password:          "pass word, with; \"quotes\"",
			SuperUserPassword: "root pw",
			Welcome:           welcome,
			MaxBandwidth:      54321,
			MaxUsers:          2,
		})
		if s.SuperUserPassword != "root pw" {
			t.Errorf("SuperUserPassword = %q", s.SuperUserPassword)
		}
		var rej *rejectError
		if _, _, err := login(t, s, "guest", "wrong"); !errors.As(err, &rej) || rej.typ != 4 {
			t.Errorf("wrong server password: %v, want Reject WrongServerPW (4)", err)
		}
		_, sync, err := login(t, s, "guest", s.Password)
		if err != nil {
			t.Fatalf("right server password: %v", err)
		}
		if sync.welcomeText != welcome {
			t.Errorf("welcome text %q, want %q", sync.welcomeText, welcome)
		}
		if sync.maxBandwidth != 54321 {
			t.Errorf("max bandwidth %d, want 54321", sync.maxBandwidth)
		}
		if _, _, err := login(t, s, "SuperUser", "wrong"); !errors.As(err, &rej) || rej.typ != 3 {
			t.Errorf("wrong SuperUser password: %v, want Reject WrongUserPW (3)", err)
		}
		if _, _, err := login(t, s, "SuperUser", "root pw"); err != nil {
			t.Errorf("SuperUser login: %v", err)
		}
		// Two users are connected: the third finds the server full.
		if _, _, err := login(t, s, "third", s.Password); !errors.As(err, &rej) || rej.typ != 6 {
			t.Errorf("third user: %v, want Reject ServerFull (6)", err)
		}
	})
}

func TestRandomSuperUserPassword(t *testing.T) {
	s := Start(t, Options{})
	if len(s.SuperUserPassword) < 16 {
		t.Fatalf("SuperUserPassword = %q, want a long random one", s.SuperUserPassword)
	}
	if _, _, err := login(t, s, "SuperUser", s.SuperUserPassword); err != nil {
		t.Errorf("SuperUser login: %v", err)
	}
}

func TestChannels(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		s := Start(t, Options{Version: v, Channels: []string{"Lobby", "Lobby/Sub", "Music/Jazz", "Lobby"}})
		paths := make([]string, 0, len(s.Channels))
		for p := range s.Channels {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		if want := []string{"Lobby", "Lobby/Sub", "Music", "Music/Jazz"}; !slices.Equal(paths, want) {
			t.Fatalf("Channels has %q, want %q", paths, want)
		}
		// A guest sees them, with the right parents.
		c, _, err := login(t, s, "guest", "")
		if err != nil {
			t.Fatal(err)
		}
		for path, id := range s.Channels {
			name, parentPath := path, ""
			if i := strings.LastIndex(path, "/"); i >= 0 {
				name, parentPath = path[i+1:], path[:i]
			}
			ch, ok := c.channels[id]
			if !ok {
				t.Errorf("guest does not see channel %d (%s)", id, path)
				continue
			}
			wantParent := uint32(0)
			if parentPath != "" {
				wantParent = s.Channels[parentPath]
			}
			if ch.name != name || ch.parent != wantParent {
				t.Errorf("channel %d = %q under %d, want %q under %d", id, ch.name, ch.parent, name, wantParent)
			}
		}
	})
}

func TestStartProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Mumble server; skipped with -short")
	}
	if err := Available(V13); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	s, err := StartProcess(testContext(t), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Dir != dir {
		t.Errorf("Dir = %s, want %s", s.Dir, dir)
	}
	for _, name := range []string{iniName, databaseName, consoleName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	ini, err := os.ReadFile(filepath.Join(dir, iniName))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"host=127.0.0.1", "port=" + strconv.Itoa(s.Port), "autobanAttempts=0", "opusthreshold=0"} {
		if !bytes.Contains(ini, []byte("\n"+line+"\n")) {
			t.Errorf("ini lacks %q:\n%s", line, ini)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	assertRefused(t, s.Addr)
}

// TestPortInUse checks that a server whose TCP or UDP port was taken is
// recognised as such, and that a retry on another port (what StartProcess
// does) works.
func TestPortInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Mumble servers; skipped with -short")
	}
	forEachVersion(t, func(t *testing.T, v Version) {
		bin, err := serverBinary(v)
		if err != nil {
			t.Skip(err)
		}
		dir := t.TempDir()
		opts := Options{Version: v}
		ini := filepath.Join(dir, iniName)
		console, err := os.Create(filepath.Join(dir, consoleName))
		if err != nil {
			t.Fatal(err)
		}
		defer console.Close()
		s := &Server{Dir: dir, Version: v}
		start := func(port int) error {
			t.Helper()
			if err := os.WriteFile(ini, murmur.FormatINI("test", iniSettings(dir, port, &opts)), 0o600); err != nil {
				t.Fatal(err)
			}
			return s.run(testContext(t), bin, ini, port, console)
		}

		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := start(l.Addr().(*net.TCPAddr).Port); !errors.Is(err, errPortInUse) {
			t.Fatalf("TCP port taken: %v, want errPortInUse\n%s", err, s.Log())
		}
		if s.Running() {
			t.Error("server still running after a failed start")
		}

		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		if err := start(u.LocalAddr().(*net.UDPAddr).Port); !errors.Is(err, errPortInUse) {
			t.Fatalf("UDP port taken: %v, want errPortInUse\n%s", err, s.Log())
		}
		if s.Running() {
			t.Error("server still running after a failed start")
		}

		// A retry on a free port succeeds although the log still holds the
		// failed attempts.
		port, err := murmur.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if err := start(port); err != nil {
			t.Fatalf("retry on a free port: %v\n%s", err, s.Log())
		}
		defer s.Kill()
		if s.Port != port || s.Fingerprint() == "" {
			t.Errorf("after retry: Port %d (want %d), Fingerprint %q", s.Port, port, s.Fingerprint())
		}
	})
}

func TestInvalidOptions(t *testing.T) {
	for _, opts := range []Options{
		{MaxBandwidth: -1},
		{MaxUsers: -5},
		{Version: 14},
		{Channels: []string{"A//B"}},
		{Channels: []string{""}},
		{Extra: map[string]string{"port": "1"}},
		{Extra: map[string]string{"host": "0.0.0.0"}},
		{Extra: map[string]string{"a=b": "1"}},
		{Extra: map[string]string{"welcometext": "two\nlines"}},
		{SuperUserPassword: "a\nb"},
	} {
		s, err := StartProcess(testContext(t), t.TempDir(), opts)
		if err == nil {
			s.Close()
			t.Errorf("StartProcess(%+v) succeeded", opts)
		}
	}
}

func TestMissingBinarySkips(t *testing.T) {
	t.Setenv("TUMBLE_MURMUR15_PREFIX", t.TempDir())
	t.Setenv("TUMBLE_REQUIRE_SERVERS", "")
	err := Available(V15)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Available(V15) with an empty prefix: %v, want os.ErrNotExist", err)
	}
	var sub *testing.T
	t.Run("start", func(t *testing.T) {
		sub = t
		Start(t, Options{Version: V15})
		t.Error("Start returned without a server binary")
	})
	if !sub.Skipped() {
		t.Error("Start did not skip the test")
	}
}

// TestMissingBinaryFailsWhenRequired runs this test binary again with
// TUMBLE_REQUIRE_SERVERS=1 and no Mumble 1.5 server: the test must fail.
func TestMissingBinaryFailsWhenRequired(t *testing.T) {
	if os.Getenv("MURMURTEST_CHILD") == "1" {
		Start(t, Options{Version: V15})
		t.Log("Start returned without a server binary")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		require string
		want    string
	}{
		{"1", "--- FAIL"},
		{"", "--- SKIP"},
	} {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestMissingBinaryFailsWhenRequired$", "-test.v")
		cmd.Env = append(os.Environ(),
			"MURMURTEST_CHILD=1",
			"TUMBLE_MURMUR15_PREFIX="+t.TempDir(),
			"TUMBLE_REQUIRE_SERVERS="+tc.require)
		out, err := cmd.CombinedOutput()
		if tc.require == "1" && err == nil {
			t.Errorf("TUMBLE_REQUIRE_SERVERS=1: child test passed:\n%s", out)
		}
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "not prepared") {
			t.Errorf("TUMBLE_REQUIRE_SERVERS=%q: want %q and the reason in the output:\n%s", tc.require, tc.want, out)
		}
	}
}

func TestINIQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":          `""`,
		"plain":     `"plain"`,
		`a"b\c`:     `"a\"b\\c"`,
		"x\ny\tz\r": `"x\ny\tz\r"`,
		"a, b; c=d": `"a, b; c=d"`,
	} {
		if got := murmur.QuoteINI(in); got != want {
			t.Errorf("QuoteINI(%q) = %s, want %s", in, got, want)
		}
	}
}

// BenchmarkStart measures starting a server until it completes a TLS
// handshake, and stopping it. It reports the median start time and the
// server's resident memory right after the start.
func BenchmarkStart(b *testing.B) {
	for _, v := range Versions() {
		b.Run(v.String(), func(b *testing.B) {
			if err := Available(v); err != nil {
				b.Skip(err)
			}
			var starts []time.Duration
			var rss int64
			for b.Loop() {
				dir := b.TempDir()
				t0 := time.Now()
				s, err := StartProcess(b.Context(), dir, Options{Version: v})
				if err != nil {
					b.Fatal(err)
				}
				starts = append(starts, time.Since(t0))
				if kb, err := rssKiB(s.Pid()); err == nil {
					rss = max(rss, kb)
				}
				if err := s.Close(); err != nil {
					b.Fatalf("%v\n%s", err, s.Log())
				}
			}
			slices.Sort(starts)
			b.ReportMetric(float64(starts[len(starts)/2].Microseconds())/1000, "median-start-ms")
			b.ReportMetric(float64(rss), "server-rss-KiB")
		})
	}
}

// rssKiB returns a process's resident set size from /proc.
func rssKiB(pid int) (int64, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func TestMurmur15Prefix(t *testing.T) {
	t.Setenv("HOME", "/home/h")
	t.Setenv("TUMBLE_CACHE", "")
	t.Setenv("TUMBLE_MURMUR15_PREFIX", "")
	if got, want := Murmur15Prefix(), "/home/h/.cache/tumble/murmur-1.5"; got != want {
		t.Errorf("default: %s, want %s", got, want)
	}
	t.Setenv("TUMBLE_CACHE", "/c")
	if got, want := Murmur15Prefix(), "/c/murmur-1.5"; got != want {
		t.Errorf("with TUMBLE_CACHE: %s, want %s", got, want)
	}
	t.Setenv("TUMBLE_MURMUR15_PREFIX", "/p")
	if got, want := Murmur15Prefix(), "/p"; got != want {
		t.Errorf("with TUMBLE_MURMUR15_PREFIX: %s, want %s", got, want)
	}
}

func TestVersionString(t *testing.T) {
	for v, want := range map[Version]string{0: "1.3", V13: "1.3", V15: "1.5", 14: "Version(14)"} {
		if got := v.String(); got != want {
			t.Errorf("Version(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}

// TestWaitUser: WaitUser returns once the server's log shows the user
// authenticated, or moved into the channel, after the mark; until the
// move it keeps waiting, and it fails once the server is gone.
func TestWaitUser(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v Version) {
		s := Start(t, Options{Version: v, Channels: []string{"Lab"}})
		c, sync, err := login(t, s, "guest", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := testContext(t)
		if err := s.WaitUser(ctx, 0, "guest", ""); err != nil {
			t.Fatalf("WaitUser after login: %v", err)
		}
		if !s.UserOnline("guest") || s.UserOnline("nobody") {
			t.Errorf("UserOnline after login: guest %v, nobody %v; want true, false", s.UserOnline("guest"), s.UserOnline("nobody"))
		}
		mark := s.LogMark()
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err = s.WaitUser(short, mark, "guest", "")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitUser for a login before the mark: %v, want the deadline", err)
		}
		short, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
		err = s.WaitUser(short, mark, "guest", "Lab")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitUser for a move not made: %v, want the deadline", err)
		}
		// UserState{session, channel_id}: join Lab.
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.VarintType)
		m = protowire.AppendVarint(m, uint64(sync.session))
		m = protowire.AppendTag(m, 5, protowire.VarintType)
		m = protowire.AppendVarint(m, uint64(s.Channels["Lab"]))
		if err := c.send(msgUserState, m); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitUser(ctx, mark, "guest", "Lab"); err != nil {
			t.Fatalf("WaitUser after the move: %v", err)
		}
		// Gone: the log's last word on guest is the closed connection.
		c.Close()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for s.UserOnline("guest") {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatal("UserOnline still true after guest's connection closed")
			}
		}
		if err := s.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitUser(ctx, 0, "nobody", ""); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitUser on a killed server: %v, want that it exited", err)
		}
	})
}
