package device

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/wav"
)

func TestNull(t *testing.T) {
	for _, period := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond} {
		var caps, plays atomic.Int64
		d, err := NewNull(Config{Period: period}, func(f []int16) {
			if len(f) != FrameSamples {
				t.Errorf("capture frame of %d", len(f))
			}
			caps.Add(1)
		}, func(out []int16) {
			if len(out) != FrameSamples {
				t.Errorf("playback frame of %d", len(out))
			}
			plays.Add(1)
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		d.Close()
		el := time.Since(start)
		want := float64(el / (10 * time.Millisecond))
		n := float64(caps.Load())
		t.Logf("period %v: %v frames in %v", period, n, el)
		if math.Abs(n-want) > 4 || caps.Load() != plays.Load() {
			t.Errorf("period %v: %v capture and %v playback frames in %v, want about %v", period, n, plays.Load(), el, want)
		}
		if err := d.Close(); err != nil {
			t.Error("second Close:", err)
		}
		if err := d.Start(); err == nil {
			t.Error("Start after Close succeeded")
		}
	}
	if _, err := NewNull(Config{Period: 15 * time.Millisecond}, nil, nil); err == nil {
		t.Error("15 ms period accepted")
	}
}

func writeWAV(t *testing.T, path string, pcm []int16) {
	t.Helper()
	if err := wav.WriteFile(path, pcm); err != nil {
		t.Fatal(err)
	}
}

func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	pcm, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestFileLoop captures a WAV file and plays what it captured, one frame
// later, into another: the output is the input delayed by 10 ms.
func TestFileLoop(t *testing.T) {
	dir := t.TempDir()
	in := analysis.Sine(48000+100, SampleRate, 440, 0.3) // a partial last frame
	writeWAV(t, filepath.Join(dir, "in.wav"), in)
	f, err := os.Open(filepath.Join(dir, "in.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.Create(filepath.Join(dir, "out.wav"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var last []int16
	stopped := make(chan error, 1)
	d, err := NewFile(FileConfig{Config: Config{Period: 20 * time.Millisecond, OnStop: func(err error) { stopped <- err }},
		In: r, Out: w, SilenceAfter: 50 * time.Millisecond},
		func(frame []int16) {
			mu.Lock()
			last = append(last[:0], frame...)
			mu.Unlock()
		},
		func(out []int16) {
			mu.Lock()
			copy(out, last)
			mu.Unlock()
		})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	d.Start()
	select {
	case err := <-stopped:
		if !errors.Is(err, ErrEndOfInput) {
			t.Fatalf("stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("file device did not stop at the end of its input")
	}
	<-d.Done()
	if !errors.Is(d.Err(), ErrEndOfInput) {
		t.Errorf("Err() = %v", d.Err())
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("as-fast-as-possible run took %v for 1 s of audio", el)
	}
	d.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := readWAV(t, filepath.Join(dir, "out.wav"))
	// 101 frames of input (last partial) + 5 of silence.
	if d.Frames() != 106 || len(out) != 106*FrameSamples {
		t.Fatalf("%d frames, %d samples out, want 106 frames", d.Frames(), len(out))
	}
	for i := 0; i < 48000; i++ {
		if out[i+FrameSamples] != in[i] {
			t.Fatalf("sample %d: out %d, want input delayed by a frame (%d)", i, out[i+FrameSamples], in[i])
		}
	}
}

func TestFileRealtime(t *testing.T) {
	var n atomic.Int64
	d, err := NewFile(FileConfig{Realtime: true, Limit: 300 * time.Millisecond}, func([]int16) { n.Add(1) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	d.Start()
	<-d.Done()
	el := time.Since(start)
	if n.Load() != 30 || el < 290*time.Millisecond || el > 600*time.Millisecond {
		t.Errorf("%d frames in %v, want 30 in 300 ms", n.Load(), el)
	}
	if !errors.Is(d.Err(), ErrEndOfInput) {
		t.Errorf("Err() = %v", d.Err())
	}
	// Close before the end stops it without an error.
	d, _ = NewFile(FileConfig{Realtime: true}, func([]int16) {}, nil)
	d.Start()
	time.Sleep(30 * time.Millisecond)
	d.Close()
	if d.Err() != nil {
		t.Errorf("closed device reports %v", d.Err())
	}
	if _, err := NewFile(FileConfig{Limit: -1}, nil, nil); err == nil {
		t.Error("negative limit accepted")
	}
}

// TestAndroidPresetChecked refuses an Android input preset that does not
// exist, on every device.
func TestAndroidPresetChecked(t *testing.T) {
	bad := Config{Android: AndroidStream{InputPreset: PresetVoicePerformance + 1}}
	if _, err := NewNull(bad, func([]int16) {}, nil); err == nil || !strings.Contains(err.Error(), "Android input preset") {
		t.Errorf("NewNull with preset %d: %v, want an error naming it", bad.Android.InputPreset, err)
	}
	if got := PresetVoiceCommunication.String(); got != "VOICE_COMMUNICATION" {
		t.Errorf("PresetVoiceCommunication.String() = %q", got)
	}
	good := Config{Android: AndroidStream{InputPreset: PresetVoiceCommunication, VoiceCall: true}}
	d, err := NewNull(good, func([]int16) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}
