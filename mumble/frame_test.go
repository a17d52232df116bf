package mumble

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

func TestFrameRoundTripPipe(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes: the incremental path
	frames := []struct {
		t       MessageType
		payload []byte
	}{
		{MessagePing, nil},
		{MessageUDPTunnel, []byte{0x80, 0x01, 0x02}},
		{MessageTextMessage, big},
		{MessageType(999), []byte("unknown type")},
		{MessageVersion, []byte{0x08, 0x01}},
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		for _, f := range frames {
			if err := WriteFrame(a, f.t, f.payload); err != nil {
				t.Error(err)
				return
			}
		}
		a.Close()
	}()
	fr := NewFrameReader(b)
	for i, f := range frames {
		typ, payload, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if typ != f.t || !bytes.Equal(payload, f.payload) {
			t.Fatalf("frame %d: got %v with %d bytes, want %v with %d bytes", i, typ, len(payload), f.t, len(f.payload))
		}
	}
	if _, _, err := fr.ReadFrame(); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
	if cap(fr.buf) > keepBufferSize {
		t.Errorf("reader kept a %d byte buffer after a big frame", cap(fr.buf))
	}
}

func TestFrameTooLarge(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, MessageUserState, make([]byte, 101)); err != nil {
		t.Fatal(err)
	}
	fr := NewFrameReader(&buf)
	fr.MaxSize = 100
	_, _, err := fr.ReadFrame()
	var tooLarge *FrameTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Size != 101 || tooLarge.Max != 100 || tooLarge.Type != MessageUserState {
		t.Fatalf("ReadFrame: %v, want FrameTooLargeError{UserState, 101, 100}", err)
	}
	if buf.Len() != 101 {
		t.Errorf("reader consumed %d payload bytes of an oversize frame", 101-buf.Len())
	}

	// The default limit is upstream's 0x7FFFFF.
	hdr := []byte{0, 1, 0, 0x80, 0, 0}
	if _, _, err := NewFrameReader(bytes.NewReader(hdr)).ReadFrame(); !errors.As(err, &tooLarge) || tooLarge.Max != DefaultMaxFrameSize {
		t.Fatalf("8 MiB frame with default limit: %v", err)
	}
}

func TestFrameTruncated(t *testing.T) {
	full, _ := AppendFrame(nil, MessagePing, []byte{1, 2, 3, 4})
	for n := 1; n < len(full); n++ {
		_, _, err := NewFrameReader(bytes.NewReader(full[:n])).ReadFrame()
		if err != io.ErrUnexpectedEOF {
			t.Errorf("%d of %d bytes: %v, want io.ErrUnexpectedEOF", n, len(full), err)
		}
	}
}

// TestFrameHugeClaimNoPrealloc checks that a peer announcing a frame near the
// limit and sending little does not make the reader allocate the whole frame.
func TestFrameHugeClaimNoPrealloc(t *testing.T) {
	in := append([]byte{0, 11, 0, 0x7F, 0xFF, 0xFF}, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := NewFrameReader(bytes.NewReader(in)).ReadFrame()
	runtime.ReadMemStats(&after)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("ReadFrame: %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("allocated %d bytes for a frame that sent 1000", got)
	}
}

func TestMessageTypes(t *testing.T) {
	for typ := MessageType(0); typ <= MessagePluginDataTransmission; typ++ {
		m := NewMessage(typ)
		if typ == MessageUDPTunnel {
			if m != nil {
				t.Errorf("NewMessage(UDPTunnel) = %T, want nil", m)
			}
			continue
		}
		if m == nil {
			t.Errorf("NewMessage(%v) = nil", typ)
			continue
		}
		if got, ok := TypeOf(m); !ok || got != typ {
			t.Errorf("TypeOf(%T) = %v, %v; want %v", m, got, ok, typ)
		}
		if name := string(m.ProtoReflect().Descriptor().Name()); name != typ.String() {
			t.Errorf("type %d: message %s, name %s", typ, name, typ.String())
		}
	}
	if NewMessage(27) != nil || MessageType(27).String() != "MessageType(27)" {
		t.Errorf("type 27: %v %q", NewMessage(27), MessageType(27).String())
	}
}

func TestAppendMessageRoundTrip(t *testing.T) {
	in := &mumbleproto.UserState{Session: proto.Uint32(7), Name: proto.String("Ann"), ChannelId: proto.Uint32(3)}
	buf, err := AppendMessage([]byte("prefix"), in)
	if err != nil {
		t.Fatal(err)
	}
	fr := NewFrameReader(bytes.NewReader(buf[len("prefix"):]))
	typ, payload, err := fr.ReadFrame()
	if err != nil || typ != MessageUserState {
		t.Fatalf("ReadFrame: %v %v", typ, err)
	}
	out, err := UnmarshalMessage(typ, payload)
	if err != nil || !proto.Equal(in, out) {
		t.Fatalf("round trip: %v, %v", out, err)
	}
	if _, err := AppendMessage(nil, &mumbleproto.UserStats_Stats{}); err == nil {
		t.Error("AppendMessage accepted a message that is not a control message")
	}
}

func TestUnmarshalTolerant(t *testing.T) {
	// Version whose field 5 has the wrong wire type (bytes instead of varint).
	var v []byte
	v = protowire.AppendTag(v, 1, protowire.VarintType)
	v = protowire.AppendVarint(v, 0x010400)
	v = protowire.AppendTag(v, 5, protowire.BytesType)
	v = protowire.AppendBytes(v, []byte("junk"))
	v = protowire.AppendTag(v, 2, protowire.BytesType)
	v = protowire.AppendString(v, "murmur")
	m, err := UnmarshalMessage(MessageVersion, v)
	if err != nil {
		t.Fatalf("Version with junk field 5: %v", err)
	}
	ver := m.(*mumbleproto.Version)
	if ver.GetVersionV1() != 0x010400 || ver.VersionV2 != nil || ver.GetRelease() != "murmur" {
		t.Errorf("Version with junk field 5 decoded as %v", ver)
	}

	// TextMessage without its required message field.
	var tm []byte
	tm = protowire.AppendTag(tm, 1, protowire.VarintType)
	tm = protowire.AppendVarint(tm, 4)
	if m, err := UnmarshalMessage(MessageTextMessage, tm); err != nil || m.(*mumbleproto.TextMessage).GetActor() != 4 {
		t.Errorf("TextMessage without message: %v, %v", m, err)
	}

	// UserStats whose embedded Version is garbage and which ends in a
	// truncated field: the good fields survive.
	var us []byte
	us = protowire.AppendTag(us, 1, protowire.VarintType)
	us = protowire.AppendVarint(us, 9)
	us = protowire.AppendTag(us, 12, protowire.BytesType)
	us = protowire.AppendBytes(us, []byte{0xFF, 0xFF, 0xFF})
	us = protowire.AppendTag(us, 15, protowire.VarintType)
	us = protowire.AppendVarint(us, 72000)
	us = append(us, 0x80) // a truncated tag
	m, err = UnmarshalMessage(MessageUserStats, us)
	var merr *MalformedMessageError
	if !errors.As(err, &merr) || merr.Dropped != 1 || merr.Trailer != 1 {
		t.Fatalf("UserStats with garbage: %v", err)
	}
	st := m.(*mumbleproto.UserStats)
	if st.GetSession() != 9 || st.GetBandwidth() != 72000 || st.Version != nil {
		t.Errorf("salvaged UserStats = %v", st)
	}

	if m, err := UnmarshalMessage(MessageUDPTunnel, []byte{1, 2}); m != nil || err != nil {
		t.Errorf("UDPTunnel: %v, %v", m, err)
	}
	if m, err := UnmarshalMessage(500, []byte{1, 2}); m != nil || err != nil {
		t.Errorf("unknown type: %v, %v", m, err)
	}
}

// FuzzFrame feeds arbitrary bytes through the frame reader and the message
// decoder, as the client's reader does.
func FuzzFrame(f *testing.F) {
	seed := func(m proto.Message) []byte {
		b, err := AppendMessage(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(seed(&mumbleproto.Version{VersionV1: proto.Uint32(0x010500), VersionV2: proto.Uint64(1<<48 | 5<<32)}))
	f.Add(seed(&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Name: proto.String("Lab"), Links: []uint32{2, 3}}))
	f.Add(append(seed(&mumbleproto.ServerSync{Session: proto.Uint32(1)}), seed(&mumbleproto.Ping{Timestamp: proto.Uint64(5)})...))
	tunnel, _ := AppendFrame(nil, MessageUDPTunnel, []byte{0x80, 0x05, 0x02, 0x03, 0xAA, 0xBB, 0xCC})
	f.Add(tunnel)
	f.Add([]byte{0, 4, 0, 0, 0, 2, 0x08})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bytes.NewReader(data))
		fr.MaxSize = 1 << 16
		for {
			typ, payload, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if typ == MessageUDPTunnel {
				var p VoicePacket
				_, _ = ParseVoicePacket(payload, &p, ServerToClient)
				continue
			}
			m, err := UnmarshalMessage(typ, payload)
			if m == nil {
				if err != nil {
					t.Fatalf("nil message with error %v", err)
				}
				continue
			}
			if _, err := AppendMessage(nil, m); err != nil {
				t.Fatalf("re-encoding decoded %v: %v", typ, err)
			}
		}
	})
}
