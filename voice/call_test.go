//go:build cgo

package voice

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/device/pulsetest"
	"github.com/tumble-voip/tumble/voice/vad"
	"github.com/tumble-voip/tumble/voice/wav"
)

// packetLog records a Call's outgoing packets (copied) and signals each.
type packetLog struct {
	mu      sync.Mutex
	packets []Packet
	got     chan struct{}
}

func newPacketLog() *packetLog { return &packetLog{got: make(chan struct{}, 1)} }

func (l *packetLog) add(p Packet) {
	p.Opus = append([]byte(nil), p.Opus...)
	l.mu.Lock()
	l.packets = append(l.packets, p)
	l.mu.Unlock()
	select {
	case l.got <- struct{}{}:
	default:
	}
}

func (l *packetLog) all() []Packet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.packets)
}

// waitPackets waits until at least n packets were sent.
func (l *packetLog) waitPackets(t *testing.T, n int) []Packet {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if p := l.all(); len(p) >= n {
			return p
		}
		select {
		case <-l.got:
		case <-deadline:
			t.Fatalf("%d packets sent within 20 s, want %d", len(l.all()), n)
		}
	}
}

// waitTerminator waits until the last packet sent is a terminator and
// returns the packets.
func (l *packetLog) waitTerminator(t *testing.T) []Packet {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if p := l.all(); len(p) > 0 && p[len(p)-1].Terminator {
			return p
		}
		select {
		case <-l.got:
		case <-deadline:
			t.Fatal("no terminator within 20 s")
		}
	}
}

// waitFrames waits until the Call's Sender has processed n more frames
// (10 ms each) than now: the capture device ran that long.
func waitFrames(t *testing.T, c *Call, n int) {
	t.Helper()
	want := c.SendStats().Frames + n
	deadline := time.Now().Add(20 * time.Second)
	for c.SendStats().Frames < want {
		if time.Now().After(deadline) {
			t.Fatalf("the capture device processed %d of %d frames in 20 s", c.SendStats().Frames, want)
		}
		time.Sleep(5 * time.Millisecond) // polls the device's progress
	}
}

// toneWAV writes d of a freq tone at -10 dBFS (peak) to a new WAV file.
func toneWAV(t *testing.T, freq float64, d time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := wav.WriteFile(path, analysis.Sine(int(d.Seconds()*48000), 48000, freq, 0.3)); err != nil {
		t.Fatal(err)
	}
	return path
}

// plainSend is a send configuration without processing (what goes in
// comes out) that transmits as mode says.
func plainSend(mode vad.Mode) SendConfig {
	cfg := DefaultSendConfig()
	cfg.NoiseSuppressionDB, cfg.MaxAmplification, cfg.EchoCancel = 0, 0, EchoOff
	cfg.Transmit = mode
	return cfg
}

// TestCallFileToPackets: a tone captured from a WAV file leaves as Opus
// packets that decode to the tone, and the Call reports transmitting.
func TestCallFileToPackets(t *testing.T) {
	before := runtime.NumGoroutine()
	log := newPacketLog()
	cfg := CallConfig{
		Devices:   FileDevices,
		InputFile: toneWAV(t, 440, time.Second),
		Send:      plainSend(vad.Continuous),
		Volume:    1,
		OnPacket:  log.add,
	}
	c, err := NewCall(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("description: %s", c.Description())
	if !strings.Contains(c.Description(), "tone.wav") {
		t.Errorf("description %q does not name the input file", c.Description())
	}
	waitEvent(t, c.Events(), TransmitStart, 0)
	pkts := log.waitPackets(t, 40) // 800 ms of the tone
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	buf := make([]int16, codec.MaxPacketSamples)
	for _, p := range pkts[:40] {
		if p.Frames10ms != 2 {
			t.Errorf("packet of %d frames, want 2 (20 ms)", p.Frames10ms)
		}
		n, err := dec.Decode(p.Opus, buf)
		if err != nil {
			t.Fatal(err)
		}
		pcm = append(pcm, buf[:n]...)
	}
	tail := pcm[len(pcm)/2:]
	t.Logf("decoded %.2f s: %.1f dBFS, %.0f Hz", float64(len(pcm))/48000, analysis.DBFS(tail), analysis.DominantFrequency(tail, 48000))
	if f := analysis.DominantFrequency(tail, 48000); math.Abs(f-440) > 10 {
		t.Errorf("the packets decode to %.0f Hz, want the file's 440 Hz", f)
	}
	if l := analysis.DBFS(tail); l < -25 {
		t.Errorf("the packets decode to %.1f dBFS, want the file's tone", l)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after Close, %d before NewCall", after, before)
	}
}

// TestCallPacketsToFile: received packets of a tone play into the output
// WAV file, with TalkStart and, after the terminator, TalkStop.
func TestCallPacketsToFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.wav")
	c, err := NewCall(CallConfig{
		Devices:    FileDevices,
		OutputFile: out,
		Send:       plainSend(vad.PushToTalk),
		Volume:     1,
		OnPacket:   func(Packet) { t.Error("a packet left without push-to-talk") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: 32000, FrameMs: 20, Complexity: 10})
	if err != nil {
		t.Fatal(err)
	}
	tone := analysis.Sine(48000, 48000, 440, 0.3)
	buf := make([]byte, codec.MaxPacketBytes)
	// Packets arrive at the pace they were spoken, as from the network.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i+960 <= len(tone); i += 960 {
		n, err := enc.Encode(tone[i:i+960], buf)
		if err != nil {
			t.Fatal(err)
		}
		last := i+2*960 > len(tone)
		if err := c.HandlePacket(5, uint64(i/480), buf[:n], last, time.Now()); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
	waitEvent(t, c.Events(), TalkStart, 5)
	waitEvent(t, c.Events(), TalkStop, 5)
	if err := c.Close(); err != nil { // finishes the file
		t.Fatal(err)
	}
	pcm, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	loud := loudest(pcm, 24000)
	t.Logf("played %.2f s, loudest half second %.1f dBFS, %.0f Hz", float64(len(pcm))/48000, analysis.DBFS(loud), analysis.DominantFrequency(loud, 48000))
	if l := analysis.DBFS(loud); l < -25 {
		t.Errorf("the output file holds the tone at %.1f dBFS, want it loud", l)
	}
	if f := analysis.DominantFrequency(loud, 48000); math.Abs(f-440) > 10 {
		t.Errorf("the output file holds %.0f Hz, want the packets' 440 Hz", f)
	}
}

// loudest returns the loudest n-sample window of pcm (in steps of n/4).
func loudest(pcm []int16, n int) []int16 {
	if len(pcm) <= n {
		return pcm
	}
	best := pcm[:n]
	for i := 0; i+n <= len(pcm); i += n / 4 {
		if w := pcm[i : i+n]; analysis.RMS(w) > analysis.RMS(best) {
			best = w
		}
	}
	return best
}

// TestCallGate walks the push-to-talk and self-mute gate: nothing leaves
// until the key is pressed; muting ends the transmission with a
// terminator and holds it while the key stays down; unmuting with the key
// down transmits again; releasing ends it.
func TestCallGate(t *testing.T) {
	log := newPacketLog()
	c, err := NewCall(CallConfig{
		Devices:   FileDevices,
		InputFile: toneWAV(t, 440, 30*time.Second),
		Send:      plainSend(vad.PushToTalk),
		OnPacket:  log.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFrames(t, c, 30)
	if n := len(log.all()); n != 0 {
		t.Fatalf("%d packets left before push-to-talk", n)
	}

	c.PushToTalk(true)
	waitEvent(t, c.Events(), TransmitStart, 0)
	log.waitPackets(t, 5)

	c.SetSelfMute(true)
	waitEvent(t, c.Events(), TransmitStop, 0)
	pkts := log.waitTerminator(t) // muting ends the transmission
	waitFrames(t, c, 30)
	if n := len(log.all()); n != len(pkts) {
		t.Errorf("%d packets left while muted with the key down", n-len(pkts))
	}

	c.SetSelfMute(false)
	waitEvent(t, c.Events(), TransmitStart, 0)
	log.waitPackets(t, len(pkts)+5)

	c.PushToTalk(false)
	waitEvent(t, c.Events(), TransmitStop, 0)
	pkts = log.waitTerminator(t) // releasing the key ends it
	// Settings change live: the gate keeps working with another packet length.
	cfg := plainSend(vad.PushToTalk)
	cfg.FrameMs = 40
	if err := c.SetSettings(cfg, 1); err != nil {
		t.Fatal(err)
	}
	c.PushToTalk(true)
	waitEvent(t, c.Events(), TransmitStart, 0)
	pkts = log.waitPackets(t, len(pkts)+3)
	if f := pkts[len(pkts)-1].Frames10ms; f != 4 {
		t.Errorf("a packet of %d frames after the change to 40 ms", f)
	}
}

// TestCallGoroutines: every goroutine a Call starts, with each kind of
// device and without sound, ends by Close.
func TestCallGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, cfg := range []CallConfig{
		{Devices: NullDevices},
		{Devices: NoDevices},
		{Devices: FileDevices, OutputFile: filepath.Join(t.TempDir(), "out.wav")},
		{Devices: FileDevices, InputFile: filepath.Join(t.TempDir(), "missing.wav")}, // no sound
	} {
		cfg.Send = DefaultSendConfig()
		cfg.OnPacket = func(Packet) {}
		c, err := NewCall(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.HandlePacket(3, 0, []byte{0xff}, false, time.Now())
		if err := c.Close(); err != nil {
			t.Errorf("%v: %v", cfg.Devices, err)
		}
		if after := runtime.NumGoroutine(); after > before {
			t.Errorf("%v (%s): %d goroutines after Close, %d before", cfg.Devices, c.Description(), after, before)
		}
	}
}

// activity returns the AudioActive calls so far.
func (p *testPlatform) activity() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.active)
}

// TestCallDeviceUnplugged runs a Call on the system's devices (a private
// PulseAudio) with a Platform: the description names the devices and the
// platform's processing, the platform is told when the devices are open,
// an unplugged speaker arrives as DeviceStopped naming it, and Close
// returns and tells the platform.
func TestCallDeviceUnplugged(t *testing.T) {
	pulse := pulsetest.StartT(t, "speaker", "mic")
	platform := &testPlatform{}
	c, err := NewCall(CallConfig{
		Devices:        SystemDevices,
		CaptureDevice:  "Monitor of mic",
		PlaybackDevice: "speaker",
		Platform:       platform,
		Send:           DefaultSendConfig(),
		Volume:         1,
		OnPacket:       func(Packet) {},
		Logf:           t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc := c.Description()
	t.Logf("description: %s", desc)
	if !strings.Contains(desc, `"Monitor of mic" in`) || !strings.Contains(desc, `"speaker" out`) || !strings.Contains(desc, "Processing: test platform") {
		t.Errorf("description %q does not name the devices and the platform's plan", desc)
	}
	if got := platform.activity(); !slices.Equal(got, []bool{true}) {
		t.Errorf("AudioActive calls %v after opening, want [true]", got)
	}
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pulse.RemoveSink(rctx, "speaker"); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, c.Events(), DeviceStopped, 0)
	if ev.Device != `the output device "speaker"` || !errors.Is(ev.Err, device.ErrStopped) {
		t.Errorf("DeviceStopped %q, %v; want the speaker, device.ErrStopped", ev.Device, ev.Err)
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Close hung for 15 s after the unplug")
	}
	if got := platform.activity(); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("AudioActive calls %v after Close, want [true false]", got)
	}
}

// TestCallNoDevicesWakes: without devices the playback clock pauses while
// nothing plays (no wake-up every 10 ms in a silent call) and a packet
// wakes it: each of two talk spurts, before and after a silent pause,
// gives TalkStart and TalkStop.
func TestCallNoDevicesWakes(t *testing.T) {
	c, err := NewCall(CallConfig{
		Devices:  NoDevices,
		Send:     plainSend(vad.PushToTalk),
		Volume:   1,
		OnPacket: func(Packet) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.idleClock == nil {
		t.Fatalf("no pausing playback clock (%s)", c.Description())
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 5})
	if err != nil {
		t.Fatal(err)
	}
	tone := analysis.Sine(48000, 48000/2, 440, 0.3)
	buf := make([]byte, codec.MaxPacketBytes)
	var seq uint64
	for spurt := range 2 {
		tick := time.NewTicker(20 * time.Millisecond)
		for i := 0; i+960 <= len(tone); i += 960 {
			n, err := enc.Encode(tone[i:i+960], buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.HandlePacket(5, seq, buf[:n], i+2*960 > len(tone), time.Now()); err != nil {
				t.Fatal(err)
			}
			seq += 2
			<-tick.C
		}
		tick.Stop()
		waitEvent(t, c.Events(), TalkStart, 5)
		waitEvent(t, c.Events(), TalkStop, 5)
		t.Logf("talk spurt %d heard", spurt+1)
		seq += 50 // a second of silence between the spurts
	}
}
