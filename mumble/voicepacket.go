package mumble

import (
	"encoding/binary"
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tumble-voip/tumble/mumble/varint"
)

// A Direction says which way a voice packet travels. The wire formats differ:
// packets relayed by a server name their sender, and in the protobuf format
// carry a context instead of a target.
type Direction uint8

const (
	// ClientToServer packets are sent by a client. They carry a voice
	// target and no session.
	ClientToServer Direction = iota
	// ServerToClient packets are relayed by a server. They carry the
	// sender's session and the context the audio was sent in.
	ServerToClient
)

// A VoiceFormat is one of the two voice packet formats.
type VoiceFormat uint8

const (
	// VoiceLegacy is the varint format of Mumble before 1.5: a header byte
	// codec<<5|target, the sender's session (server to client only), the
	// sequence number, the Opus length with the terminator flag (0x2000),
	// the Opus data and optionally 12 bytes of position.
	VoiceLegacy VoiceFormat = 1
	// VoiceProtobuf is Mumble 1.5's format: a zero byte and a MumbleUDP.Audio
	// message.
	VoiceProtobuf VoiceFormat = 2
)

// String returns "legacy" or "protobuf".
func (f VoiceFormat) String() string {
	switch f {
	case VoiceLegacy:
		return "legacy"
	case VoiceProtobuf:
		return "protobuf"
	}
	return "VoiceFormat(invalid)"
}

// Voice targets a client sends in VoicePacket.Target. Values 1 to 30 select
// a target registered with Client.SetVoiceTarget.
const (
	TargetNormal   = 0  // talk to the current channel
	TargetLoopback = 31 // the server sends the audio back to the sender only
)

// Voice contexts a server reports in VoicePacket.Target.
const (
	ContextNormal  = 0 // the sender talks in the receiver's channel
	ContextShout   = 1 // the sender shouts to a channel (a voice target with channels)
	ContextWhisper = 2 // the sender whispers to the receiver (a voice target with users)
	ContextListen  = 3 // heard through a channel listener (1.5 servers only)
)

// Size limits of voice packets.
const (
	// MaxVoicePacketSize is the largest voice packet servers relay;
	// UDPTunnel payloads outside 2 to 1024 bytes are dropped.
	MaxVoicePacketSize = 1024
	// MaxOpusSize is the largest Opus payload the legacy format can carry
	// (13 bits of length).
	MaxOpusSize = 0x1FFF
)

const (
	legacyCodecOpus      = 4
	legacyTerminatorFlag = 0x2000
	positionSize         = 12
	udpMessageAudio      = 0 // MumbleUDP message type byte for Audio
)

// A VoicePacket is one Opus packet with its metadata, in either format.
type VoicePacket struct {
	// Target is the voice target (ClientToServer: TargetNormal,
	// TargetLoopback or a registered target 1–30) or the context
	// (ServerToClient: ContextNormal, ContextShout, ContextWhisper,
	// ContextListen; legacy servers send 31 for loopback). The legacy format
	// has 5 bits for it.
	Target uint32
	// Session is the sender's session (ServerToClient only).
	Session uint32
	// Sequence numbers the packet's first audio frame, counting 10 ms
	// frames since the start of the transmission, as the official client
	// does; some clients count packets instead (Config.PacketSequence).
	Sequence uint64
	// Opus is the Opus packet. Decoded packets alias the input buffer.
	Opus []byte
	// Terminator marks the last packet of a transmission.
	Terminator bool
	// HasPosition says whether Position is set.
	HasPosition bool
	// Position is the speaker's position x, y, z in metres, as sent: it
	// may hold any float, NaN and infinities included.
	Position [3]float32
	// VolumeAdjustment is a gain factor a 1.5 server may ask the receiver
	// to apply (protobuf format only). Zero means none, that is 1.0.
	VolumeAdjustment float32
}

// Volume returns the gain factor to apply: VolumeAdjustment, or 1 if unset.
func (p *VoicePacket) Volume() float32 {
	if p.VolumeAdjustment == 0 {
		return 1
	}
	return p.VolumeAdjustment
}

// Errors from voice packet encoding and decoding. They are plain values so
// that the decoders never allocate.
var (
	ErrVoiceCodec      = errors.New("mumble: voice packet: codec is not Opus")
	ErrVoiceTruncated  = errors.New("mumble: voice packet: truncated")
	ErrVoiceTrailing   = errors.New("mumble: voice packet: bytes after the Opus data are not a 12-byte position")
	ErrVoicePosition   = errors.New("mumble: voice packet: position does not have 3 coordinates")
	ErrVoiceNoOpus     = errors.New("mumble: voice packet: no Opus data")
	ErrVoiceMalformed  = errors.New("mumble: voice packet: malformed protobuf")
	ErrVoiceTooLarge   = errors.New("mumble: voice packet: larger than 1024 bytes")
	ErrVoiceTarget     = errors.New("mumble: voice packet: target does not fit the legacy format's 5 bits")
	ErrVoiceOpusLength = errors.New("mumble: voice packet: Opus data longer than 8191 bytes")
	ErrVoiceFormat     = errors.New("mumble: voice packet: unknown format")
)

// AppendVoicePacket appends p encoded in format f for direction d to dst. It
// allocates only if dst lacks capacity; MaxVoicePacketSize bytes always
// suffice for a packet servers accept. It fails if the packet cannot be
// represented or would exceed MaxVoicePacketSize.
//
// The legacy format cannot carry VolumeAdjustment; Session is encoded only
// ServerToClient.
func AppendVoicePacket(dst []byte, p *VoicePacket, f VoiceFormat, d Direction) ([]byte, error) {
	start := len(dst)
	var err error
	switch f {
	case VoiceLegacy:
		dst, err = appendLegacyVoice(dst, p, d)
	case VoiceProtobuf:
		dst, err = appendProtobufVoice(dst, p, d)
	default:
		return dst, ErrVoiceFormat
	}
	if err != nil {
		return dst[:start], err
	}
	if len(dst)-start > MaxVoicePacketSize {
		return dst[:start], ErrVoiceTooLarge
	}
	return dst, nil
}

// ParseVoicePacket decodes the voice packet b travelling in direction d into
// p, telling the format from the first byte, and returns the format. p.Opus
// aliases b. Packets with codecs other than Opus are rejected with
// ErrVoiceCodec. ParseVoicePacket does not allocate.
func ParseVoicePacket(b []byte, p *VoicePacket, d Direction) (VoiceFormat, error) {
	if len(b) == 0 {
		return 0, ErrVoiceTruncated
	}
	if b[0] == udpMessageAudio {
		return VoiceProtobuf, parseProtobufVoice(b, p, d)
	}
	return VoiceLegacy, parseLegacyVoice(b, p, d)
}

func appendLegacyVoice(dst []byte, p *VoicePacket, d Direction) ([]byte, error) {
	if p.Target > 31 {
		return dst, ErrVoiceTarget
	}
	if len(p.Opus) > MaxOpusSize {
		return dst, ErrVoiceOpusLength
	}
	dst = append(dst, legacyCodecOpus<<5|byte(p.Target))
	if d == ServerToClient {
		dst = varint.Append(dst, int64(p.Session))
	}
	dst = varint.Append(dst, int64(p.Sequence))
	n := int64(len(p.Opus))
	if p.Terminator {
		n |= legacyTerminatorFlag
	}
	dst = varint.Append(dst, n)
	dst = append(dst, p.Opus...)
	if p.HasPosition {
		for _, c := range p.Position {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(c))
		}
	}
	return dst, nil
}

func parseLegacyVoice(b []byte, p *VoicePacket, d Direction) error {
	*p = VoicePacket{}
	var q VoicePacket
	if err := decodeLegacyVoice(b, &q, d); err != nil {
		return err
	}
	*p = q
	return nil
}

func decodeLegacyVoice(b []byte, p *VoicePacket, d Direction) error {
	if len(b) == 0 {
		return ErrVoiceTruncated
	}
	if b[0]>>5 != legacyCodecOpus {
		return ErrVoiceCodec
	}
	p.Target = uint32(b[0] & 0x1F)
	i := 1
	if d == ServerToClient {
		v, n, err := varint.Decode(b[i:])
		if err != nil {
			return ErrVoiceTruncated
		}
		p.Session = uint32(v)
		i += n
	}
	v, n, err := varint.Decode(b[i:])
	if err != nil {
		return ErrVoiceTruncated
	}
	p.Sequence = uint64(v)
	i += n
	v, n, err = varint.Decode(b[i:])
	if err != nil {
		return ErrVoiceTruncated
	}
	i += n
	// Like upstream, only the low 14 bits count: 13 of length, 1 terminator.
	size := int(v & MaxOpusSize)
	p.Terminator = v&legacyTerminatorFlag != 0
	if len(b)-i < size {
		return ErrVoiceTruncated
	}
	p.Opus = b[i : i+size : i+size]
	i += size
	switch len(b) - i {
	case 0:
	case positionSize:
		p.HasPosition = true
		for k := range p.Position {
			p.Position[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[i+4*k:]))
		}
	default:
		return ErrVoiceTrailing
	}
	return nil
}

// Field numbers of MumbleUDP.Audio.
const (
	audioTarget           protowire.Number = 1
	audioContext          protowire.Number = 2
	audioSenderSession    protowire.Number = 3
	audioFrameNumber      protowire.Number = 4
	audioOpusData         protowire.Number = 5
	audioPositionalData   protowire.Number = 6
	audioVolumeAdjustment protowire.Number = 7
	audioIsTerminator     protowire.Number = 16
)

// appendProtobufVoice writes the MumbleUDP.Audio message by hand, field by
// field in number order as proto.Marshal does, to avoid allocating.
func appendProtobufVoice(dst []byte, p *VoicePacket, d Direction) ([]byte, error) {
	if len(p.Opus) == 0 {
		return dst, ErrVoiceNoOpus
	}
	dst = append(dst, udpMessageAudio)
	// The Header oneof is always set, as upstream does, even when zero.
	if d == ServerToClient {
		dst = protowire.AppendTag(dst, audioContext, protowire.VarintType)
	} else {
		dst = protowire.AppendTag(dst, audioTarget, protowire.VarintType)
	}
	dst = protowire.AppendVarint(dst, uint64(p.Target))
	if d == ServerToClient && p.Session != 0 {
		dst = protowire.AppendTag(dst, audioSenderSession, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(p.Session))
	}
	if p.Sequence != 0 {
		dst = protowire.AppendTag(dst, audioFrameNumber, protowire.VarintType)
		dst = protowire.AppendVarint(dst, p.Sequence)
	}
	dst = protowire.AppendTag(dst, audioOpusData, protowire.BytesType)
	dst = protowire.AppendBytes(dst, p.Opus)
	if p.HasPosition {
		dst = protowire.AppendTag(dst, audioPositionalData, protowire.BytesType)
		dst = protowire.AppendVarint(dst, positionSize)
		for _, c := range p.Position {
			dst = protowire.AppendFixed32(dst, math.Float32bits(c))
		}
	}
	if bits := math.Float32bits(p.VolumeAdjustment); bits != 0 {
		dst = protowire.AppendTag(dst, audioVolumeAdjustment, protowire.Fixed32Type)
		dst = protowire.AppendFixed32(dst, bits)
	}
	if p.Terminator {
		dst = protowire.AppendTag(dst, audioIsTerminator, protowire.VarintType)
		dst = protowire.AppendVarint(dst, 1)
	}
	return dst, nil
}

// parseProtobufVoice decodes a MumbleUDP.Audio message by hand with the
// semantics of proto.Unmarshal (last value wins, packed and unpacked
// repeated fields, fields with an unexpected wire type ignored), without
// allocating.
func parseProtobufVoice(b []byte, p *VoicePacket, _ Direction) error {
	*p = VoicePacket{}
	var q VoicePacket
	if err := decodeProtobufVoice(b, &q); err != nil {
		return err
	}
	*p = q
	return nil
}

func decodeProtobufVoice(b []byte, p *VoicePacket) error {
	if len(b) == 0 || b[0] != udpMessageAudio {
		return ErrVoiceFormat
	}
	b = b[1:]
	npos := 0
	addPos := func(bits uint32) bool {
		if npos == len(p.Position) {
			return false
		}
		p.Position[npos] = math.Float32frombits(bits)
		npos++
		return true
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return ErrVoiceMalformed
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType && (num == audioTarget || num == audioContext ||
			num == audioSenderSession || num == audioFrameNumber || num == audioIsTerminator):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return ErrVoiceMalformed
			}
			b = b[n:]
			switch num {
			case audioTarget, audioContext:
				p.Target = uint32(v)
			case audioSenderSession:
				p.Session = uint32(v)
			case audioFrameNumber:
				p.Sequence = v
			case audioIsTerminator:
				p.Terminator = v != 0
			}
		case typ == protowire.BytesType && num == audioOpusData:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ErrVoiceMalformed
			}
			b = b[n:]
			p.Opus = v[:len(v):len(v)]
		case typ == protowire.BytesType && num == audioPositionalData:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || len(v)%4 != 0 {
				return ErrVoiceMalformed
			}
			b = b[n:]
			for ; len(v) > 0; v = v[4:] {
				if !addPos(binary.LittleEndian.Uint32(v)) {
					return ErrVoicePosition
				}
			}
		case typ == protowire.Fixed32Type && (num == audioPositionalData || num == audioVolumeAdjustment):
			v, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				return ErrVoiceMalformed
			}
			b = b[n:]
			if num == audioVolumeAdjustment {
				p.VolumeAdjustment = math.Float32frombits(v)
			} else if !addPos(v) {
				return ErrVoicePosition
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return ErrVoiceMalformed
			}
			b = b[n:]
		}
	}
	switch npos {
	case 0:
	case 3:
		p.HasPosition = true
	default:
		return ErrVoicePosition
	}
	if len(p.Opus) == 0 {
		return ErrVoiceNoOpus
	}
	return nil
}
