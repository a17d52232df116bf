package device

import (
	"time"
)

// Null is a pure-Go device without hardware: every period, paced by a
// timer against the wall clock, it pulls playback frames and discards
// them, and delivers silent capture frames.
type Null struct {
	cfg     Config
	periods int
	capture CaptureFunc
	play    PlaybackFunc

	lifecycle
}

// NewNull returns a Null device calling capture and play (either may be
// nil) every period.
func NewNull(cfg Config, capture CaptureFunc, play PlaybackFunc) (*Null, error) {
	n, err := cfg.periodFrames()
	if err != nil {
		return nil, err
	}
	return &Null{cfg: cfg, periods: n, capture: capture, play: play, lifecycle: lifecycle{stop: make(chan struct{}), done: make(chan struct{})}}, nil
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
	for n := 1; ; n++ {
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
		t.Reset(time.Until(start.Add(time.Duration(n+1) * period)))
	}
}

// Close stops the timer and waits for a callback in progress.
func (d *Null) Close() error {
	d.close()
	return nil
}
