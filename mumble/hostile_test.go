package mumble

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// flood writes msg(1) .. msg(n) and then a TextMessage "marker" to the
// peer in large chunks, stopping when the client hangs up.
func flood(p *fakePeer, n int, msg func(i int) proto.Message) {
	var buf []byte
	flush := func() bool {
		p.wmu.Lock()
		_, err := p.conn.Write(buf)
		p.wmu.Unlock()
		buf = buf[:0]
		return err == nil
	}
	for i := 1; i <= n+1; i++ {
		m := proto.Message(&mumbleproto.TextMessage{Actor: proto.Uint32(1), Message: proto.String("marker")})
		if i <= n {
			m = msg(i)
		}
		buf = appendMsg(buf, m)
		if len(buf) >= 1<<20 && !flush() {
			return
		}
	}
	flush()
}

func appendMsg(dst []byte, m proto.Message) []byte {
	out, err := AppendMessage(dst, m)
	if err != nil {
		panic(err)
	}
	return out
}

// waitMarker waits until the client has handled a TextMessage "marker" the
// peer sends after a flood, or has disconnected.
func addMarkerWaiter(c *Client) *waiter {
	return c.addWaiter(func(v any) (bool, error) {
		ev, ok := v.(*TextMessageEvent)
		return ok && ev.Message == "marker", nil
	})
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestHostileChannelsAndToggles: a server announces 20,000 channels, then
// toggles a user's mute 200,000 times while a subscriber does not read. The
// heap stays under 48 MiB (the events that wait are bounded by
// Limits.MaxQueuedEvents, 32768: about 12 MiB), and the server is
// disconnected for sending too much. Before the bound, the queue grew
// without limit (about 75 MiB of events here, more with avatars).
func TestHostileChannelsAndToggles(t *testing.T) {
	const channels, toggles = 20000, 200000
	const bound = 48 << 20
	base := heapInUse()
	o := defaultSync(Version{1, 5, 0})
	for i := uint32(3); i < channels; i++ {
		o.channels = append(o.channels, &mumbleproto.ChannelState{
			ChannelId: proto.Uint32(i), Parent: proto.Uint32(i % 3), Name: proto.String("c"), Position: proto.Int32(0)})
	}
	s := newFakeServer(t)
	flooded := make(chan struct{})
	c, _ := dialFake(t, s, nil, o, func(p *fakePeer) {
		<-flooded
		flood(p, toggles, func(i int) proto.Message {
			return &mumbleproto.UserState{Session: proto.Uint32(1), Mute: proto.Bool(i%2 == 1)}
		})
	})
	if n := len(c.Channels()); n != channels {
		t.Fatalf("%d channels after sync, want %d", n, channels)
	}
	sub := c.Subscribe() // never read until the end
	defer sub.Close()
	w := addMarkerWaiter(c)
	close(flooded)
	err := c.wait(context.Background(), w)
	now := heapInUse()
	if used := now - min(base, now); used > bound {
		t.Errorf("heap grew by %d MiB, want under %d MiB", used>>20, bound>>20)
	} else {
		t.Logf("heap grew by %.1f MiB", float64(used)/(1<<20))
	}
	if !errors.Is(err, ErrServerTooMuch) || !strings.Contains(err.Error(), "server sent too much") {
		t.Errorf("flood ended with %v, want a disconnect for sending too much", err)
	}
	// The subscriber still gets the queued events and then the reason.
	var last Event
	for ev := range sub.C {
		last = ev
	}
	if d, ok := last.(*DisconnectedEvent); !ok || !errors.Is(d.Err, ErrServerTooMuch) {
		t.Errorf("last event %#v, want a DisconnectedEvent for sending too much", last)
	}
}

// TestHostileReadingSubscriberKeepsUp: the same flood with a subscriber
// that reads is fine: no disconnect, every toggle delivered.
func TestHostileReadingSubscriberKeepsUp(t *testing.T) {
	const toggles = 50000
	s := newFakeServer(t)
	flooded := make(chan struct{})
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		<-flooded
		flood(p, toggles, func(i int) proto.Message {
			return &mumbleproto.UserState{Session: proto.Uint32(1), Mute: proto.Bool(i%2 == 1)}
		})
	})
	sub := c.Subscribe()
	defer sub.Close()
	close(flooded)
	n := 0
	for n < toggles {
		switch ev := (<-sub.C).(type) {
		case *UserChangedEvent:
			n++
		case *DisconnectedEvent:
			t.Fatalf("disconnected after %d toggles: %v", n, ev.Err)
		}
	}
}

// TestHostileDeepChain: a server sends a chain of 3,000,000 nested
// channels. In parent-first order the client disconnects cleanly at
// Limits.MaxDepth (each message costs at most MaxDepth steps, not the
// chain's depth); in child-first order (which canReparent made cheap to
// build before) the channels with unknown parents are ignored, as the
// official client does.
func TestHostileDeepChain(t *testing.T) {
	const depth = 3000000
	for _, reverse := range []bool{false, true} {
		name := map[bool]string{false: "ParentFirst", true: "ChildFirst"}[reverse]
		t.Run(name, func(t *testing.T) {
			s := newFakeServer(t)
			flooded := make(chan struct{})
			c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
				<-flooded
				flood(p, depth, func(i int) proto.Message {
					// IDs 3 .. depth+2, each the child of the one before
					// (channel 2 exists).
					id := uint32(2 + i)
					if reverse {
						id = uint32(depth + 3 - i)
					}
					return &mumbleproto.ChannelState{ChannelId: proto.Uint32(id),
						Parent: proto.Uint32(id - 1), Name: proto.String("d"), Position: proto.Int32(0)}
				})
			})
			w := addMarkerWaiter(c)
			close(flooded)
			err := c.wait(context.Background(), w)
			if !reverse {
				var le *LimitError
				if !errors.As(err, &le) || le.What != "levels of channels" || le.Limit != DefaultMaxDepth {
					t.Fatalf("chain ended with %v, want a disconnect at %d levels", err, DefaultMaxDepth)
				}
				return
			}
			if err != nil {
				t.Fatalf("child-first chain: %v", err)
			}
			// Only channel 3, whose parent 2 exists, was taken.
			if n := len(c.Channels()); n != 4 {
				t.Errorf("%d channels, want 4", n)
			}
		})
	}
}

// TestHostileLimits: each limit, set low, disconnects with a clear error
// naming what went over it.
func TestHostileLimits(t *testing.T) {
	big := strings.Repeat("x", 100)
	tests := []struct {
		name string
		lim  Limits
		msgs []proto.Message
		want string
	}{
		{"channels", Limits{MaxChannels: 4}, []proto.Message{
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(3), Parent: proto.Uint32(0), Name: proto.String("a")},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(4), Parent: proto.Uint32(0), Name: proto.String("b")},
		}, "more than 4 channels"},
		{"users", Limits{MaxUsers: 3}, []proto.Message{
			&mumbleproto.UserState{Session: proto.Uint32(3), Name: proto.String("bob")},
			&mumbleproto.UserState{Session: proto.Uint32(4), Name: proto.String("eve")},
		}, "more than 3 users"},
		{"depth", Limits{MaxDepth: 3}, []proto.Message{
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(3), Parent: proto.Uint32(2), Name: proto.String("a")},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(4), Parent: proto.Uint32(3), Name: proto.String("b")},
		}, "more than 3 levels of channels"},
		{"reparent", Limits{MaxDepth: 3}, []proto.Message{
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(3), Parent: proto.Uint32(0), Name: proto.String("a")},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(4), Parent: proto.Uint32(3), Name: proto.String("b")},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(3), Parent: proto.Uint32(2)},
		}, "more than 3 levels of channels"},
		{"links", Limits{MaxLinks: 1}, []proto.Message{
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(0), Links: []uint32{1, 2}},
		}, "more than 1 links of a channel"},
		{"links added", Limits{MaxLinks: 1}, []proto.Message{
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(0), LinksAdd: []uint32{1}},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(2), LinksAdd: []uint32{1}},
		}, "more than 1 links of a channel"},
		{"avatar", Limits{MaxTextureSize: 99}, []proto.Message{
			&mumbleproto.UserState{Session: proto.Uint32(1), Texture: []byte(big)},
		}, "more than 99 bytes in an avatar"},
		{"comment", Limits{MaxTextSize: 99}, []proto.Message{
			&mumbleproto.UserState{Session: proto.Uint32(1), Comment: proto.String(big)},
		}, "more than 99 bytes in a comment"},
		{"name", Limits{MaxTextSize: 99}, []proto.Message{
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Name: proto.String(big)},
		}, "more than 99 bytes in a channel name"},
		{"stored", Limits{MaxStoredBytes: 150}, []proto.Message{
			&mumbleproto.UserState{Session: proto.Uint32(1), Texture: []byte(big)},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Description: proto.String(big)},
		}, "more than 150 bytes of avatars, comments and descriptions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t)
			dialed := make(chan struct{})
			c, _ := dialFake(t, s, &Config{Username: "me", Limits: tt.lim}, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
				<-dialed
				p.send(tt.msgs...)
			})
			close(dialed)
			<-c.Done()
			err := c.Err()
			if !errors.Is(err, ErrServerTooMuch) || !strings.Contains(err.Error(), "mumble: server sent too much: "+tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestHostileLimitDuringSync: going over a limit during the initial state
// transfer fails Dial with the clear error.
func TestHostileLimitDuringSync(t *testing.T) {
	s := newFakeServer(t)
	go func() {
		if p := s.peer(); p != nil {
			p.login(defaultSync(Version{1, 5, 0}))
		}
	}()
	_, err := Dial(context.Background(), "fake.example:64738",
		&Config{Username: "me", DialContext: s.Dial, RootCAs: s.roots, Limits: Limits{MaxChannels: 2}, ConnectTimeout: 20 * time.Second})
	if !errors.Is(err, ErrServerTooMuch) || !strings.Contains(err.Error(), "more than 2 channels") {
		t.Errorf("Dial: %v, want more than 2 channels", err)
	}
}

// TestVoiceQueueDropsOldest: a voice subscriber that does not read keeps
// only the newest DefaultMaxQueuedVoice packets.
func TestVoiceQueueDropsOldest(t *testing.T) {
	q := newQueue[int](3, true)
	defer q.stop()
	// The pump holds the first item while waiting to deliver it.
	for i := range 10 {
		q.push(i)
	}
	q.finish()
	var got []int
	for v := range q.out {
		got = append(got, v)
	}
	if len(got) > 4 || len(got) < 2 || got[len(got)-1] != 9 || got[len(got)-2] != 8 {
		t.Errorf("delivered %v, want at most 4 ending with 8, 9", got)
	}
}

// TestChannelTreeOrder: ChannelTree lists the root, then each channel
// followed by its children in display order, with depths, and leaves out
// channels not below the root.
func TestChannelTreeOrder(t *testing.T) {
	chs := []Channel{
		{ID: 4, Parent: 1, Name: "b"}, {ID: 0, Name: "Root"}, {ID: 1, Parent: 0, Name: "Lab", Position: 1},
		{ID: 2, Parent: 0, Name: "Bar"}, {ID: 3, Parent: 1, Name: "a"}, {ID: 9, Parent: 8, Name: "orphan"},
	}
	var got []string
	for _, tc := range ChannelTree(chs) {
		got = append(got, strings.Repeat(" ", tc.Depth)+tc.Name)
	}
	if want := []string{"Root", " Bar", " Lab", "  a", "  b"}; !slices.Equal(got, want) {
		t.Errorf("ChannelTree = %q, want %q", got, want)
	}
	// A chain at the depth limit costs no recursion.
	deep := []Channel{{ID: 0}}
	for i := uint32(1); i <= 100000; i++ {
		deep = append(deep, Channel{ID: i, Parent: i - 1})
	}
	if tree := ChannelTree(deep); len(tree) != len(deep) || tree[len(tree)-1].Depth != 100000 {
		t.Errorf("deep chain: %d entries", len(tree))
	}
}
