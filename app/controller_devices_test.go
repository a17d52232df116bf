//go:build cgo

package app

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/device/pulsetest"
	"github.com/tumble-voip/tumble/voice/wav"
)

// soundProbe plays into and records from the private PulseAudio server,
// standing in for the person at the computer: a voice into the
// microphone, an ear on the speaker.
type soundProbe struct {
	ctx *device.Context

	mu      sync.Mutex
	speak   bool    // play the voice into the microphone sink
	phase   float64 // of the voice signal
	t       float64 // seconds of voice played
	heard   []int16 // recorded from the speaker's monitor
	hearing bool
}

func newSoundProbe(t *testing.T, micSink, speakerMonitor string) *soundProbe {
	t.Helper()
	mctx, err := device.NewContext(device.BackendPulseAudio)
	if err != nil {
		t.Fatal(err)
	}
	p := &soundProbe{ctx: mctx}
	t.Cleanup(func() { mctx.Close() })
	id := func(k device.Kind, name string) string {
		infos, err := mctx.Devices(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			if in.Name == name {
				return in.ID
			}
		}
		t.Fatalf("no device %q in %+v", name, infos)
		return ""
	}
	mouth, err := mctx.OpenPlayback(id(device.PlaybackKind, micSink), device.Config{}, p.voice)
	if err != nil {
		t.Fatal(err)
	}
	ear, err := mctx.OpenCapture(id(device.CaptureKind, speakerMonitor), device.Config{}, p.listen)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []device.Device{mouth, ear} {
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// voice plays a voice-like 300 Hz signal with syllables while speak is on.
func (p *soundProbe) voice(out []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range out {
		if !p.speak {
			out[i] = 0
			continue
		}
		env := 0.55 + 0.45*math.Sin(2*math.Pi*4*p.t)
		v := math.Sin(p.phase) + 0.4*math.Sin(2*p.phase) + 0.2*math.Sin(3*p.phase)
		out[i] = int16(7000 * env * v)
		p.phase = math.Mod(p.phase+2*math.Pi*300/48000, 2*math.Pi)
		p.t += 1.0 / 48000
	}
}

func (p *soundProbe) listen(frame []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hearing {
		p.heard = append(p.heard, frame...)
	}
}

func (p *soundProbe) setSpeak(on bool) {
	p.mu.Lock()
	p.speak = on
	p.mu.Unlock()
}

func (p *soundProbe) setHearing(on bool) []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hearing = on
	if on {
		p.heard = nil
	}
	return slices.Clone(p.heard)
}

// newDeviceController returns a Controller on the system's sound devices
// (newTestController swaps them for null ones), with Tor off.
func newDeviceController(t *testing.T, platform voice.Platform) *Controller {
	t.Helper()
	c, err := NewController(context.Background(), ControllerConfig{ConfigDir: t.TempDir(), TorMode: "off", AudioPlatform: platform})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// speakerHears has talker hold push-to-talk for d once listener hears
// them (as name), and returns what the probe recorded from the speaker
// meanwhile.
func speakerHears(t *testing.T, probe *soundProbe, listener, talker *Controller, name string, d time.Duration) []int16 {
	t.Helper()
	probe.setHearing(true)
	talker.PushToTalk(true)
	waitFor(t, listener, listener.State().Self.Name+" hears "+name, func(st State) bool {
		u, _ := userNamed(st.Root, name)
		return u != nil && u.Talking
	})
	time.Sleep(d)
	talker.PushToTalk(false)
	return probe.setHearing(false)
}

// TestControllerRealSoundDevices runs the app on real sound devices of a
// private PulseAudio server: the settings choose them by name from
// SoundDevices; the person speaks into the microphone, and a second
// client hears it; the second client speaks and the person hears it from
// the speaker; then the speaker is unplugged and the app says so.
func TestControllerRealSoundDevices(t *testing.T) {
	pulse := pulsetest.StartT(t, "speaker", "mic")
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15})
	dir := t.TempDir()
	bobIn := filepath.Join(dir, "bob-in.wav")
	bobOut := filepath.Join(dir, "bob-out.wav")
	writeVoiceLikeWAV(t, bobIn, 4*time.Second)

	platform := &testPlatform{}
	a := newDeviceController(t, platform)
	devs, err := a.SoundDevices()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sound devices: %+v", devs)
	if !slices.Contains(devs.Capture, "Monitor of mic") || !slices.Contains(devs.Playback, "speaker") ||
		devs.DefaultPlayback != "speaker" {
		t.Fatalf("SoundDevices() = %+v, want the private server's sinks and monitors", devs)
	}
	s := a.Settings() // Tor recommended, apart from:
	s.Input.Device = "Monitor of mic"
	s.Output.Device = "speaker"
	s.Output.VolumePercent = 100
	s.Input.Transmit = TransmitPushToTalk
	if err := a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	b := newTestController(t, ControllerConfig{AudioBackend: AudioFile, AudioInputFile: bobIn, AudioOutputFile: bobOut})
	sb := b.Settings()
	sb.Output.VolumePercent = 100
	sb.Input.Transmit = TransmitPushToTalk
	if err := b.SetSettings(sb); err != nil {
		t.Fatal(err)
	}
	probe := newSoundProbe(t, "mic", "Monitor of speaker")

	st := connect(t, a, addServerBookmark(t, a, srv.Addr, "alice", ""))
	t.Logf("alice's sound: %s", st.Audio)
	if !strings.Contains(st.Audio, `"Monitor of mic" in`) || !strings.Contains(st.Audio, `"speaker" out`) {
		t.Fatalf("alice's sound description %q does not name the chosen devices", st.Audio)
	}
	if !strings.Contains(st.Audio, "Processing: test platform") {
		t.Errorf("alice's sound description %q does not carry the platform's plan", st.Audio)
	}
	if want, got := (voice.Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}), platform.wanted(); got != want {
		t.Errorf("the platform was asked for %+v, want Tor recommended's %+v", got, want)
	}
	if got := platform.activity(); !slices.Equal(got, []bool{true}) {
		t.Errorf("AudioActive calls %v after connecting, want [true]", got)
	}
	connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))

	// Bob talks; Alice's speaker plays him.
	heard := speakerHears(t, probe, a, b, "bob", 2*time.Second)
	loud := loudest(heard, 48000)
	t.Logf("alice's speaker: %.1f s recorded, loudest second %.1f dBFS, %.0f Hz", float64(len(heard))/48000,
		analysis.DBFS(loud), analysis.DominantFrequency(loud, 48000))
	if analysis.DBFS(loud) < -40 {
		t.Errorf("alice's speaker played bob at %.1f dBFS, want his voice", analysis.DBFS(loud))
	}
	// Bob's voice is 220 Hz with harmonics at 440 and 660 Hz; after his
	// send path (noise suppression, gain control, Opus at 13 kb/s) the
	// loudest second's strongest component was once 440 Hz (a CI run), so
	// any of them is him (Alice's own voice, below, is 300 Hz).
	if f := analysis.DominantFrequency(loud, 48000); math.Abs(f-220) > 10 && math.Abs(f-440) > 10 && math.Abs(f-660) > 10 {
		t.Errorf("alice's speaker: %.0f Hz, want bob's 220 Hz or its harmonics", f)
	}
	waitFor(t, a, "bob silent", func(st State) bool {
		u, _ := userNamed(st.Root, "bob")
		return u != nil && !u.Talking
	})

	// Alice talks into her microphone; Bob hears her.
	probe.setSpeak(true)
	time.Sleep(300 * time.Millisecond)
	a.PushToTalk(true)
	waitFor(t, b, "bob hears alice", func(st State) bool {
		u, _ := userNamed(st.Root, "alice")
		return u != nil && u.Talking
	})
	time.Sleep(3 * time.Second)
	a.PushToTalk(false)
	probe.setSpeak(false)
	waitFor(t, b, "alice silent", func(st State) bool {
		u, _ := userNamed(st.Root, "alice")
		return u != nil && !u.Talking
	})

	// Unplug the speaker: the app says so instead of going quiet.
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pulse.RemoveSink(rctx, "speaker"); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, a, "unplug reported", func(st State) bool { return strings.Contains(st.Audio, "Sound stopped") })
	t.Logf("after unplug: %s", st.Audio)
	if !strings.Contains(st.Audio, `"speaker"`) {
		t.Errorf("the unplug message %q does not name the device", st.Audio)
	}
	if st.Phase != PhaseConnected {
		t.Errorf("phase %v after the unplug, want still connected", st.Phase)
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("closing the app after the unplug hung for 15 s")
	}
	if got := platform.activity(); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("AudioActive calls %v after closing, want [true false]", got)
	}

	b.Close() // finishes bob's output file
	pcm := readWAV(t, bobOut)
	loud = loudest(pcm, 48000)
	t.Logf("bob's playback: %.1f s, loudest second %.1f dBFS, %.0f Hz", float64(len(pcm))/48000,
		analysis.DBFS(loud), analysis.DominantFrequency(loud, 48000))
	if analysis.DBFS(loud) < -40 {
		t.Errorf("bob heard alice's microphone at %.1f dBFS, want her voice", analysis.DBFS(loud))
	}
	if f := analysis.DominantFrequency(loud, 48000); math.Abs(f-300) > 10 {
		t.Errorf("bob heard %.0f Hz, want alice's 300 Hz", f)
	}
}

// testPlatform is a voice.Platform that records what it is asked and
// leaves all processing to Tumble.
type testPlatform struct {
	mu     sync.Mutex
	want   voice.Effects
	active []bool
}

func (p *testPlatform) PlanAudio(want voice.Effects) voice.Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.want = want
	return voice.Plan{Tumble: want, Description: "test platform"}
}

func (p *testPlatform) AudioActive(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = append(p.active, on)
	return nil
}

func (p *testPlatform) wanted() voice.Effects {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.want
}

func (p *testPlatform) activity() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.active)
}

// loudest returns the loudest n-sample stretch of pcm (hop n/4).
func loudest(pcm []int16, n int) []int16 {
	if len(pcm) <= n {
		return pcm
	}
	best, bestE := 0, -1.0
	for i := 0; i+n <= len(pcm); i += n / 4 {
		if e := analysis.Energy(pcm[i : i+n]); e > bestE {
			best, bestE = i, e
		}
	}
	return pcm[best : best+n]
}

// readWAV reads a whole WAV file.
func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	pcm, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestControllerPlaybackWithoutMicrophone: with no usable microphone (a
// refused permission on Android, an unplugged one here) the speaker still
// plays the others and nothing is sent.
func TestControllerPlaybackWithoutMicrophone(t *testing.T) {
	pulsetest.StartT(t, "speaker", "mic")
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15})
	dir := t.TempDir()
	bobIn := filepath.Join(dir, "bob-in.wav")
	writeVoiceLikeWAV(t, bobIn, 3*time.Second)
	a := newDeviceController(t, nil)
	s := a.Settings()
	s.Input.Device = "Unplugged USB microphone"
	s.Output.Device = "speaker"
	s.Output.VolumePercent = 100
	s.Input.Transmit = TransmitContinuous
	if err := a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	b := newTestController(t, ControllerConfig{AudioBackend: AudioFile, AudioInputFile: bobIn})
	probe := newSoundProbe(t, "mic", "Monitor of speaker")
	st := connect(t, a, addServerBookmark(t, a, srv.Addr, "alice", ""))
	t.Logf("alice's sound: %s", st.Audio)
	if !strings.Contains(st.Audio, "no microphone") || !strings.Contains(st.Audio, `"speaker" out`) {
		t.Errorf("alice's sound description %q, want no microphone and the speaker", st.Audio)
	}
	connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))
	loud := loudest(speakerHears(t, probe, a, b, "bob", 1500*time.Millisecond), 48000/2)
	if l := analysis.DBFS(loud); l < -40 {
		t.Errorf("alice's speaker played bob at %.1f dBFS, want his voice", l)
	}
	// Continuous transmission, yet nothing is sent without a microphone.
	if st := b.State(); func() bool { u, _ := userNamed(st.Root, "alice"); return u == nil || u.Talking }() {
		t.Error("bob hears alice, who has no microphone")
	}
}
