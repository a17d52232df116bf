//go:build libtor

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/tornet"
	"github.com/tumble-voip/tumble/voice/wav"
)

// cliBuildTags are the tags TestMain builds tumble-cli with: with the
// embedded Tor.
const cliBuildTags = "nolibopusfile,libtor"

// torWorld is a private Tor network on loopback with Mumble servers behind
// onion services, shared by the tests in this file.
type torWorld struct {
	net    *tornet.Network
	torrc  string             // file with the network's client torrc lines
	btorrc string             // the same for a client that uses the network's bridge
	srv    *murmurtest.Server // behind onion
	onion  *tornet.OnionService
	authed *tornet.OnionService // the same server behind an onion that needs client auth
}

var (
	worldOnce sync.Once
	world     *torWorld
	worldErr  error
	worldDir  string
)

// setupTorWorld starts the network once for all tests of the package; it
// is stopped by TestMain's cleanup through worldClose. A test that fails
// has the network's logs in its log.
func setupTorWorld(t testing.TB) *torWorld {
	t.Helper()
	if err := tornet.Available(tornet.Options{Bridge: true}); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatalf("private Tor network: %v", err)
		}
		t.Skipf("private Tor network: %v", err)
	}
	worldOnce.Do(func() {
		worldDir, worldErr = os.MkdirTemp("", "tumble-torworld")
		if worldErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		world, worldErr = newTorWorld(ctx, worldDir, tornet.Options{Bridge: true}, murmurtest.V13, true)
	})
	if worldErr != nil {
		t.Fatalf("tor world: %v", worldErr)
	}
	world.net.LogOnFailure(t)
	return world
}

// newTorWorld starts a private Tor network with opts in dir/net, a Mumble
// server of version v in dir/murmur behind an onion service (and, if
// authed, behind a second one that needs client authorization) and writes
// the network's client torrc to dir/torrc. On error it returns what it
// started, for close.
func newTorWorld(ctx context.Context, dir string, opts tornet.Options, v murmurtest.Version, authed bool) (*torWorld, error) {
	w := &torWorld{}
	var err error
	if w.net, err = tornet.Start(ctx, filepath.Join(dir, "net"), opts); err != nil {
		return nil, err
	}
	murmurDir := filepath.Join(dir, "murmur")
	if err = os.Mkdir(murmurDir, 0o700); err != nil {
		return w, err
	}
	if w.srv, err = murmurtest.StartProcess(ctx, murmurDir, murmurtest.Options{Version: v, Channels: []string{"Lab"}}); err != nil {
		return w, err
	}
	if w.onion, err = w.net.AddOnionService(ctx, w.srv.Addr, 64738, false); err != nil {
		return w, err
	}
	if authed {
		if w.authed, err = w.net.AddOnionService(ctx, w.srv.Addr, 64738, true); err != nil {
			return w, err
		}
	}
	w.torrc = filepath.Join(dir, "torrc")
	if err = os.WriteFile(w.torrc, []byte(strings.Join(w.net.ClientTorrc(), "\n")+"\n"), 0o600); err != nil || !opts.Bridge {
		return w, err
	}
	w.btorrc = filepath.Join(dir, "torrc-bridge")
	return w, os.WriteFile(w.btorrc, []byte(strings.Join(w.net.BridgeClientTorrc(), "\n")+"\n"), 0o600)
}

// close stops the server and the network. It reports a tor of the network
// that had exited before (a network that lost a relay mid-run makes onion
// connects hang, and the tests that saw it fail for no visible reason).
func (w *torWorld) close() error {
	if w.srv != nil {
		w.srv.Close()
	}
	if err := w.net.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("private Tor network: %w", err)
	}
	return nil
}

// closeTorWorld stops what setupTorWorld started.
func closeTorWorld() error {
	var err error
	if world != nil {
		err = world.close()
	}
	if worldDir != "" {
		os.RemoveAll(worldDir)
	}
	return err
}

// closeFixtures stops the shared fixtures after all tests.
func closeFixtures() error { return closeTorWorld() }

// embedded returns the flags for an embedded Tor on the private network.
func (w *torWorld) embedded() []string {
	return []string{"--tor", "embedded", "--torrc", w.torrc, "--amnesic"}
}

func TestEmbeddedTorOnionVoiceAndText(t *testing.T) {
	voiceAndTextOverTor(t, setupTorWorld(t), 2*time.Second)
}

// voiceAndTextOverTor has alice send a 3 s tone and a text through the
// onion server of w, both with an embedded Tor, and checks that bob
// recorded the tone (at least minVoiced of it: what a stall on a loaded
// machine costs is measured by the benchmarks, not here) and got the text.
func voiceAndTextOverTor(t *testing.T, w *torWorld, minVoiced time.Duration) {
	t.Helper()
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.wav")
	writeTone(t, tone, 440, 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	common := append([]string{"--server", server, "--channel", "Root/Lab"}, w.embedded()...)
	rec := filepath.Join(dir, "rec")
	mark := w.srv.LogMark()
	listener := startCLI(ctx, t, append(common, "--user", "bob", "--record-dir", rec, "--for", "25s")...)
	waitInChannel(ctx, t, w.srv, mark, "bob", "Lab") // bob hears alice from her first packet
	sender := startCLI(ctx, t, append(common, "--user", "alice", "--send-wav", tone, "--say", "hello over tor")...)
	s := sender()
	if s.err != nil {
		t.Fatalf("alice: %v\n%s", s.err, s.stderr)
	}
	l := listener()
	if l.err != nil {
		t.Fatalf("bob: %v\n%s", l.err, l.stderr)
	}
	if c := s.find("connected"); len(c) != 1 || c[0]["tor"] != "embedded" {
		t.Errorf("alice's connected event should name the embedded Tor: %v", c)
	}
	texts := l.find("text")
	if len(texts) == 0 || texts[0]["message"] != "hello over tor" {
		t.Errorf("bob got texts %v", texts)
	}
	voiced, freq := toneStats(readWAV(t, filepath.Join(rec, "alice.wav")))
	t.Logf("over Tor: %v of 3s voiced at %.1f Hz; %s", voiced, freq, voiceAccount(s, l))
	if math.Abs(freq-440) > 5 || voiced < minVoiced {
		t.Errorf("bob recorded %v at %.1f Hz, want >= %v at 440 Hz", voiced, freq, minVoiced)
	}
}

// voiceAccount is what the two ends of a tone said of it, for the test's
// log: the sender's voice-send-end, the listener's voice-stats and
// voice-error events.
func voiceAccount(sender, listener *cliRun) string {
	return fmt.Sprintf("sender %v, listener %v %v", sender.find("voice-send-end"), listener.find("voice-stats"),
		listener.find("voice-error"))
}

// userOnline asks the server (directly, on loopback: this is the test's own
// view, not the client's) whether a user is connected.
func (w *torWorld) userOnline(name string) bool {
	return w.srv.UserOnline(name)
}

func TestSOCKSModeJoinsOnion(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	r := startCLI(ctx, t, "--server", server, "--tor", "socks="+w.net.SOCKSAddr(), "--user", "sam", "--say", "via socks")()
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if c := r.find("connected"); len(c) != 1 || !strings.HasPrefix(c[0]["tor"].(string), "socks") {
		t.Errorf("connected events %v", c)
	}
}

func TestClientAuthorization(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	server := fmt.Sprintf("%s:%d", w.authed.Address, w.authed.Port)

	r := startCLI(ctx, t, append([]string{"--server", server, "--user", "noauth"}, w.embedded()...)...)()
	if r.err == nil {
		t.Fatal("connected to a client-auth onion without the key")
	}
	if !strings.Contains(r.stderr, "client authorization required") {
		t.Errorf("want a clear client authorization error, got %q", r.stderr)
	}

	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte(w.authed.ClientAuthKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = startCLI(ctx, t, append([]string{"--server", server, "--user", "authed", "--client-auth-file", key}, w.embedded()...)...)()
	if r.err != nil {
		t.Fatalf("with the key: %v\n%s", r.err, r.stderr)
	}
	if len(r.find("connected")) != 1 {
		t.Error("no connected event with the key")
	}
}

// straceRun runs tumble-cli under strace, recording every socket, connect
// and send call of every thread.
func straceRun(ctx context.Context, t *testing.T, args ...string) (trace string, run *cliRun) {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatal("strace is missing")
		}
		t.Skip("strace is missing")
	}
	out := filepath.Join(t.TempDir(), "strace")
	wait := startCommand(ctx, t, "strace", append([]string{"-f", "-qq", "-e", "trace=socket,connect,sendto,sendmsg,sendmmsg", "-o", out, cliPath, "--json"}, args...)...)
	run = wait()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), run
}

var (
	reSocket  = regexp.MustCompile(`socket\((AF_INET6?|AF_UNIX|AF_NETLINK|AF_PACKET)[^,]*, (SOCK_[A-Z]+)`)
	reConnect = regexp.MustCompile(`connect\(\d+, \{sa_family=(AF_INET6?|AF_UNIX)(?:, sin6?_port=htons\((\d+)\))?(?:, (?:sin_addr=inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"))?`)
)

// checkNoLeak fails if the trace shows a UDP socket, a DNS query, a raw or
// netlink socket, or a connection to anything but 127.0.0.1, or to one of
// the forbidden ports.
func checkNoLeak(t *testing.T, trace string, forbidden ...int) (connects int) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(trace))
	for sc.Scan() {
		line := sc.Text()
		if m := reSocket.FindStringSubmatch(line); m != nil {
			switch {
			case m[1] == "AF_UNIX":
			case m[1] == "AF_NETLINK" && strings.Contains(line, "NETLINK_ROUTE"):
				// Listing the machine's own interfaces (Tor does at
				// start): a question to the kernel, nothing sent out.
			case m[1] == "AF_PACKET" || m[1] == "AF_NETLINK":
				t.Errorf("packet/netlink socket: %s", line)
			case m[2] != "SOCK_STREAM":
				t.Errorf("non-TCP socket (UDP or raw): %s", line)
			}
		}
		if m := reConnect.FindStringSubmatch(line); m != nil {
			if m[1] == "AF_UNIX" {
				if strings.Contains(line, "nscd") || strings.Contains(line, "resolve") {
					t.Errorf("name service lookup: %s", line)
				}
				continue
			}
			connects++
			port, _ := strconv.Atoi(m[2])
			addr := m[3] + m[4]
			if ip := net.ParseIP(addr); ip == nil || !ip.IsLoopback() {
				t.Errorf("connection to a non-loopback address: %s", line)
			}
			if port == 53 {
				t.Errorf("DNS: %s", line)
			}
			for _, f := range forbidden {
				if port == f {
					t.Errorf("direct connection to port %d outside Tor: %s", f, line)
				}
			}
		}
		if strings.Contains(line, "sendto(") && strings.Contains(line, "htons(53)") {
			t.Errorf("DNS: %s", line)
		}
	}
	return connects
}

// TestNoLeakOutsideTor watches a whole embedded-Tor session from outside
// the process: no UDP, no DNS, nothing but loopback (the private network's
// relays), and never the Mumble server's own port: the connection went
// through Tor.
func TestNoLeakOutsideTor(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tone := filepath.Join(t.TempDir(), "tone.wav")
	writeTone(t, tone, 440, time.Second)
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	trace, r := straceRun(ctx, t, append([]string{"--server", server, "--user", "watched", "--send-wav", tone, "--say", "hi"}, w.embedded()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	n := checkNoLeak(t, trace, w.srv.Port)
	if n == 0 {
		t.Fatal("strace saw no connections at all: the check is blind")
	}
	t.Logf("%d connections, all to loopback relays", n)
}

// TestFailClosedWithTorDown points tumble-cli at a Tor SOCKS port that is
// not there: it must fail with a clear error and never try the server
// directly.
func TestFailClosedWithTorDown(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	trace, r := straceRun(ctx, t, "--server", srv.Addr, "--user", "x", "--tor", "socks="+dead)
	if r.err == nil {
		t.Fatal("connected with Tor down")
	}
	if !strings.Contains(strings.ToLower(r.stderr), "tor") {
		t.Errorf("error should say Tor is the problem: %q", r.stderr)
	}
	checkNoLeak(t, trace, srv.Port)
}

// BenchmarkTorConnect reports process start to "connected" over the private
// network: embedded Tor (bootstrap included) and an existing Tor's SOCKS
// port.
func BenchmarkTorConnect(b *testing.B) {
	w := setupTorWorld(b)
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	for _, mode := range []string{"embedded", "socks"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				args := []string{"--server", server, "--user", fmt.Sprintf("bench%d", i)}
				if mode == "embedded" {
					args = append(args, w.embedded()...)
				} else {
					args = append(args, "--tor", "socks="+w.net.SOCKSAddr())
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				start := time.Now()
				r := startCLI(ctx, b, args...)()
				cancel()
				if r.err != nil {
					b.Fatalf("%v\n%s", r.err, r.stderr)
				}
				total += eventTime(b, r, "connected", "time").Sub(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "start_to_connected_ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestTwoEmbeddedTorsShareADataDirectory: two tumble-cli processes with an
// embedded Tor and the same --tor-data-dir run at once (before, the second
// Tor died on the data directory's lock): both join the onion and hear each
// other. Bob's WAV is 15 s of silence and then a 660 Hz tone, so that Alice
// is connected when his tone comes; Alice sends 440 Hz when she connects.
func TestTwoEmbeddedTorsShareADataDirectory(t *testing.T) {
	w := setupTorWorld(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "tor")
	bobWAV := filepath.Join(dir, "bob.wav")
	pcm := make([]int16, 18*48000)
	for i := 15 * 48000; i < len(pcm); i++ {
		pcm[i] = int16(0.3 * 32767 * math.Sin(2*math.Pi*660*float64(i)/48000))
	}
	if err := wav.WriteFile(bobWAV, pcm); err != nil {
		t.Fatal(err)
	}
	aliceWAV := filepath.Join(dir, "alice.wav")
	writeTone(t, aliceWAV, 440, 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	common := []string{"--server", server, "--channel", "Root/Lab", "--tor", "embedded", "--torrc", w.torrc, "--tor-data-dir", dataDir}
	recBob, recAlice := filepath.Join(dir, "rec-bob"), filepath.Join(dir, "rec-alice")
	mark := w.srv.LogMark()
	bob := startCLI(ctx, t, append(common, "--user", "bob", "--record-dir", recBob, "--send-wav", bobWAV, "--for", "40s")...)
	waitInChannel(ctx, t, w.srv, mark, "bob", "Lab")
	alice := startCLI(ctx, t, append(common, "--user", "alice", "--record-dir", recAlice, "--send-wav", aliceWAV, "--for", "25s")...)
	a, b := alice(), bob()
	if a.err != nil {
		t.Fatalf("alice: %v\n%s", a.err, a.stderr)
	}
	if b.err != nil {
		t.Fatalf("bob: %v\n%s", b.err, b.stderr)
	}
	if late := eventTime(t, a, "connected", "time").Sub(eventTime(t, b, "connected", "time")); late > 14*time.Second {
		t.Fatalf("alice connected %v after bob: too late to hear his tone at 15 s", late)
	}
	// Each heard the other's tone. The recordings hold two thirds of it at
	// least: a stall on a loaded machine costs what the jitter buffer's
	// delay bound sheds (the benchmarks measure that, not this test), and
	// on a loaded machine up to 12 of the first of the 151 packets alice
	// sent were seen never to reach bob's client (voice-stats packets).
	for _, c := range []struct {
		rec, from        string
		freq             float64
		sender, listener *cliRun
	}{{recBob, "alice", 440, a, b}, {recAlice, "bob", 660, b, a}} {
		voiced, freq := toneStats(readWAV(t, filepath.Join(c.rec, c.from+".wav")))
		t.Logf("%s heard: %v voiced at %.1f Hz; %s", c.from, voiced, freq, voiceAccount(c.sender, c.listener))
		if math.Abs(freq-c.freq) > 5 || voiced < 2*time.Second {
			t.Errorf("%s's tone recorded %v at %.1f Hz, want >= 2 s at %.0f Hz", c.from, voiced, freq, c.freq)
		}
	}
	// Each Tor had a data directory of its own, derived from the one given.
	for _, d := range []string{dataDir, dataDir + "-2"} {
		if _, err := os.Stat(filepath.Join(d, "lock")); err != nil {
			t.Errorf("no Tor state in %s: %v", d, err)
		}
	}
}

// TestAmnesicTempDirRemovedAfterKill: an amnesic tumble-cli keeps Tor's
// state in $XDG_RUNTIME_DIR/tumble-tor-*; killed with SIGKILL it cannot
// remove it, and the next start removes it.
func TestAmnesicTempDirRemovedAfterKill(t *testing.T) {
	w := setupTorWorld(t)
	rt := t.TempDir()
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", rt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	args := append([]string{"--json", "--server", server}, w.embedded()...)
	cmd := exec.CommandContext(ctx, cliPath, append(args, "--user", "killed", "--for", "2m")...)
	mark := w.srv.LogMark()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	waitInChannel(ctx, t, w.srv, mark, "killed", "")
	stale, _ := filepath.Glob(filepath.Join(rt, "tumble-tor-*"))
	if len(stale) != 1 {
		t.Fatalf("amnesic Tor directories in XDG_RUNTIME_DIR: %v, want 1", stale)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(stale[0]); err != nil {
		t.Fatalf("the killed run's directory is gone already: %v", err)
	}
	r := startCLI(ctx, t, append(args[1:], "--user", "next")...)()
	if r.err != nil {
		t.Fatalf("next run: %v\n%s", r.err, r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(rt, "tumble-tor-*")); len(left) != 0 {
		t.Errorf("left after the next run: %v", left)
	}
}
