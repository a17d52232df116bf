package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice/codec"
)

// liveCLI is a running tumble-cli whose events can be awaited as they come.
type liveCLI struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mu     sync.Mutex
	cond   *sync.Cond
	events []map[string]any
	done   bool
}

func startLive(ctx context.Context, t testing.TB, args ...string) *liveCLI {
	t.Helper()
	l := &liveCLI{t: t, cmd: exec.CommandContext(ctx, cliPath, append([]string{"--json"}, args...)...)}
	l.cond = sync.NewCond(&l.mu)
	l.cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD=")
	l.cmd.Stderr = &l.stderr
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				ev = map[string]any{"event": "not-json", "line": sc.Text()}
			}
			l.mu.Lock()
			l.events = append(l.events, ev)
			l.cond.Broadcast()
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.done = true
		l.cond.Broadcast()
		l.mu.Unlock()
	}()
	return l
}

// await waits for an event matching ok; false if the process ended first.
func (l *liveCLI) await(ok func(map[string]any) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 0; ; i++ {
		for ; i < len(l.events); i++ {
			if ok(l.events[i]) {
				return true
			}
		}
		if l.done {
			return false
		}
		l.cond.Wait()
		i--
	}
}

func kind(k string) func(map[string]any) bool {
	return func(e map[string]any) bool { return e["event"] == k }
}

// stop interrupts the process (it disconnects cleanly) and returns its run.
func (l *liveCLI) stop() *cliRun {
	_ = l.cmd.Process.Signal(syscall.SIGINT)
	return l.wait()
}

func (l *liveCLI) wait() *cliRun {
	err := l.cmd.Wait()
	l.mu.Lock()
	for !l.done {
		l.cond.Wait()
	}
	defer l.mu.Unlock()
	return &cliRun{events: l.events, stderr: l.stderr.String(), err: err}
}

// TestE2ERoom: three --e2e members and one plain client in a channel. The
// members hear the 440 Hz tone and read the text; the plain client gets
// no voice packet, no text and no signalling from the room. The members
// connect through a recording proxy that sees what the server sees: no
// voice payload it records decodes to the tone, and the text appears in
// no recorded frame.
func TestE2ERoom(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv, dir, tone := labWithTone(t, v, 2*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rec := murmurtest.StartRecorder(t, srv)
			common := []string{"--server", rec.Addr, "--pin", rec.Fingerprint(), "--tor", "off", "--channel", "Root/Lab"}
			carol := startLive(ctx, t, "--server", srv.Addr, "--tor", "off", "--channel", "Root/Lab",
				"--user", "carol", "--record-dir", filepath.Join(dir, "carol"))
			if !carol.await(kind("joined")) {
				t.Fatalf("carol: %s", carol.wait().stderr)
			}
			members := map[string]*liveCLI{}
			for _, name := range []string{"bob", "dave"} {
				members[name] = startLive(ctx, t, append(common, "--user", name, "--e2e", "--e2e-members", "2",
					"--record-dir", filepath.Join(dir, name))...)
			}
			const secret = "the meeting moved to the old mill"
			const private = "only bob may know the password"
			alice := startLive(ctx, t, append(common, "--user", "alice", "--e2e", "--e2e-members", "2",
				"--send-wav", tone, "--say", secret, "--say-private", "bob="+private)...)
			a := alice.wait()
			for _, e := range a.events {
				switch e["event"] {
				case "e2e-ready", "e2e-notice", "voice-send-talking", "voice-send-end", "e2e-stats", "e2e-error", "joined", "e2e-enabled":
					t.Logf("alice: %v", e)
				}
			}
			if a.err != nil {
				t.Fatalf("alice: %v\n%s", a.err, a.stderr)
			}
			if evs := a.find("said-private"); len(evs) != 1 || evs[0]["encrypted"] != true {
				t.Errorf("alice's private message: %v", evs)
			}
			for name, m := range members {
				heard := m.await(func(e map[string]any) bool { return e["event"] == "voice-end" && e["name"] == "alice" })
				read := m.await(func(e map[string]any) bool { return e["event"] == "text" && e["message"] == secret })
				if name == "bob" && !m.await(func(e map[string]any) bool { return e["event"] == "text" && e["message"] == private }) {
					t.Error("bob did not get alice's private message")
				}
				r := m.stop()
				if !heard || !read {
					t.Errorf("%s: heard %v, read %v; stderr %s\nevents %v", name, heard, read, r.stderr, r.events)
					continue
				}
				for _, e := range r.find("text") {
					if e["encrypted"] != true {
						t.Errorf("%s: text not marked encrypted: %v", name, e)
					}
					if isPrivate := e["message"] == private; e["private"] != isPrivate || (isPrivate && name != "bob") {
						t.Errorf("%s got %v", name, e)
					}
				}
				voiced, freq := toneStats(readWAV(t, filepath.Join(dir, name, "alice.wav")))
				t.Logf("%s on %s heard %v at %.1f Hz; %v %v drops %d errs %v", name, v, voiced, freq, r.find("e2e-stats"), r.find("voice-stats"), len(r.find("e2e-voice-dropped")), r.find("voice-error"))
				// Members switch to a new sender key only once every
				// member acknowledged it, so no voice overtakes its key,
				// on 1.3.4 (keys in rate-limited text) too.
				want := 1900 * time.Millisecond
				if voiced < want || math.Abs(freq-440) > 5 {
					t.Errorf("%s heard %v at %.1f Hz, want at least %v of the 2 s tone at 440 Hz", name, voiced, freq, want)
				}
			}
			c := carol.stop()
			for _, k := range []string{"text", "voice-start", "voice-stats", "e2e-signal-ignored"} {
				if evs := c.find(k); len(evs) > 0 {
					t.Errorf("the non-member got %s events: %v", k, evs)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "carol", "alice.wav")); !os.IsNotExist(err) {
				t.Errorf("the non-member recorded alice (stat: %v)", err)
			}
			checkServerView(t, rec.Frames(), secret, private)
		})
	}
}

// checkServerView checks the recorded frames: the secret texts are in none
// (nor their last 8 bytes),
// and the voice payloads do not decode to the 440 Hz tone.
func checkServerView(t *testing.T, frames []murmurtest.Frame, secrets ...string) {
	t.Helper()
	var voicePkts, undecodable int
	var pcm []int16
	buf := make([]int16, 5760)
	dec := map[int]*codec.Decoder{}
	for _, f := range frames {
		for _, secret := range secrets {
			if bytes.Contains(f.Payload, []byte(secret)) || bytes.Contains(f.Payload, []byte(secret[len(secret)-8:])) {
				t.Errorf("the chat plaintext %q is in %v", secret, f)
			}
		}
		if f.Type != uint16(mumble.MessageUDPTunnel) || !f.FromClient {
			continue
		}
		var p mumble.VoicePacket
		if _, err := mumble.ParseVoicePacket(f.Payload, &p, mumble.ClientToServer); err != nil {
			continue
		}
		voicePkts++
		d := dec[f.Conn]
		if d == nil {
			var err error
			if d, err = codec.NewDecoder(); err != nil {
				t.Fatal(err)
			}
			dec[f.Conn] = d
		}
		n, err := d.Decode(p.Opus, buf)
		if err != nil {
			undecodable++
			continue
		}
		pcm = append(pcm, buf[:n]...)
	}
	voiced, freq := toneStats(pcm)
	t.Logf("server's view: %d frames, %d voice packets (%d not Opus at all); the rest decodes to %v of sound at %.1f Hz",
		len(frames), voicePkts, undecodable, voiced, freq)
	if voicePkts < 90 {
		t.Errorf("recorded %d voice packets, want the 2 s tone's 100", voicePkts)
	}
	// Ciphertext decoded as Opus is noise whose overall dominant frequency
	// can land anywhere, near 440 Hz too; the tone would show as 100 ms
	// windows at 440 Hz (the plain 2 s tone gives about 20).
	const window = 4800
	toneWindows := 0
	for off := 0; off+window <= len(pcm); off += window {
		if v, f := toneStats(pcm[off : off+window]); v >= 50*time.Millisecond && math.Abs(f-440) <= 5 {
			toneWindows++
		}
	}
	if toneWindows >= 5 {
		t.Errorf("the server's view decodes to the tone: %d windows of 100 ms at 440 Hz (overall %v at %.1f Hz)", toneWindows, voiced, freq)
	}
}
