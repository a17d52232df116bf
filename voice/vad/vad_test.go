package vad

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/internal/speechtest"
)

const frame = 480

func mustGate(t *testing.T, cfg Config) *Gate {
	t.Helper()
	g, err := NewGate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// run judges pcm frame by frame on its own level.
func run(g *Gate, pcm []int16) []Decision {
	var out []Decision
	for off := 0; off+frame <= len(pcm); off += frame {
		out = append(out, g.Next(Frame{DBFS: analysis.DBFS(pcm[off : off+frame]), SpeechProb: -1}))
	}
	return out
}

func TestLevels(t *testing.T) {
	if got := LevelDBFS(0.3); math.Abs(got+67.2) > 0.01 {
		t.Errorf("30%% = %.2f dBFS, want -67.2", got)
	}
	if got := LevelDBFS(0.5); got != -48 {
		t.Errorf("50%% = %.2f dBFS, want -48", got)
	}
	if AmplitudeLevel(-48) != 0.5 || AmplitudeLevel(-200) != 0 || AmplitudeLevel(6) != 1 {
		t.Error("AmplitudeLevel")
	}
}

// TestSpeech: the gate opens at the start of speech, stays open through
// the pauses within the voice hold, and closes the hold after the end.
func TestSpeech(t *testing.T) {
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -25)
	lead := 48000
	pcm := speechtest.Mix(speechtest.Delay(speech, lead), speechtest.Noise(lead+len(speech)+2*48000, -75, false, 1))
	cfg := DefaultConfig()
	cfg.Hold = 300 * time.Millisecond
	dec := run(mustGate(t, cfg), pcm)

	// Reference: frames whose level is above the speech threshold.
	first, last := -1, -1
	for i := range dec {
		if analysis.DBFS(pcm[i*frame:(i+1)*frame]) > LevelDBFS(cfg.SpeechAbove) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < lead/frame {
		t.Fatalf("noise lead-in is above the speech threshold at frame %d", first)
	}
	opened := -1
	for i, d := range dec {
		if d.Transmit {
			opened = i
			break
		}
	}
	if opened != first {
		t.Errorf("opened at frame %d, speech starts at frame %d", opened, first)
	}
	// Closed: last transmitting frame.
	closed := -1
	for i := len(dec) - 1; i >= 0; i-- {
		if dec[i].Transmit {
			closed = i
			break
		}
	}
	// After the last loud frame the level falls through the hysteresis
	// band (down to -67 dBFS) and then the 30-frame hold runs.
	lastVoice := last
	for lastVoice+1 < len(dec) && analysis.DBFS(pcm[(lastVoice+1)*frame:(lastVoice+2)*frame]) > LevelDBFS(cfg.SilenceBelow) {
		lastVoice++
	}
	if closed != lastVoice+30 {
		t.Errorf("closed after frame %d, want %d (last voiced frame %d + 30 frames hold)", closed, lastVoice+30, lastVoice)
	}
	// Continuous transmission in between: speech pauses are shorter than
	// the hold or above the silence threshold.
	gaps := 0
	for i := opened; i <= closed; i++ {
		if !dec[i].Transmit {
			gaps++
		}
	}
	t.Logf("speech frames %d-%d, transmitted %d-%d with %d gaps", first, last, opened, closed, gaps)
}

func TestHoldExact(t *testing.T) {
	for _, hold := range []time.Duration{0, 10 * time.Millisecond, 200 * time.Millisecond, 205 * time.Millisecond} {
		cfg := DefaultConfig()
		cfg.Hold = hold
		g := mustGate(t, cfg)
		tone := analysis.Sine(48000, 48000, 440, 0.1)
		pcm := append(tone, make([]int16, 48000)...)
		dec := run(g, pcm)
		n := 0
		for i := 100; i < len(dec) && dec[i].Transmit; i++ {
			n++
		}
		if want := frames(hold); n != want {
			t.Errorf("hold %v: transmitted %d frames after the tone, want %d", hold, n, want)
		}
		if !dec[0].Transmit || !dec[99].Transmit {
			t.Errorf("hold %v: tone not transmitted", hold)
		}
	}
}

// TestNoiseBelowThreshold: noise between the thresholds does not open the
// gate, but keeps an open gate open (hysteresis).
func TestNoiseBelowThreshold(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hold = 0
	// -60 dBFS RMS: level 0.375, between 30% and 50%.
	noise := speechtest.Noise(3*48000, -60, false, 2)
	for _, d := range run(mustGate(t, cfg), noise) {
		if d.Transmit {
			t.Fatal("noise below the speech threshold opened the gate")
		}
	}
	g := mustGate(t, cfg)
	dec := run(g, append(analysis.Sine(4800, 48000, 300, 0.1), noise...))
	for i, d := range dec {
		if !d.Transmit {
			t.Fatalf("gate closed at frame %d in noise above the silence threshold", i)
		}
	}
	// Below the silence threshold it closes.
	dec = run(g, speechtest.Noise(4800, -75, false, 3))
	if dec[len(dec)-1].Transmit {
		t.Fatal("gate open below the silence threshold")
	}
}

// TestSignalToNoise: loud steady noise (which amplitude mode would send)
// stays off; speech over it opens the gate.
func TestSignalToNoise(t *testing.T) {
	cfg := Config{Mode: VoiceActivity, Measure: SignalToNoise, SilenceBelow: 0.8, SpeechAbove: 0.98, Hold: 200 * time.Millisecond}
	noise := speechtest.Noise(4*48000, -40, false, 4)
	amp := run(mustGate(t, DefaultConfig()), noise)
	if !amp[len(amp)-1].Transmit {
		t.Fatal("amplitude mode does not send -40 dBFS noise; the test needs it to")
	}
	g := mustGate(t, cfg)
	for i, d := range run(g, noise) {
		if d.Transmit && i > 10 {
			t.Fatalf("signal-to-noise mode sends steady noise at frame %d (level %.2f)", i, d.Level)
		}
	}
	if nf := g.NoiseFloorDBFS(); math.Abs(nf+40) > 3 {
		t.Errorf("noise floor %.1f dBFS, want about -40", nf)
	}
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -15)
	dec := run(g, speechtest.Mix(speech, speechtest.Noise(len(speech), -40, false, 5)))
	sent := 0
	for _, d := range dec {
		if d.Transmit {
			sent++
		}
	}
	voiced := 0
	for off := 0; off+frame <= len(speech); off += frame {
		if analysis.DBFS(speech[off:off+frame]) > -30 {
			voiced++
		}
	}
	t.Logf("speech over noise: %d of %d frames sent, %d frames of speech above -30 dBFS", sent, len(dec), voiced)
	if sent < voiced {
		t.Errorf("sent %d frames, fewer than the %d loud speech frames", sent, voiced)
	}
	if sent == len(dec) {
		t.Error("sent everything, pauses included")
	}
	// With the preprocessor's probability the Gate uses that instead.
	g = mustGate(t, cfg)
	if d := g.Next(Frame{DBFS: -90, SpeechProb: 0.99}); !d.Transmit || d.Level != 0.99 {
		t.Errorf("given probability ignored: %+v", d)
	}
}

func TestPushToTalk(t *testing.T) {
	g := mustGate(t, Config{Mode: PushToTalk, PTTHold: 50 * time.Millisecond})
	loud := Frame{DBFS: -10, SpeechProb: -1}
	quiet := Frame{DBFS: -90, SpeechProb: -1}
	if g.Next(loud).Transmit {
		t.Fatal("push-to-talk sends without the key")
	}
	g.SetPushToTalk(true)
	for i := 0; i < 10; i++ {
		if !g.Next(quiet).Transmit {
			t.Fatal("not sending with the key held")
		}
	}
	g.SetPushToTalk(false)
	n := 0
	for i := 0; i < 20; i++ {
		if g.Next(loud).Transmit {
			n++
		}
	}
	if n != 5 {
		t.Errorf("sent %d frames after release, want 5 (50 ms hold)", n)
	}
	// The key also sends in voice activity mode, in silence.
	g = mustGate(t, DefaultConfig())
	g.SetPushToTalk(true)
	if !g.Next(quiet).Transmit {
		t.Error("key held in voice activity mode does not send")
	}
	// Continuous sends silence.
	cfg := DefaultConfig()
	cfg.Mode = Continuous
	g = mustGate(t, cfg)
	if d := g.Next(quiet); !d.Transmit || d.Voice {
		t.Errorf("continuous: %+v", d)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Mode: 7}, "unknown mode 7"},
		{Config{Measure: 3}, "unknown measure 3"},
		{Config{SilenceBelow: 1.5, SpeechAbove: 1.5}, "silence threshold 1.5"},
		{Config{SpeechAbove: math.NaN()}, "speech threshold NaN"},
		{Config{SilenceBelow: 0.6, SpeechAbove: 0.5}, "below silence threshold"},
		{Config{Hold: -time.Second}, "voice hold -1s"},
		{Config{PTTHold: time.Hour}, "push-to-talk hold 1h0m0s"},
	} {
		_, err := NewGate(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	g := mustGate(t, DefaultConfig())
	if err := g.SetConfig(Config{Mode: 9}); err == nil || g.Config() != DefaultConfig() {
		t.Error("bad SetConfig accepted or applied")
	}
	if VoiceActivity.String() != "voice activity" || SignalToNoise.String() != "signal-to-noise" || Mode(9).String() != "Mode(9)" {
		t.Error("String")
	}
}

func TestConcurrent(t *testing.T) {
	g := mustGate(t, DefaultConfig())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			g.SetPushToTalk(i%2 == 0)
			cfg := DefaultConfig()
			cfg.Mode = Mode(i % 3)
			g.SetConfig(cfg)
		}
	}()
	for i := 0; i < 1000; i++ {
		g.Next(Frame{DBFS: float64(-i % 90), SpeechProb: -1})
	}
	wg.Wait()
}
