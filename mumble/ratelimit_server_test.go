package mumble_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// TestServerRateLimit sends eight text messages and six self-mute
// changes back to back. Murmur drops what goes over its per-user limit
// (a burst of 5, then 1 a second) without a word; paced by the Client,
// every message arrives, in order, and every change is confirmed.
func TestServerRateLimit(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		srv := murmurtest.Start(t, murmurtest.Options{Version: v})
		alice := connect(t, srv, "alice", nil)
		bob := connect(t, srv, "bob", nil)
		sub := bob.Subscribe()
		defer sub.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()

		const n, changes = 8, 6
		start := time.Now()
		for i := range n {
			msg := mumble.TextMessage{Channels: []uint32{0}, Message: fmt.Sprintf("message %d", i)}
			if err := alice.SendText(ctx, msg); err != nil {
				t.Fatal(err)
			}
		}
		sent := time.Since(start)
		for i := 0; i < n; {
			select {
			case ev := <-sub.C:
				if tm, ok := ev.(*mumble.TextMessageEvent); ok {
					if want := fmt.Sprintf("message %d", i); tm.Message != want {
						t.Fatalf("bob got %q, want %q", tm.Message, want)
					}
					i++
				}
			case <-ctx.Done():
				t.Fatalf("bob got %d of %d messages", i, n)
			}
		}
		t.Logf("%d text messages sent in %v, all received", n, sent.Round(10*time.Millisecond))

		start = time.Now()
		for i := range changes {
			if err := alice.SetSelfMute(ctx, i%2 == 0); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		t.Logf("%d self-mute changes confirmed in %v", changes, time.Since(start).Round(10*time.Millisecond))
		if alice.Self().SelfMute {
			t.Error("alice ends muted; the last change unmuted her")
		}
	})
}
