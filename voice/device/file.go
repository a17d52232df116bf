package device

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tumble-voip/tumble/voice/wav"
)

// FileConfig sets up a File device.
type FileConfig struct {
	Config
	// In, if set, supplies the captured audio.
	In *wav.Reader
	// Out, if set, receives the played audio. The File device does not
	// close it.
	Out *wav.Writer
	// Realtime paces the device by the wall clock, one period per period;
	// otherwise it runs as fast as the callbacks allow.
	Realtime bool
	// SilenceAfter keeps the device running for this long after In ends,
	// capturing silence, before it stops with ErrEndOfInput. Without In
	// the device runs until closed.
	SilenceAfter time.Duration
	// Limit, if positive, stops the device with ErrEndOfInput after this
	// much audio (useful without In, as fast as possible).
	Limit time.Duration
}

// File is a pure-Go full-duplex device over WAV files: each 10 ms it
// first pulls a playback frame (written to Out) and then delivers the next
// frame of In to the capture callback, so a test sees playback and
// capture in a fixed order on one clock.
type File struct {
	cfg     FileConfig
	periods int
	capture CaptureFunc
	play    PlaybackFunc

	lifecycle
	err    error // why it stopped by itself
	frames int64
}

// NewFile returns a File device calling capture and play (either may be
// nil).
func NewFile(cfg FileConfig, capture CaptureFunc, play PlaybackFunc) (*File, error) {
	n, err := cfg.periodFrames()
	if err != nil {
		return nil, err
	}
	if cfg.SilenceAfter < 0 || cfg.Limit < 0 {
		return nil, fmt.Errorf("device: negative file durations (silence %v, limit %v)", cfg.SilenceAfter, cfg.Limit)
	}
	return &File{cfg: cfg, periods: n, capture: capture, play: play, lifecycle: lifecycle{stop: make(chan struct{}), done: make(chan struct{})}}, nil
}

// Start starts the device.
func (d *File) Start() error {
	return d.start("file device", d.run)
}

// Done is closed when the device has stopped, by itself or by Close.
func (d *File) Done() <-chan struct{} { return d.done }

// Err returns why the device stopped by itself (wrapping ErrEndOfInput at
// the end of the input), or nil.
func (d *File) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Frames returns the number of 10 ms frames processed.
func (d *File) Frames() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.frames
}

func (d *File) run() {
	err := d.loop()
	d.mu.Lock()
	d.err = err
	d.mu.Unlock()
	close(d.done)
	if err != nil && d.cfg.OnStop != nil {
		go d.cfg.OnStop(err)
	}
}

// loop runs until stopped (nil) or until the input ends or fails.
func (d *File) loop() error {
	in := make([]int16, FrameSamples)
	out := make([]int16, FrameSamples)
	period := time.Duration(d.periods) * 10 * time.Millisecond
	start := time.Now()
	var t *time.Timer
	if d.cfg.Realtime {
		t = time.NewTimer(period)
		defer t.Stop()
	}
	limit := int64(d.cfg.Limit / (10 * time.Millisecond))
	silence := int64((d.cfg.SilenceAfter + 10*time.Millisecond - 1) / (10 * time.Millisecond))
	ended := false
	var frames int64
	for n := int64(1); ; n++ {
		if d.cfg.Realtime {
			select {
			case <-d.stop:
				return nil
			case <-t.C:
			}
		} else {
			select {
			case <-d.stop:
				return nil
			default:
			}
		}
		for i := 0; i < d.periods; i++ {
			clear(in)
			if d.cfg.In != nil {
				got := 0
				if !ended {
					m, err := readFull(d.cfg.In, in)
					if err != nil {
						return fmt.Errorf("device: capture from file: %w", err)
					}
					got = m
					ended = m < len(in)
				}
				if got == 0 {
					if silence == 0 {
						return fmt.Errorf("device: file input: %w", ErrEndOfInput)
					}
					silence--
				}
			}
			if d.play != nil {
				clear(out)
				d.play(out)
				if d.cfg.Out != nil {
					if err := d.cfg.Out.WriteSamples(out); err != nil {
						return fmt.Errorf("device: playback to file: %w", err)
					}
				}
			}
			if d.capture != nil {
				d.capture(in)
			}
			frames++
			d.mu.Lock()
			d.frames = frames
			d.mu.Unlock()
			if limit > 0 && frames >= limit {
				return fmt.Errorf("device: limit of %v reached: %w", d.cfg.Limit, ErrEndOfInput)
			}
		}
		if d.cfg.Realtime {
			t.Reset(time.Until(start.Add(time.Duration(n+1) * period)))
		}
	}
}

// readFull reads up to len(buf) samples, fewer only at the end.
func readFull(r *wav.Reader, buf []int16) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.ReadSamples(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Close stops the device and waits for a callback in progress. It does not
// close the WAV reader or writer.
func (d *File) Close() error {
	d.close()
	return nil
}
