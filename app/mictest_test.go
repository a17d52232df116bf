//go:build cgo

package app

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/wav"
)

// waitMicLevel polls the controller's meter (as the meter does) until ok
// holds for it.
func waitMicLevel(t *testing.T, c *Controller, what string, ok func(MicLevel) bool) MicLevel {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ml := c.MicLevel()
		if ok(ml) {
			return ml
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 20 s: last %+v", what, ml)
		}
		time.Sleep(10 * time.Millisecond) // a meter's polling; the level changes every 10 ms
	}
}

// TestControllerMicTest: without a connection, the microphone test shows
// the input's level with the settings' thresholds, the gate opens on the
// voice, and with "hear yourself" the voice comes back through the whole
// send and receive path into the output; push-to-talk reaches the test.
func TestControllerMicTest(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.wav")
	quiet := make([]int16, 48000)
	tone := analysis.Sine(2*48000, 48000, 440, 0.3)
	if err := wav.WriteFile(in, append(quiet, tone...)); err != nil {
		t.Fatal(err)
	}
	c := newTestController(t, ControllerConfig{AudioBackend: AudioFile, AudioInputFile: in, AudioOutputFile: out})
	if ml := c.MicLevel(); ml.Active || ml.SilenceBelow != 0.3 || ml.SpeechAbove != 0.5 {
		t.Fatalf("idle meter %+v, want inactive with the thresholds 0.3/0.5", ml)
	}
	s := c.Settings()
	s.Output.VolumePercent = 100 // the default 10 % would play the tone at -36 dBFS
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if err := c.StartMicTest(c.Settings(), true); err != nil {
		t.Fatal(err)
	}
	ml := waitMicLevel(t, c, "quiet frame", func(ml MicLevel) bool { return ml.Active && ml.Testing && ml.Hearing && !ml.Transmit })
	t.Logf("quiet: %+v", ml)
	ml = waitMicLevel(t, c, "transmission", func(ml MicLevel) bool { return ml.Transmit })
	if ml.Level <= ml.SpeechAbove {
		t.Errorf("transmitting at level %.2f, want above %.2f", ml.Level, ml.SpeechAbove)
	}
	t.Logf("loud: %+v", ml)
	// The tone ends, and the gate closes after the voice hold.
	waitMicLevel(t, c, "the end of the tone", func(ml MicLevel) bool { return !ml.Transmit })
	c.StopMicTest()
	if ml := c.MicLevel(); ml.Active || ml.Testing {
		t.Fatalf("meter after StopMicTest: %+v", ml)
	}
	played, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	best, bestE := 0, -1.0 // the loudest 500 ms
	for i := 0; i+24000 <= len(played); i += 480 {
		if e := analysis.Energy(played[i : i+24000]); e > bestE {
			best, bestE = i, e
		}
	}
	if bestE < 0 {
		t.Fatalf("played back %d samples", len(played))
	}
	seg := played[best : best+24000]
	f, db := analysis.DominantFrequency(seg, 48000), analysis.DBFS(seg)
	t.Logf("played back: %.1f Hz at %.1f dBFS", f, db)
	if f < 435 || f > 445 || db < -30 {
		t.Fatalf("played back %.1f Hz at %.1f dBFS, want the 440 Hz tone", f, db)
	}
}

// TestControllerMicTestClosed: the test refuses to start on a closed
// controller, and Close stops a running test.
func TestControllerMicTestClosed(t *testing.T) {
	c := newTestController(t, ControllerConfig{AudioBackend: AudioNull})
	if err := c.StartMicTest(c.Settings(), false); err != nil {
		t.Fatal(err)
	}
	waitMicLevel(t, c, "active meter", func(ml MicLevel) bool { return ml.Active && !ml.Hearing })
	c.Close()
	if ml := c.MicLevel(); ml.Testing {
		t.Fatalf("test still running after Close: %+v", ml)
	}
	if err := c.StartMicTest(c.Settings(), false); !errors.Is(err, ErrControllerClosed) {
		t.Fatalf("StartMicTest after Close: %v, want ErrControllerClosed", err)
	}
}
