//go:build libtor

package app

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// networkLostChildEnv marks the child process of TestControllerTorNetworkLost.
const networkLostChildEnv = "TUMBLE_APP_NETWORK_LOST_CHILD"

// TestControllerTorNetworkLost: connected to a murmur behind an onion
// service through the embedded Tor, the private Tor network goes away
// (its relays stop answering, as when the network is unplugged). The Tor
// bar says the network is lost, the connection's end is blamed on Tor and
// not on the server, and the reconnect waits for Tor showing why; when the
// network comes back, Tor is ready again and the connection returns. The
// controller runs in a child process: the embedded Tor starts once per
// process.
func TestControllerTorNetworkLost(t *testing.T) {
	if os.Getenv(networkLostChildEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("private Tor network tests skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tornet.RunChildTest(ctx, t, "TestControllerTorNetworkLostChild", networkLostChildEnv+"=1")
}

// TestControllerTorNetworkLostChild is TestControllerTorNetworkLost's
// child; it does nothing in an ordinary run.
func TestControllerTorNetworkLostChild(t *testing.T) {
	if os.Getenv(networkLostChildEnv) == "" {
		t.Skip("run by TestControllerTorNetworkLost")
	}
	srv := murmurtest.Start(t, murmurtest.Options{})
	network := tornet.StartT(t, tornet.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, err := network.AddOnionService(ctx, srv.Addr, 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	c := embeddedTorController(t, network.ClientTorrc())
	reconnectSettings(t, c, 10)
	b, err := c.SaveBookmark(Bookmark{Address: svc.Address, Port: svc.Port, Username: "nina"})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(b.ID)
	waitWithin(t, c, 3*time.Minute, "connected through the embedded Tor", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("connect failed: %+v", st.Problem)
		}
		return st.Phase == PhaseConnected && st.Root != nil
	})

	cut := time.Now()
	if err := network.Cut(); err != nil {
		t.Fatal(err)
	}
	restored := false
	defer func() {
		if !restored {
			network.Restore() // let Close end the tors cleanly
		}
	}()
	// Tor's status says the network is lost, before or at the loss.
	st := waitWithin(t, c, 4*time.Minute, "Tor reporting the network lost", func(st State) bool { return st.Tor.NetworkDown })
	t.Logf("FIGURE network lost shown %.1f s after the cut: %s (phase %v)", time.Since(cut).Seconds(), st.Tor.NetworkProblem, st.Phase)
	if !st.Tor.Ready || st.Tor.NetworkProblem == "" {
		t.Errorf("Tor status with the network lost: %+v", st.Tor)
	}
	// The connection ends, blamed on Tor; the reconnect waits for Tor.
	st = waitWithin(t, c, 4*time.Minute, "the loss explained", func(st State) bool {
		return st.Phase != PhaseConnected && strings.Contains(st.Problem.Message, "was lost because")
	})
	t.Logf("FIGURE connection lost %.1f s after the cut: %q", time.Since(cut).Seconds(), st.Problem.Message)
	if !strings.Contains(st.Problem.Message, "Tor lost the network, not because of the server") || strings.Contains(st.Problem.Message, "closed the connection") {
		t.Errorf("the loss is explained as %q; want it blamed on Tor", st.Problem.Message)
	}
	waitWithin(t, c, 2*time.Minute, "the reconnect waiting for Tor", func(st State) bool {
		return st.Phase == PhaseStartingTor && st.Tor.NetworkDown
	})

	restore := time.Now()
	if err := network.Restore(); err != nil {
		t.Fatal(err)
	}
	restored = true
	st = waitWithin(t, c, 4*time.Minute, "connected again", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("gave up: %+v", st.Problem)
		}
		return st.Phase == PhaseConnected && st.Root != nil
	})
	t.Logf("FIGURE connected again %.1f s after the network came back", time.Since(restore).Seconds())
	if !st.Tor.Ready || st.Tor.NetworkDown {
		t.Errorf("Tor status after the network came back: %+v", st.Tor)
	}
}
