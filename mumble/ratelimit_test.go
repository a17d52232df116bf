package mumble

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// TestMessageBucket follows Murmur's leaky bucket: a burst (one token kept
// in hand), then whole tokens draining at the configured rate.
func TestMessageBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	b := newMessageBucket(RateLimit{}, clock)
	for i := range DefaultMessageBurst - 1 {
		if w := b.take(); w != 0 {
			t.Fatalf("message %d of the burst waits %v", i, w)
		}
	}
	w := b.take()
	if w < time.Second || w > time.Second+10*time.Millisecond {
		t.Fatalf("after the burst: wait %v, want about 1 s", w)
	}
	now = now.Add(w)
	if w := b.take(); w != 0 {
		t.Fatalf("after waiting: %v more", w)
	}
	// 600 ms later nothing has drained (whole tokens only, as the server
	// counts); 400 ms more and one has.
	now = now.Add(600 * time.Millisecond)
	if w := b.take(); w < 400*time.Millisecond || w > 410*time.Millisecond {
		t.Errorf("600 ms after: wait %v, want about 400 ms", w)
	}
	now = now.Add(400 * time.Millisecond)
	if w := b.take(); w != 0 {
		t.Errorf("1 s after: wait %v", w)
	}
	// A long pause refills the whole burst.
	now = now.Add(time.Minute)
	for i := range DefaultMessageBurst - 1 {
		if w := b.take(); w != 0 {
			t.Fatalf("after a pause, message %d waits %v", i, w)
		}
	}

	// A faster server limit drains faster.
	fast := newMessageBucket(RateLimit{PerSecond: 4, Burst: 2}, clock)
	fast.take()
	if w := fast.take(); w < 250*time.Millisecond || w > 260*time.Millisecond {
		t.Errorf("4 per second, burst 2: wait %v, want about 250 ms", w)
	}
	if newMessageBucket(RateLimit{Off: true}, clock) != nil {
		t.Error("RateLimit.Off still paces")
	}
}

// TestMessageBucketWaits runs do for real: it waits, keeps order and
// gives up with ctx.
func TestMessageBucketWaits(t *testing.T) {
	b := newMessageBucket(RateLimit{PerSecond: 20, Burst: 2}, time.Now) // 1 in hand, 50 ms each
	done := make(chan struct{})
	var order []int
	start := time.Now()
	for i := range 4 {
		if err := b.do(context.Background(), done, func() error { order = append(order, i); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("4 messages at 20 per second with 1 in hand took %v, want at least 150 ms", d)
	}
	if len(order) != 4 || order[3] != 3 {
		t.Errorf("order %v", order)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	sent := false
	if err := b.do(ctx, done, func() error { sent = true; return nil }); err == nil || sent {
		t.Errorf("a full bucket with a 5 ms deadline: err %v, sent %v", err, sent)
	}
}

func TestRateLimited(t *testing.T) {
	const self = 7
	for _, c := range []struct {
		m    proto.Message
		want bool
	}{
		{&mumbleproto.TextMessage{}, true},
		{&mumbleproto.Version{}, true},
		{&mumbleproto.ACL{}, true},
		{&mumbleproto.UserState{Session: proto.Uint32(self)}, true},
		{&mumbleproto.UserState{}, true},
		{&mumbleproto.UserState{Session: proto.Uint32(8)}, false}, // moderating another user
		{&mumbleproto.ChannelState{ChannelId: proto.Uint32(3)}, true},
		{&mumbleproto.ChannelState{Parent: proto.Uint32(0)}, false}, // a new channel
		{&mumbleproto.Ping{}, false},
		{&mumbleproto.RequestBlob{}, false},
		{&mumbleproto.VoiceTarget{}, false},
	} {
		if got := rateLimited(c.m, self); got != c.want {
			t.Errorf("rateLimited(%T %v) = %v, want %v", c.m, c.m, got, c.want)
		}
	}
}
