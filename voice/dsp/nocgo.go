//go:build !cgo

package dsp

// EchoCanceller stands for the speexdsp echo canceller in a build without
// cgo, where NewEchoCanceller always fails with ErrNoCgo; its methods do
// nothing or fail the same way.
type EchoCanceller struct{ cfg EchoConfig }

// NewEchoCanceller checks cfg and returns ErrNoCgo.
func NewEchoCanceller(cfg EchoConfig) (*EchoCanceller, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// FrameSamples returns the number of samples Cancel takes.
func (e *EchoCanceller) FrameSamples() int { return e.cfg.FrameSamples }

// Playback does nothing.
func (e *EchoCanceller) Playback(ref []int16) {}

// Cancel returns ErrNoCgo.
func (e *EchoCanceller) Cancel(mic, out []int16) error { return ErrNoCgo }

// Stats returns zero counters.
func (e *EchoCanceller) Stats() EchoStats { return EchoStats{} }

// Reset does nothing.
func (e *EchoCanceller) Reset() {}

// Close returns ErrNoCgo.
func (e *EchoCanceller) Close() error { return ErrNoCgo }

// Preprocessor stands for the speexdsp preprocessor in a build without
// cgo, where NewPreprocessor always fails with ErrNoCgo; its methods fail
// the same way.
type Preprocessor struct{ cfg PreprocessConfig }

// NewPreprocessor checks cfg and returns ErrNoCgo.
func NewPreprocessor(frameSamples, sampleRate int, cfg PreprocessConfig) (*Preprocessor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Config returns the settings.
func (p *Preprocessor) Config() PreprocessConfig { return p.cfg }

// SetConfig returns ErrNoCgo.
func (p *Preprocessor) SetConfig(cfg PreprocessConfig) error { return ErrNoCgo }

// SetNoiseSuppression returns ErrNoCgo.
func (p *Preprocessor) SetNoiseSuppression(db int) error { return ErrNoCgo }

// SetAGC returns ErrNoCgo.
func (p *Preprocessor) SetAGC(on bool, maxGainDB int) error { return ErrNoCgo }

// SetAGCIncrement returns ErrNoCgo.
func (p *Preprocessor) SetAGCIncrement(dbPerSecond int) error { return ErrNoCgo }

// AGCIncrement returns AGCIncrementDB.
func (p *Preprocessor) AGCIncrement() int { return AGCIncrementDB }

// SetEchoCanceller returns ErrNoCgo.
func (p *Preprocessor) SetEchoCanceller(e *EchoCanceller) error { return ErrNoCgo }

// Process returns ErrNoCgo.
func (p *Preprocessor) Process(frame []int16) (Result, error) { return Result{}, ErrNoCgo }

// Close returns ErrNoCgo.
func (p *Preprocessor) Close() error { return ErrNoCgo }
