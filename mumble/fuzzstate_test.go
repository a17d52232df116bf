package mumble

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// fuzzLimits are small, so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxChannels: 40, MaxUsers: 20, MaxDepth: 6, MaxLinks: 5,
	MaxTextureSize: 300, MaxTextSize: 200, MaxStoredBytes: 1000, MaxQueuedEvents: 50}

// encodeSequence encodes messages in the form FuzzClientState reads: per
// message a 2-byte type, a 2-byte length and the payload.
func encodeSequence(msgs ...proto.Message) []byte {
	var out []byte
	for _, m := range msgs {
		t, _ := TypeOf(m)
		b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
		if err != nil {
			panic(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(t))
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// fuzzSeeds are message sequences a server could send: a login, link
// changes, reparenting, removals, a deep chain, floods.
func fuzzSeeds() [][]byte {
	o := defaultSync(Version{1, 5, 0})
	var login []proto.Message
	for _, ch := range o.channels {
		login = append(login, ch)
	}
	for _, u := range o.users {
		login = append(login, u)
	}
	login = append(login, &mumbleproto.ServerSync{Session: proto.Uint32(2)}, o.config)
	seq := func(more ...proto.Message) []byte { return encodeSequence(append(slices.Clone(login), more...)...) }
	var chain []proto.Message
	for i := uint32(3); i < 12; i++ {
		chain = append(chain, &mumbleproto.ChannelState{ChannelId: proto.Uint32(i), Parent: proto.Uint32(i - 1), Name: proto.String("d")})
	}
	var toggles []proto.Message
	for i := range 60 {
		toggles = append(toggles, &mumbleproto.UserState{Session: proto.Uint32(1), Mute: proto.Bool(i%2 == 0)})
	}
	return [][]byte{
		seq(),
		seq(&mumbleproto.ChannelState{ChannelId: proto.Uint32(0), Links: []uint32{1, 2, 1}},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), LinksRemove: []uint32{0}, LinksAdd: []uint32{2}},
			&mumbleproto.ChannelRemove{ChannelId: proto.Uint32(1)}),
		seq(&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Parent: proto.Uint32(2)},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(2), Parent: proto.Uint32(0)},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Parent: proto.Uint32(2)}),
		seq(chain...),
		seq(toggles...),
		seq(&mumbleproto.UserState{Session: proto.Uint32(1), Texture: make([]byte, 200), Comment: proto.String("hi")},
			&mumbleproto.UserState{Session: proto.Uint32(1), TextureHash: []byte{1}},
			&mumbleproto.UserRemove{Session: proto.Uint32(1)},
			&mumbleproto.TextMessage{Actor: proto.Uint32(1), Message: proto.String("a\nb")}),
		seq(&mumbleproto.UserRemove{Session: proto.Uint32(2), Reason: proto.String("bye")}),
	}
}

// FuzzClientState feeds message sequences to the client's state machine
// (the code the reader goroutine runs for each frame) and checks that the
// state stays consistent and within the limits, whatever the server sends.
func FuzzClientState(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := newClient("fuzz.example:64738", &Config{
			DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("no") },
			Limits:      fuzzLimits,
		})
		if err != nil {
			t.Fatal(err)
		}
		sub := c.Subscribe()
		defer sub.Close()
		for len(data) >= 4 {
			typ := MessageType(binary.BigEndian.Uint16(data))
			n := min(int(binary.BigEndian.Uint16(data[2:])), len(data)-4)
			c.handle(typ, data[4:4+n])
			data = data[4+n:]
			if c.Err() != nil {
				break
			}
		}
		checkTree(t, c.Channels())
		c.mu.Lock()
		defer c.mu.Unlock()
		checkState(t, &c.st)
	})
}

// checkTree fails t unless ChannelTree lists every channel once, each
// after its parent and one level deeper.
func checkTree(t *testing.T, chs []Channel) {
	t.Helper()
	tree := ChannelTree(chs)
	if len(chs) > 0 && len(tree) != len(chs) {
		t.Fatalf("ChannelTree lists %d of %d channels", len(tree), len(chs))
	}
	depth := make(map[uint32]int)
	for i, tc := range tree {
		if i == 0 {
			if !tc.IsRoot() || tc.Depth != 0 {
				t.Fatalf("tree starts with %d at depth %d", tc.ID, tc.Depth)
			}
		} else if d, ok := depth[tc.Parent]; !ok || d+1 != tc.Depth {
			t.Fatalf("channel %d at depth %d before its parent %d", tc.ID, tc.Depth, tc.Parent)
		}
		depth[tc.ID] = tc.Depth
	}
}

// checkState fails t if s breaks an invariant.
func checkState(t *testing.T, s *state) {
	t.Helper()
	lim := s.lim
	if len(s.channels) > lim.MaxChannels || len(s.users) > lim.MaxUsers {
		t.Fatalf("%d channels, %d users: over the limits", len(s.channels), len(s.users))
	}
	stored := 0
	for _, u := range s.users {
		stored += len(u.Texture) + len(u.Comment)
		if cleanLine(u.Name) != u.Name {
			t.Fatalf("user name %q not clean", u.Name)
		}
		if len(u.Texture) > lim.MaxTextureSize || len(u.Comment) > lim.MaxTextSize || len(u.Name) > lim.MaxTextSize {
			t.Fatalf("user %d over a size limit", u.Session)
		}
	}
	indexed := 0
	for p, kids := range s.kids {
		for k := range kids {
			ch := s.channels[k]
			if ch == nil || ch.Parent != p || k == RootChannelID {
				t.Fatalf("index lists %d below %d, wrongly", k, p)
			}
			indexed++
		}
	}
	nonRoot := 0
	for id, ch := range s.channels {
		stored += len(ch.Description)
		checkLinks(t, s, ch)
		if id == RootChannelID {
			continue
		}
		nonRoot++
		// Every channel hangs below the root within the depth limit.
		d, p := 0, ch
		for p.ID != RootChannelID {
			p = s.channels[p.Parent]
			d++
			if p == nil || d > lim.MaxDepth {
				t.Fatalf("channel %d: not below the root within %d levels", id, lim.MaxDepth)
			}
		}
	}
	if indexed != nonRoot {
		t.Fatalf("index holds %d channels, state %d", indexed, nonRoot)
	}
	if stored != s.stored || stored > lim.MaxStoredBytes {
		t.Fatalf("stored %d, accounted %d, limit %d", stored, s.stored, lim.MaxStoredBytes)
	}
}

// checkLinks fails t if ch's links are not sorted, within the limit and
// symmetric.
func checkLinks(t *testing.T, s *state, ch *Channel) {
	t.Helper()
	if len(ch.Links) > s.lim.MaxLinks || !slices.IsSorted(ch.Links) || len(slices.Compact(slices.Clone(ch.Links))) != len(ch.Links) {
		t.Fatalf("channel %d links %v", ch.ID, ch.Links)
	}
	for _, l := range ch.Links {
		o := s.channels[l]
		if o == nil || l == ch.ID {
			t.Fatalf("channel %d linked to %d, which does not exist", ch.ID, l)
		}
		if _, ok := slices.BinarySearch(o.Links, ch.ID); !ok {
			t.Fatalf("link %d-%d not symmetric", ch.ID, l)
		}
	}
}
