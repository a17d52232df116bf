package dsp

import (
	"errors"
	"fmt"
)

// ErrNoCgo is returned by NewEchoCanceller and NewPreprocessor in a build
// without cgo: they are libspeexdsp, which needs cgo. HighPass and the
// settings helpers work in every build.
var ErrNoCgo = errors.New("voice/dsp: built without cgo: speexdsp needs cgo")

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

// PreprocessConfig holds the Preprocessor's settings. The zero value turns
// everything off.
type PreprocessConfig struct {
	// NoiseSuppressionDB is the noise attenuation in dB, negative
	// (Mumble: -30 default, -60 strongest); 0 turns noise suppression off.
	// As in Mumble, the current AGC gain is subtracted from it each
	// frame, so noise stays down when the AGC amplifies.
	NoiseSuppressionDB int
	// AGC turns on automatic gain control.
	AGC bool
	// AGCTargetDBFS is the speech level the AGC aims at. If zero, -20.
	AGCTargetDBFS float64
	// AGCMaxGainDB limits the AGC gain; see MaxGainDB for Mumble's "max
	// amplification". If zero, 30 (speexdsp's default).
	AGCMaxGainDB int
	// Dereverb turns on speexdsp's dereverberation.
	Dereverb bool
	// HighPassHz is the cutoff of a 4th-order high-pass filter applied
	// before the speexdsp stages (see HighPass); 0 turns it off. 80 Hz
	// removes rumble and the low end of pink noise, which speexdsp's noise
	// suppression hardly touches, and leaves voice alone.
	HighPassHz float64
}

func (c PreprocessConfig) validate() error {
	switch {
	case c.NoiseSuppressionDB > 0 || c.NoiseSuppressionDB < -90:
		return fmt.Errorf("dsp: noise suppression %d dB, want -90 to 0", c.NoiseSuppressionDB)
	case c.AGCTargetDBFS > 0 || c.AGCTargetDBFS < -60:
		return fmt.Errorf("dsp: AGC target %.1f dBFS, want -60 to 0", c.AGCTargetDBFS)
	case c.AGCMaxGainDB < 0 || c.AGCMaxGainDB > 60:
		return fmt.Errorf("dsp: AGC max gain %d dB, want 0-60", c.AGCMaxGainDB)
	case c.HighPassHz < 0 || c.HighPassHz > 1000 || c.HighPassHz != c.HighPassHz:
		return fmt.Errorf("dsp: high-pass cutoff %.1f Hz, want 0-1000", c.HighPassHz)
	}
	return nil
}

// Result describes one processed frame.
type Result struct {
	// SpeechProb is speexdsp's probability (0-1) that the frame holds
	// speech, from its noise estimate; -1 when no speexdsp stage is on
	// (speexdsp does not run then).
	SpeechProb float64
	// GainDB is the AGC gain applied, in dB (0 with AGC off).
	GainDB int
}

// AGCIncrementDB is the fastest rise of the AGC gain in dB per second
// while the user talks: speexdsp's default and the value Mumble sets when
// speech resumes (src/mumble/AudioInput.cpp, encodeAudioFrame).
const AGCIncrementDB = 12
