//go:build cgo

package dsp

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tumble-voip/tumble/voice/internal/speechtest"
)

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  EchoConfig
		want string
	}{
		{EchoConfig{FrameSamples: 10}, "echo frame of 10"},
		{EchoConfig{FilterSamples: 100}, "echo filter of 100"},
		{EchoConfig{SampleRate: 1000}, "sample rate 1000"},
		{EchoConfig{DelaySamples: -1}, "reference delay of -1"},
		{EchoConfig{MaxQueueSamples: 100}, "reference queue of 100"},
	} {
		if _, err := NewEchoCanceller(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	for _, tc := range []struct {
		cfg  PreprocessConfig
		want string
	}{
		{PreprocessConfig{NoiseSuppressionDB: 5}, "noise suppression 5"},
		{PreprocessConfig{AGCTargetDBFS: 3}, "AGC target 3.0"},
		{PreprocessConfig{AGCMaxGainDB: 99}, "AGC max gain 99"},
		{PreprocessConfig{HighPassHz: -1}, "high-pass cutoff -1.0"},
	} {
		if _, err := NewPreprocessor(480, 48000, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := NewPreprocessor(10, 48000, PreprocessConfig{}); err == nil {
		t.Error("frame of 10 accepted")
	}
	p, err := NewPreprocessor(480, 48000, PreprocessConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetNoiseSuppression(10); err == nil {
		t.Error("SetNoiseSuppression(10) accepted")
	}
	for _, inc := range []int{-1, 61} {
		if err := p.SetAGCIncrement(inc); err == nil || !strings.Contains(err.Error(), "AGC increment") {
			t.Errorf("SetAGCIncrement(%d): %v", inc, err)
		}
	}
	if _, err := p.Process(make([]int16, 479)); err == nil {
		t.Error("Process of 479 samples accepted")
	}
	e, err := NewEchoCanceller(EchoConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := p.SetEchoCanceller(e); err == nil {
		t.Error("linked a 960-sample canceller to a 480-sample preprocessor")
	}
	if err := e.Cancel(make([]int16, 480), make([]int16, 480)); err == nil {
		t.Error("Cancel of the wrong size accepted")
	}
}

func TestClose(t *testing.T) {
	e, err := NewEchoCanceller(EchoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPreprocessor(480, 48000, PreprocessConfig{NoiseSuppressionDB: -30})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetEchoCanceller(e); err != nil {
		t.Fatal(err)
	}
	// Closing the canceller first unlinks it; the preprocessor goes on.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	frame := make([]int16, 480)
	if err := e.Cancel(frame, frame); !errors.Is(err, ErrClosed) {
		t.Errorf("Cancel after Close: %v", err)
	}
	e.Playback(frame) // ignored, no panic
	if _, err := p.Process(frame); err != nil {
		t.Fatalf("Process after the canceller closed: %v", err)
	}
	if err := p.SetEchoCanceller(e); !errors.Is(err, ErrClosed) {
		t.Errorf("linking a closed canceller: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Process(frame); !errors.Is(err, ErrClosed) {
		t.Errorf("Process after Close: %v", err)
	}
	if err := p.SetConfig(PreprocessConfig{}); !errors.Is(err, ErrClosed) {
		t.Errorf("SetConfig after Close: %v", err)
	}
	if err := p.SetAGCIncrement(0); !errors.Is(err, ErrClosed) {
		t.Errorf("SetAGCIncrement after Close: %v", err)
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}

	// Closing the preprocessor first unlinks it from the canceller.
	e, _ = NewEchoCanceller(EchoConfig{})
	p, _ = NewPreprocessor(480, 48000, PreprocessConfig{})
	p.SetEchoCanceller(e)
	p.Close()
	if len(e.links) != 0 {
		t.Error("closed preprocessor still linked")
	}
	e.Close()
}

func TestReferenceQueue(t *testing.T) {
	e, err := NewEchoCanceller(EchoConfig{FilterSamples: 4800, DelaySamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mic := make([]int16, 480)
	out := make([]int16, 480)
	// The delay is pre-filled: two frames without playback do not underrun.
	for i := 0; i < 2; i++ {
		if err := e.Cancel(mic, out); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.Stats(); st.Underruns != 0 {
		t.Fatalf("underrun within the delay: %+v", st)
	}
	e.Cancel(mic, out)
	if st := e.Stats(); st.Underruns != 1 {
		t.Fatalf("no underrun without reference: %+v", st)
	}
	// Playback running ahead is capped at MaxQueueSamples (2400+960).
	for i := 0; i < 20; i++ {
		e.Playback(make([]int16, 480))
	}
	if st := e.Stats(); st.DroppedSamples != 20*480-3360 {
		t.Fatalf("dropped %d samples, want %d", st.DroppedSamples, 20*480-3360)
	}
	e.Reset()
	if len(e.queue) != 960 {
		t.Fatalf("queue after Reset holds %d samples, want the 960-sample delay", len(e.queue))
	}
}

// TestLiveSettings changes every setting from other goroutines while audio
// runs (run with -race).
func TestLiveSettings(t *testing.T) {
	far := speechtest.Noise(48000, -25, false, 5)
	mic := speechtest.Noise(48000, -40, false, 6)
	e, _ := NewEchoCanceller(EchoConfig{})
	defer e.Close()
	p, _ := NewPreprocessor(480, 48000, PreprocessConfig{})
	defer p.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.SetNoiseSuppression(-(i % 60))
			p.SetAGC(i%2 == 0, i%30)
			p.SetAGCIncrement(i % 13)
			p.SetConfig(PreprocessConfig{NoiseSuppressionDB: -30, HighPassHz: float64(40 + i%80), AGC: true})
			if i%3 == 0 {
				p.SetEchoCanceller(nil)
			} else {
				p.SetEchoCanceller(e)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for off := 0; off+480 <= len(far); off += 480 {
			e.Playback(far[off : off+480])
		}
	}()
	out := make([]int16, 480)
	for off := 0; off+480 <= len(mic); off += 480 {
		if err := e.Cancel(mic[off:off+480], out); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Process(out); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
