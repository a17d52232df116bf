//go:build cgo

package device

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestMalgoNull opens capture and playback on miniaudio's null backend.
func TestMalgoNull(t *testing.T) {
	ctx, err := NewContext(BackendNull)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	for _, k := range []Kind{CaptureKind, PlaybackKind} {
		list, err := ctx.Devices(k)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Fatalf("no %s devices on the null backend", kindName(k))
		}
		t.Logf("%s devices: %+v", kindName(k), list)
	}
	var caps, plays atomic.Int64
	var nonzero atomic.Bool
	list, _ := ctx.Devices(CaptureKind)
	capDev, err := ctx.OpenCapture(list[0].ID, Config{Period: 20 * time.Millisecond}, func(f []int16) {
		if len(f) != FrameSamples {
			t.Errorf("frame of %d", len(f))
		}
		for _, s := range f {
			if s != 0 {
				nonzero.Store(true)
			}
		}
		caps.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	playDev, err := ctx.OpenPlayback("", Config{}, func(out []int16) { plays.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if err := capDev.Start(); err != nil {
		t.Fatal(err)
	}
	if err := playDev.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	c, p := caps.Load(), plays.Load()
	t.Logf("1 s: %d capture frames, %d playback frames", c, p)
	if c < 80 || c > 120 || p < 80 || p > 130 {
		t.Errorf("%d capture and %d playback frames in 1 s, want about 100", c, p)
	}
	if nonzero.Load() {
		t.Error("null capture is not silent")
	}
	if _, err := ctx.OpenCapture("ffff", Config{}, func([]int16) {}); err == nil {
		t.Error("opened a device with a bogus ID")
	}
	if _, err := ctx.OpenCapture("", Config{Period: time.Second}, func([]int16) {}); err == nil {
		t.Error("1 s period accepted")
	}
	// Context.Close closes the devices (callbacks stop).
	if err := ctx.Close(); err != nil {
		t.Fatal(err)
	}
	c = caps.Load()
	time.Sleep(100 * time.Millisecond)
	if caps.Load() != c {
		t.Error("callbacks after Context.Close")
	}
	if err := capDev.Close(); err != nil {
		t.Error(err)
	}
	if _, err := ctx.Devices(CaptureKind); err == nil {
		t.Error("Devices after Close succeeded")
	}
}
