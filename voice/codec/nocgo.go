//go:build !cgo

package codec

// Encoder stands for the Opus encoder in a build without cgo, where
// NewEncoder always fails with ErrNoCgo; its methods fail the same way.
type Encoder struct{ cfg EncoderConfig }

// NewEncoder checks cfg and returns ErrNoCgo.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Config returns the settings.
func (e *Encoder) Config() EncoderConfig { return e.cfg }

// FrameSamples returns the number of samples Encode takes: FrameMs x 48.
func (e *Encoder) FrameSamples() int { return e.cfg.FrameMs * SampleRate / 1000 }

// VOIP reports whether the encoder uses libopus's VOIP application.
func (e *Encoder) VOIP() bool { return e.cfg.Bitrate < VOIPBelow }

// Encode returns ErrNoCgo.
func (e *Encoder) Encode(pcm []int16, out []byte) (int, error) { return 0, ErrNoCgo }

// SetBitrate returns ErrNoCgo.
func (e *Encoder) SetBitrate(bitrate int) error { return ErrNoCgo }

// SetComplexity returns ErrNoCgo.
func (e *Encoder) SetComplexity(c int) error { return ErrNoCgo }

// SetFrameMs returns ErrNoCgo.
func (e *Encoder) SetFrameMs(ms int) error { return ErrNoCgo }

// Reset returns ErrNoCgo.
func (e *Encoder) Reset() error { return ErrNoCgo }

// Decoder stands for the Opus decoder in a build without cgo, where
// NewDecoder always fails with ErrNoCgo; its methods fail the same way.
type Decoder struct{}

// NewDecoder returns ErrNoCgo.
func NewDecoder() (*Decoder, error) { return nil, ErrNoCgo }

// Decode returns ErrNoCgo.
func (d *Decoder) Decode(pkt []byte, pcm []int16) (int, error) { return 0, ErrNoCgo }

// DecodeLost returns ErrNoCgo.
func (d *Decoder) DecodeLost(pcm []int16) (int, error) { return 0, ErrNoCgo }
