package mumble

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// TestRequestChannelDescriptions checks on the wire what the client asks
// for: one RequestBlob naming only the channels whose description is known
// by its hash alone, nothing when nothing is missing, and how answers,
// removals and silence end the wait.
func TestRequestChannelDescriptions(t *testing.T) {
	long2 := strings.Repeat("two ", 40)
	long3 := "<p>" + strings.Repeat("three ", 30) + "</p>"
	o := defaultSync(Version{1, 5, 0})
	o.channels[1].Description = proto.String("short") // channel 1: inline
	o.channels[2].DescriptionHash = textHash(long2)   // channel 2: hash only
	for id, hash := range map[uint32][]byte{3: textHash(long3), 4: textHash("gone"), 5: textHash("cleared"), 6: textHash("unanswered")} {
		o.channels = append(o.channels, &mumbleproto.ChannelState{ChannelId: proto.Uint32(id), Parent: proto.Uint32(0),
			Name: proto.String("C" + string(rune('0'+id))), DescriptionHash: hash})
	}
	asked := make(chan []uint32, 10)
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, o, func(p *fakePeer) {
		expectBlob := func() []uint32 {
			var rb mumbleproto.RequestBlob
			if p.expect(MessageRequestBlob, &rb) == nil {
				return nil
			}
			if len(rb.SessionTexture) != 0 || len(rb.SessionComment) != 0 {
				t.Errorf("RequestBlob asks for user blobs: %v", &rb)
			}
			asked <- rb.ChannelDescription
			return rb.ChannelDescription
		}
		// 1. Channels 2 and 3, answered in reverse order.
		if got := expectBlob(); !slices.Equal(got, []uint32{2, 3}) {
			return
		}
		p.send(&mumbleproto.ChannelState{ChannelId: proto.Uint32(3), Description: proto.String(long3)},
			&mumbleproto.ChannelState{ChannelId: proto.Uint32(2), Description: proto.String(long2)})
		// 2. Channel 4, removed instead of answered.
		expectBlob()
		p.send(&mumbleproto.ChannelRemove{ChannelId: proto.Uint32(4)})
		// 3. Channel 5, whose description is removed meanwhile.
		expectBlob()
		p.send(&mumbleproto.ChannelState{ChannelId: proto.Uint32(5), Description: proto.String("")})
		// 4. Channel 6, never answered.
		expectBlob()
		p.next() // until the client closes
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if ch, _ := c.Channel(1); ch.Description != "short" || ch.NeedsDescription() {
		t.Errorf("inline description: %+v", ch)
	}
	if ch, _ := c.Channel(2); ch.Description != "" || !ch.NeedsDescription() {
		t.Errorf("hash-only description: %+v", ch)
	}
	// Known (1), none (0) and duplicate IDs are not asked for.
	if err := c.RequestChannelDescriptions(ctx, 0, 1, 2, 3, 2); err != nil {
		t.Fatal(err)
	}
	if got := <-asked; !slices.Equal(got, []uint32{2, 3}) {
		t.Fatalf("asked for %v, want [2 3]", got)
	}
	for id, want := range map[uint32]string{2: long2, 3: long3} {
		ch, _ := c.Channel(id)
		if ch.Description != want || !bytes.Equal(ch.DescriptionHash, textHash(want)) || ch.NeedsDescription() {
			t.Errorf("channel %d after the request: %+v", id, ch)
		}
	}
	// Nothing missing: nothing sent (the peer would see an unexpected
	// RequestBlob in step 2).
	if err := c.RequestChannelDescriptions(ctx, 1, 2, 3); err != nil {
		t.Errorf("request of known descriptions: %v", err)
	}
	if err := c.RequestChannelDescriptions(ctx); err != nil {
		t.Errorf("request of no channel: %v", err)
	}
	// An unknown channel: an error naming it, nothing sent.
	if err := c.RequestChannelDescriptions(ctx, 4, 99); err == nil || !strings.Contains(err.Error(), "no channel with ID 99") {
		t.Errorf("unknown channel: %v", err)
	}

	if err := c.RequestChannelDescriptions(ctx, 4); err == nil || !strings.Contains(err.Error(), "channel 4 was removed") {
		t.Errorf("removed channel: %v", err)
	}
	<-asked
	if err := c.RequestChannelDescriptions(ctx, 5); err != nil {
		t.Errorf("description removed while waiting: %v", err)
	}
	<-asked
	if ch, _ := c.Channel(5); ch.NeedsDescription() || ch.Description != "" {
		t.Errorf("channel 5 after its description was removed: %+v", ch)
	}

	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if err := c.RequestChannelDescriptions(short, 6); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unanswered request: %v", err)
	}
	if got := <-asked; !slices.Equal(got, []uint32{6}) {
		t.Errorf("asked for %v, want [6]", got)
	}
	c.mu.Lock()
	n := len(c.waiters)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

// TestSetChannelDescription checks the ChannelState sent, a long
// description echoed as a hash (as servers do), refusals and the local
// length check.
func TestSetChannelDescription(t *testing.T) {
	// Markup: within the fake server's limit for HTML (100), beyond the
	// one for plain text (50).
	long := "<p>" + strings.Repeat("y", 90) + "</p>"
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		var cs mumbleproto.ChannelState
		p.expect(MessageChannelState, &cs)
		if cs.GetChannelId() != 1 || cs.Description == nil || cs.GetDescription() != "<b>hi</b>" || cs.Name != nil || cs.Parent != nil {
			t.Errorf("set request %v", &cs)
		}
		p.send(&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Description: proto.String("<b>hi</b>")})
		p.expect(MessageChannelState, &cs)
		if cs.GetDescription() != long {
			t.Errorf("long set request %v", &cs)
		}
		p.send(&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), DescriptionHash: textHash(long)})
		p.expect(MessageChannelState, &cs)
		p.send(&mumbleproto.PermissionDenied{Type: mumbleproto.PermissionDenied_Permission.Enum(),
			Permission: proto.Uint32(uint32(PermissionWrite)), ChannelId: proto.Uint32(2), Session: proto.Uint32(2)})
		p.next() // until the client closes
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.SetChannelDescription(ctx, 1, "<b>hi</b>"); err != nil {
		t.Fatal(err)
	}
	if ch, _ := c.Channel(1); ch.Description != "<b>hi</b>" {
		t.Errorf("after setting: %+v", ch)
	}
	// The same again: nothing sent.
	if err := c.SetChannelDescription(ctx, 1, "<b>hi</b>"); err != nil {
		t.Errorf("setting the current description: %v", err)
	}
	if err := c.SetChannelDescription(ctx, 1, long); err != nil {
		t.Fatal(err)
	}
	if ch, _ := c.Channel(1); !ch.NeedsDescription() || !bytes.Equal(ch.DescriptionHash, textHash(long)) {
		t.Errorf("after setting a long description: %+v", ch)
	}
	var pd *PermissionDeniedError
	if err := c.SetChannelDescription(ctx, 2, "x"); !errors.As(err, &pd) || pd.Permission != PermissionWrite {
		t.Errorf("denied: %v", err)
	}
	var tooLong *TextTooLongError
	if err := c.SetChannelDescription(ctx, 2, strings.Repeat("z", 51)); !errors.As(err, &tooLong) || tooLong.Max != 50 {
		t.Errorf("too long: %v", err)
	}
	if err := c.SetChannelDescription(ctx, 42, "x"); err == nil || !strings.Contains(err.Error(), "no channel with ID 42") {
		t.Errorf("unknown channel: %v", err)
	}
}
