package device

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestNullPause: a playback-only Null device stops calling back while
// pause says so, and on Wake passes over the periods that came due (not
// played late) and plays on from the wall-clock position.
func TestNullPause(t *testing.T) {
	var plays atomic.Int64
	var paused atomic.Bool
	paused.Store(true)
	type resumed struct {
		frames int64
		at     time.Time
	}
	resumes := make(chan resumed, 4)
	played := make(chan struct{}, 1000)
	d, err := NewNull(Config{}, nil, func(out []int16) {
		plays.Add(1)
		played <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	d.SetPause(paused.Load, func(frames int64, at time.Time) { resumes <- resumed{frames, at} })
	start := time.Now()
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	<-played // the first period, after which it pauses
	// The window in which a running clock would play ~30 periods.
	const window = 300 * time.Millisecond
	time.Sleep(window)
	if n := plays.Load(); n != 1 {
		t.Fatalf("%d periods played while paused, want 1", n)
	}
	paused.Store(false)
	woke := time.Now()
	d.Wake()
	r := <-resumes
	// Periods due at waking minus the one played (the device's clock
	// starts a little after start: generous bounds on a loaded machine).
	if want := int64(woke.Sub(start)/(10*time.Millisecond)) - 1; r.frames < want-10 || r.frames > want+1 {
		t.Errorf("resumed passing over %d frames, want about %d", r.frames, want)
	}
	if at := start.Add(time.Duration(r.frames+1) * 10 * time.Millisecond); r.at.Sub(at).Abs() > 100*time.Millisecond {
		t.Errorf("resumed at %v after start, want %v", r.at.Sub(start), at.Sub(start))
	}
	for range 5 { // and plays on
		<-played
	}
	d.Close()
	if n := plays.Load(); n < 6 {
		t.Errorf("%d periods played, want at least 6", n)
	}
}

// TestNullPauseIgnoredWithCapture: capture never pauses.
func TestNullPauseIgnoredWithCapture(t *testing.T) {
	caps := make(chan struct{}, 1000)
	d, err := NewNull(Config{}, func([]int16) { caps <- struct{}{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.SetPause(func() bool { return true }, func(int64, time.Time) { t.Error("resumed a capture device") })
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 5 {
		<-caps
	}
}
