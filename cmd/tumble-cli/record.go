package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/wav"
)

// playbackPeriod is how much audio the recorder's clock pulls through the
// receive path at a time, like a sound card's period.
const playbackPeriod = 10 * time.Millisecond

// recorder plays received voice through Tumble's real receive path (jitter
// buffer, Opus decoding with loss concealment) on a wall-clock timeline and
// writes each speaker to DIR/NAME.wav, with silence where the speaker was
// not talking. All files start at the same moment (Origin), so sample n of
// every file is the same wall-clock time.
//
// Only users the server announced are recorded (a voice packet from an
// unknown session is dropped), silence is a hole in the file (a speaker
// first heard after an hour costs no disk space for that hour), and the
// samples written are bounded by max bytes: reaching it stops the
// recording with an error (Failed).
//
// While nothing plays the clock stops (no 10 ms wake-ups in a silent
// call) and the timeline is skipped forward when the next packet arrives.
type recorder struct {
	dir   string
	names func(session uint32) string
	rx    *voice.Receiver
	max   int64

	// Clock seams, time.Now and a time.Ticker outside tests.
	now       func() time.Time
	newTicker func(d time.Duration) (c <-chan time.Time, stop func())

	wake chan struct{} // one slot: a packet was handed to rx

	mu      sync.Mutex
	files   map[uint32]*speakerFile
	used    map[string]bool
	written int64 // bytes written to disk (headers and samples; holes not counted)
	err     error
	failed  chan struct{} // closed when err is set
	stop    chan struct{}
	stopped chan struct{}
	origin  time.Time

	// A player (newDevicePlayer) plays on a sound device instead of
	// recording: the device's callback mixes, and there is no clock.
	playCtx *device.Context
	playDev device.Device
}

// speakerFile is one speaker's recording.
type speakerFile struct {
	w   *wav.Writer
	pos int64 // playback timeline position of the next sample to write
}

// newRecorder creates dir and starts the playback clock. names maps a
// session id to the user's name ("" for a session the server never
// announced). max bounds the bytes written. With an empty dir the receive
// path still runs (for talking events) and nothing is written.
func newRecorder(dir string, names func(uint32) string, max int64) (*recorder, error) {
	r, err := newRecorderClock(dir, names, max, time.Now, func(d time.Duration) (<-chan time.Time, func()) {
		t := time.NewTicker(d)
		return t.C, t.Stop
	})
	if err != nil {
		return nil, err
	}
	go r.clock()
	return r, nil
}

// newDevicePlayer returns a recorder that records nothing and instead
// plays the received voice on the playback device name (name or ID),
// through the app's receive path as the app configures it for the
// Tor-recommended settings (jitter buffer 10 ms, output delay 30 ms: the
// receiver's defaults) and the app's device code, so that what a sound
// device adds is in its figures.
func newDevicePlayer(name string) (*recorder, error) {
	r := &recorder{
		names:   func(uint32) string { return "" },
		failed:  make(chan struct{}),
		now:     time.Now,
		wake:    make(chan struct{}, 1),
		files:   make(map[uint32]*speakerFile),
		used:    make(map[string]bool),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	close(r.stopped) // no clock goroutine
	rx, err := voice.NewReceiver(voice.ReceiverConfig{JitterBuffer: 10 * time.Millisecond, OutputDelay: 30 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("voice receiver: %w", err)
	}
	r.rx = rx
	r.origin = time.Now()
	mctx, dev, err := openNamedDevice(device.PlaybackKind, name, nil, func(out []int16) {
		if err := rx.Mix(out); err != nil {
			clear(out)
			r.fail(err)
		}
	})
	if err != nil {
		rx.Close()
		return nil, fmt.Errorf("--output-device: %w", err)
	}
	r.playCtx, r.playDev = mctx, dev
	if err := dev.Start(); err != nil {
		r.closeDevice()
		rx.Close()
		return nil, fmt.Errorf("--output-device: %w", err)
	}
	return r, nil
}

// closeDevice closes a player's device and its context.
func (r *recorder) closeDevice() error {
	if r.playDev == nil {
		return nil
	}
	return errors.Join(r.playDev.Close(), r.playCtx.Close())
}

// newRecorderClock is newRecorder with the clock's seams, without starting
// the clock.
func newRecorderClock(dir string, names func(uint32) string, max int64, now func() time.Time,
	newTicker func(time.Duration) (<-chan time.Time, func())) (*recorder, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("--record-dir: %w", err)
		}
	}
	r := &recorder{
		dir:       dir,
		names:     names,
		max:       max,
		failed:    make(chan struct{}),
		now:       now,
		newTicker: newTicker,
		wake:      make(chan struct{}, 1),
		files:     make(map[uint32]*speakerFile),
		used:      make(map[string]bool),
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	rx, err := voice.NewReceiver(voice.ReceiverConfig{
		// The default jitter buffer of the Tor-recommended settings.
		JitterBuffer: 10 * time.Millisecond,
		// This "device" is a precise clock that holds one period: its
		// output delay is that period, not a sound card's 20-40 ms.
		OutputDelay: playbackPeriod,
		Record:      r.record,
	})
	if err != nil {
		return nil, fmt.Errorf("voice receiver: %w", err)
	}
	r.rx = rx
	r.origin = now()
	return r, nil
}

// packet hands one received voice packet to the receive path and wakes
// the clock. It runs on the connection's read goroutine and never blocks.
func (r *recorder) packet(p *mumble.VoicePacket) error {
	err := r.rx.HandlePacket(p.Session, p.Sequence, p.Opus, p.Terminator, r.now())
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return err
}

// clock pulls one period of audio through the receiver every 10 ms while
// there is something to play, like a sound card: period k covers the
// wall-clock time origin + k x 10 ms, and a late wake-up plays every
// period that is due, so sample positions in the recordings map exactly to
// wall-clock time. When the receiver is idle the clock stops until a
// packet arrives, and the periods in between are skipped.
func (r *recorder) clock() {
	defer close(r.stopped)
	var done int64 // periods played or skipped
	for {
		// Drain the wake-up before looking: a packet handed over after
		// this is either seen by Idle or wakes the wait below.
		select {
		case <-r.wake:
		default:
		}
		if r.rx.Idle() {
			select {
			case <-r.stop:
				return
			case <-r.wake:
			}
		}
		// The periods since the last one played passed with nothing to
		// play: the receiver was idle until a packet woke the clock, or a
		// packet arrived before the clock looked (then it was never
		// idle here, but those periods were still silent). Skip them
		// rather than mix them late, which would place the new audio too
		// early on the timeline.
		if due := int64(r.now().Sub(r.origin) / playbackPeriod); due > done {
			at := r.origin.Add(time.Duration(due) * playbackPeriod)
			if err := r.rx.Skip(at, (due-done)*receiveFrame); err != nil {
				r.fail(err)
				return
			}
			done = due
		}
		if !r.play(&done) {
			return
		}
	}
}

// receiveFrame is one period in samples.
const receiveFrame = 480

// play ticks until the receiver is idle (true) or the clock is stopped or
// fails (false).
func (r *recorder) play(done *int64) bool {
	c, stop := r.newTicker(playbackPeriod)
	defer stop()
	out := make([]int16, receiveFrame)
	for {
		select {
		case <-r.stop:
			return false
		case now := <-c:
			for due := int64(now.Sub(r.origin) / playbackPeriod); *done < due; *done++ {
				if err := r.rx.MixAt(r.origin.Add(time.Duration(*done)*playbackPeriod), out); err != nil {
					r.fail(err)
					return false
				}
			}
			select {
			case <-r.wake:
			default:
			}
			if r.rx.Idle() {
				return true
			}
		}
	}
}

// Origin is the wall-clock time of sample 0 of the playback timeline.
func (r *recorder) Origin() time.Time { return r.origin }

// record is the receiver's Record callback (clock goroutine).
func (r *recorder) record(speaker uint32, at int64, pcm []int16) {
	if r.dir == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	f := r.files[speaker]
	if f == nil {
		name := r.names(speaker)
		if name == "" {
			return // not a user the server announced
		}
		if !r.spend(wavHeaderBytes) {
			return
		}
		w, err := wav.Create(filepath.Join(r.dir, r.fileName(name)))
		if err != nil {
			r.setErr(err)
			return
		}
		// Every file starts at the timeline's origin (silence until the
		// speaker is first heard), so the recordings line up as tracks.
		f = &speakerFile{w: w}
		r.files[speaker] = f
	}
	if !r.spend(2 * int64(len(pcm))) {
		return
	}
	if gap := at - f.pos; gap > 0 {
		// Silence is a hole: no bytes written.
		if err := f.w.Skip(gap); err != nil {
			r.setErr(err)
			return
		}
		f.pos = at
	}
	if err := f.w.WriteSamples(pcm); err != nil {
		r.setErr(err)
		return
	}
	f.pos += int64(len(pcm))
}

// wavHeaderBytes is the size of a WAV file's header.
const wavHeaderBytes = 44

// spend accounts for n more bytes written; past the limit it records the
// error and returns false. r.mu must be held.
func (r *recorder) spend(n int64) bool {
	if r.written+n > r.max {
		r.setErr(fmt.Errorf("recordings reached --record-max (%d MB): recording stopped", r.max>>20))
		return false
	}
	r.written += n
	return true
}

// setErr records the recorder's first error. r.mu must be held.
func (r *recorder) setErr(err error) {
	if r.err == nil {
		r.err = err
		close(r.failed)
	}
}

// Failed is closed when recording stopped on an error (Err).
func (r *recorder) Failed() <-chan struct{} { return r.failed }

// Err returns why recording stopped, or nil.
func (r *recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return fmt.Errorf("--record-dir: %w", r.err)
	}
	return nil
}

// fileName picks NAME.wav for a speaker's name, unique within this run.
func (r *recorder) fileName(name string) string {
	name = strings.Map(func(c rune) rune {
		if c == '/' || c == 0 || c == '\\' {
			return '_'
		}
		return c
	}, name)
	if name == "." || name == ".." {
		name = "_" + name
	}
	file := name + ".wav"
	for i := 2; r.used[file]; i++ {
		file = fmt.Sprintf("%s-%d.wav", name, i)
	}
	r.used[file] = true
	return file
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.setErr(err)
	r.mu.Unlock()
}

// Close stops the clock and finishes every file.
func (r *recorder) Close() error {
	close(r.stop)
	<-r.stopped
	derr := r.closeDevice() // before r.mu: the device's callback may wait for it
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := []error{r.err, derr}
	for _, f := range r.files {
		errs = append(errs, f.w.Close())
	}
	errs = append(errs, r.rx.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("--record-dir: %w", err)
	}
	return nil
}
