package app

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// TestControllerThroughTorSOCKS connects through a real Tor (the client tor
// of a private Tor network on 127.0.0.1, in socks mode) to a murmur
// published as an onion service.
func TestControllerThroughTorSOCKS(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Channels: []string{"Hidden"}})
	network := tornet.StartT(t, tornet.Options{})
	ctx := context.Background()
	open, err := network.AddOnionService(ctx, srv.Addr, 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	locked, err := network.AddOnionService(ctx, srv.Addr, 64738, true)
	if err != nil {
		t.Fatal(err)
	}

	c := newTestController(t, ControllerConfig{TorMode: "socks=" + network.SOCKSAddr()})
	b, err := c.SaveBookmark(Bookmark{Address: open.Address, Port: open.Port, Username: "tess"})
	if err != nil {
		t.Fatal(err)
	}
	st := connect(t, c, b)
	if !st.Tor.Protected || st.Tor.Mode != "socks" || !st.Tor.Ready || st.Tor.Progress != 100 {
		t.Errorf("Tor status while connected through Tor: %+v", st.Tor)
	}
	if channelByName(st.Root, "Hidden") == nil {
		t.Errorf("channel tree through Tor lacks Hidden: %+v", st.Root)
	}
	st = waitFor(t, c, "pinned", func(st State) bool { return !st.Bookmark.PinnedFingerprint.IsZero() })
	if st.Bookmark.PinnedFingerprint.String() != srv.Fingerprint() {
		t.Errorf("pinned %s through Tor, server's is %s", st.Bookmark.PinnedFingerprint, srv.Fingerprint())
	}
	c.Disconnect()

	// The service with client authorization refuses a bookmark without a
	// key; the SOCKS mode cannot hand Tor a key (no control connection).
	nb, err := c.SaveBookmark(Bookmark{Address: locked.Address, Port: locked.Port, Username: "tess"})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(nb.ID)
	st = waitFor(t, c, "refused", isPhase(PhaseDisconnected))
	if st.Problem.Kind != ProblemClientAuthRequired {
		t.Fatalf("Problem = %+v; want client authorization required", st.Problem)
	}

	// Hosting in socks mode: the server runs on the listen address for the
	// Tor gateway, whose lines name it; nothing is joined.
	if err := c.StartRoom(RoomConfig{Name: "Gateway room", Listen: "127.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, "room waiting for the gateway", func(st State) bool {
		if st.Hosting.Phase == RoomFailed {
			t.Fatalf("room failed: %v", st.Hosting.Err)
		}
		return st.Hosting.Phase == RoomOnGateway
	})
	gw := st.Hosting.Gateway
	if gw == nil || !strings.HasPrefix(gw.Addr, "127.0.0.2:") || gw.Torrc()[1] != "HiddenServicePort 64738 "+gw.Addr {
		t.Fatalf("gateway setup %+v", gw)
	}
	conn, err := net.Dial("tcp", gw.Addr)
	if err != nil {
		t.Fatalf("the room's server does not listen on %s: %v", gw.Addr, err)
	}
	conn.Close()
	if err := c.StartRoom(RoomConfig{}); !errors.Is(err, ErrRoomRunning) {
		t.Errorf("second StartRoom: %v", err)
	}
	if err := c.StopRoom(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", gw.Addr); err == nil {
		conn.Close()
		t.Errorf("the room's server still listens after StopRoom")
	}
}
