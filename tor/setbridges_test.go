//go:build libtor

package tor

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor/libtor"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// setBridgesChildEnv carries setBridgesJob to the child process of
// TestEmbeddedSetBridges, which needs an embedded Tor of its own (one per
// process).
const setBridgesChildEnv = "TUMBLE_TOR_SETBRIDGES_CHILD"

// setBridgesJob is what the child gets: the network's bridge client torrc,
// a dead and a working obfs4 bridge line, and an onion service that echoes.
type setBridgesJob struct {
	Torrc  []string
	Dead   string
	Bridge string
	Onion  string
}

// TestEmbeddedSetBridges: an embedded Tor stuck bootstrapping behind a
// dead bridge gets the private network's obfs4 bridge with SetBridges
// (no restart) and goes on to bootstrap and reach an onion service through
// it. Runs in a child process (TestSetBridgesChild), as the embedded Tor
// starts once per process.
func TestEmbeddedSetBridges(t *testing.T) {
	up(t)
	if sharedNet.BridgeLine() == "" {
		t.Fatal("the shared network has no bridge")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, err := sharedNet.AddOnionService(ctx, echoServer(t), 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := sharedNet.DeadBridgeLine()
	if err != nil {
		t.Fatal(err)
	}
	job, err := json.Marshal(setBridgesJob{
		Torrc:  sharedNet.BridgeClientTorrc(),
		Dead:   dead,
		Bridge: sharedNet.BridgeLine(),
		Onion:  svc.Addr(),
	})
	if err != nil {
		t.Fatal(err)
	}
	tornet.RunChildTest(ctx, t, "TestSetBridgesChild", setBridgesChildEnv+"="+string(job))
}

// TestSetBridgesChild is TestEmbeddedSetBridges's child; it does nothing
// in an ordinary run.
func TestSetBridgesChild(t *testing.T) {
	env := os.Getenv(setBridgesChildEnv)
	if env == "" {
		t.Skip("run by TestEmbeddedSetBridges")
	}
	var job setBridgesJob
	if err := json.Unmarshal([]byte(env), &job); err != nil {
		t.Fatal(err)
	}
	if !torrcHasKey(job.Torrc, "TestingTorNetwork") || !torrcHasKey(job.Torrc, "DirAuthority") {
		t.Fatal("torrc lacks TestingTorNetwork/DirAuthority: refusing to start a Tor that could reach the real network")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := &Server{
		Mode:                ModeEmbedded,
		Amnesic:             true,
		Torrc:               job.Torrc,
		AllowTestingNetwork: true,
		UseBridges:          true,
		Bridges:             []string{job.Dead},
		Creator:             libtor.Creator(),
		rootDir:             t.TempDir(),
		Logf:                t.Logf,
	}
	defer s.Close()
	sub := s.Subscribe(ctx)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Stuck: the only bridge is named as failing.
	deadAddr := strings.Fields(job.Dead)[1]
	stuck := false
	for st := range sub {
		if st.Ready {
			t.Fatalf("bootstrapped through a dead bridge: %+v", st)
		}
		if strings.Contains(st.BridgeFailure, deadAddr) {
			t.Logf("stuck: %d%%, %s", st.Progress, st.BridgeFailure)
			stuck = true
			break
		}
	}
	if !stuck {
		t.Fatalf("no bridge failure reported: %+v", s.Status())
	}

	// Bad lines leave Tor as it was.
	var le *BridgeLinesError
	if err := s.SetBridges(ctx, true, []string{"obfs4 192.0.2.1:443"}); !errors.As(err, &le) {
		t.Errorf("SetBridges with a bad line: %v, want a *BridgeLinesError", err)
	}
	if err := s.SetBridges(ctx, true, nil); err == nil {
		t.Error("SetBridges on without lines: no error")
	}
	if st := s.Status(); st.Ready {
		t.Fatalf("ready before the good bridge: %+v", st)
	}

	start := time.Now()
	if err := s.SetBridges(ctx, true, []string{job.Bridge}); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.BridgeFailure != "" {
		t.Errorf("old bridge failure still shown: %q", st.BridgeFailure)
	}
	if _, err := s.Up(ctx); err != nil {
		t.Fatalf("Up after SetBridges: %v", err)
	}
	t.Logf("FIGURE bootstrapped %.2f s after SetBridges", time.Since(start).Seconds())
	emb, err := s.control()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.controlConf(emb, "Bridge"); err != nil || !strings.Contains(v, strings.Fields(job.Bridge)[1]) {
		t.Errorf("GETCONF Bridge = %q, %v", v, err)
	}
	c, err := s.Dial(ctx, "tcp", job.Onion)
	if err != nil {
		t.Fatalf("dial the onion through the bridge: %v", err)
	}
	echoRoundTrip(t, c)
	c.Close()

	// Off again: no bridges configured.
	if err := s.SetBridges(ctx, false, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.controlConf(emb, "UseBridges"); err != nil || v != "0" {
		t.Errorf("GETCONF UseBridges = %q, %v after turning bridges off", v, err)
	}
	if v, _ := s.controlConf(emb, "Bridge"); v != "" {
		t.Errorf("GETCONF Bridge = %q after turning bridges off", v)
	}
}
