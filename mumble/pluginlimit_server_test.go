package mumble_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// TestServerPluginDataRateLimit sends 30 plugin data messages back to
// back on Mumble 1.5 (1.3.4 relays none): unpaced, the server drops what
// goes over its plugin message limit (logged: the measured burst); paced
// by the Client, every one arrives, in order.
func TestServerPluginDataRateLimit(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	bob := connect(t, srv, "bob", nil)
	sub := bob.Subscribe()
	defer sub.Close()
	const n = 30
	// send sends n messages from a new client and returns how many bob
	// got: a text marker after them tells when all that will come came.
	send := func(name string, mod func(*mumble.Config)) (got int, took time.Duration) {
		c := connect(t, srv, name, mod)
		defer c.Close()
		start := time.Now()
		for i := range n {
			if err := c.SendPluginData(ctx, mumble.PluginData{Receivers: []uint32{bob.Session()}, DataID: "x", Data: fmt.Appendf(nil, "%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		took = time.Since(start)
		if err := c.SendText(ctx, mumble.TextMessage{Users: []uint32{bob.Session()}, Message: "marker " + name}); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case ev := <-sub.C:
				switch e := ev.(type) {
				case *mumble.PluginDataEvent:
					if e.Sender != c.Session() {
						continue
					}
					if want := fmt.Sprint(got); string(e.Data) != want && mod == nil {
						t.Errorf("paced: got %q, want %q", e.Data, want)
					}
					got++
				case *mumble.TextMessageEvent:
					if e.Message == "marker "+name {
						return got, took
					}
				}
			case <-ctx.Done():
				t.Fatalf("%s: no marker; %d plugin messages", name, got)
			}
		}
	}
	got, took := send("unpaced", func(c *mumble.Config) { c.RateLimit.PluginOff = true })
	t.Logf("unpaced: %d of %d plugin messages relayed (sent in %v)", got, n, took.Round(time.Millisecond))
	got, took = send("paced", nil)
	t.Logf("paced: %d of %d plugin messages relayed, sent in %v", got, n, took.Round(10*time.Millisecond))
	if got != n {
		t.Errorf("paced: %d of %d plugin messages relayed", got, n)
	}
}
