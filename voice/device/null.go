package device

import (
	"time"
)

// Null is a pure-Go device without hardware: every period, paced by a
// timer against the wall clock, it pulls playback frames and discards
// them, and delivers silent capture frames.
//
// A playback-only Null can pause while there is nothing to play
// (SetPause): then it does not wake every period.
type Null struct {
	cfg     Config
	periods int
	capture CaptureFunc
	play    PlaybackFunc

	// Set before Start (SetPause); pause is nil unless the device may
	// pause.
	pause  func() bool
	resume func(frames int64, now time.Time)
	wake   chan struct{} // one slot: Wake was called

	lifecycle
}

// NewNull returns a Null device calling capture and play (either may be
// nil) every period.
func NewNull(cfg Config, capture CaptureFunc, play PlaybackFunc) (*Null, error) {
	n, err := cfg.periodFrames()
	if err != nil {
		return nil, err
	}
	return &Null{cfg: cfg, periods: n, capture: capture, play: play, wake: make(chan struct{}, 1),
		lifecycle: lifecycle{stop: make(chan struct{}), done: make(chan struct{})}}, nil
}

// SetPause lets a playback-only device (no capture callback) stop its
// timer while there is nothing to play: after every period it asks
// pause, and on true it waits for Wake instead of the next period. On
// waking it calls resume with the number of 10 ms frames it did not play
// (a multiple of the period, possibly 0) and the playback time after
// them, and plays on from there. Call SetPause before Start; a device
// with a capture callback ignores it, since capture never pauses.
func (d *Null) SetPause(pause func() bool, resume func(frames int64, now time.Time)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.capture != nil || d.started {
		return
	}
	d.pause, d.resume = pause, resume
}

// Wake ends a pause (SetPause); without one it does nothing. It never
// blocks.
func (d *Null) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Start starts the timer.
func (d *Null) Start() error {
	return d.start("null device", d.run)
}

func (d *Null) run() {
	defer close(d.done)
	in := make([]int16, FrameSamples)
	out := make([]int16, FrameSamples)
	period := time.Duration(d.periods) * 10 * time.Millisecond
	start := time.Now()
	t := time.NewTimer(period)
	defer t.Stop()
	for n := int64(1); ; n++ {
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		for i := 0; i < d.periods; i++ {
			if d.play != nil {
				d.play(out)
			}
			if d.capture != nil {
				clear(in)
				d.capture(in)
			}
		}
		if d.pause != nil {
			var ok bool
			if n, ok = d.paused(start, period, n); !ok {
				return
			}
		}
		t.Reset(time.Until(start.Add(time.Duration(n+1) * period)))
	}
}

// paused pauses while pause says so, after n periods since start were
// played; it returns the periods played or passed over, and false if
// the device was closed.
func (d *Null) paused(start time.Time, period time.Duration, n int64) (int64, bool) {
	// Drain a wake-up before asking: one after this is either seen by
	// pause or ends the wait below.
	select {
	case <-d.wake:
	default:
	}
	if !d.pause() {
		return n, true
	}
	select {
	case <-d.stop:
		return n, false
	case <-d.wake:
	}
	// The periods that came due while paused are passed over, not
	// played late.
	due := int64(time.Since(start) / period)
	if due < n {
		due = n
	}
	d.resume((due-n)*int64(d.periods), start.Add(time.Duration(due)*period))
	return due, true
}

// Close stops the timer and waits for a callback in progress.
func (d *Null) Close() error {
	d.close()
	return nil
}
