//go:build cgo

package voice

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/internal/speechtest"
	"github.com/tumble-voip/tumble/voice/wav"
)

// TestEngineFiles runs the Engine on a File device: speech captured from a
// WAV file goes out as packets, a 660 Hz "mix" is played into another WAV
// file and is the echo reference.
func TestEngineFiles(t *testing.T) {
	dir := t.TempDir()
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -25)
	inPath, outPath := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.wav")
	w, err := wav.Create(inPath)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(speech)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(inPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wav.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var packets, frames, terms int
	var talking []bool
	mixTone := analysis.Sine(48000, 48000, 660, 0.1)
	pos := 0
	eng, err := NewEngine(EngineConfig{
		Send: DefaultSendConfig(),
		Mix: func(out []int16) {
			for i := range out {
				out[i] = mixTone[pos%len(mixTone)]
				pos++
			}
		},
		OnPacket: func(p Packet) {
			mu.Lock()
			packets++
			frames += p.Frames10ms
			if p.Terminator {
				terms++
			}
			mu.Unlock()
		},
		OnTalking: func(on bool) { talking = append(talking, on) },
		OnError:   func(err error) { t.Error(err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	dev, err := device.NewFile(device.FileConfig{Config: device.Config{Period: 20 * time.Millisecond, OnStop: func(err error) { stopped <- err }},
		In: r, Out: out, SilenceAfter: time.Second}, eng.Capture, eng.Playback)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(dev); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, device.ErrEndOfInput) {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("file device did not finish")
	}
	st := eng.Sender().Stats()
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	played := readAll(t, outPath)
	t.Logf("%d frames captured, %d packets (%d frames, %d terminators), talking %v, echo %+v, played %.1f s at %.0f Hz",
		st.Frames, packets, frames, terms, talking, st.Echo, float64(len(played))/48000, analysis.DominantFrequency(played, 48000))
	if st.Frames != len(played)/FrameSamples || st.Frames < len(speech)/FrameSamples {
		t.Errorf("captured %d frames, played %d, speech is %d", st.Frames, len(played)/FrameSamples, len(speech)/FrameSamples)
	}
	if math.Abs(analysis.DominantFrequency(played, 48000)-660) > 1 {
		t.Error("playback file does not hold the mix")
	}
	if packets == 0 || terms == 0 || frames < len(speech)/FrameSamples/2 {
		t.Errorf("%d packets, %d frames, %d terminators for %.1f s of speech", packets, frames, terms, float64(len(speech))/48000)
	}
	if st.Echo.Frames != st.Frames || st.Echo.Underruns != 0 {
		t.Errorf("echo reference: %+v", st.Echo)
	}
}

func readAll(t *testing.T, path string) []int16 {
	t.Helper()
	pcm, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}
