//go:build cgo

package dsp

/*
#cgo pkg-config: speexdsp
#include <stdlib.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by calls on a closed EchoCanceller or Preprocessor.
var ErrClosed = errors.New("dsp: closed")

// EchoConfig sets up an EchoCanceller.
type EchoConfig struct {
	// FrameSamples is the number of samples per Cancel call. If zero,
	// 480 (10 ms at 48 kHz).
	FrameSamples int
	// FilterSamples is the length of the echo path the canceller models.
	// It must cover the delay between the reference and its echo in the
	// microphone plus the room's reverberation. If zero, 4800 (100 ms).
	FilterSamples int
	// SampleRate in Hz. If zero, 48000.
	SampleRate int
	// DelaySamples delays the reference before use, for a reference that
	// runs ahead of its echo by more than the filter covers. Default 0.
	DelaySamples int
	// MaxQueueSamples bounds the reference samples waiting for the
	// microphone; beyond it the oldest are dropped so that clock drift
	// between playback and capture cannot push the reference out of the
	// filter. If zero, FilterSamples/2 + DelaySamples.
	MaxQueueSamples int
}

func (c *EchoConfig) fill() error {
	if c.FrameSamples == 0 {
		c.FrameSamples = 480
	}
	if c.FilterSamples == 0 {
		c.FilterSamples = 4800
	}
	if c.SampleRate == 0 {
		c.SampleRate = 48000
	}
	if c.MaxQueueSamples == 0 {
		c.MaxQueueSamples = c.FilterSamples/2 + c.DelaySamples
	}
	switch {
	case c.FrameSamples < 64 || c.FrameSamples > 8192:
		return fmt.Errorf("dsp: echo frame of %d samples, want 64-8192", c.FrameSamples)
	case c.FilterSamples < c.FrameSamples || c.FilterSamples > 48000:
		return fmt.Errorf("dsp: echo filter of %d samples, want %d-48000", c.FilterSamples, c.FrameSamples)
	case c.SampleRate < 8000 || c.SampleRate > 96000:
		return fmt.Errorf("dsp: sample rate %d Hz, want 8000-96000", c.SampleRate)
	case c.DelaySamples < 0 || c.DelaySamples > 48000:
		return fmt.Errorf("dsp: reference delay of %d samples, want 0-48000", c.DelaySamples)
	case c.MaxQueueSamples < c.FrameSamples+c.DelaySamples:
		return fmt.Errorf("dsp: reference queue of %d samples, want at least frame + delay (%d)", c.MaxQueueSamples, c.FrameSamples+c.DelaySamples)
	}
	return nil
}

// EchoCanceller removes the echo of the playback signal from the
// microphone signal, in Mumble's "mixed" mode: the reference is the mono
// mix we play. Playback feeds the reference as it goes to the speakers;
// Cancel takes one microphone frame and the reference queued for it.
type EchoCanceller struct {
	cfg EchoConfig

	mu      sync.Mutex // guards st, closing, queue, stats, links
	st      *C.SpeexEchoState
	closing bool    // Close has begun: no new links
	queue   []int16 // reference samples not yet used, oldest first
	ref     []int16 // the reference frame handed to speex
	scratch []int16 // copy of the input for in-place calls
	links   map[*Preprocessor]struct{}
	stats   EchoStats
}

// EchoStats counts how the reference queue kept up.
type EchoStats struct {
	// Frames is the number of microphone frames processed.
	Frames int
	// Underruns counts frames for which the reference queue held too
	// little (filled with silence): playback stalled or capture ran fast.
	Underruns int
	// DroppedSamples counts reference samples dropped because the queue
	// overflowed: capture stalled or playback ran fast.
	DroppedSamples int
}

// NewEchoCanceller returns an EchoCanceller; Close frees it.
func NewEchoCanceller(cfg EchoConfig) (*EchoCanceller, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	st := C.speex_echo_state_init(C.int(cfg.FrameSamples), C.int(cfg.FilterSamples))
	if st == nil {
		return nil, errors.New("dsp: speex_echo_state_init failed")
	}
	rate := C.int(cfg.SampleRate)
	C.speex_echo_ctl(st, C.SPEEX_ECHO_SET_SAMPLING_RATE, ctlPtr(&rate))
	e := &EchoCanceller{
		cfg:     cfg,
		st:      st,
		queue:   make([]int16, cfg.DelaySamples, cfg.MaxQueueSamples+cfg.FrameSamples),
		ref:     make([]int16, cfg.FrameSamples),
		scratch: make([]int16, cfg.FrameSamples),
		links:   map[*Preprocessor]struct{}{},
	}
	return e, nil
}

// FrameSamples returns the number of samples Cancel takes.
func (e *EchoCanceller) FrameSamples() int { return e.cfg.FrameSamples }

// Playback queues ref, audio just handed to the speakers, as the echo
// reference. Any length is accepted. It is safe to call from the playback
// goroutine while another goroutine calls Cancel.
func (e *EchoCanceller) Playback(ref []int16) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st == nil {
		return
	}
	e.queue = append(e.queue, ref...)
	if over := len(e.queue) - e.cfg.MaxQueueSamples; over > 0 {
		n := copy(e.queue, e.queue[over:])
		e.queue = e.queue[:n]
		e.stats.DroppedSamples += over
	}
}

// Cancel removes the echo of the queued reference from mic and writes the
// result to out. Both must hold FrameSamples() samples; they may be the
// same slice.
func (e *EchoCanceller) Cancel(mic, out []int16) error {
	n := e.cfg.FrameSamples
	if len(mic) != n || len(out) != n {
		return fmt.Errorf("dsp: echo cancel of %d samples into %d, want %d", len(mic), len(out), n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st == nil {
		return ErrClosed
	}
	e.stats.Frames++
	if len(e.queue) >= n {
		copy(e.ref, e.queue[:n])
		m := copy(e.queue, e.queue[n:])
		e.queue = e.queue[:m]
	} else {
		// Not enough reference: use what there is, then silence.
		m := copy(e.ref, e.queue)
		clear(e.ref[m:])
		e.queue = e.queue[:0]
		e.stats.Underruns++
	}
	in := mic
	if &mic[0] == &out[0] {
		// speex reads the input while writing the output.
		in = e.scratch
		copy(in, mic)
	}
	C.speex_echo_cancellation(e.st, (*C.spx_int16_t)(&in[0]), (*C.spx_int16_t)(&e.ref[0]), (*C.spx_int16_t)(&out[0]))
	return nil
}

// Stats returns the reference queue counters.
func (e *EchoCanceller) Stats() EchoStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Reset forgets the learned echo path and the queued reference.
func (e *EchoCanceller) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st == nil {
		return
	}
	C.speex_echo_state_reset(e.st)
	e.queue = e.queue[:e.cfg.DelaySamples]
	clear(e.queue)
}

// Close unlinks the canceller from any Preprocessor using it for residual
// echo suppression and frees its C state. Later calls return ErrClosed.
func (e *EchoCanceller) Close() error {
	e.mu.Lock()
	if e.st == nil || e.closing {
		e.mu.Unlock()
		return ErrClosed
	}
	e.closing = true
	links := make([]*Preprocessor, 0, len(e.links))
	for p := range e.links {
		links = append(links, p)
	}
	e.mu.Unlock()
	for _, p := range links {
		p.unlink(e)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st == nil {
		return ErrClosed
	}
	C.speex_echo_state_destroy(e.st)
	e.st = nil
	return nil
}
