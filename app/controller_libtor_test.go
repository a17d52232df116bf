//go:build libtor

package app

import (
	"context"
	"os"
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
	b, err := c.SaveBookmark(Bookmark{
		Address:       locked.Address,
		Port:          locked.Port,
		Username:      "uma",
		ClientAuthKey: locked.ClientAuthKey,
	})
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

	// Host a room (the embedded Tor runs once per process, so here): the
	// host joins it through its own onion service with client authorization.
	if err := c.StartRoom(RoomConfig{Name: "Hosted", ClientAuth: true}); err != nil {
		t.Fatal(err)
	}
	var phases []RoomPhase
	st = waitFor(t, c, "joined the hosted room", func(st State) bool {
		if st.Room.Phase == RoomFailed {
			t.Fatalf("room failed: %v", st.Room.Err)
		}
		if n := len(phases); n == 0 || phases[n-1] != st.Room.Phase {
			phases = append(phases, st.Room.Phase)
		}
		return st.Room.Phase == RoomReady && st.Phase == PhaseConnected && st.Bookmark != nil &&
			st.Bookmark.Address == st.Room.Onion && st.Root != nil
	})
	t.Logf("room phases %v; root channel %q", phases, st.Root.Name)
	if st.Root.Name != "Hosted" {
		t.Errorf("root channel %q, want the room's name", st.Root.Name)
	}
	if got := st.Room.Guests; len(got) != 1 || got[0] != "host" {
		t.Errorf("guests %v, want [host]", got)
	}
	if _, err := c.AddGuest("guest1"); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeGuest("guest1"); err != nil {
		t.Fatal(err)
	}
	room := c.hostedRoom()
	dir := room.Dir()
	if err := c.StopRoom(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("amnesic room directory %s remains: %v", dir, err)
	}
}
