package tor

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	testFpr  = "D9A82D2F9C2F65A18407B1D2B764F130847F8B5D"
	testCert = "qqTGb50kxZAGtS9vNwiWv6+lU1LmLUqySKZBPsSjLmAtKIjQUMr4cm2DAC0oZe0r9B6W5g"
)

func TestParseBridgeLinesGood(t *testing.T) {
	lines := []string{
		"# from bridges.torproject.org",
		"obfs4 192.0.2.1:443 " + testFpr + " cert=" + testCert + " iat-mode=0",
		"",
		"Bridge obfs4 [2001:db8::1]:8443 " + strings.ToLower(testFpr) + " cert=" + testCert + " iat-mode=2",
		"  192.0.2.9:9001 " + testFpr + "  ",
		"webtunnel [2001:db8::2]:443 " + testFpr + " url=https://example.com/secret ver=0.0.1",
	}
	lines = append(lines, DefaultSnowflakeBridges...)
	bs, err := ParseBridgeLines(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 6 {
		t.Fatalf("got %d bridges, want 6: %+v", len(bs), bs)
	}
	want := []struct{ transport, addr, line string }{
		{"obfs4", "192.0.2.1:443", "obfs4 192.0.2.1:443 " + testFpr + " cert=" + testCert + " iat-mode=0"},
		{"obfs4", "[2001:db8::1]:8443", "obfs4 [2001:db8::1]:8443 " + testFpr + " cert=" + testCert + " iat-mode=2"},
		{"", "192.0.2.9:9001", "192.0.2.9:9001 " + testFpr},
		{"webtunnel", "[2001:db8::2]:443", "webtunnel [2001:db8::2]:443 " + testFpr + " url=https://example.com/secret ver=0.0.1"},
		{"snowflake", "192.0.2.4:80", DefaultSnowflakeBridges[0]},
		{"snowflake", "192.0.2.3:80", DefaultSnowflakeBridges[1]},
	}
	for i, w := range want {
		b := bs[i]
		if b.Transport != w.transport || b.Addr != w.addr || b.String() != w.line {
			t.Errorf("bridge %d: %q %q %q, want %q %q %q", i, b.Transport, b.Addr, b.String(), w.transport, w.addr, w.line)
		}
	}
	if got := bs[0].Name(); got != "obfs4 192.0.2.1:443 D9A82D2F" {
		t.Errorf("Name = %q", got)
	}
}

func TestParseBridgeLinesErrors(t *testing.T) {
	obfs := "obfs4 192.0.2.1:443 " + testFpr + " "
	for _, tc := range []struct{ line, want string }{
		{"meek_lite 192.0.2.20:80 " + testFpr + " url=https://x/", `unknown transport "meek_lite" (Tumble knows obfs4, snowflake, webtunnel)`},
		{"obfs4", "missing address IP:PORT"},
		{"obfs4 bridge.example.com:443 " + testFpr, `host "bridge.example.com" must be an IP address`},
		{"obfs4 192.0.2.1 " + testFpr, "missing port"},
		{"obfs4 192.0.2.1:0 " + testFpr, "want a number in 1..65535"},
		{"obfs4 192.0.2.1:70000 " + testFpr, "want a number in 1..65535"},
		{"192.0.2.1:443", "missing fingerprint"},
		{"obfs4 192.0.2.1:443 cert=" + testCert + " iat-mode=0", "missing fingerprint"},
		{"obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5", "want 40 hex digits, have 39"},
		{"obfs4 192.0.2.1:443 X9A82D2F9C2F65A18407B1D2B764F130847F8B5D", `'X' is not a hex digit`},
		{obfs + "iat-mode=0", "obfs4 needs cert="},
		{obfs + "cert=" + testCert[:60] + " iat-mode=0", "want 70 base64 characters"},
		{obfs + "cert=" + testCert, "obfs4 needs iat-mode=0, 1 or 2"},
		{obfs + "cert=" + testCert + " iat-mode=3", "iat-mode=3: want 0, 1 or 2"},
		{obfs + "cert=" + testCert + " iat-mode=0 iat-mode=1", "iat-mode given twice"},
		{obfs + "cert=" + testCert + " junk", `argument "junk": want KEY=VALUE`},
		{obfs + "cert=", "argument cert: empty value"},
		{"192.0.2.1:443 " + testFpr + " cert=x", "unexpected"},
		{"snowflake 192.0.2.3:80 " + testFpr + " fronts=a.example", "snowflake needs url="},
		{"snowflake 192.0.2.3:80 " + testFpr + " url=http://broker.example/", "want https://HOST/PATH"},
		{"snowflake 192.0.2.3:80 " + testFpr + " url=https://b.example/ fronts=a.example,bad_host!", `"bad_host!" is not a host name`},
		{"snowflake 192.0.2.3:80 " + testFpr + " url=https://b.example/ ice=stun:s.example:3478,http://x", `"http://x" is not a stun: or turn: URL`},
		{"snowflake 192.0.2.3:80 " + testFpr + " url=https://b.example/ utls-imitate=a.b", "utls-imitate=a.b"},
		{"snowflake 192.0.2.3:80 " + testFpr + " url=https://b.example/ fingerprint=1234", "snowflake fingerprint=: fingerprint \"1234\": want 40 hex digits"},
		{"webtunnel 192.0.2.3:443 " + testFpr, "webtunnel needs url="},
	} {
		_, err := ParseBridgeLine(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.line, err, tc.want)
		}
	}
}

// TestParseBridgeLinesPerLine checks that every bad line is reported with
// its number, and the good lines are still returned.
func TestParseBridgeLinesPerLine(t *testing.T) {
	text := "obfs4 192.0.2.1:443 " + testFpr + " cert=" + testCert + " iat-mode=0\r\n" +
		"obfs5 192.0.2.1:443 " + testFpr + "\n" +
		"\n" +
		"obfs4 192.0.2.1:443 " + testFpr + "\n"
	bs, err := ParseBridgeLines(SplitBridgeLines(text))
	if len(bs) != 1 {
		t.Errorf("good bridges: %d, want 1", len(bs))
	}
	var le *BridgeLinesError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *BridgeLinesError", err)
	}
	if len(le.Lines) != 2 || le.Lines[0].Line != 2 || le.Lines[1].Line != 4 {
		t.Fatalf("bad lines: %v", err)
	}
	if !strings.Contains(le.Lines[0].Error(), `bridge line 2 (obfs5 192.0.2.1:443`) || !strings.Contains(le.Lines[1].Error(), "obfs4 needs cert=") {
		t.Errorf("messages: %q / %q", le.Lines[0], le.Lines[1])
	}
	if !strings.HasPrefix(err.Error(), "tor: bridge line 2") {
		t.Errorf("joined message: %q", err)
	}
}

func fakeLook(found map[string]string) func(string) (string, error) {
	return func(prog string) (string, error) {
		if p, ok := found[prog]; ok {
			return p, nil
		}
		return "", os.ErrNotExist
	}
}

func TestBridgeTorrc(t *testing.T) {
	s := &Server{
		UseBridges: true,
		Bridges: append([]string{
			"obfs4 192.0.2.1:443 " + testFpr + " cert=" + testCert + " iat-mode=0",
			"obfs4 192.0.2.2:443 " + testFpr + " cert=" + testCert + " iat-mode=1",
		}, DefaultSnowflakeBridges...),
		lookPath: fakeLook(map[string]string{"lyrebird": "/opt/pt/lyrebird", "snowflake-client": "/opt/pt/snowflake-client"}),
	}
	lines, bridges, err := s.bridgeTorrc()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"UseBridges 1",
		"ClientTransportPlugin obfs4 exec /opt/pt/lyrebird",
		"ClientTransportPlugin snowflake exec /opt/pt/snowflake-client",
		"Bridge obfs4 192.0.2.1:443 " + testFpr + " cert=" + testCert + " iat-mode=0",
		"Bridge obfs4 192.0.2.2:443 " + testFpr + " cert=" + testCert + " iat-mode=1",
		"Bridge " + DefaultSnowflakeBridges[0],
		"Bridge " + DefaultSnowflakeBridges[1],
	}
	if !slices.Equal(lines, want) || len(bridges) != 4 {
		t.Errorf("torrc:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	s.UseBridges = false
	if lines, _, err := s.bridgeTorrc(); lines != nil || err != nil {
		t.Errorf("bridges off: %q, %v", lines, err)
	}
}

func TestBridgeTorrcErrors(t *testing.T) {
	obfs4 := "obfs4 192.0.2.1:443 " + testFpr + " cert=" + testCert + " iat-mode=0"
	dir := t.TempDir()
	notExec := filepath.Join(dir, "obfs4proxy")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		s     *Server
		want  string
		isErr error
	}{
		{"no lines", &Server{UseBridges: true, Bridges: []string{"# none", ""}}, "UseBridges is on but there are no bridge lines", nil},
		{"bad line", &Server{UseBridges: true, Bridges: []string{obfs4, "obfs4 1.2.3.4:5"}}, "tor: bridge line 2", nil},
		{"missing obfs4proxy", &Server{UseBridges: true, Bridges: []string{obfs4}, lookPath: fakeLook(nil)},
			"tor: pluggable transport program not installed: obfs4 bridges need the program obfs4proxy: install Debian package obfs4proxy (or lyrebird)", ErrNoTransport},
		{"missing snowflake-client", &Server{UseBridges: true, Bridges: DefaultSnowflakeBridges, lookPath: fakeLook(nil)},
			"snowflake bridges need the program snowflake-client: install Debian package snowflake-client", ErrNoTransport},
		{"configured path not executable", &Server{UseBridges: true, Bridges: []string{obfs4}, TransportPaths: map[string]string{"obfs4": notExec}},
			"obfs4 transport program " + notExec + ": not an executable file", ErrNoTransport},
		{"path with space", &Server{UseBridges: true, Bridges: []string{obfs4}, lookPath: fakeLook(map[string]string{"obfs4proxy": "/my pt/obfs4proxy"})},
			"Tor cannot run a path with spaces", nil},
	} {
		_, _, err := tc.s.bridgeTorrc()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if tc.isErr != nil && !errors.Is(err, tc.isErr) {
			t.Errorf("%s: %v is not %v", tc.name, err, tc.isErr)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tc.name, err)
		}
	}
}

// TestBridgesRefusedOutsideEmbedded: in socks mode the bridges belong in the
// Tor that owns the SOCKS port; Start says so and connects nowhere.
func TestBridgesRefusedOutsideEmbedded(t *testing.T) {
	for _, tc := range []struct {
		s    *Server
		want string
	}{
		{&Server{Mode: ModeSOCKS, SOCKSAddr: "127.0.0.1:9", UseBridges: true, Bridges: DefaultSnowflakeBridges},
			"tor: bridges apply only to the embedded Tor: Tumble uses the Tor at 127.0.0.1:9, so bridges are configured in that Tor (Tor Browser, Orbot, Tails or the Whonix gateway), not in Tumble"},
		{&Server{Mode: ModeOff, UseBridges: true, Bridges: DefaultSnowflakeBridges}, "Tor is off"},
	} {
		rec := &dialRecorder{}
		tc.s.netDialer, tc.s.rootDir = rec.dialer(), t.TempDir()
		err := tc.s.Start(context.Background())
		if !errors.Is(err, ErrBridgesNotHere) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: Start: %v, want %q", tc.s.Mode, err, tc.want)
		}
		tc.s.Close()
		if a := rec.Addrs(); len(a) != 0 {
			t.Errorf("%v: connected to %v", tc.s.Mode, a)
		}
	}
	// Bridges configured but not used are not an error.
	s := &Server{Mode: ModeOff, Bridges: DefaultSnowflakeBridges, rootDir: t.TempDir()}
	if err := s.Start(context.Background()); err != nil {
		t.Errorf("bridges off: %v", err)
	}
	s.Close()
}

// TestSetBridgesOutsideEmbedded: SetBridges needs a started Server; in
// socks and off modes turning bridges on is refused and turning them off
// does nothing; after Close it reports net.ErrClosed.
func TestSetBridgesOutsideEmbedded(t *testing.T) {
	ctx := context.Background()
	s := &Server{Mode: ModeOff, rootDir: t.TempDir()}
	if err := s.SetBridges(ctx, false, nil); err == nil || !strings.Contains(err.Error(), "not been started") {
		t.Errorf("before Start: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBridges(ctx, true, DefaultSnowflakeBridges); !errors.Is(err, ErrBridgesNotHere) {
		t.Errorf("off mode, bridges on: %v, want ErrBridgesNotHere", err)
	}
	if err := s.SetBridges(ctx, false, nil); err != nil {
		t.Errorf("off mode, bridges off: %v", err)
	}
	s.Close()
	if err := s.SetBridges(ctx, false, nil); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close: %v, want net.ErrClosed", err)
	}
	socks := &Server{Mode: ModeSOCKS, SOCKSAddr: "127.0.0.1:9", rootDir: t.TempDir(), netDialer: (&dialRecorder{}).dialer()}
	defer socks.Close()
	if err := socks.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := socks.SetBridges(ctx, true, DefaultSnowflakeBridges); !errors.Is(err, ErrBridgesNotHere) || !strings.Contains(err.Error(), "configured in that Tor") {
		t.Errorf("socks mode, bridges on: %v", err)
	}
}

func TestBridgeFor(t *testing.T) {
	bs, err := ParseBridgeLines([]string{"obfs4 127.0.0.2:4433 " + testFpr + " cert=" + testCert + " iat-mode=0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"$" + testFpr + "~b0", "$" + testFpr, strings.ToLower(testFpr), "127.0.0.2:4433", "$" + testFpr + "=b0"} {
		if b, ok := bridgeFor(bs, target); !ok || b.Addr != "127.0.0.2:4433" {
			t.Errorf("bridgeFor(%q) = %v, %v", target, b, ok)
		}
	}
	for _, target := range []string{"127.0.0.1:4433", "$0000000000000000000000000000000000000000~r1", ""} {
		if _, ok := bridgeFor(bs, target); ok {
			t.Errorf("bridgeFor(%q) found a bridge", target)
		}
	}
}

func TestParseBootstrapHost(t *testing.T) {
	ph, err := parseBootstrap(`WARN BOOTSTRAP PROGRESS=1 TAG=conn_pt SUMMARY="Connecting to pluggable transport" WARNING="Connection refused" REASON=CONNECTREFUSED COUNT=1 RECOMMENDATION=ignore HOSTID="$` + testFpr + `" HOSTADDR="127.0.0.2:4433"`)
	if err != nil {
		t.Fatal(err)
	}
	if ph.HostID != "$"+testFpr || ph.HostAddr != "127.0.0.2:4433" || ph.Reason != "CONNECTREFUSED" {
		t.Errorf("%+v", ph)
	}
}

// TestStuckHint checks the status a Server shows when Tor has not reached
// a relay in time, and that it goes once Tor gets further.
func TestStuckHint(t *testing.T) {
	s := &Server{BridgeHintAfter: 45_000_000_000}
	s.init()
	s.applyBootstrap(bootstrapPhase{Progress: 5, Tag: "conn", Summary: "Connecting to a relay"})
	s.stuckHint(false)
	st := s.Status()
	if !st.SuggestBridges || st.Hint != "Tor has been stuck at 5% for 45s: this network may block Tor; try bridges (Settings > Network > Use bridges)" {
		t.Errorf("without bridges: %+v", st)
	}
	if st.String() != st.Hint {
		t.Errorf("String() = %q, want the hint", st.String())
	}
	s.applyBootstrap(bootstrapPhase{Progress: 10, Tag: "conn_done", Summary: "Connected to a relay"})
	if st := s.Status(); st.Hint != "" || st.SuggestBridges {
		t.Errorf("hint stays after progress: %+v", st)
	}
	s.stuckHint(false) // too late: Tor got further
	if st := s.Status(); st.Hint != "" {
		t.Errorf("hint at 10%%: %+v", st)
	}

	s2 := &Server{}
	s2.init()
	s2.applyBootstrap(bootstrapPhase{Progress: 1, Tag: "conn_pt", Summary: "Connecting to pluggable transport"})
	s2.stuckHint(true)
	if st := s2.Status(); st.SuggestBridges || !strings.Contains(st.Hint, "stuck at 1% for 30s: the bridges may be blocked or down") {
		t.Errorf("with bridges: %+v", st)
	}
	bs, err := ParseBridgeLines([]string{"obfs4 127.0.0.2:4433 " + testFpr + " cert=" + testCert + " iat-mode=0"})
	if err != nil {
		t.Fatal(err)
	}
	s2.bridgeProblem(bs, "$0000000000000000000000000000000000000000~r1", "", "connection refused")
	if st := s2.Status(); st.BridgeFailure != "" {
		t.Errorf("a relay's failure named as a bridge's: %q", st.BridgeFailure)
	}
	s2.bridgeProblem(bs, "", "127.0.0.2:4433", "connection refused")
	if st := s2.Status(); st.BridgeFailure != "obfs4 127.0.0.2:4433 D9A82D2F: connection refused" {
		t.Errorf("BridgeFailure = %q", st.BridgeFailure)
	}
	s2.setReady("done", "Done")
	if st := s2.Status(); st.BridgeFailure != "" || st.Hint != "" {
		t.Errorf("ready keeps hints: %+v", st)
	}
}

func TestParseConnWarning(t *testing.T) {
	id, addr, why, ok := parseConnWarning(`Proxy Client: unable to connect OR connection (handshaking (proxy)) with 127.0.0.2:1 ID=<none> RSA_ID=` + testFpr + ` ("general SOCKS server failure")`)
	if !ok || id != testFpr || addr != "127.0.0.2:1" || why != "general SOCKS server failure" {
		t.Errorf("parseConnWarning = %q %q %q %v", id, addr, why, ok)
	}
	if _, _, _, ok := parseConnWarning("You are running Tor as root."); ok {
		t.Error("an unrelated warning was taken for a connection failure")
	}
	for _, raw := range []string{"unable to connect OR connection", `unable to connect OR connection with ("`, `unable to connect OR connection RSA_ID=")`} {
		parseConnWarning(raw) // must not panic
	}
}
