package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/wav"
)

// cliPath is the tumble-cli binary under test: $TUMBLE_CLI (set by make
// test) or one built by TestMain with cliBuildTags.
var cliPath string

func TestMain(m *testing.M) {
	if runFakePT() {
		return
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) (code int) {
	defer func() {
		if err := closeFixtures(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: shared fixtures: %v\n", err)
			code = 1
		}
	}()
	cliPath = os.Getenv("TUMBLE_CLI")
	flag.Parse()
	// With -short every test that runs the binary skips (they need a
	// Mumble server): no build.
	if cliPath == "" && !testing.Short() {
		dir, err := os.MkdirTemp("", "tumble-cli-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cliPath = filepath.Join(dir, "tumble-cli")
		cmd := exec.Command("go", "build", "-tags", cliBuildTags, "-o", cliPath, ".")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build tumble-cli:", err)
			return 1
		}
	}
	return m.Run()
}

// cliRun is one finished tumble-cli process.
type cliRun struct {
	events []map[string]any
	stderr string
	err    error
}

// find returns the events of one kind.
func (r *cliRun) find(kind string) []map[string]any {
	var out []map[string]any
	for _, e := range r.events {
		if e["event"] == kind {
			out = append(out, e)
		}
	}
	return out
}

// startCLI starts tumble-cli with --json and the given arguments.
func startCLI(ctx context.Context, t testing.TB, args ...string) (wait func() *cliRun) {
	t.Helper()
	if cliPath == "" {
		t.Skip("tumble-cli is not built with -short")
	}
	return startCommand(ctx, t, cliPath, append([]string{"--json"}, args...)...)
}

// startCommand starts a command whose standard output is tumble-cli's JSON
// events.
func startCommand(ctx context.Context, t testing.TB, name string, args ...string) (wait func() *cliRun) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return func() *cliRun {
		err := cmd.Wait()
		r := &cliRun{stderr: stderr.String(), err: err}
		sc := bufio.NewScanner(&stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
				continue
			}
			r.events = append(r.events, ev)
		}
		return r
	}
}

// writeTone writes a 48 kHz mono WAV of a sine tone.
func writeTone(t testing.TB, path string, freq float64, d time.Duration) {
	t.Helper()
	n := int(d.Seconds() * 48000)
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(0.3 * 32767 * math.Sin(2*math.Pi*freq*float64(i)/48000))
	}
	if err := wav.WriteFile(path, pcm); err != nil {
		t.Fatal(err)
	}
}

// readWAV reads a recording made by tumble-cli.
func readWAV(t testing.TB, path string) []int16 {
	t.Helper()
	pcm, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// toneStats measures a recording: the duration of 10 ms frames that carry
// sound (above -40 dBFS), and the dominant frequency over those frames:
// the median of the estimates over blocks of 4096 samples (85 ms), so
// that a stretch the decoder concealed (its pitch is a guess) does not
// move it.
func toneStats(pcm []int16) (voiced time.Duration, freq float64) {
	const frame, block = 480, 4096
	var sound []int16
	for off := 0; off+frame <= len(pcm); off += frame {
		f := pcm[off : off+frame]
		if analysis.DBFS(f) < -40 {
			continue
		}
		voiced += 10 * time.Millisecond
		sound = append(sound, f...)
	}
	if len(sound) < block {
		return voiced, analysis.DominantFrequency(sound, 48000)
	}
	var freqs []float64
	for off := 0; off+block <= len(sound); off += block {
		freqs = append(freqs, analysis.DominantFrequency(sound[off:off+block], 48000))
	}
	slices.Sort(freqs)
	return voiced, freqs[len(freqs)/2]
}

// TestToneStats: a 3 s tone at 440 Hz whose middle 0.4 s has, every
// 100 ms, 30 ms the decoder concealed (quieter, its pitch a guess) and a
// jump of phase after it, as a network stall leaves it, measures as 440 Hz
// (a single window over the middle reads 436).
func TestToneStats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var pcm []int16
	phase := 0.0
	for fr := 0; fr < 300; fr++ {
		f, amp := 440.0, 0.3
		stall := fr >= 130 && fr < 170
		if stall && fr%10 < 3 {
			f, amp = 400+r.Float64()*100, 0.1
		}
		if stall && fr%10 == 3 {
			phase += r.Float64() * 2 * math.Pi
		}
		for range 480 {
			phase += 2 * math.Pi * f / 48000
			pcm = append(pcm, int16(amp*32767*math.Sin(phase)))
		}
	}
	voiced, freq := toneStats(pcm)
	if voiced != 3*time.Second || math.Abs(freq-440) > 1 {
		t.Errorf("toneStats: %v voiced at %.2f Hz, want 3s at 440 Hz", voiced, freq)
	}
}

func TestVoiceAndTextBothWays(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv := murmurtest.Start(t, murmurtest.Options{Version: v, Password: "s3cret", Channels: []string{"Lab"}})
			dir := t.TempDir()
			pw := filepath.Join(dir, "pw")
			if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			tone := filepath.Join(dir, "tone.wav")
			const toneLen = 3 * time.Second
			writeTone(t, tone, 440, toneLen)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			common := []string{"--server", srv.Addr, "--tor", "off", "--password-file", pw, "--channel", "Root/Lab"}

			for _, dirn := range []struct{ from, to string }{{"alice", "bob"}, {"bob", "alice"}} {
				rec := filepath.Join(dir, "rec-"+dirn.to)
				mark := srv.LogMark() // the names come again in the second round
				listener := startCLI(ctx, t, append(common, "--user", dirn.to, "--record-dir", rec, "--for", "9s")...)
				waitInChannel(ctx, t, srv, mark, dirn.to, "Lab") // the listener hears from the first packet
				sender := startCLI(ctx, t, append(common, "--user", dirn.from, "--send-wav", tone, "--say", "hello from "+dirn.from)...)
				s := sender()
				if s.err != nil {
					t.Fatalf("%s: %v\n%s", dirn.from, s.err, s.stderr)
				}
				l := listener()
				if l.err != nil {
					t.Fatalf("%s: %v\n%s", dirn.to, l.err, l.stderr)
				}
				texts := l.find("text")
				if len(texts) == 0 || texts[0]["message"] != "hello from "+dirn.from || texts[0]["from"] != dirn.from {
					t.Errorf("%s got text events %v, want one from %s", dirn.to, texts, dirn.from)
				}
				if len(l.find("voice-start")) == 0 || len(l.find("voice-end")) == 0 {
					t.Errorf("%s saw no voice-start/voice-end events", dirn.to)
				}
				pcm := readWAV(t, filepath.Join(rec, dirn.from+".wav"))
				voiced, freq := toneStats(pcm)
				t.Logf("%s -> %s on %s: %v of %v voiced, %.1f Hz", dirn.from, dirn.to, v, voiced, toneLen, freq)
				if math.Abs(freq-440) > 5 {
					t.Errorf("recorded frequency %.1f Hz, want 440 +- 5", freq)
				}
				if voiced < toneLen*95/100 {
					t.Errorf("recorded %v of sound, want >= 95%% of %v", voiced, toneLen)
				}
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Password: "right"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliPath, "--server", srv.Addr, "--tor", "off", "--user", "eve")
	cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD=wrong")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("wrong password accepted")
	}
	line := strings.TrimSpace(stderr.String())
	if strings.Count(line, "\n") != 0 || !strings.Contains(strings.ToLower(line), "wrong server password") {
		t.Errorf("want one line naming the wrong server password, got %q", line)
	}
}

func TestPinnedCertificateMismatch(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wrong := strings.Repeat("ab", 32)
	cmd := exec.CommandContext(ctx, cliPath, "--server", srv.Addr, "--tor", "off", "--user", "eve", "--pin", wrong)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("mismatched pin accepted:\n%s", out)
	}
	got := srv.Fingerprint()
	if !strings.Contains(string(out), wrong) || !strings.Contains(string(out), got) {
		t.Errorf("error should name both fingerprints (%s, %s): %s", wrong, got, out)
	}
}

func TestServerKilled(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wait := startCLI(ctx, t, "--server", srv.Addr, "--tor", "off", "--user", "carol", "--for", "30s")
	waitInChannel(ctx, t, srv, 0, "carol", "")
	srv.Kill()
	start := time.Now()
	r := wait()
	if r.err == nil {
		t.Errorf("exit status 0 after the server died")
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v to notice the server died", time.Since(start))
	}
	d := r.find("disconnected")
	if len(d) != 1 || d[0]["reason"] == "" || d[0]["reason"] == nil {
		t.Errorf("want one disconnected event with a reason, got %v (stderr %s)", d, r.stderr)
	}
}

// waitInChannel waits until the server has logged, after mark
// (Server.LogMark), that user moved into channel (tumble-cli's
// --channel), or with channel "" that user authenticated.
func waitInChannel(ctx context.Context, tb testing.TB, srv *murmurtest.Server, mark int, user, channel string) {
	tb.Helper()
	if err := srv.WaitUser(ctx, mark, user, channel); err != nil {
		tb.Fatal(err)
	}
}

// labWithTone starts a server of version v with a channel Lab, and writes
// a 440 Hz tone of length d to tone in the test's temporary directory dir.
func labWithTone(t *testing.T, v murmurtest.Version, d time.Duration) (srv *murmurtest.Server, dir, tone string) {
	t.Helper()
	srv = murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab"}})
	dir = t.TempDir()
	tone = filepath.Join(dir, "tone.wav")
	writeTone(t, tone, 440, d)
	return srv, dir, tone
}

func TestWhisperReachesOnlyTarget(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv, dir, tone := labWithTone(t, v, 2*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			common := []string{"--server", srv.Addr, "--tor", "off", "--channel", "Root/Lab"}
			bob := startCLI(ctx, t, append(common, "--user", "bob", "--record-dir", filepath.Join(dir, "bob"), "--for", "7s")...)
			carol := startCLI(ctx, t, append(common, "--user", "carol", "--record-dir", filepath.Join(dir, "carol"), "--for", "7s")...)
			waitInChannel(ctx, t, srv, 0, "bob", "Lab")
			waitInChannel(ctx, t, srv, 0, "carol", "Lab")
			alice := startCLI(ctx, t, append(common, "--user", "alice", "--send-wav", tone, "--whisper", "bob")...)
			for name, wait := range map[string]func() *cliRun{"alice": alice, "bob": bob, "carol": carol} {
				if r := wait(); r.err != nil {
					t.Fatalf("%s: %v\n%s", name, r.err, r.stderr)
				}
			}
			voiced, freq := toneStats(readWAV(t, filepath.Join(dir, "bob", "alice.wav")))
			if voiced < 1900*time.Millisecond || math.Abs(freq-440) > 5 {
				t.Errorf("bob heard %v at %.1f Hz, want the 2 s whisper at 440 Hz", voiced, freq)
			}
			if _, err := os.Stat(filepath.Join(dir, "carol", "alice.wav")); !os.IsNotExist(err) {
				t.Errorf("carol recorded alice's whisper (stat: %v)", err)
			}
		})
	}
}

func TestSendWAVRejectsOtherFormats(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	dir := t.TempDir()
	bad := filepath.Join(dir, "cd.wav")
	// A 44.1 kHz stereo header: the kind of file people have lying around.
	hdr := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00data\x00\x00\x00\x00")
	if err := os.WriteFile(bad, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliPath, "--server", srv.Addr, "--tor", "off", "--user", "dave", "--send-wav", bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("a 44.1 kHz stereo WAV was accepted")
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "44100") || !strings.Contains(msg, "48000") {
		t.Errorf("want one line naming the file's and the wanted format, got %q", msg)
	}
}

func TestBitrateLoweredToServerLimit(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, MaxBandwidth: 32000})
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.wav")
	writeTone(t, tone, 440, 500*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	common := []string{"--server", srv.Addr, "--tor", "off", "--user", "erin", "--send-wav", tone, "--bitrate", "64000"}

	// 20 ms packets cost (47+2)*400 = 19600 bit/s of overhead over TCP
	// (the official client's budget): 12400 bit/s is left for Opus.
	r := startCLI(ctx, t, append(common, "--frames-per-packet", "2")...)()
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	low := r.find("bitrate-lowered")
	if len(low) != 1 || low[0]["bitrate"] != float64(12400) {
		t.Errorf("want one bitrate-lowered event to 12400, got %v", low)
	}

	// 10 ms packets cost 38400 bit/s on their own: no room at all.
	r = startCLI(ctx, t, append(common, "--frames-per-packet", "1")...)()
	if r.err == nil || !strings.Contains(r.stderr, "--frames-per-packet") {
		t.Errorf("want an error suggesting more frames per packet, got %v: %s", r.err, r.stderr)
	}
}

func TestCreateChannel(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15, Channels: []string{"Lab"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// SuperUser may create temporary channels: it is created and joined.
	cmd := exec.CommandContext(ctx, cliPath, "--json", "--server", srv.Addr, "--tor", "off", "--user", "SuperUser",
		"--channel", "Root/Lab/Standup", "--create-channel")
	cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD="+srv.SuperUserPassword)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SuperUser --create-channel: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"channel":"Root/Lab/Standup"`) || !strings.Contains(string(out), `"event":"joined"`) {
		t.Errorf("no joined event for the new channel:\n%s", out)
	}

	// A guest lacks MakeTempChannel on a default server: a clear error.
	r := startCLI(ctx, t, "--server", srv.Addr, "--tor", "off", "--user", "guest", "--channel", "Root/Lab/Mine", "--create-channel")()
	if r.err == nil {
		t.Fatal("a guest created a channel on a default server")
	}
	if !strings.Contains(r.stderr, "permission denied") || !strings.Contains(r.stderr, "Root/Lab/Mine") {
		t.Errorf("want a clear permission error naming the channel, got %q", r.stderr)
	}
}

// TestNoSecretToUnverifiedServer puts a TLS-terminating proxy with its own
// self-signed certificate in front of murmur (what a Tor exit relay can do
// to a server reached by host name) and connects to it by the name
// localhost. Without --pin or --trust-first-use tumble-cli refuses with the
// proxy's fingerprint, and the proxy receives nothing: no user name, no
// password. With --trust-first-use the proxy sees the password (so the
// check above can fail); with the server's real pin the change is caught.
func TestNoSecretToUnverifiedServer(t *testing.T) {
	const password = "s3cret-pw-7f3a"
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Password: password})
	run := func(extra ...string) (string, []byte, string, error) {
		proxy := murmurtest.StartRecorder(t, srv)
		_, port, _ := net.SplitHostPort(proxy.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		args := append([]string{"--server", "localhost:" + port, "--tor", "off", "--user", "victim"}, extra...)
		cmd := exec.CommandContext(ctx, cliPath, args...)
		cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD="+password)
		out, err := cmd.CombinedOutput()
		proxy.Close()
		return string(out), proxy.Received(), proxy.Fingerprint(), err
	}

	out, got, fp, err := run()
	if err == nil || !strings.Contains(out, "--pin "+fp) || !strings.Contains(out, "--trust-first-use") {
		t.Errorf("unverified certificate accepted, or no way out named: %v\n%s", err, out)
	}
	if len(got) != 0 {
		t.Errorf("the proxy received %d bytes of plaintext (password leaked: %v)", len(got), bytes.Contains(got, []byte(password)))
	}

	out, got, fp, err = run("--pin", srv.Fingerprint())
	if err == nil || !strings.Contains(out, srv.Fingerprint()) || !strings.Contains(out, fp) || len(got) != 0 {
		t.Errorf("with the real pin: %v, %d bytes to the proxy\n%s", err, len(got), out)
	}

	out, got, _, err = run("--trust-first-use")
	if err != nil {
		t.Fatalf("--trust-first-use: %v\n%s", err, out)
	}
	if !bytes.Contains(got, []byte(password)) {
		t.Error("with --trust-first-use the proxy did not see the password: the check above is blind")
	}
}
