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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliPath, "--json", "--server", "x.example:64738", "--user", "u",
		"--tor", "embedded", "--torrc", w.btorrc, "--amnesic", "--bridge", line)
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
	want := "obfs4 " + dead + " " + fields[2][:8] + ": "
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if ev["event"] == "tor-ready" || ev["event"] == "connected" {
			t.Fatalf("ready through a dead bridge: %v", ev)
		}
		if f, _ := ev["bridge_failure"].(string); f != "" {
			if !strings.HasPrefix(f, want) {
				t.Errorf("bridge_failure %q, want it to start with %q", f, want)
			}
			t.Logf("tor event: %v", ev)
			return
		}
	}
	t.Fatalf("tumble-cli ended without naming the failed bridge: %v", sc.Err())
}
