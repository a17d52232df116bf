//go:build libtor

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/device/pulsetest"
)

// measureTumbleM2E has two tumble-cli join w's onion server through the
// network's client tor (each its own circuit, through e's net tap), the
// mouth capturing from the PulseAudio sink tmouthmic's monitor and the ear
// playing to the sink tearspk, both through the app's device code as the
// app opens them (voice/device, malgo) with the Tor-recommended receive
// settings, and measures it exactly as the official pair
// (measureDeviceM2E). It returns the trains' results, the device latency
// and the ear's late loss: all frames not played, and the speech among them
// (without the silence shed on purpose).
func measureTumbleM2E(tb testing.TB, w *torWorld, e *officialEnv, train []int16) (rs []trainResult, dev time.Duration, loss, speechLoss float64) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 6*time.Minute)
	defer cancel()
	for _, kv := range e.pulse.Env() {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
	dc, err := device.NewContext(device.BackendPulseAudio)
	if err != nil {
		tb.Fatal(err)
	}
	mic, spk := pulseID(tb, dc, device.CaptureKind, "tmouthmic.monitor"), pulseID(tb, dc, device.PlaybackKind, "tearspk")
	dc.Close()
	server := fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port)
	common := []string{"--server", server, "--tor", "socks=" + e.tumbleTap.Addr(), "--channel", "Root/Lab", "--for", "30m"}
	ear := startCLIInterruptible(ctx, tb, append(common, "--user", "tear", "--output-device", spk)...)
	waitOnline(ctx, tb, w, "tear")
	// A circuit to the onion can fail on the emulated network (a stall,
	// SOCKS "general failure"): a sender that did not connect tries again,
	// as a user would.
	var mouth func() *cliRun
	for try := 1; ; try++ {
		mouth = startCLIInterruptible(ctx, tb, append(common, "--user", "tmouth", "--input-device", mic)...)
		if err := waitOnlineOr(ctx, w, "tmouth", 2*time.Minute); err == nil {
			break
		} else if try == 3 {
			tb.Fatalf("sender: %v\n%s", err, mouth().stderr)
		}
		r := mouth()
		tb.Logf("sender, try %d: %v: %s", try, r.err, strings.TrimSpace(r.stderr))
	}
	rs, dev = measureDeviceM2E(ctx, tb, e, "tmouthmic", "tearspk", train)
	s, l := mouth(), ear()
	for _, r := range []*cliRun{s, l} {
		if r.err != nil {
			tb.Fatalf("tumble-cli: %v\n%s", r.err, r.stderr)
		}
	}
	for _, ev := range l.find("voice-stats") {
		if ev["name"] == "tmouth" || len(l.find("voice-stats")) == 1 {
			loss, _ = ev["late_loss_pct"].(float64)
			speechLoss, _ = ev["speech_loss_pct"].(float64)
		}
	}
	return rs, dev, loss, speechLoss
}

// startCLIInterruptible starts tumble-cli; the returned function
// interrupts it (as Ctrl-C would: it disconnects cleanly and prints its
// statistics) and waits for it.
func startCLIInterruptible(ctx context.Context, tb testing.TB, args ...string) (stop func() *cliRun) {
	tb.Helper()
	if cliPath == "" {
		tb.Skip("tumble-cli is not built with -short")
	}
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, cliPath, append([]string{"--json"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start tumble-cli: %v", err)
	}
	var once sync.Once
	var r *cliRun
	stop = func() *cliRun {
		once.Do(func() {
			cancel()
			err := cmd.Wait()
			if cmd.ProcessState != nil && cmd.ProcessState.Exited() && cmd.ProcessState.ExitCode() == 0 {
				err = nil // interrupted and exited cleanly
			}
			r = &cliRun{stderr: stderr.String(), err: err}
			for _, line := range strings.Split(stdout.String(), "\n") {
				var ev map[string]any
				if json.Unmarshal([]byte(line), &ev) == nil {
					r.events = append(r.events, ev)
				}
			}
		})
		return r
	}
	tb.Cleanup(func() { stop() })
	return stop
}

// waitUser waits until the server has user authenticated (online) or no
// longer has it (!online), or ctx ends.
func waitUser(ctx context.Context, w *torWorld, user string, online bool) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for w.userOnline(user) != online {
		select {
		case <-tick.C:
		case <-ctx.Done():
			if online {
				return fmt.Errorf("%s did not connect: %w", user, ctx.Err())
			}
			return fmt.Errorf("%s did not leave: %w", user, ctx.Err())
		}
	}
	return nil
}

// waitOnlineOr waits up to d for the server to have authenticated user.
func waitOnlineOr(ctx context.Context, w *torWorld, user string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return waitUser(ctx, w, user, true)
}

// waitOnline waits until the server has authenticated user.
func waitOnline(ctx context.Context, tb testing.TB, w *torWorld, user string) {
	tb.Helper()
	if err := waitUser(ctx, w, user, true); err != nil {
		tb.Fatal(err)
	}
}

// officialAvailable skips (or, with TUMBLE_REQUIRE_SERVERS=1, fails) when
// the official client or its helpers are not installed.
func officialAvailable(tb testing.TB) {
	tb.Helper()
	for _, bin := range []string{"mumble", "torsocks", "Xvfb", "sqlite3", "openssl", "pulseaudio", "pactl"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
				tb.Fatalf("%s not found: apt-get install mumble torsocks xvfb sqlite3 pulseaudio pulseaudio-utils", bin)
			}
			tb.Skipf("%s not found", bin)
		}
	}
}

// startXvfb starts a private X server and returns its DISPLAY.
func startXvfb(tb testing.TB) string {
	tb.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	cmd.ExtraFiles = []*os.File{wr}
	log := new(strings.Builder)
	var mu sync.Mutex
	cmd.Stdout = lockedWriter{&mu, log}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		wr.Close()
		r.Close()
		tb.Fatalf("Xvfb: %v", err)
	}
	wr.Close()
	// The read end stays open while Xvfb runs: a write to a closed pipe
	// would kill it.
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		r.Close()
		if tb.Failed() {
			mu.Lock()
			tb.Logf("Xvfb log:\n%s", log.String())
			mu.Unlock()
		}
	})
	// Xvfb writes the display number and a newline once it accepts
	// clients.
	d, err := bufio.NewReader(r).ReadString('\n')
	d = strings.TrimSpace(d)
	if _, aerr := strconv.Atoi(d); aerr != nil {
		tb.Fatalf("Xvfb did not report a display (%q, %v)", d, err)
	}
	return ":" + d
}

// serverSHA1 returns the hex SHA-1 of the server's certificate, as the
// official client stores it for a certificate the user accepted.
func serverSHA1(tb testing.TB, addr string) string {
	tb.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		tb.Fatalf("server certificate: %v", err)
	}
	defer c.Close()
	sum := sha1.Sum(c.ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

// officialEnv is what the official clients share: an X display, the
// PulseAudio server, the torsocks configuration, a client certificate and
// the server's certificate digest.
type officialEnv struct {
	display  string
	pulse    *pulsetest.Server
	torsocks string // TORSOCKS_CONF_FILE
	// The official clients' and tumble-cli's SOCKS connections pass
	// through these taps (netTap): each side's network transit.
	mumbleTap, tumbleTap *netTap
	p12                  string // client certificate (PKCS #12, no password)
	digest               string // SHA-1 of the server's certificate
	host                 string // the onion address
	port                 int
}

// mumbleConf is the official client's configuration: the Tor-recommended
// settings of Tumble's guides (13 kb/s, 20 ms packets, 10 ms jitter
// buffer, 30 ms output delay, TCP only, no OS details), the transmission
// mode given (%d), PulseAudio devices, and the first-run audio wizard and
// update checks off. Keys from mumble-voip/mumble 1.3.4
// src/mumble/Settings.cpp; lastupdate=2 is what main.cpp writes after the
// audio wizard ran.
const mumbleConf = `[General]
lastupdate=2

[audio]
transmit=%d
quality=13000
outputdelay=3
input=PulseAudio
output=PulseAudio

[net]
jitterbuffer=1
framesperpacket=2
tcponly=true

[privacy]
hideos=true

[ui]
updatecheck=false
plugincheck=false
usage=false

[pulseaudio]
input=%s
output=%s
`

// startMumble starts an official client as user, capturing from source and
// playing to sink, transmitting continuously (transmit 0) or on voice
// activity (1), connected to the onion server through torsocks. It is
// stopped when the test ends; its log is shown if the test failed.
// startMumble starts an official client as user, capturing from source and
// playing into sink; stop ends it (also at the test's end, once).
func startMumble(tb testing.TB, e *officialEnv, user string, transmit int, source, sink string) (stop func()) {
	tb.Helper()
	home := filepath.Join(tb.TempDir(), user)
	data := filepath.Join(home, ".local", "share", "Mumble", "Mumble")
	for _, d := range []string{filepath.Join(home, ".config", "Mumble"), filepath.Join(home, "Documents"), data, filepath.Join(home, "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "Mumble", "Mumble.conf"), fmt.Appendf(nil, mumbleConf, transmit, source, sink), 0o600); err != nil {
		tb.Fatal(err)
	}
	// main.cpp imports Documents/MumbleAutomaticCertificateBackup.p12
	// instead of running the certificate wizard.
	p12, err := os.ReadFile(e.p12)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "Documents", "MumbleAutomaticCertificateBackup.p12"), p12, 0o600); err != nil {
		tb.Fatal(err)
	}
	// The server's self-signed certificate, accepted beforehand as the
	// user would in the "accept this certificate anyway?" dialog
	// (Database.cpp's cert table).
	sql := fmt.Sprintf("CREATE TABLE IF NOT EXISTS `cert` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, `hostname` TEXT, `port` INTEGER, `digest` TEXT);"+
		"CREATE UNIQUE INDEX IF NOT EXISTS `cert_host_port` ON `cert`(`hostname`,`port`);"+
		"REPLACE INTO `cert` (`hostname`,`port`,`digest`) VALUES ('%s',%d,'%s');", e.host, e.port, e.digest)
	if out, err := exec.Command("sqlite3", filepath.Join(data, "mumble.sqlite"), sql).CombinedOutput(); err != nil {
		tb.Fatalf("sqlite3: %v: %s", err, out)
	}
	url := fmt.Sprintf("mumble://%s@%s:%d/", user, e.host, e.port)
	cmd := exec.Command("torsocks", "mumble", "--multiple", url)
	if e.torsocks == "" {
		cmd = exec.Command("mumble", "--multiple", url) // a loopback server
	}
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C", "DISPLAY=" + e.display,
		"XDG_RUNTIME_DIR=" + filepath.Join(home, "run"), "TORSOCKS_CONF_FILE=" + e.torsocks}, e.pulse.Env()...)
	log := new(strings.Builder)
	var mu sync.Mutex
	cmd.Stdout = lockedWriter{&mu, log}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatalf("mumble: %v", err)
	}
	stop = sync.OnceFunc(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	tb.Cleanup(func() {
		stop()
		if tb.Failed() {
			mu.Lock()
			tb.Logf("mumble %s log:\n%s", user, log.String())
			mu.Unlock()
		}
	})
	return stop
}

// lockedWriter serialises writes of a process's two output streams.
type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newOfficialEnv prepares what the official clients of one world share.
func newOfficialEnv(tb testing.TB, w *torWorld) *officialEnv {
	tb.Helper()
	officialAvailable(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	ps, err := pulsetest.Start(ctx, pulsetest.Config{Sinks: []string{"mouthmic", "mouthspk", "earmic", "earspk", "tmouthmic", "tearspk"}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ps.Close() })
	dir := tb.TempDir()
	e := &officialEnv{display: startXvfb(tb), pulse: ps, digest: serverSHA1(tb, w.srv.Addr),
		host: w.onion.Address, port: w.onion.Port,
		torsocks: filepath.Join(dir, "torsocks.conf"), p12: filepath.Join(dir, "client.p12")}
	for _, tap := range []**netTap{&e.mumbleTap, &e.tumbleTap} {
		t, err := newNetTap(w.net.SOCKSAddr())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { t.Close() })
		*tap = t
	}
	host, port, _ := strings.Cut(e.mumbleTap.Addr(), ":")
	// IsolatePID: each client its own circuit, as tumble-cli's random
	// SOCKS isolation gives it.
	conf := fmt.Sprintf("TorAddress %s\nTorPort %s\nOnionAddrRange 127.42.42.0/24\nIsolatePID 1\n", host, port)
	if err := os.WriteFile(e.torsocks, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	makeP12(tb, dir, e.p12)
	return e
}

// makeP12 writes a fresh client certificate for the official client to p12
// (PKCS #12, no password), with its parts in dir.
func makeP12(tb testing.TB, dir, p12 string) {
	tb.Helper()
	key, crt := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	for _, args := range [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=tumble-bench"},
		{"pkcs12", "-export", "-inkey", key, "-in", crt, "-out", p12, "-passout", "pass:"},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			tb.Fatalf("openssl %s: %v: %s", args[0], err, out)
		}
	}
}

// pulseID returns the device ID of the PulseAudio device named name.
func pulseID(tb testing.TB, ctx *device.Context, kind device.Kind, name string) string {
	tb.Helper()
	list, err := ctx.Devices(kind)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, in := range list {
		raw, _ := hex.DecodeString(in.ID)
		n := strings.TrimRight(string(raw), "\x00")
		if n == name {
			return in.ID
		}
		names = append(names, n)
	}
	tb.Fatalf("no PulseAudio device %q (have %v)", name, names)
	return ""
}

// captureLog collects what a capture device delivers and when its first
// sample was captured: the earliest callback time minus the samples
// delivered up to it (the callback least delayed by scheduling).
type captureLog struct {
	mu    sync.Mutex
	pcm   []int16
	start time.Time
}

func (r *captureLog) capture(frame []int16) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pcm = append(r.pcm, frame...)
	if s := now.Add(-time.Duration(len(r.pcm)) * time.Second / 48000); r.start.IsZero() || s.Before(r.start) {
		r.start = s
	}
}

func (r *captureLog) result() ([]int16, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.pcm...), r.start
}

// measureMumbleM2E has two official clients join w's onion server and
// measures them (measureDeviceM2E): the mouth captures the sink mouthmic's
// monitor, the ear plays to the sink earspk.
//
// Debian's Mumble 1.3.4 sometimes logs that its PulseAudio output started
// while PulseAudio shows no stream of it and it plays nothing (seen in CI
// once in about ten runs; it heard everything when started again). When
// PulseAudio reported no stream of the pair and every click was lost, the
// pair is started again, once, and measured again.
func measureMumbleM2E(tb testing.TB, w *torWorld, e *officialEnv, train []int16) ([]trainResult, time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 12*time.Minute)
	defer cancel()
	for attempt := 1; ; attempt++ {
		// The ear transmits on voice activity from a silent microphone:
		// it sends no voice, as Tumble's ear does not, so that the net
		// tap finds the mouth's voice only. The mouth starts once the ear
		// is in, so that the server forwards its voice from the first
		// packet.
		stopEar := startMumble(tb, e, "mear", 1, "earmic.monitor", "earspk")
		waitOnline(ctx, tb, w, "mear")
		stopMouth := startMumble(tb, e, "mmouth", 0, "mouthmic.monitor", "mouthspk")
		waitOnline(ctx, tb, w, "mmouth")
		rs, dev := measureDeviceM2E(ctx, tb, e, "mouthmic", "earspk", train)
		if dev > 0 || attempt == 2 || !allLost(rs) {
			return rs, dev
		}
		tb.Logf("the official pair played nothing and PulseAudio showed no stream of it: starting it again")
		stopMouth()
		stopEar()
		waitOffline(ctx, tb, w, "mmouth")
		waitOffline(ctx, tb, w, "mear")
	}
}

// allLost reports whether every click of every train was lost.
func allLost(rs []trainResult) bool {
	for _, r := range rs {
		if r.lostPct < 100 {
			return false
		}
	}
	return true
}

// waitOffline waits until the server no longer has user.
func waitOffline(ctx context.Context, tb testing.TB, w *torWorld, user string) {
	tb.Helper()
	if err := waitUser(ctx, w, user, false); err != nil {
		tb.Fatal(err)
	}
}

// m2eTrains is how many click trains each side plays per measurement:
// the figures are the median over the trains, with their spread, so that
// one unlucky train (a stall) does not decide.
const m2eTrains = 3

// measureDeviceM2E plays m2eTrains click trains, each followed by
// m2eMaxDelay of silence, into the PulseAudio sink mic (whose monitor the
// mouth client captures) and records, in this process and on one clock,
// mic's monitor and the sink spk the ear client plays to (its monitor).
// Both recordings go through the same PulseAudio capture path, so its
// latency cancels; what the mouth client's capture and the ear client's
// playback buffers add is in the figure, as it is for a user. Each train
// is measured on its own (crossCorrelate); a train the ear did not hear
// counts as all clicks lost. It also returns the latency PulseAudio
// reports for the mouth client's capture stream plus the ear client's
// playback stream (streamLatency; the median of readings every 2 s): the
// part of the delay that is sound devices.
func measureDeviceM2E(ctx context.Context, tb testing.TB, e *officialEnv, mic, spk string, train []int16) ([]trainResult, time.Duration) {
	tb.Helper()
	for _, kv := range e.pulse.Env() {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
	dc, err := device.NewContext(device.BackendPulseAudio)
	if err != nil {
		tb.Fatal(err)
	}
	defer dc.Close()
	period := len(train) + int(m2eMaxDelay.Seconds()*48000)
	var seq []int16
	for range m2eTrains {
		seq = append(seq, train...)
		seq = append(seq, make([]int16, period-len(train))...)
	}
	var mouth, ear captureLog
	for _, c := range []struct {
		name string
		r    *captureLog
	}{{mic + ".monitor", &mouth}, {spk + ".monitor", &ear}} {
		d, err := dc.OpenCapture(pulseID(tb, dc, device.CaptureKind, c.name), device.Config{}, c.r.capture)
		if err != nil {
			tb.Fatal(err)
		}
		defer d.Close()
		if err := d.Start(); err != nil {
			tb.Fatal(err)
		}
	}
	var mu sync.Mutex
	pos := 0
	played := make(chan struct{})
	play, err := dc.OpenPlayback(pulseID(tb, dc, device.PlaybackKind, mic), device.Config{}, func(out []int16) {
		mu.Lock()
		defer mu.Unlock()
		n := copy(out, seq[min(pos, len(seq)):])
		clear(out[n:])
		if pos < len(seq) && pos+len(out) >= len(seq) {
			close(played)
		}
		pos += len(out)
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer play.Close()
	if err := play.Start(); err != nil {
		tb.Fatal(err)
	}
	// The sequence ends with m2eMaxDelay of silence: everything sent is
	// heard by then (or counts as lost). Meanwhile, every 2 s, PulseAudio
	// tells the latency of the clients' streams.
	var devs []time.Duration
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case <-played:
			break wait
		case <-tick.C:
			c, cok := streamLatency(ctx, e, "source-output", mic+".monitor")
			p, pok := streamLatency(ctx, e, "sink-input", spk)
			if cok && pok {
				devs = append(devs, c+p)
			}
		case <-ctx.Done():
			tb.Fatal("the trains did not play")
		}
	}
	// A client opens its stream lazily (the official ear opens its
	// playback stream when it first has sound to play): with no reading
	// the ear heard nothing, which the trains below tell.
	var deviceLatency time.Duration
	if len(devs) > 0 {
		deviceLatency = median(devs)
	} else {
		tb.Logf("PulseAudio reported no stream of the clients on both %s and %s", mic+".monitor", spk)
	}
	sent, sentAt := mouth.result()
	heard, heardAt := ear.result()
	first := findOnsets(sent)
	if len(first) == 0 {
		tb.Fatalf("the mouth's microphone captured no click")
	}
	start := max(0, first[0]-int(m2eLead.Seconds()*48000))
	var rs []trainResult
	for k := range m2eTrains {
		s0 := start + k*period
		if s0+len(train) > len(sent) {
			tb.Fatalf("train %d: the mouth's recording ends at %d of %d samples", k, len(sent), s0+len(train))
		}
		at := sentAt.Add(samplesToDuration(s0))
		h0 := int(at.Sub(heardAt).Seconds() * 48000)
		h0 = max(0, min(h0, len(heard)))
		r, err := crossCorrelate(sent[s0:s0+len(train)], at, heard[h0:min(len(heard), h0+period)], heardAt.Add(samplesToDuration(h0)))
		if err != nil {
			tb.Logf("train %d: %v", k, err)
			r = m2eResult{lostPct: 100}
		}
		rs = append(rs, trainResult{m2eResult: r, from: at, to: at.Add(samplesToDuration(len(train)))})
	}
	return rs, deviceLatency
}

// streamLatency asks e's PulseAudio server for the latency of the stream
// (kind "sink-input": a playback stream, or "source-output": a capture
// stream) another process has open on the device named dev: its buffer
// latency plus the device's, as pactl reports them. It reports false if
// there is no such stream.
func streamLatency(ctx context.Context, e *officialEnv, kind, dev string) (time.Duration, bool) {
	pactl := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "pactl", args...)
		cmd.Env = append(os.Environ(), e.pulse.Env()...)
		out, _ := cmd.Output()
		return string(out)
	}
	devKind, devField := "sinks", "Sink:"
	if kind == "source-output" {
		devKind, devField = "sources", "Source:"
	}
	idx := ""
	for _, l := range strings.Split(pactl("list", "short", devKind), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == dev {
			idx = f[0]
		}
	}
	if idx == "" {
		return 0, false
	}
	me := fmt.Sprintf("application.process.id = \"%d\"", os.Getpid())
	for _, block := range strings.Split(pactl("list", kind+"s"), "\n\n") {
		if strings.Contains(block, me) {
			continue // the test's own recording and playing
		}
		var on bool
		var total time.Duration
		for _, l := range strings.Split(block, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch {
			case k == devField:
				on = v == idx
			case k == "Buffer" || k == "Sink" || k == "Source":
				// "Buffer Latency: 12345 usec", "Sink Latency: ..."
				if rest, ok := strings.CutPrefix(v, "Latency: "); ok {
					if us, err := strconv.Atoi(strings.TrimSuffix(rest, " usec")); err == nil {
						total += time.Duration(us) * time.Microsecond
					}
				}
			}
		}
		if on {
			return total, true
		}
	}
	return 0, false
}

// trainResult is one train's measurement: its mouth-to-ear result, its
// time at the mouth, and the median transit of the voice packets the mouth
// sent meanwhile (netTap; set by summarize).
type trainResult struct {
	m2eResult
	from, to time.Time
	net      time.Duration
}

// trainSummary is what a side's trains give: the median of the trains'
// median delays with the least and greatest, the median of the trains'
// network transits and of their added delays (delay - transit, train by
// train), and the clicks lost over all trains.
type trainSummary struct {
	delay, min, max time.Duration
	net, added      time.Duration
	lostPct         float64
	heard           int // trains heard at all
}

// summarize sums up a side's trains, taking each train's network transit
// from the packets the mouth sent during it (ts, from the side's netTap).
func summarize(tb testing.TB, rs []trainResult, ts []tapTransit) trainSummary {
	var s trainSummary
	var ds, nets, added []time.Duration
	for i := range rs {
		r := &rs[i]
		s.lostPct += r.lostPct / float64(len(rs))
		if len(r.delays) == 0 {
			continue
		}
		n, c := medianTransit(ts, r.from, r.to)
		if c == 0 {
			tb.Fatalf("no voice packet of the train sent %v crossed the net tap", r.from)
		}
		r.net = n
		ds, nets, added = append(ds, r.delay), append(nets, n), append(added, r.delay-n)
	}
	s.heard = len(ds)
	if len(ds) > 0 {
		s.delay, s.net, s.added = median(ds), median(nets), median(added)
		slices.Sort(ds)
		s.min, s.max = ds[0], ds[len(ds)-1]
	}
	return s
}

// BenchmarkTornetSideBySide reports mouth-to-ear delay and loss of voice
// through the emulated Tor network (tor/tornet profiles; env
// TUMBLE_TORNET_PROFILES, default "typical,fast,bad"), in one network per
// profile: Tumble -> onion Mumble 1.5 server -> Tumble (two tumble-cli),
// then the official Mumble 1.3.4 client -> the same server -> the official
// client, both pairs measured the same way: m2eTrains click trains played
// into the mouth's PulseAudio microphone (a null sink's monitor), the
// delay taken between that microphone and the ear's speaker (the ear
// client plays to a null sink; its monitor is recorded), so each side's
// figure holds its own capture and playback device buffers, its jitter
// buffer and the network. Each side's network part is measured in the same
// run (netTap): the median transit of its voice packets from the mouth's
// SOCKS connection to the ear's, on the test's clock.
//
// Metrics per profile: tumble_m2e_ms and mumble_m2e_ms (median over the
// trains of each train's median over its clicks) with _min_ms and _max_ms
// (the trains' spread), tumble_net_ms and mumble_net_ms, tumble_added_ms
// and mumble_added_ms (m2e - net: what the client adds, devices
// included), tumble_device_ms and mumble_device_ms (what PulseAudio
// reports for the mouth's capture plus the ear's playback stream: the
// devices' share of the added delay), m2e_ratio (tumble_added /
// mumble_added),
// tumble_lost_clicks_pct and mumble_lost_clicks_pct (clicks the ear did
// not play near the train's delay, over all trains), and
// tumble_late_loss_pct (Tumble's receiver's own count of frames not played)
// and tumble_speech_loss_pct (the same without the silence it shed on
// purpose).
func BenchmarkTornetSideBySide(b *testing.B) {
	profiles := os.Getenv("TUMBLE_TORNET_PROFILES")
	if profiles == "" {
		profiles = "typical,fast,bad"
	}
	train := m2eTrain()
	b.Logf("train onsets %v ms, %d trains per side", onsetsMs(train, 0), m2eTrains)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, p := range strings.Split(profiles, ",") {
		b.Run(p, func(b *testing.B) {
			officialAvailable(b)
			var sum [17]float64
			for range b.N {
				w := startDelayedWorld(b, p)
				e := newOfficialEnv(b, w)
				trs, tdev, loss, speechLoss := measureTumbleM2E(b, w, e, train)
				mrs, mdev := measureMumbleM2E(b, w, e, train)
				for k := range trs {
					b.Logf("%s train %d: tumble %v per click %v (lost %.1f%%)", p, k, trs[k].delay, trs[k].delays, trs[k].lostPct)
					b.Logf("%s train %d: official %v per click %v (lost %.1f%%)", p, k, mrs[k].delay, mrs[k].delays, mrs[k].lostPct)
				}
				tts, err := e.tumbleTap.Transits()
				if err != nil {
					b.Fatalf("tumble: %v", err)
				}
				mts, err := e.mumbleTap.Transits()
				if err != nil {
					b.Fatalf("official: %v", err)
				}
				t, m := summarize(b, trs, tts), summarize(b, mrs, mts)
				for k := range trs {
					b.Logf("%s train %d: tumble %v net %v; official %v net %v", p, k, trs[k].delay, trs[k].net, mrs[k].delay, mrs[k].net)
				}
				if t.heard == 0 || m.heard == 0 || tdev == 0 || mdev == 0 {
					b.Fatalf("%s: trains heard: tumble %d, official %d; device latency: tumble %v, official %v", p, t.heard, m.heard, tdev, mdev)
				}
				b.Logf("%s: tumble %v [%v, %v] net %v added %v devices %v, lost %.1f%%, late loss %.1f%% (speech %.1f%%); official %v [%v, %v] net %v added %v devices %v, lost %.1f%%",
					p, t.delay, t.min, t.max, t.net, t.added, tdev, t.lostPct, loss, speechLoss, m.delay, m.min, m.max, m.net, m.added, mdev, m.lostPct)
				tn, mn := t.net, m.net
				ta, ma := ms(t.added), ms(m.added)
				for i, v := range []float64{ms(t.delay), ms(t.min), ms(t.max), ms(m.delay), ms(m.min), ms(m.max),
					ms(tn), ms(mn), ta, ma, ta / ma, t.lostPct, m.lostPct, loss, ms(tdev), ms(mdev), speechLoss} {
					sum[i] += v
				}
			}
			for i, unit := range []string{"tumble_m2e_ms", "tumble_m2e_min_ms", "tumble_m2e_max_ms",
				"mumble_m2e_ms", "mumble_m2e_min_ms", "mumble_m2e_max_ms", "tumble_net_ms", "mumble_net_ms",
				"tumble_added_ms", "mumble_added_ms", "m2e_ratio", "tumble_lost_clicks_pct", "mumble_lost_clicks_pct",
				"tumble_late_loss_pct", "tumble_device_ms", "mumble_device_ms", "tumble_speech_loss_pct"} {
				b.ReportMetric(sum[i]/float64(b.N), unit)
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestOfficialClientOverTor is the smoke test of the side-by-side harness:
// two official Mumble clients (headless, PulseAudio, torsocks) talk through
// the private network's onion Mumble server, without link delays, and the
// ear hears most clicks of the trains within two seconds; the net tap saw
// their voice cross. (The figures are BenchmarkTornetSideBySide's.)
func TestOfficialClientOverTor(t *testing.T) {
	officialAvailable(t)
	w := setupTorWorld(t)
	e := newOfficialEnv(t, w)
	rs, dev := measureMumbleM2E(t, w, e, m2eTrain())
	ts, err := e.mumbleTap.Transits()
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(t, rs, ts)
	net, n := medianTransit(ts, time.Time{}, time.Time{})
	t.Logf("official client over Tor without link delays: %v [%v, %v], %.1f%% of clicks lost; net %v over %d packets; device latency %v", s.delay, s.min, s.max, s.lostPct, net, n, dev)
	if s.lostPct > 50 {
		t.Errorf("%.1f%% of the clicks lost (trains %+v)", s.lostPct, rs)
	}
	if s.delay <= 0 || s.delay > 2*time.Second {
		t.Errorf("mouth to ear %v, want between 0 and 2 s", s.delay)
	}
	if dev <= 0 || dev >= s.delay {
		t.Errorf("device latency %v, want above 0 and below the mouth-to-ear delay", dev)
	}
	if n < 100 || net <= 0 || net >= s.delay {
		t.Errorf("net tap: %v over %d packets, want a transit below the mouth-to-ear delay over at least 100", net, n)
	}
}
