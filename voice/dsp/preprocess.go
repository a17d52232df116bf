//go:build cgo

package dsp

/*
#cgo pkg-config: speexdsp
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Preprocessor denoises, suppresses residual echo and levels one stream
// of frames. speexdsp's overlap-add delays the signal by one frame; when
// none of its stages is on (no noise suppression, AGC or dereverberation;
// residual echo suppression is part of noise suppression) the frame passes
// through undelayed, with only the high-pass filter, and speexdsp does not
// run at all (no speech probability; its noise estimate adapts anew when a
// stage is turned on). Turning the first stage on or the last one off
// therefore repeats or skips one frame of audio, once.
type Preprocessor struct {
	frame int
	rate  int

	mu    sync.Mutex // guards all below
	st    *C.SpeexPreprocessState
	cfg   PreprocessConfig
	echo  *EchoCanceller
	hp    *HighPass // nil when off
	hpHz  float64
	dirty bool // cfg changed since last applied
	inc   int  // AGC increment in dB/s handed to speexdsp
}

// agcDecrementDB is the fastest fall of the AGC gain in dB per second:
// Mumble lets the gain fall quickly (-60), speexdsp's default is -40.
const agcDecrementDB = -60

// NewPreprocessor returns a Preprocessor for frames of frameSamples at
// sampleRate Hz; Close frees it.
func NewPreprocessor(frameSamples, sampleRate int, cfg PreprocessConfig) (*Preprocessor, error) {
	if frameSamples < 64 || frameSamples > 8192 {
		return nil, fmt.Errorf("dsp: preprocessor frame of %d samples, want 64-8192", frameSamples)
	}
	if sampleRate < 8000 || sampleRate > 96000 {
		return nil, fmt.Errorf("dsp: sample rate %d Hz, want 8000-96000", sampleRate)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	st := C.speex_preprocess_state_init(C.int(frameSamples), C.int(sampleRate))
	if st == nil {
		return nil, errors.New("dsp: speex_preprocess_state_init failed")
	}
	p := &Preprocessor{frame: frameSamples, rate: sampleRate, st: st, cfg: cfg, dirty: true, inc: AGCIncrementDB}
	dec := C.spx_int32_t(agcDecrementDB)
	C.speex_preprocess_ctl(st, C.SPEEX_PREPROCESS_SET_AGC_DECREMENT, ctlPtr(&dec))
	inc := C.spx_int32_t(AGCIncrementDB)
	C.speex_preprocess_ctl(st, C.SPEEX_PREPROCESS_SET_AGC_INCREMENT, ctlPtr(&inc))
	return p, nil
}

// Config returns the current settings.
func (p *Preprocessor) Config() PreprocessConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// SetConfig changes the settings; they apply from the next frame.
func (p *Preprocessor) SetConfig(cfg PreprocessConfig) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return ErrClosed
	}
	p.cfg, p.dirty = cfg, true
	return nil
}

// SetNoiseSuppression changes the noise suppression in dB (negative, 0 off).
func (p *Preprocessor) SetNoiseSuppression(db int) error {
	cfg := p.Config()
	cfg.NoiseSuppressionDB = db
	return p.SetConfig(cfg)
}

// SetAGC turns the AGC on or off and sets its maximum gain in dB.
func (p *Preprocessor) SetAGC(on bool, maxGainDB int) error {
	cfg := p.Config()
	cfg.AGC, cfg.AGCMaxGainDB = on, maxGainDB
	return p.SetConfig(cfg)
}

// SetAGCIncrement sets how fast the AGC gain may rise, in dB per second
// (0-60), from the next frame on; the gain may still fall. 0 freezes the
// gain against increases: Mumble does that while the user is not
// transmitting, so that the gain does not creep up on background noise
// between sentences, and restores AGCIncrementDB when speech resumes. The
// increment is independent of PreprocessConfig and kept across SetConfig.
// It is cheap enough to call every frame.
func (p *Preprocessor) SetAGCIncrement(dbPerSecond int) error {
	if dbPerSecond < 0 || dbPerSecond > 60 {
		return fmt.Errorf("dsp: AGC increment %d dB/s, want 0-60", dbPerSecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return ErrClosed
	}
	if dbPerSecond != p.inc {
		inc := C.spx_int32_t(dbPerSecond)
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_SET_AGC_INCREMENT, ctlPtr(&inc))
		p.inc = dbPerSecond
	}
	return nil
}

// AGCIncrement returns the AGC increment in dB per second.
func (p *Preprocessor) AGCIncrement() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inc
}

// SetEchoCanceller links p to e for residual echo suppression, or unlinks
// it if e is nil. e must process the same frames, just before p, in the
// same goroutine. Closing e unlinks it.
func (p *Preprocessor) SetEchoCanceller(e *EchoCanceller) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return ErrClosed
	}
	if p.echo == e {
		return nil
	}
	if e != nil {
		if e.FrameSamples() != p.frame {
			return fmt.Errorf("dsp: echo canceller frame %d, preprocessor frame %d", e.FrameSamples(), p.frame)
		}
		e.mu.Lock()
		if e.st == nil || e.closing {
			e.mu.Unlock()
			return ErrClosed
		}
		e.links[p] = struct{}{}
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(e.st))
		e.mu.Unlock()
	} else {
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_SET_ECHO_STATE, nil)
	}
	if old := p.echo; old != nil {
		old.mu.Lock()
		delete(old.links, p)
		old.mu.Unlock()
	}
	p.echo = e
	return nil
}

// unlink drops e if p uses it; called by e.Close.
func (p *Preprocessor) unlink(e *EchoCanceller) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.echo != e {
		return
	}
	if p.st != nil {
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_SET_ECHO_STATE, nil)
	}
	p.echo = nil
	e.mu.Lock()
	delete(e.links, p)
	e.mu.Unlock()
}

// apply hands changed settings to speexdsp; p.mu is held.
func (p *Preprocessor) apply() {
	c := p.cfg
	set := func(req C.int, v int) {
		x := C.spx_int32_t(v)
		C.speex_preprocess_ctl(p.st, req, ctlPtr(&x))
	}
	set(C.SPEEX_PREPROCESS_SET_DENOISE, b2i(c.NoiseSuppressionDB < 0))
	set(C.SPEEX_PREPROCESS_SET_AGC, b2i(c.AGC))
	set(C.SPEEX_PREPROCESS_SET_DEREVERB, b2i(c.Dereverb))
	target := c.AGCTargetDBFS
	if target == 0 {
		target = -20
	}
	level := C.float(AGCLevel(target))
	C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_SET_AGC_LEVEL, ctlPtr(&level))
	maxGain := c.AGCMaxGainDB
	if maxGain == 0 {
		maxGain = 30
	}
	set(C.SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, maxGain)
	if c.HighPassHz == 0 {
		p.hp = nil
	} else if p.hp == nil || p.hpHz != c.HighPassHz {
		// validate keeps the cutoff in range, so this cannot fail.
		p.hp, _ = NewHighPass(c.HighPassHz, p.rate)
		p.hpHz = c.HighPassHz
	}
	p.dirty = false
}

// Process cleans frame in place; it must hold the frame size given to
// NewPreprocessor.
func (p *Preprocessor) Process(frame []int16) (Result, error) {
	if len(frame) != p.frame {
		return Result{}, fmt.Errorf("dsp: preprocess %d samples, want %d", len(frame), p.frame)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return Result{}, ErrClosed
	}
	if p.dirty {
		p.apply()
	}
	var gain C.spx_int32_t
	if p.cfg.AGC {
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_GET_AGC_GAIN, ctlPtr(&gain))
	}
	if p.cfg.NoiseSuppressionDB < 0 {
		ns := C.spx_int32_t(p.cfg.NoiseSuppressionDB) - gain
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, ctlPtr(&ns))
	}
	p.hp.Process(frame)
	if p.passThrough() {
		// Nothing would change the frame: speexdsp's analysis (an FFT
		// per frame, several times the cost of encoding it) would only
		// yield a speech probability nobody asked for.
		return Result{SpeechProb: -1}, nil
	}
	C.speex_preprocess_run(p.st, (*C.spx_int16_t)(&frame[0]))
	var prob C.spx_int32_t
	C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_GET_PROB, ctlPtr(&prob))
	if p.cfg.AGC {
		C.speex_preprocess_ctl(p.st, C.SPEEX_PREPROCESS_GET_AGC_GAIN, ctlPtr(&gain))
	}
	return Result{SpeechProb: float64(prob) / 100, GainDB: int(gain)}, nil
}

// passThrough reports that no speexdsp stage changes the signal; p.mu is
// held. Without noise suppression speexdsp applies no spectral gain at all,
// so a linked echo canceller's residual echo suppression is off too.
func (p *Preprocessor) passThrough() bool {
	return p.cfg.NoiseSuppressionDB == 0 && !p.cfg.AGC && !p.cfg.Dereverb
}

// Close unlinks p from its EchoCanceller and frees its C state. Later
// calls return ErrClosed.
func (p *Preprocessor) Close() error {
	if err := p.SetEchoCanceller(nil); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return ErrClosed
	}
	C.speex_preprocess_state_destroy(p.st)
	p.st = nil
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
