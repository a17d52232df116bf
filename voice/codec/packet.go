package codec

import (
	"errors"
	"fmt"
)

// Audio format of every Opus stream in Mumble.
const (
	// SampleRate is the sample rate in Hz of encoded and decoded audio.
	SampleRate = 48000
	// FrameSamples10ms is the number of samples in 10 ms, Mumble's frame.
	FrameSamples10ms = SampleRate / 100
	// MaxPacketBytes is a buffer size that holds any packet the Encoder
	// produces (libopus's recommended maximum).
	MaxPacketBytes = 4000
	// MaxPacketSamples is the duration of the longest Opus packet (120 ms).
	MaxPacketSamples = 120 * SampleRate / 1000
)

// Limits of EncoderConfig.
const (
	MinBitrate = 6000   // lowest bitrate in bit/s libopus encodes
	MaxBitrate = 510000 // highest bitrate in bit/s for one channel
	// VOIPBelow is the bitrate below which the encoder uses libopus's VOIP
	// application (speech tuned); at and above it, AUDIO.
	VOIPBelow = 32000
)

// EncoderConfig sets up an Encoder.
type EncoderConfig struct {
	// Bitrate is the target bitrate in bit/s, MinBitrate to MaxBitrate.
	Bitrate int
	// FrameMs is the duration of one packet: 10, 20, 40 or 60 ms.
	FrameMs int
	// Complexity is libopus's encoder complexity, 0 (fastest) to 10.
	Complexity int
}

// Validate reports the first setting out of range.
func (c EncoderConfig) Validate() error {
	if err := checkBitrate(c.Bitrate); err != nil {
		return err
	}
	if err := checkFrameMs(c.FrameMs); err != nil {
		return err
	}
	if c.Complexity < 0 || c.Complexity > 10 {
		return fmt.Errorf("codec: complexity %d out of range 0-10", c.Complexity)
	}
	return nil
}

func checkBitrate(b int) error {
	if b < MinBitrate || b > MaxBitrate {
		return fmt.Errorf("codec: bitrate %d bit/s out of range %d-%d", b, MinBitrate, MaxBitrate)
	}
	return nil
}

func checkFrameMs(ms int) error {
	switch ms {
	case 10, 20, 40, 60:
		return nil
	}
	return fmt.Errorf("codec: frame duration %d ms, want 10, 20, 40 or 60", ms)
}

// PacketSamples returns the duration of an Opus packet in samples at
// 48 kHz, read from its TOC byte (RFC 6716 section 3.1) and, for code 3
// packets, its frame count byte.
func PacketSamples(pkt []byte) (int, error) {
	if len(pkt) == 0 {
		return 0, errors.New("codec: empty Opus packet")
	}
	toc := pkt[0]
	config := int(toc >> 3)
	// Frame duration in units of 2.5 ms (120 samples).
	var quarter int
	switch {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		quarter = []int{4, 8, 16, 24}[config&3]
	case config < 16: // hybrid: 10, 20 ms
		quarter = []int{4, 8}[config&1]
	default: // CELT-only: 2.5, 5, 10, 20 ms
		quarter = []int{1, 2, 4, 8}[config&3]
	}
	var frames int
	switch toc & 3 {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	case 3:
		if len(pkt) < 2 {
			return 0, errors.New("codec: Opus code 3 packet without frame count")
		}
		frames = int(pkt[1] & 0x3f)
		if frames == 0 {
			return 0, errors.New("codec: Opus packet with 0 frames")
		}
	}
	samples := frames * quarter * 120
	if samples > MaxPacketSamples {
		return 0, fmt.Errorf("codec: Opus packet of %d ms exceeds 120 ms", samples/48)
	}
	return samples, nil
}

// PacketFrames returns the number of 10 ms frames an Opus packet covers,
// rounded up (a packet of 2.5 or 5 ms counts as one frame).
func PacketFrames(pkt []byte) (int, error) {
	n, err := PacketSamples(pkt)
	if err != nil {
		return 0, err
	}
	return (n + FrameSamples10ms - 1) / FrameSamples10ms, nil
}

// ErrNoCgo is returned by NewEncoder and NewDecoder in a build without
// cgo: the Opus codec is libopus, which needs cgo. The packet helpers work
// in every build.
var ErrNoCgo = errors.New("voice/codec: built without cgo: Opus needs cgo")
