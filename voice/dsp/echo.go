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
