package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/wav"
)

// sendWAV streams the --send-wav file as Opus voice in real time: one packet
// every frames-per-packet x 10 ms, paced by the wall clock so that a slow
// moment does not make the stream drift, with a terminator on the last one.
func (s *session) sendWAV(ctx context.Context) error {
	o := s.opts
	r := s.wav
	c := s.client
	bitrate := o.bitrate
	max := c.MaxBitrate(o.framesPerPacket, false)
	if max < mumble.MinOpusBitrate {
		return fmt.Errorf("the server's bandwidth limit of %d bit/s leaves no room for %d ms packets over TCP; send more audio per packet (--frames-per-packet)",
			c.ServerInfo().MaxBandwidth, 10*o.framesPerPacket)
	}
	if bitrate > max {
		s.ev.emit("bitrate-lowered", field{"requested", bitrate}, field{"bitrate", max},
			field{"max_bandwidth", c.ServerInfo().MaxBandwidth})
		bitrate = max
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: bitrate, FrameMs: 10 * o.framesPerPacket, Complexity: 10})
	if err != nil {
		return fmt.Errorf("opus encoder: %w", err)
	}

	target := uint32(mumble.TargetNormal)
	if o.whisper != "" {
		u, ok := c.UserByName(o.whisper)
		if !ok {
			return fmt.Errorf("--whisper: no user %q on the server", o.whisper)
		}
		const whisperTarget = 1
		if err := c.SetVoiceTarget(ctx, whisperTarget, mumble.VoiceTarget{Users: []uint32{u.Session}}); err != nil {
			return fmt.Errorf("--whisper %s: %w", o.whisper, err)
		}
		target = whisperTarget
	}

	samples := 480 * o.framesPerPacket
	pcm := make([]int16, samples)
	next := make([]int16, samples)
	out := make([]byte, 1275)
	period := time.Duration(o.framesPerPacket) * 10 * time.Millisecond

	n, err := readFull(r, pcm)
	if err != nil {
		return fmt.Errorf("--send-wav %s: %w", o.sendWAV, err)
	}
	if n == 0 {
		return fmt.Errorf("--send-wav %s: no audio", o.sendWAV)
	}
	// Packet k holds the audio of [start + k x period, start + (k+1) x
	// period) and is sent at the end of that interval, when a capture
	// device would have delivered it: the file plays in real time and
	// packetisation delay is what a live microphone would cost.
	start := time.Now()
	s.ev.emit("voice-send-start", field{"file", o.sendWAV}, field{"bitrate", bitrate}, field{"frames_per_packet", o.framesPerPacket},
		field{"start", start.UTC().Format(time.RFC3339Nano)})
	packets := 0
	for n > 0 {
		wait := time.Until(start.Add(time.Duration(packets+1) * period))
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		clear(pcm[n:])
		m, err := readFull(r, next)
		if err != nil {
			return fmt.Errorf("--send-wav %s: %w", o.sendWAV, err)
		}
		size, err := enc.Encode(pcm, out)
		if err != nil {
			return fmt.Errorf("opus encode: %w", err)
		}
		if err := c.SendVoice(ctx, mumble.OutgoingVoice{Target: target, Opus: out[:size], Frames: o.framesPerPacket, Last: m == 0}); err != nil {
			return fmt.Errorf("send voice: %w", err)
		}
		packets++
		pcm, next, n = next, pcm, m
	}
	s.ev.emit("voice-send-end", field{"packets", packets}, field{"duration_ms", time.Duration(packets) * period / time.Millisecond})
	return nil
}

// openWAV opens and checks the --send-wav file before anything connects, so
// a wrong file is reported at once.
func openWAV(path string) (*os.File, *wav.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--send-wav: %w", err)
	}
	r, err := wav.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("--send-wav %s: %w", path, err)
	}
	return f, r, nil
}

// readFull reads up to len(buf) samples, returning fewer only at the end.
func readFull(r *wav.Reader, buf []int16) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.ReadSamples(buf[n:])
		n += m
		if errors.Is(err, io.EOF) || (err == nil && m == 0) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
