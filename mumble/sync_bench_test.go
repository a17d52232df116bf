package mumble

import (
	"context"
	"fmt"
	"net"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

type replayFrame struct {
	t       MessageType
	payload []byte
}

// syncReplay builds the frames a server sends on login with the given
// numbers of channels (a tree, some linked) and users, self being the last
// user.
func syncReplay(tb testing.TB, channels, users int) []replayFrame {
	tb.Helper()
	var frames []replayFrame
	add := func(m proto.Message) {
		t, _ := TypeOf(m)
		b, err := proto.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		frames = append(frames, replayFrame{t, b})
	}
	add(&mumbleproto.Version{VersionV1: proto.Uint32(0x010500), VersionV2: proto.Uint64(Version{1, 5, 735}.V2()), Release: proto.String("1.5.735")})
	add(&mumbleproto.CryptSetup{Key: make([]byte, 16), ClientNonce: make([]byte, 16), ServerNonce: make([]byte, 16)})
	add(&mumbleproto.CodecVersion{Alpha: proto.Int32(-2147483637), Beta: proto.Int32(0), PreferAlpha: proto.Bool(true), Opus: proto.Bool(true)})
	add(&mumbleproto.ChannelState{ChannelId: proto.Uint32(0), Name: proto.String("Root"), Position: proto.Int32(0), MaxUsers: proto.Uint32(0)})
	for i := 1; i < channels; i++ {
		add(&mumbleproto.ChannelState{
			ChannelId:   proto.Uint32(uint32(i)),
			Parent:      proto.Uint32(uint32((i - 1) / 4)),
			Name:        proto.String(fmt.Sprintf("Channel %d", i)),
			Description: proto.String(fmt.Sprintf("Description of channel %d", i)),
			Position:    proto.Int32(int32(i % 7)),
			Temporary:   proto.Bool(false),
			MaxUsers:    proto.Uint32(0),
		})
	}
	for i := 1; i+1 < channels; i += 10 {
		add(&mumbleproto.ChannelState{ChannelId: proto.Uint32(uint32(i)), Links: []uint32{uint32(i + 1)}})
	}
	for i := 1; i <= users; i++ {
		add(&mumbleproto.UserState{
			Session:     proto.Uint32(uint32(i)),
			Name:        proto.String(fmt.Sprintf("user%04d", i)),
			UserId:      proto.Uint32(uint32(i + 100)),
			ChannelId:   proto.Uint32(uint32(i % channels)),
			SelfMute:    proto.Bool(i%3 == 0),
			SelfDeaf:    proto.Bool(i%9 == 0),
			CommentHash: make([]byte, 20),
			Hash:        proto.String("0123456789abcdef0123456789abcdef01234567"),
		})
	}
	add(&mumbleproto.ServerSync{Session: proto.Uint32(uint32(users)), MaxBandwidth: proto.Uint32(558000), WelcomeText: proto.String("Welcome"), Permissions: proto.Uint64(0xF07FF)})
	add(&mumbleproto.ServerConfig{AllowHtml: proto.Bool(true), MessageLength: proto.Uint32(5000), ImageMessageLength: proto.Uint32(131072), MaxUsers: proto.Uint32(1000)})
	add(&mumbleproto.SuggestConfig{VersionV1: proto.Uint32(0x010400)})
	return frames
}

// newOfflineClient returns a Client that is fed frames directly, without a
// connection.
func newOfflineClient(tb testing.TB) *Client {
	c, err := newClient("offline:1", &Config{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, fmt.Errorf("offline")
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestReplaySync(t *testing.T) {
	c := newOfflineClient(t)
	for _, f := range syncReplay(t, 300, 1000) {
		c.handle(f.t, f.payload)
	}
	select {
	case <-c.synced:
	default:
		t.Fatal("not synced")
	}
	if n := len(c.Channels()); n != 300 {
		t.Errorf("%d channels", n)
	}
	if n := len(c.Users()); n != 1000 {
		t.Errorf("%d users", n)
	}
	if ch, _ := c.Channel(2); len(ch.Links) != 1 || ch.Links[0] != 1 {
		t.Errorf("channel 2 links %v", ch.Links)
	}
	if p, ok := c.ChannelPath(299); !ok || p != "Root/Channel 4/Channel 18/Channel 74/Channel 299" {
		t.Errorf("path of 299: %q %v", p, ok)
	}
	if c.Self().Name != "user1000" || c.ServerInfo().MaxUsers != 1000 {
		t.Errorf("self %+v, info %+v", c.Self(), c.ServerInfo())
	}
}

// BenchmarkApplySync replays the login state of a server with 300 channels
// and 1000 users through the message handler, as the network reader does.
func BenchmarkApplySync(b *testing.B) {
	frames := syncReplay(b, 300, 1000)
	var bytes int64
	for _, f := range frames {
		bytes += int64(len(f.payload) + FrameHeaderSize)
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	for range b.N {
		c := newOfflineClient(b)
		for _, f := range frames {
			c.handle(f.t, f.payload)
		}
	}
}

// BenchmarkUserUpdate applies a partial UserState (a self-mute toggle) to a
// synced 1000-user state with one event subscriber.
func BenchmarkUserUpdate(b *testing.B) {
	c := newOfflineClient(b)
	for _, f := range syncReplay(b, 300, 1000) {
		c.handle(f.t, f.payload)
	}
	sub := c.Subscribe()
	defer sub.Close()
	go func() {
		for range sub.C {
		}
	}()
	on, _ := proto.Marshal(&mumbleproto.UserState{Session: proto.Uint32(500), SelfMute: proto.Bool(true)})
	off, _ := proto.Marshal(&mumbleproto.UserState{Session: proto.Uint32(500), SelfMute: proto.Bool(false)})
	b.ReportAllocs()
	for i := range b.N {
		if i%2 == 0 {
			c.handle(MessageUserState, on)
		} else {
			c.handle(MessageUserState, off)
		}
	}
}

// BenchmarkReceiveVoice handles a relayed voice packet with one voice
// subscriber: decode, copy of the Opus data, queueing.
func BenchmarkReceiveVoice(b *testing.B) {
	for _, f := range []VoiceFormat{VoiceLegacy, VoiceProtobuf} {
		b.Run(f.String(), func(b *testing.B) {
			c := newOfflineClient(b)
			vs := c.SubscribeVoice()
			defer vs.Close()
			go func() {
				for range vs.C {
				}
			}()
			pkt, _ := AppendVoicePacket(nil, &VoicePacket{Session: 3, Sequence: 100, Opus: make([]byte, 80)}, f, ServerToClient)
			b.ReportAllocs()
			for range b.N {
				c.handle(MessageUDPTunnel, pkt)
			}
		})
	}
}

// BenchmarkSendVoice sends 20 ms Opus packets through TLS over loopback TCP
// to a peer that discards them.
func BenchmarkSendVoice(b *testing.B) {
	s := newFakeServer(b)
	c, p := dialFake(b, s, nil, defaultSync(Version{1, 5, 0}), nil)
	p.discard.Store(true)
	v := OutgoingVoice{Opus: make([]byte, 60), Frames: 2}
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		if err := c.SendVoice(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
}
