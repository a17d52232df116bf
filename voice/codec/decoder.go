//go:build cgo

package codec

import (
	"fmt"

	"github.com/hraban/opus"
)

// Decoder decodes one speaker's Opus packets to 48 kHz mono 16-bit PCM.
// It is not safe for concurrent use.
type Decoder struct {
	dec *opus.Decoder
}

// NewDecoder returns a Decoder for 48 kHz mono.
func NewDecoder() (*Decoder, error) {
	dec, err := opus.NewDecoder(SampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("codec: opus decoder: %w", err)
	}
	return &Decoder{dec: dec}, nil
}

// Decode decodes pkt into pcm, which must hold at least PacketSamples(pkt)
// samples, and returns the number of samples written.
func (d *Decoder) Decode(pkt []byte, pcm []int16) (int, error) {
	n, err := PacketSamples(pkt)
	if err != nil {
		return 0, err
	}
	if len(pcm) < n {
		return 0, fmt.Errorf("codec: decode buffer holds %d samples, packet has %d", len(pcm), n)
	}
	m, err := d.dec.Decode(pkt, pcm[:n:n])
	if err != nil {
		return 0, fmt.Errorf("codec: opus decode of %d-byte packet: %w", len(pkt), err)
	}
	return m, nil
}

// DecodeLost fills pcm with packet-loss concealment continuing the last
// decoded audio, for a gap of len(pcm) samples, which must be a positive
// multiple of 10 ms (480 samples) up to 120 ms. It returns len(pcm).
func (d *Decoder) DecodeLost(pcm []int16) (int, error) {
	n := len(pcm)
	if n == 0 || n%FrameSamples10ms != 0 || n > MaxPacketSamples {
		return 0, fmt.Errorf("codec: concealment of %d samples, want a multiple of %d up to %d", n, FrameSamples10ms, MaxPacketSamples)
	}
	if err := d.dec.DecodePLC(pcm[:n:n]); err != nil {
		return 0, fmt.Errorf("codec: opus concealment of %d samples: %w", n, err)
	}
	return n, nil
}
