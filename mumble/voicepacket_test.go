package mumble

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto/mumbleudp"
)

func samplePackets() []VoicePacket {
	opus := bytes.Repeat([]byte{0xFC, 0xFF, 0xFE}, 20)
	return []VoicePacket{
		{Opus: []byte{0xF8}},
		{Target: ContextWhisper, Session: 12, Sequence: 2, Opus: opus},
		{Target: 30, Session: 0x12345, Sequence: 1 << 40, Opus: opus, Terminator: true},
		{Target: TargetLoopback, Session: 1, Sequence: 4, Opus: opus, HasPosition: true, Position: [3]float32{1.5, -2, 1e9}},
		{Target: ContextShout, Session: 3, Sequence: 200, Opus: make([]byte, 900), Terminator: true, HasPosition: true},
	}
}

func equalPackets(a, b *VoicePacket) bool {
	return a.Target == b.Target && a.Session == b.Session && a.Sequence == b.Sequence &&
		bytes.Equal(a.Opus, b.Opus) && a.Terminator == b.Terminator && a.HasPosition == b.HasPosition &&
		samePosition(a.Position, b.Position) && math.Float32bits(a.VolumeAdjustment) == math.Float32bits(b.VolumeAdjustment)
}

// samePosition compares bit patterns, so that NaN equals itself.
func samePosition(a, b [3]float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestVoicePacketRoundTrip(t *testing.T) {
	for _, f := range []VoiceFormat{VoiceLegacy, VoiceProtobuf} {
		for _, d := range []Direction{ClientToServer, ServerToClient} {
			for i, in := range samplePackets() {
				if d == ClientToServer {
					in.Session = 0 // not carried client to server
				}
				if f == VoiceProtobuf && d == ServerToClient {
					in.VolumeAdjustment = 0.5
				}
				b, err := AppendVoicePacket(nil, &in, f, d)
				if err != nil {
					t.Fatalf("%v %d packet %d: %v", f, d, i, err)
				}
				var out VoicePacket
				got, err := ParseVoicePacket(b, &out, d)
				if err != nil || got != f {
					t.Fatalf("%v %d packet %d: parse: %v, %v", f, d, i, got, err)
				}
				if !equalPackets(&in, &out) {
					t.Errorf("%v %d packet %d: round trip\n in %+v\nout %+v", f, d, i, in, out)
				}
			}
		}
	}
}

// TestLegacyVoiceBytes pins the legacy layout described in the wire notes.
func TestLegacyVoiceBytes(t *testing.T) {
	p := VoicePacket{Target: 2, Session: 5, Sequence: 0x80, Opus: []byte{0xAA, 0xBB}, Terminator: true,
		HasPosition: true, Position: [3]float32{1, 0, 0}}
	b, err := AppendVoicePacket(nil, &p, VoiceLegacy, ServerToClient)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0x82,       // Opus (4) << 5 | whisper (2)
		0x05,       // session
		0x80, 0x80, // sequence 0x80 in two bytes
		0xA0, 0x02, // length 2 | 0x2000 terminator
		0xAA, 0xBB, // Opus
		0x00, 0x00, 0x80, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0, // 1.0, 0, 0 little-endian
	}
	if !bytes.Equal(b, want) {
		t.Errorf("legacy packet\n got % x\nwant % x", b, want)
	}
	c, _ := AppendVoicePacket(nil, &p, VoiceLegacy, ClientToServer)
	if !bytes.Equal(c, append([]byte{0x82}, want[2:]...)) {
		t.Errorf("client-to-server legacy packet % x", c)
	}
}

func TestVoicePacketRejects(t *testing.T) {
	var p VoicePacket
	for _, tc := range []struct {
		name string
		in   []byte
		d    Direction
		want error
	}{
		{"empty", nil, ServerToClient, ErrVoiceTruncated},
		{"CELT alpha relayed as garbage", []byte{0x20, 0x01, 0x02}, ServerToClient, ErrVoiceCodec},
		{"Speex", []byte{0x40, 0x01, 0x02, 0x00}, ServerToClient, ErrVoiceCodec},
		{"legacy ping", []byte{0x20}, ClientToServer, ErrVoiceCodec},
		{"no sequence", []byte{0x80, 0x01}, ServerToClient, ErrVoiceTruncated},
		{"short Opus", []byte{0x80, 0x01, 0x00, 0x05, 0xAA}, ServerToClient, ErrVoiceTruncated},
		{"odd trailer", []byte{0x80, 0x01, 0x00, 0x01, 0xAA, 1, 2, 3}, ServerToClient, ErrVoiceTrailing},
		{"protobuf without Opus", []byte{0x00, 0x10, 0x02, 0x18, 0x05}, ServerToClient, ErrVoiceNoOpus},
		{"protobuf 2 coordinates", []byte{0x00, 0x2A, 0x01, 0xAA, 0x32, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}, ServerToClient, ErrVoicePosition},
		{"protobuf 4 coordinates", append([]byte{0x00, 0x2A, 0x01, 0xAA, 0x32, 0x10}, make([]byte, 16)...), ServerToClient, ErrVoicePosition},
		{"protobuf truncated", []byte{0x00, 0x2A, 0x05, 0xAA}, ServerToClient, ErrVoiceMalformed},
		{"protobuf field 0", []byte{0x00, 0x00, 0x00}, ServerToClient, ErrVoiceMalformed},
	} {
		if _, err := ParseVoicePacket(tc.in, &p, tc.d); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if !equalPackets(&p, &VoicePacket{}) {
			t.Errorf("%s: packet not cleared after error: %+v", tc.name, p)
		}
	}

	big := VoicePacket{Opus: make([]byte, 1021)}
	for _, f := range []VoiceFormat{VoiceLegacy, VoiceProtobuf} {
		if b, err := AppendVoicePacket([]byte{1}, &big, f, ClientToServer); !errors.Is(err, ErrVoiceTooLarge) || len(b) != 1 {
			t.Errorf("%v oversize: %v (len %d)", f, err, len(b))
		}
	}
	if _, err := AppendVoicePacket(nil, &VoicePacket{Target: 32, Opus: []byte{1}}, VoiceLegacy, ClientToServer); !errors.Is(err, ErrVoiceTarget) {
		t.Errorf("legacy target 32: %v", err)
	}
	if _, err := AppendVoicePacket(nil, &VoicePacket{}, VoiceProtobuf, ClientToServer); !errors.Is(err, ErrVoiceNoOpus) {
		t.Errorf("protobuf without Opus: %v", err)
	}
	if _, err := AppendVoicePacket(nil, &VoicePacket{Opus: make([]byte, MaxOpusSize+1)}, VoiceLegacy, ClientToServer); !errors.Is(err, ErrVoiceOpusLength) {
		t.Errorf("legacy Opus too long: %v", err)
	}
}

// TestLegacyVoiceTolerance accepts what upstream accepts: high length bits
// ignored, empty Opus data in a terminator.
func TestLegacyVoiceTolerance(t *testing.T) {
	var p VoicePacket
	if _, err := ParseVoicePacket([]byte{0x80, 0x07, 0x04, 0xE0, 0x00, 0x60, 0x01, 0xAA}, &p, ServerToClient); err != nil {
		t.Fatal(err)
	}
	if p.Session != 7 || p.Sequence != 4 || !p.Terminator || !bytes.Equal(p.Opus, []byte{0xAA}) {
		t.Errorf("got %+v", p)
	}
	if _, err := ParseVoicePacket([]byte{0x80, 0x07, 0x04, 0xA0, 0x00}, &p, ServerToClient); err != nil || !p.Terminator || len(p.Opus) != 0 {
		t.Errorf("empty terminator: %+v, %v", p, err)
	}
}

func toAudio(p *VoicePacket, d Direction) *mumbleudp.Audio {
	a := &mumbleudp.Audio{FrameNumber: p.Sequence, OpusData: p.Opus, IsTerminator: p.Terminator, VolumeAdjustment: p.VolumeAdjustment}
	if d == ServerToClient {
		a.Header = &mumbleudp.Audio_Context{Context: p.Target}
		a.SenderSession = p.Session
	} else {
		a.Header = &mumbleudp.Audio_Target{Target: p.Target}
	}
	if p.HasPosition {
		a.PositionalData = p.Position[:]
	}
	return a
}

// TestProtobufVoiceMatchesGenerated cross-checks the hand-written protobuf
// encoder and decoder against proto.Marshal and proto.Unmarshal of the
// generated MumbleUDP.Audio: each side decodes what the other encodes to the
// same packet.
func TestProtobufVoiceMatchesGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	packets := samplePackets()
	for range 200 {
		p := VoicePacket{
			Target:      rng.Uint32N(32),
			Session:     rng.Uint32() >> rng.UintN(32),
			Sequence:    rng.Uint64() >> rng.UintN(64),
			Opus:        make([]byte, 1+rng.IntN(500)),
			Terminator:  rng.IntN(2) == 0,
			HasPosition: rng.IntN(2) == 0,
		}
		if rng.IntN(2) == 0 {
			p.VolumeAdjustment = rng.Float32() * 4
		}
		if p.HasPosition {
			p.Position = [3]float32{rng.Float32(), -rng.Float32(), 1e6 * rng.Float32()}
		}
		packets = append(packets, p)
	}
	for i, p := range packets {
		for _, d := range []Direction{ClientToServer, ServerToClient} {
			if d == ClientToServer {
				p.Session = 0
			}
			mine, err := AppendVoicePacket(nil, &p, VoiceProtobuf, d)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := proto.MarshalOptions{Deterministic: true}.Marshal(toAudio(&p, d))
			if err != nil {
				t.Fatal(err)
			}
			// proto-go writes the oneof last, upstream's C++ (and we) in field
			// number order; the bytes differ only in order.
			if len(mine)-1 != len(theirs) {
				t.Errorf("packet %d dir %d: encodings differ in size\nmine   % x\ntheirs % x", i, d, mine[1:], theirs)
			}
			var a mumbleudp.Audio
			if err := proto.Unmarshal(mine[1:], &a); err != nil {
				t.Fatalf("packet %d: proto.Unmarshal of our encoding: %v", i, err)
			}
			if !proto.Equal(&a, toAudio(&p, d)) {
				t.Errorf("packet %d dir %d: proto.Unmarshal gives %v", i, d, &a)
			}
			var back VoicePacket
			if _, err := ParseVoicePacket(append([]byte{0}, theirs...), &back, d); err != nil || !equalPackets(&back, &p) {
				t.Errorf("packet %d dir %d: parse of proto.Marshal output: %+v, %v", i, d, back, err)
			}
		}
	}
	// Unpacked positional data and unknown fields, as other encoders may
	// write them, decode the same way.
	var unpacked []byte
	unpacked = append(unpacked, 0x00, 0x2A, 0x01, 0x7F) // opus_data
	for range 3 {
		unpacked = append(unpacked, 0x35, 0x00, 0x00, 0x80, 0x3F) // field 6 fixed32 1.0
	}
	unpacked = append(unpacked, 0xA8, 0x1F, 0x01) // field 500 varint: unknown
	var a mumbleudp.Audio
	if err := proto.Unmarshal(unpacked[1:], &a); err != nil {
		t.Fatal(err)
	}
	var p VoicePacket
	if _, err := ParseVoicePacket(unpacked, &p, ServerToClient); err != nil || !p.HasPosition || p.Position != [3]float32{1, 1, 1} {
		t.Errorf("unpacked positions: %+v, %v (generated: %v)", p, err, a.PositionalData)
	}
}

func TestVoicePacketNoAlloc(t *testing.T) {
	buf := make([]byte, 0, MaxVoicePacketSize)
	in := samplePackets()[3]
	for _, f := range []VoiceFormat{VoiceLegacy, VoiceProtobuf} {
		var out VoicePacket
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			buf, err = AppendVoicePacket(buf[:0], &in, f, ServerToClient)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseVoicePacket(buf, &out, ServerToClient); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: encode+decode allocate %v times, want 0", f, allocs)
		}
	}
}

func fuzzVoiceSeeds(f *testing.F, format VoiceFormat) {
	for _, p := range samplePackets() {
		for _, d := range []Direction{ClientToServer, ServerToClient} {
			b, err := AppendVoicePacket(nil, &p, format, d)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, d == ServerToClient)
		}
	}
}

func FuzzLegacyVoice(f *testing.F) {
	fuzzVoiceSeeds(f, VoiceLegacy)
	f.Add([]byte{0x20, 0x01, 0x02}, true)
	f.Fuzz(func(t *testing.T, b []byte, fromServer bool) {
		d := ClientToServer
		if fromServer {
			d = ServerToClient
		}
		var p VoicePacket
		if err := parseLegacyVoice(b, &p, d); err != nil {
			return
		}
		if len(p.Opus) > MaxOpusSize {
			t.Fatalf("Opus of %d bytes", len(p.Opus))
		}
		enc, err := appendLegacyVoice(nil, &p, d)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", p, err)
		}
		var q VoicePacket
		if err := parseLegacyVoice(enc, &q, d); err != nil || !equalPackets(&p, &q) {
			t.Fatalf("re-decode: %+v, %v; want %+v", q, err, p)
		}
	})
}

func FuzzProtobufVoice(f *testing.F) {
	fuzzVoiceSeeds(f, VoiceProtobuf)
	f.Add([]byte{0x00, 0x2A, 0x01, 0x7F, 0x35, 0, 0, 0x80, 0x3F, 0x35, 0, 0, 0x80, 0x3F, 0x35, 0, 0, 0x80, 0x3F}, true)
	f.Fuzz(func(t *testing.T, b []byte, fromServer bool) {
		d := ClientToServer
		if fromServer {
			d = ServerToClient
		}
		b = append([]byte{udpMessageAudio}, b...)
		var p VoicePacket
		err := parseProtobufVoice(b, &p, d)

		// The generated decoder, with upstream's checks, must agree.
		var a mumbleudp.Audio
		gerr := proto.Unmarshal(b[1:], &a)
		if gerr == nil && (len(a.OpusData) == 0 || (len(a.PositionalData) != 0 && len(a.PositionalData) != 3)) {
			gerr = errors.New("rejected by upstream's checks")
		}
		if (err == nil) != (gerr == nil) {
			t.Fatalf("hand-written decoder: %v, generated: %v", err, gerr)
		}
		if err != nil {
			return
		}
		want := VoicePacket{Session: a.SenderSession, Sequence: a.FrameNumber, Opus: a.OpusData,
			Terminator: a.IsTerminator, VolumeAdjustment: a.VolumeAdjustment}
		switch h := a.Header.(type) {
		case *mumbleudp.Audio_Target:
			want.Target = h.Target
		case *mumbleudp.Audio_Context:
			want.Target = h.Context
		}
		if len(a.PositionalData) == 3 {
			want.HasPosition = true
			copy(want.Position[:], a.PositionalData)
		}
		if !equalPackets(&p, &want) {
			t.Fatalf("decoded %+v, generated decoder %+v", p, want)
		}
		if _, err := appendProtobufVoice(nil, &p, d); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

func benchmarkVoice(b *testing.B, f VoiceFormat) {
	p := VoicePacket{Session: 42, Sequence: 1234, Opus: make([]byte, 120), HasPosition: true}
	buf := make([]byte, 0, MaxVoicePacketSize)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p.Opus)))
		for range b.N {
			var err error
			if buf, err = AppendVoicePacket(buf[:0], &p, f, ServerToClient); err != nil {
				b.Fatal(err)
			}
		}
	})
	enc, _ := AppendVoicePacket(nil, &p, f, ServerToClient)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p.Opus)))
		var out VoicePacket
		for range b.N {
			if _, err := ParseVoicePacket(enc, &out, ServerToClient); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVoiceLegacy(b *testing.B)   { benchmarkVoice(b, VoiceLegacy) }
func BenchmarkVoiceProtobuf(b *testing.B) { benchmarkVoice(b, VoiceProtobuf) }
