//go:build cgo

package codec

import (
	"fmt"

	"github.com/hraban/opus"
)

// Encoder encodes 48 kHz mono 16-bit PCM to Opus packets. It is not safe
// for concurrent use.
type Encoder struct {
	enc *opus.Encoder
	cfg EncoderConfig
	app opus.Application
}

// NewEncoder returns an Encoder for cfg. It uses libopus's VOIP application
// below VOIPBelow bit/s and AUDIO otherwise, with variable bitrate.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Encoder{cfg: cfg}
	if err := e.init(); err != nil {
		return nil, err
	}
	return e, nil
}

func application(bitrate int) opus.Application {
	if bitrate < VOIPBelow {
		return opus.AppVoIP
	}
	return opus.AppAudio
}

// init (re)creates the libopus encoder for e.cfg.
func (e *Encoder) init() error {
	app := application(e.cfg.Bitrate)
	enc, err := opus.NewEncoder(SampleRate, 1, app)
	if err != nil {
		return fmt.Errorf("codec: opus encoder: %w", err)
	}
	if err := enc.SetBitrate(e.cfg.Bitrate); err != nil {
		return fmt.Errorf("codec: opus encoder bitrate %d: %w", e.cfg.Bitrate, err)
	}
	if err := enc.SetComplexity(e.cfg.Complexity); err != nil {
		return fmt.Errorf("codec: opus encoder complexity %d: %w", e.cfg.Complexity, err)
	}
	e.enc, e.app = enc, app
	return nil
}

// Config returns the current settings.
func (e *Encoder) Config() EncoderConfig { return e.cfg }

// FrameSamples returns the number of samples Encode takes: FrameMs x 48.
func (e *Encoder) FrameSamples() int { return e.cfg.FrameMs * SampleRate / 1000 }

// VOIP reports whether the encoder uses libopus's VOIP application.
func (e *Encoder) VOIP() bool { return e.app == opus.AppVoIP }

// Encode encodes one packet from pcm, which must hold exactly
// FrameSamples() samples, into out and returns the packet length. out
// should hold MaxPacketBytes.
func (e *Encoder) Encode(pcm []int16, out []byte) (int, error) {
	if want := e.FrameSamples(); len(pcm) != want {
		return 0, fmt.Errorf("codec: encode %d samples, want %d (%d ms)", len(pcm), want, e.cfg.FrameMs)
	}
	if len(out) == 0 {
		return 0, fmt.Errorf("codec: encode into an empty buffer")
	}
	n, err := e.enc.Encode(pcm, out[:len(out):len(out)])
	if err != nil {
		return 0, fmt.Errorf("codec: opus encode: %w", err)
	}
	return n, nil
}

// SetBitrate changes the target bitrate. Crossing VOIPBelow switches the
// application, which restarts the encoder (the next packet starts without
// the previous signal's state, like the start of a talk spurt).
func (e *Encoder) SetBitrate(bitrate int) error {
	if err := checkBitrate(bitrate); err != nil {
		return err
	}
	if bitrate == e.cfg.Bitrate {
		return nil
	}
	old := e.cfg
	e.cfg.Bitrate = bitrate
	if application(bitrate) != e.app {
		if err := e.init(); err != nil {
			e.cfg = old
			return err
		}
		return nil
	}
	if err := e.enc.SetBitrate(bitrate); err != nil {
		e.cfg = old
		return fmt.Errorf("codec: opus encoder bitrate %d: %w", bitrate, err)
	}
	return nil
}

// SetComplexity changes the encoder complexity (0-10).
func (e *Encoder) SetComplexity(c int) error {
	if c < 0 || c > 10 {
		return fmt.Errorf("codec: complexity %d out of range 0-10", c)
	}
	if err := e.enc.SetComplexity(c); err != nil {
		return fmt.Errorf("codec: opus encoder complexity %d: %w", c, err)
	}
	e.cfg.Complexity = c
	return nil
}

// SetFrameMs changes the packet duration (10, 20, 40 or 60 ms) for the
// following calls to Encode.
func (e *Encoder) SetFrameMs(ms int) error {
	if err := checkFrameMs(ms); err != nil {
		return err
	}
	e.cfg.FrameMs = ms
	return nil
}

// Reset clears the encoder's signal state, as at the start of a stream.
func (e *Encoder) Reset() error {
	if err := e.enc.Reset(); err != nil {
		return fmt.Errorf("codec: opus encoder reset: %w", err)
	}
	return nil
}
