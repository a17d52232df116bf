//go:build libtor

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor"
)

// bridged returns the flags for an embedded Tor on the private network that
// may reach it only through the network's obfs4 bridge.
func (w *torWorld) bridged() []string {
	return []string{"--tor", "embedded", "--torrc", w.btorrc, "--amnesic", "--bridge", w.net.BridgeLine()}
}

// connectTargets returns the IP:PORT of every TCP connect in an strace log.
func connectTargets(trace string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(trace))
	for sc.Scan() {
		if m := reConnect.FindStringSubmatch(sc.Text()); m != nil && m[1] != "AF_UNIX" {
			out = append(out, net.JoinHostPort(m[3]+m[4], m[2]))
		}
	}
	return out
}

// TestObfs4BridgeOnly: tumble-cli given only the bridge line bootstraps
// through the obfs4 bridge and reaches the Mumble server's onion. strace,
// watching it and its transport from outside, shows no connection to any
// relay or authority: of the network, only the bridge's obfs4 port on
// 127.0.0.2 (everything else on the network is on 127.0.0.1) is contacted.
func TestObfs4BridgeOnly(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	relays, err := w.net.RelayAddrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	trace, r := straceRun(ctx, t, append([]string{"--server", server, "--user", "bridged", "--say", "through a bridge"}, w.bridged()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if len(r.find("connected")) != 1 {
		t.Fatalf("not connected: %v", r.events)
	}
	checkNoLeak(t, trace, w.srv.Port)
	toBridge := 0
	for _, a := range connectTargets(trace) {
		if slices.Contains(relays, a) {
			t.Errorf("direct connection to relay or authority %s", a)
		}
		host, _, _ := net.SplitHostPort(a)
		switch {
		case a == w.net.BridgeAddr():
			toBridge++
		case host != "127.0.0.1":
			// 127.0.0.1 holds the process's own listeners (its Tor's
			// SOCKS port, the transport's SOCKS port); relays there
			// are checked above.
			t.Errorf("connection to %s, neither the bridge nor this machine's own listeners", a)
		}
	}
	if toBridge == 0 {
		t.Fatalf("strace saw no connection to the bridge %s: the check is blind", w.net.BridgeAddr())
	}
	t.Logf("%d connections to the bridge's obfs4 port, none to %d relay/authority addresses", toBridge, len(relays))
}

// TestBadBridgeLines: malformed lines and unknown transports stop
// tumble-cli before it starts Tor, with one message per bad line.
func TestBadBridgeLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bridges.txt")
	if err := os.WriteFile(file, []byte("# mine\nobfs4 192.0.2.1:443\nmeek_lite 192.0.2.2:80 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D url=https://x/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--bridge", "obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=abc iat-mode=0"},
			[]string{"bridge line 1", "obfs4 cert=abc: want 70 base64 characters"}},
		{[]string{"--bridges-file", file},
			[]string{"bridge line 2 (obfs4 192.0.2.1:443): missing fingerprint", `bridge line 3 (meek_lite 192.0.2.2:80`, `unknown transport "meek_lite"`}},
	} {
		r := startCLI(ctx, t, append([]string{"--server", "x.example:64738", "--user", "u", "--tor", "embedded"}, tc.args...)...)()
		if r.err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr %q does not contain %q", tc.args, r.stderr, w)
			}
		}
	}
	r := startCLI(ctx, t, "--server", "x.example:64738", "--user", "u", "--tor", "socks=127.0.0.1:9", "--bridge", w0bridge)()
	if r.err == nil || !strings.Contains(r.stderr, "bridges are configured in that Tor") {
		t.Errorf("socks mode with bridges: %v %q", r.err, r.stderr)
	}
}

// w0bridge is a well-formed obfs4 bridge line for a bridge that is nowhere.
const w0bridge = "obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=qqTGb50kxZAGtS9vNwiWv6+lU1LmLUqySKZBPsSjLmAtKIjQUMr4cm2DAC0oZe0r9B6W5g iat-mode=0"

// TestDeadBridge: a bridge that refuses connections is named in the "tor"
// events (bridge_failure), while tumble-cli keeps waiting for Tor.
func TestDeadBridge(t *testing.T) {
	w := setupTorWorld(t)
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	fields := strings.Fields(w.net.BridgeLine())
	fields[1] = dead
	line := strings.Join(fields, " ")
	want := "obfs4 " + dead + " " + fields[2][:8] + ": "
	ev := watchCLI(t, nil, func(ev map[string]any) bool { return ev["bridge_failure"] != nil },
		"--server", "x.example:64738", "--user", "u", "--tor", "embedded", "--torrc", w.btorrc, "--amnesic", "--bridge", line)
	if f, _ := ev["bridge_failure"].(string); !strings.HasPrefix(f, want) {
		t.Errorf("bridge_failure %q, want it to start with %q", f, want)
	}
	t.Logf("tor event: %v", ev)
}

// watchCLI runs tumble-cli --json with args and extra environment until it
// prints an event for which until is true, and returns that event. It fails
// the test if tumble-cli gets ready or ends first.
func watchCLI(t *testing.T, env []string, until func(map[string]any) bool, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliPath, append([]string{"--json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if ev["event"] == "tor-ready" || ev["event"] == "connected" {
			t.Fatalf("unexpectedly ready: %v", ev)
		}
		if until(ev) {
			return ev
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("tumble-cli ended before the awaited event: %v\n%s", sc.Err(), stderr.String())
	return nil
}

// TestSnowflakeManagedProxy: with a built-in Snowflake bridge line, Tor
// runs snowflake-client (here the test binary, put first on PATH under that
// name: see runFakePT) as a managed proxy with the PT protocol's
// environment, and hands it the bridge's broker, fronts, STUN servers and
// uTLS settings in the SOCKS5 handshake. Snowflake itself cannot run here
// (it needs its broker and WebRTC peers on the Internet).
func TestSnowflakeManagedProxy(t *testing.T) {
	w := setupTorWorld(t)
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "snowflake-client")); err != nil {
		t.Fatal(err)
	}
	logName := filepath.Join(dir, "pt.json")
	env := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), fakePTEnv + "=" + logName}
	line := tor.DefaultSnowflakeBridges[0]
	watchCLI(t, env, func(ev map[string]any) bool { return ev["bridge_failure"] != nil },
		"--server", "x.example:64738", "--user", "u", "--tor", "embedded", "--torrc", w.btorrc, "--amnesic", "--bridge", line)
	b, err := os.ReadFile(logName)
	if err != nil {
		t.Fatalf("the fake snowflake-client was not started: %v", err)
	}
	var rec fakePTRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Args) != 1 || filepath.Base(rec.Args[0]) != "snowflake-client" {
		t.Errorf("argv %q, want the program alone", rec.Args)
	}
	if rec.Env["TOR_PT_MANAGED_TRANSPORT_VER"] != "1" || rec.Env["TOR_PT_CLIENT_TRANSPORTS"] != "snowflake" || rec.Env["TOR_PT_STATE_LOCATION"] == "" {
		t.Errorf("PT environment %v", rec.Env)
	}
	f := strings.Fields(line)
	wantArgs := strings.Join(f[3:], ";")
	if rec.BridgeArgs != wantArgs {
		t.Errorf("bridge arguments\n%q\nwant\n%q", rec.BridgeArgs, wantArgs)
	}
	if rec.Target != f[1] {
		t.Errorf("target %q, want %q", rec.Target, f[1])
	}
}

// BenchmarkTorBootstrap reports the embedded Tor's bootstrap time (Tor
// started to bootstrapped, tumble-cli's tor-ready event) on the private
// network, directly and through the obfs4 bridge, interleaved in one run so
// that machine load hits both alike. Each run ends at the connection to the
// onion, which checks that the Tor was usable.
func BenchmarkTorBootstrap(b *testing.B) {
	w := setupTorWorld(b)
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	var direct, obfs4 []time.Duration
	for i := 0; b.Loop(); i++ {
		for _, bridged := range []bool{false, true} {
			args := []string{"--server", server, "--user", fmt.Sprintf("boot%d", i)}
			if bridged {
				args = append(args, w.bridged()...)
			} else {
				args = append(args, w.embedded()...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			r := startCLI(ctx, b, args...)()
			cancel()
			if r.err != nil {
				b.Fatalf("%v\n%s", r.err, r.stderr)
			}
			evs := r.find("tor-ready")
			if len(evs) != 1 {
				b.Fatalf("tor-ready events: %v", evs)
			}
			secs, _ := evs[0]["seconds"].(float64)
			d := time.Duration(secs * float64(time.Second))
			if bridged {
				obfs4 = append(obfs4, d)
			} else {
				direct = append(direct, d)
			}
		}
	}
	b.ReportMetric(float64(median(direct).Milliseconds()), "tor_bootstrap_direct_ms")
	b.ReportMetric(float64(median(obfs4).Milliseconds()), "tor_bootstrap_obfs4_ms")
	b.ReportMetric(0, "ns/op")
}
