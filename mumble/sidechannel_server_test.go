package mumble_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// eventsUntil collects s's events until the text message marker arrives.
func eventsUntil(t *testing.T, s *mumble.Subscription, marker string) []mumble.Event {
	t.Helper()
	var evs []mumble.Event
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, open := <-s.C:
			if !open {
				t.Fatalf("subscription ended waiting for %q", marker)
			}
			if tm, ok := ev.(*mumble.TextMessageEvent); ok && tm.Message == marker {
				return evs
			}
			evs = append(evs, ev)
		case <-timeout:
			t.Fatalf("no marker %q within 15 s", marker)
		}
	}
}

// TestServerSideChannels records what real servers relay of the side
// channels encrypted rooms use: plugin data goes only to the listed
// sessions on 1.5 and nowhere on 1.3.4; a short avatar goes inline to
// every user, with no other field, and to users who connect later.
func TestServerSideChannels(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		srv := murmurtest.Start(t, murmurtest.Options{Version: v})
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		alice := connect(t, srv, "alice", nil)
		bob := connect(t, srv, "bob", nil)
		carol := connect(t, srv, "carol", nil) // the outsider
		bobEv, carolEv := bob.Subscribe(), carol.Subscribe()
		defer bobEv.Close()
		defer carolEv.Close()

		beacon := []byte("TUMBLE-E2E\x01")
		if err := alice.SetTexture(ctx, beacon); err != nil {
			t.Fatal(err)
		}
		blob := bytes.Repeat([]byte{0x5A}, mumble.MaxPluginData)
		if err := alice.SendPluginData(ctx, mumble.PluginData{Receivers: []uint32{bob.Session()}, DataID: "tumble-e2e", Data: blob}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*mumble.Client{bob, carol} {
			if err := alice.SendText(ctx, mumble.TextMessage{Users: []uint32{c.Session()}, Message: "marker"}); err != nil {
				t.Fatal(err)
			}
		}
		check := func(who string, evs []mumble.Event, wantPlugin bool) {
			var gotBeacon, gotPlugin bool
			for _, ev := range evs {
				switch e := ev.(type) {
				case *mumble.PluginDataEvent:
					gotPlugin = e.Sender == alice.Session() && e.DataID == "tumble-e2e" && bytes.Equal(e.Data, blob)
					if !gotPlugin {
						t.Errorf("%s: plugin data %+v", who, e.PluginData)
					}
				case *mumble.UserChangedEvent:
					if e.Change != mumble.UserChangedTexture || !bytes.Equal(e.User.Texture, beacon) {
						t.Errorf("%s: the beacon changed %v, texture %q", who, e.Change, e.User.Texture)
					}
					gotBeacon = true
				}
			}
			if !gotBeacon {
				t.Errorf("%s: beacon not relayed inline", who)
			}
			if gotPlugin != wantPlugin {
				t.Errorf("%s: plugin data relayed = %v, want %v", who, gotPlugin, wantPlugin)
			}
			t.Logf("%s on %v: beacon relayed; plugin data relayed = %v", who, v, gotPlugin)
		}
		check("bob", eventsUntil(t, bobEv, "marker"), v != murmurtest.V13)
		check("carol", eventsUntil(t, carolEv, "marker"), false)

		late := connect(t, srv, "dave", nil)
		if u, _ := late.User(alice.Session()); !bytes.Equal(u.Texture, beacon) {
			t.Errorf("a later user got texture %q hash %x", u.Texture, u.TextureHash)
		}
		if err := alice.SetTexture(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})
}
