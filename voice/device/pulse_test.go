//go:build cgo

package device

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/device/pulsetest"
)

// recorder keeps captured frames.
type recorder struct {
	mu      sync.Mutex
	samples []int16
	frames  int
	loud    int // frames above -40 dBFS
}

func (r *recorder) capture(f []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, f...)
	r.frames++
	if analysis.DBFS(f) > -40 {
		r.loud++
	}
}

func (r *recorder) snapshot() (samples []int16, frames, loud int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.samples...), r.frames, r.loud
}

// tone returns a playback callback for a continuous sine.
func tone(freq float64) PlaybackFunc {
	var phase float64
	return func(out []int16) {
		for i := range out {
			out[i] = int16(8000 * math.Sin(phase))
			phase += 2 * math.Pi * freq / SampleRate
		}
		phase = math.Mod(phase, 2*math.Pi)
	}
}

// waitLoud waits until r has captured n loud frames.
func waitLoud(t *testing.T, r *recorder, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, frames, loud := r.snapshot()
		if loud >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d frames captured, %d of them loud; want %d loud", timeout, frames, loud, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPulseAudioLoop plays a tone on one of two PulseAudio sinks, chosen
// by ID, and captures it from that sink's monitor: real devices through
// miniaudio's PulseAudio backend, in real time.
func TestPulseAudioLoop(t *testing.T) {
	pulsetest.StartT(t, "speaker", "headset")
	ctx, err := NewContext(BackendPulseAudio)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	ids := map[string]string{}
	for _, k := range []Kind{PlaybackKind, CaptureKind} {
		list, err := ctx.Devices(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s devices: %+v", kindName(k), list)
		for _, in := range list {
			ids[kindName(k)+" "+in.Name] = in.ID
		}
	}
	playID, ok1 := ids["playback headset"]
	capID, ok2 := ids["capture Monitor of headset"]
	otherID, ok3 := ids["capture Monitor of speaker"]
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("devices by name: %v", ids)
	}

	var rec, other recorder
	pd, err := ctx.OpenPlayback(playID, Config{}, tone(440))
	if err != nil {
		t.Fatal(err)
	}
	cd, err := ctx.OpenCapture(capID, Config{Period: 20 * time.Millisecond}, rec.capture)
	if err != nil {
		t.Fatal(err)
	}
	od, err := ctx.OpenCapture(otherID, Config{}, other.capture)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Device{pd, cd, od} {
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// A null sink idles in 2 s blocks; the first block can hold the
	// stream back that long before it follows the stream's latency.
	waitLoud(t, &rec, 5, 5*time.Second)
	_, startFrames, _ := rec.snapshot()
	start := time.Now()
	time.Sleep(time.Second)
	samples, frames, _ := rec.snapshot()
	rate := float64(frames-startFrames) / time.Since(start).Seconds()
	tail := samples[len(samples)-SampleRate/2:]
	freq := analysis.DominantFrequency(tail, SampleRate)
	level := analysis.DBFS(tail)
	t.Logf("captured %.1f frames/s; last 0.5 s: %.1f Hz at %.1f dBFS", rate, freq, level)
	if rate < 80 || rate > 120 {
		t.Errorf("%.1f capture frames per second, want about 100", rate)
	}
	if math.Abs(freq-440) > 5 {
		t.Errorf("captured %.1f Hz, want 440", freq)
	}
	// 8000/32768 peak is -15.3 dBFS RMS.
	if level < -18 || level > -13 {
		t.Errorf("captured at %.1f dBFS, want about -15.3", level)
	}
	otherSamples, otherFrames, _ := other.snapshot()
	if otherFrames == 0 {
		t.Error("the other monitor captured nothing")
	} else if l := analysis.DBFS(otherSamples); l > -60 {
		t.Errorf("the unused sink's monitor captured %.1f dBFS: playback went to the wrong device", l)
	}
	for _, d := range []Device{pd, cd, od} {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestPulseAudioUnplug removes the sink under running devices: both
// report OnStop, and Close returns promptly afterwards.
func TestPulseAudioUnplug(t *testing.T) {
	srv := pulsetest.StartT(t, "speaker", "headset")
	ctx, err := NewContext(BackendPulseAudio)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	find := func(k Kind, name string) string {
		list, err := ctx.Devices(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			if in.Name == name {
				return in.ID
			}
		}
		t.Fatalf("no %s device %q in %+v", kindName(k), name, list)
		return ""
	}
	stops := make(chan error, 4)
	cfg := Config{OnStop: func(err error) { stops <- err }}
	var rec recorder
	pd, err := ctx.OpenPlayback(find(PlaybackKind, "headset"), cfg, tone(300))
	if err != nil {
		t.Fatal(err)
	}
	cd, err := ctx.OpenCapture(find(CaptureKind, "Monitor of headset"), cfg, rec.capture)
	if err != nil {
		t.Fatal(err)
	}
	if err := pd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLoud(t, &rec, 5, 5*time.Second)

	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.RemoveSink(rctx, "headset"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case err := <-stops:
			t.Logf("OnStop: %v", err)
			if !errors.Is(err, ErrStopped) {
				t.Errorf("OnStop(%v), want ErrStopped", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of 2 devices reported the unplug within 5 s", i)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- errors.Join(pd.Close(), cd.Close(), ctx.Close()) }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the unplugged devices hung for 10 s")
	}
	select {
	case err := <-stops:
		t.Errorf("a third OnStop: %v", err)
	default:
	}
}
