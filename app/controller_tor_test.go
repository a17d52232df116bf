package app

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
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

// socksGate forwards a listening address to a SOCKS port and can stop and
// start again, as an external Tor that exits and is started again.
type socksGate struct {
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newSOCKSGate(t *testing.T, target string) *socksGate {
	t.Helper()
	g := &socksGate{target: target}
	if err := g.start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.stop(); g.wg.Wait() })
	return g
}

func (g *socksGate) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.ln, g.addr = ln, ln.Addr().String()
	g.mu.Unlock()
	g.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", g.target)
			if err != nil {
				in.Close()
				continue
			}
			g.mu.Lock()
			g.conns = append(g.conns, in, out)
			g.mu.Unlock()
			g.wg.Go(func() { io.Copy(out, in); out.Close() })
			g.wg.Go(func() { io.Copy(in, out); in.Close() })
		}
	})
	return nil
}

// stop closes the listener and every forwarded connection.
func (g *socksGate) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ln.Close()
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

// TestControllerExternalTorLost: through an external Tor (socks mode), the
// Tor going away while connected is blamed on that Tor, not on the server,
// in the Tor status and the problem; the reconnect waits, showing why, and
// when that Tor is back the connection returns. Beyond its SOCKS port
// answering, nothing of an external Tor can be known.
func TestControllerExternalTorLost(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	network := tornet.StartT(t, tornet.Options{})
	svc, err := network.AddOnionService(context.Background(), srv.Addr, 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	gate := newSOCKSGate(t, network.SOCKSAddr())
	c := newTestController(t, ControllerConfig{TorMode: "socks=" + gate.addr})
	reconnectSettings(t, c, 10)
	b, err := c.SaveBookmark(Bookmark{Address: svc.Address, Port: svc.Port, Username: "sam"})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c, b)

	gate.stop()
	st := waitFor(t, c, "the loss blamed on Tor", func(st State) bool {
		return st.Phase != PhaseConnected && strings.Contains(st.Problem.Message, "was lost because")
	})
	if !strings.Contains(st.Problem.Message, "the Tor Tumble uses stopped working, not because of the server") ||
		!strings.Contains(st.Problem.Message, gate.addr+" does not answer") {
		t.Errorf("the loss is explained as %q", st.Problem.Message)
	}
	st = waitFor(t, c, "the reconnect waiting for Tor", func(st State) bool {
		return st.Phase == PhaseStartingTor && st.Tor.NetworkDown
	})
	if !strings.Contains(st.Tor.NetworkProblem, "does not answer") {
		t.Errorf("Tor status while the external Tor is gone: %+v", st.Tor)
	}

	if err := gate.start(gate.addr); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, "connected again", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("gave up: %+v", st.Problem)
		}
		return st.Phase == PhaseConnected && st.Root != nil
	})
	if !st.Tor.Ready || st.Tor.NetworkDown {
		t.Errorf("Tor status once the external Tor is back: %+v", st.Tor)
	}
}
