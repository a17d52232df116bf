//go:build libtor

package app

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/libtor"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// embeddedTorController returns an amnesic controller whose embedded Tor
// uses the test network of torrc.
func embeddedTorController(t *testing.T, torrc []string) *Controller {
	t.Helper()
	return newTestController(t, ControllerConfig{
		TorMode:         "embedded",
		TorCreator:      libtor.Creator(),
		Torrc:           torrc,
		AllowTestingTor: true,
		Amnesic:         true,
	})
}

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
	c := embeddedTorController(t, network.ClientTorrc())
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

	// Host a room (the embedded Tor runs once per process, so here): the
	// host joins it through its own onion service with client authorization.
	if err := c.StartRoom(RoomConfig{Name: "Hosted", ClientAuth: true}); err != nil {
		t.Fatal(err)
	}
	var phases []RoomPhase
	st = waitFor(t, c, "joined the hosted room", func(st State) bool {
		if st.Hosting.Phase == RoomFailed {
			t.Fatalf("room failed: %v", st.Hosting.Err)
		}
		if n := len(phases); n == 0 || phases[n-1] != st.Hosting.Phase {
			phases = append(phases, st.Hosting.Phase)
		}
		return st.Hosting.Phase == RoomReady && st.Phase == PhaseConnected && st.Bookmark != nil &&
			st.Bookmark.Address == st.Hosting.Onion && st.Root != nil
	})
	t.Logf("room phases %v; root channel %q", phases, st.Root.Name)
	if st.Root.Name != "Hosted" {
		t.Errorf("root channel %q, want the room's name", st.Root.Name)
	}
	if got := st.Hosting.Guests; len(got) != 1 || got[0] != "host" {
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

// bridgesChildEnv carries bridgesJob to TestControllerBridgesChild.
const bridgesChildEnv = "TUMBLE_APP_BRIDGES_CHILD"

// bridgesJob is what TestControllerBridgesChild gets from its parent.
type bridgesJob struct {
	Torrc  []string
	Dead   string // obfs4 line of a bridge that is not there
	Bridge string // the network's obfs4 bridge
	Onion  string
	Port   int
}

// TestControllerSetBridgesLive: a user stuck bootstrapping behind a dead
// bridge changes the bridge lines in the settings (SetSettings) and gets
// connected to a murmur behind an onion service, without a restart. The
// controller runs in a child process (TestControllerBridgesChild): the
// embedded Tor starts once per process.
func TestControllerSetBridgesLive(t *testing.T) {
	if os.Getenv(bridgesChildEnv) != "" {
		t.Skip("in the child")
	}
	srv := murmurtest.Start(t, murmurtest.Options{})
	network := tornet.StartT(t, tornet.Options{Bridge: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, err := network.AddOnionService(ctx, srv.Addr, 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := network.DeadBridgeLine()
	if err != nil {
		t.Fatal(err)
	}
	job, err := json.Marshal(bridgesJob{
		Torrc:  network.BridgeClientTorrc(),
		Dead:   dead,
		Bridge: network.BridgeLine(),
		Onion:  svc.Address,
		Port:   svc.Port,
	})
	if err != nil {
		t.Fatal(err)
	}
	tornet.RunChildTest(ctx, t, "TestControllerBridgesChild", bridgesChildEnv+"="+string(job))
}

// TestControllerBridgesChild is TestControllerSetBridgesLive's child; it
// does nothing in an ordinary run.
func TestControllerBridgesChild(t *testing.T) {
	env := os.Getenv(bridgesChildEnv)
	if env == "" {
		t.Skip("run by TestControllerSetBridgesLive")
	}
	var job bridgesJob
	if err := json.Unmarshal([]byte(env), &job); err != nil {
		t.Fatal(err)
	}
	c := embeddedTorController(t, job.Torrc)
	set := c.Settings()
	set.Network.UseBridges = true
	set.Network.BridgeSource = BridgesCustom
	set.Network.BridgeLines = []string{job.Dead}
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	b, err := c.SaveBookmark(Bookmark{Address: job.Onion, Port: job.Port, Username: "bridged"})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(b.ID)
	deadAddr := strings.Fields(job.Dead)[1]
	st := waitFor(t, c, "the dead bridge named", func(st State) bool {
		if st.Phase == PhaseConnected || st.Tor.Ready {
			t.Fatalf("connected through a dead bridge: %+v", st.Tor)
		}
		return strings.Contains(st.Tor.BridgeFailure, deadAddr)
	})
	t.Logf("stuck at %d%%: %s", st.Tor.Progress, st.Tor.BridgeFailure)

	set.Network.BridgeLines = []string{job.Bridge}
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, "connected through the new bridge", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("connect failed: %+v", st.Problem)
		}
		return st.Phase == PhaseConnected && st.Root != nil
	})
	if !st.Tor.Ready || st.Tor.BridgeFailure != "" {
		t.Errorf("Tor status when connected: %+v", st.Tor)
	}
}
