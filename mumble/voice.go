package mumble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"
)

// FrameDuration is the unit of voice sequence numbers: one 10 ms frame.
const FrameDuration = 10 * time.Millisecond

// MaxFramesPerPacket is the longest Opus packet SendVoice takes, in 10 ms
// frames (Opus packets last at most 120 ms).
const MaxFramesPerPacket = 12

// sequenceReset is the silence after which sequence numbering restarts at
// zero, as in the official client.
const sequenceReset = 5 * time.Second

// An OutgoingVoice is one Opus packet for SendVoice.
type OutgoingVoice struct {
	// Opus is one Opus packet. It is not retained.
	Opus []byte
	// Frames is the packet's duration in 10 ms frames (1, 2, 4 or 6 in
	// the official client).
	Frames int
	// Target is TargetNormal (the current channel), a voice target
	// registered with SetVoiceTarget (1–30) or TargetLoopback.
	Target uint32
	// Last marks the end of the transmission (the terminator flag).
	Last bool
	// Position is the speaker's position x, y, z in metres, if any.
	Position *[3]float32
}

// voiceSequencer numbers outgoing voice packets in 10 ms frames, as the
// official client does: within a transmission each packet follows the
// previous one's frames; between transmissions the silence counts too,
// unless it lasted over 5 s, and then numbering restarts at zero. With
// perPacket (Config.PacketSequence) it counts packets instead, and silence
// not at all. Guarded by Client.wsem.
type voiceSequencer struct {
	next      uint64    // sequence of the next packet
	end       time.Time // when the audio sent so far ends
	active    bool      // in a transmission (no terminator sent yet)
	perPacket bool
}

// plan returns the sequence number for a packet of frames frames sent at
// now, and the sequencer's state once it is sent.
func (v voiceSequencer) plan(now time.Time, frames int, last bool) (uint64, voiceSequencer) {
	switch gap := now.Sub(v.end); {
	case v.end.IsZero() || gap > sequenceReset:
		v.next, v.end = 0, now
	case gap > 0:
		if !v.active && !v.perPacket {
			v.next += uint64(gap / FrameDuration) // silence between transmissions
		}
		v.end = now
	}
	seq := v.next
	if v.perPacket {
		v.next++
	} else {
		v.next += uint64(frames)
	}
	v.end = v.end.Add(time.Duration(frames) * FrameDuration)
	v.active = !last
	return seq, v
}

// VoiceFormat returns the voice packet format SendVoice uses with this
// server: VoiceProtobuf if the server is 1.5.0 or newer, else VoiceLegacy.
func (c *Client) VoiceFormat() VoiceFormat {
	c.mu.Lock()
	defer c.mu.Unlock()
	return voiceFormatFor(advertisedVersion, c.st.server.Version)
}

var (
	errVoiceFrames = errors.New("voice packet duration must be 1 to 12 frames of 10 ms")
	errVoiceEmpty  = errors.New("empty Opus packet")
)

// SendVoice sends one Opus packet through the TCP connection (as a
// UDPTunnel message), in the format the server expects (see VoiceFormat),
// numbered as described for VoicePacket.Sequence. Packets over
// MaxVoicePacketSize bytes, which servers drop, are refused with
// ErrVoiceTooLarge. It does not allocate.
func (c *Client) SendVoice(ctx context.Context, v OutgoingVoice) error {
	if v.Frames < 1 || v.Frames > MaxFramesPerPacket {
		return opError("send voice", errVoiceFrames)
	}
	if len(v.Opus) == 0 {
		return opError("send voice", errVoiceEmpty)
	}
	c.mu.Lock()
	format := voiceFormatFor(advertisedVersion, c.st.server.Version)
	c.mu.Unlock()
	var next voiceSequencer
	err := c.write(ctx, func(dst []byte) ([]byte, error) {
		p := VoicePacket{Target: v.Target, Opus: v.Opus, Terminator: v.Last}
		if v.Position != nil {
			p.HasPosition, p.Position = true, *v.Position
		}
		p.Sequence, next = c.voice.plan(c.now(), v.Frames, v.Last)
		dst = append(dst, 0, 0, 0, 0, 0, 0)
		dst, err := AppendVoicePacket(dst, &p, format, ClientToServer)
		if err != nil {
			return dst, err
		}
		binary.BigEndian.PutUint16(dst[0:], uint16(MessageUDPTunnel))
		binary.BigEndian.PutUint32(dst[2:], uint32(len(dst)-FrameHeaderSize))
		c.voice = next // still under wsem
		return dst, nil
	})
	if err != nil {
		return opError("send voice", err)
	}
	return nil
}

// handleVoice decodes a voice packet from the server and hands it to
// Config.OnVoice and a copy to the voice subscribers. Undecodable packets (other codecs, garbage) are
// dropped.
func (c *Client) handleVoice(b []byte) {
	p := &c.rxVoice
	if _, err := ParseVoicePacket(b, p, ServerToClient); err != nil {
		return
	}
	if c.cfg.OnVoice != nil {
		c.cfg.OnVoice(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.voiceSubs) == 0 {
		return
	}
	out := *p
	out.Opus = bytes.Clone(p.Opus)
	for s := range c.voiceSubs {
		s.q.push(out)
	}
}
