//go:build libtor

package app

import (
	"context"
	"testing"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/libtor"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// TestControllerEmbeddedTor starts the embedded Tor (once per process) on
// a private Tor network, follows its bootstrap in State.Tor, applies a
// bookmark's onion client authorization key and connects to a murmur behind
// an onion service that requires it.
func TestControllerEmbeddedTor(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	network := tornet.StartT(t, tornet.Options{})
	locked, err := network.AddOnionService(context.Background(), srv.Addr, 64738, true)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestController(t, ControllerConfig{
		TorMode:         "embedded",
		TorCreator:      libtor.Creator(),
		Torrc:           network.ClientTorrc(),
		AllowTestingTor: true,
		Amnesic:         true,
	})
	in := Bookmark{Address: locked.Address, Port: locked.Port, Username: "uma"}
	if err := in.SetClientAuthKey(locked.ClientAuthKey); err != nil {
		t.Fatal(err)
	}
	b, err := c.SaveBookmark(in)
	if err != nil {
		t.Fatal(err)
	}
	var sawStarting, sawProgress bool
	c.Connect(b.ID)
	st := waitFor(t, c, "connected through the embedded Tor", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("connect failed: %+v", st.Problem)
		}
		sawStarting = sawStarting || st.Phase == PhaseStartingTor
		sawProgress = sawProgress || (st.Phase == PhaseStartingTor && st.Tor.Progress > 0 && st.Tor.Progress < 100)
		return st.Phase == PhaseConnected && st.Root != nil
	})
	if !sawStarting {
		t.Errorf("never saw PhaseStartingTor")
	}
	if !st.Tor.Ready || st.Tor.Progress != 100 || !st.Tor.Protected || st.Tor.Mode != "embedded" {
		t.Errorf("Tor status when connected: %+v", st.Tor)
	}
	t.Logf("saw bootstrap progress between 0 and 100: %v", sawProgress)

	// A second connection reuses the running Tor.
	c.Disconnect()
	connect(t, c, b)
}
