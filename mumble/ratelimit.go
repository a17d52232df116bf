package mumble

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// Murmur's default message rate limit (murmur.ini messagelimit and
// messageburst): per user, a leaky bucket of 5 tokens draining 1 per
// second. A limited message is dropped without an answer.
const (
	DefaultMessageLimit = 1
	DefaultMessageBurst = 5
)

// Mumble 1.5's default plugin message rate limit (murmur.ini
// pluginmessagelimit and pluginmessageburst), a bucket of its own for
// PluginDataTransmission, measured in TestServerPluginDataRateLimit: 15
// sent back to back are relayed, the rest dropped without an answer.
const (
	DefaultPluginMessageLimit = 4
	DefaultPluginMessageBurst = 15
)

// RateLimit describes the server's per-user message rate limits, which
// the Client keeps to so that no message is silently dropped: a message
// over the limit waits for its turn instead.
type RateLimit struct {
	// PerSecond is murmur.ini's messagelimit. If zero,
	// DefaultMessageLimit.
	PerSecond int
	// Burst is murmur.ini's messageburst. If zero, DefaultMessageBurst.
	Burst int
	// Off sends at once, whatever the server may drop.
	Off bool
	// PluginPerSecond and PluginBurst are the plugin message limit
	// (pluginmessagelimit, pluginmessageburst); if zero,
	// DefaultPluginMessageLimit and DefaultPluginMessageBurst.
	PluginPerSecond, PluginBurst int
	// PluginOff sends plugin data at once.
	PluginOff bool
}

// pluginRate returns the plugin message limit as a RateLimit for
// newMessageBucket.
func (rl RateLimit) pluginRate() RateLimit {
	out := RateLimit{PerSecond: rl.PluginPerSecond, Burst: rl.PluginBurst, Off: rl.PluginOff}
	if out.PerSecond <= 0 {
		out.PerSecond = DefaultPluginMessageLimit
	}
	if out.Burst <= 0 {
		out.Burst = DefaultPluginMessageBurst
	}
	return out
}

// rateLimited reports whether Murmur counts m against the sender's rate
// limit (src/murmur/Messages.cpp, RATELIMIT): Version, text messages, ACL
// edits, channel edits (not creations) and UserState about oneself.
func rateLimited(m proto.Message, self uint32) bool {
	switch m := m.(type) {
	case *mumbleproto.Version, *mumbleproto.TextMessage, *mumbleproto.ACL:
		return true
	case *mumbleproto.ChannelState:
		return m.ChannelId != nil
	case *mumbleproto.UserState:
		return m.Session == nil || m.GetSession() == self
	}
	return false
}

// messageBucket mirrors Murmur's LeakyBucket (src/murmur/ServerUser.cpp)
// for the messages the Client sends: whole tokens drain at perSecond, and
// the timer restarts only when at least one drained, exactly as the
// server counts. It keeps one token in hand (a bucket of burst-1), because
// the network may deliver two messages closer together than they were
// sent.
type messageBucket struct {
	turn      chan struct{} // one sender at a time, in arrival order
	perSecond int64
	max       int64
	tokens    int64
	start     time.Time // the drain timer
	now       func() time.Time
}

func newMessageBucket(rl RateLimit, now func() time.Time) *messageBucket {
	if rl.Off {
		return nil
	}
	per, burst := int64(rl.PerSecond), int64(rl.Burst)
	if per <= 0 {
		per = DefaultMessageLimit
	}
	if burst <= 0 {
		burst = DefaultMessageBurst
	}
	return &messageBucket{turn: make(chan struct{}, 1), perSecond: per, max: max(burst-1, 1), start: now(), now: now}
}

// do runs send when the bucket has room for one more message, keeping the
// order in which callers arrived; ctx and done bound the wait.
func (b *messageBucket) do(ctx context.Context, done <-chan struct{}, send func() error) error {
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return send() // the send reports why the Client is done
	}
	defer func() { <-b.turn }()
	for {
		wait := b.take()
		if wait == 0 {
			return send()
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-done:
			t.Stop()
			return send()
		}
	}
}

// take drains the bucket as the server would and, if a message fits, counts
// it and returns 0; otherwise it returns how long until one fits.
func (b *messageBucket) take() time.Duration {
	now := b.now()
	elapsed := now.Sub(b.start).Milliseconds()
	if drain := elapsed * b.perSecond / 1000; drain > 0 {
		b.start = now
		b.tokens = max(b.tokens-drain, 0)
	}
	if b.tokens+1 <= b.max {
		b.tokens++
		return 0
	}
	// Enough whole tokens must drain since b.start; one millisecond more
	// for the integer arithmetic.
	need := b.tokens + 1 - b.max
	ms := (need*1000+b.perSecond-1)/b.perSecond - now.Sub(b.start).Milliseconds() + 1
	return time.Duration(max(ms, 1)) * time.Millisecond
}
