//go:build libtor

package tor

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor/libtor"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// stuckChildEnv marks the child process of TestEmbeddedStuckBootstrap,
// which needs an embedded Tor of its own (one per process).
const stuckChildEnv = "TUMBLE_TOR_STUCK_CHILD"

// TestEmbeddedStuckBootstrap: an embedded Tor started while the Tor
// network does not answer (the private network cut) says after a while
// that it is stuck and what to do, and bootstraps once the network is
// back, the hint gone.
func TestEmbeddedStuckBootstrap(t *testing.T) {
	if os.Getenv(stuckChildEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("private Tor network tests skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tornet.RunChildTest(ctx, t, "TestEmbeddedStuckBootstrapChild", stuckChildEnv+"=1")
}

// TestEmbeddedStuckBootstrapChild is TestEmbeddedStuckBootstrap's child;
// it does nothing in an ordinary run.
func TestEmbeddedStuckBootstrapChild(t *testing.T) {
	if os.Getenv(stuckChildEnv) == "" {
		t.Skip("run by TestEmbeddedStuckBootstrap")
	}
	n := tornet.StartT(t, tornet.Options{})
	if err := n.Cut(); err != nil {
		t.Fatal(err)
	}
	restored := false
	defer func() {
		if !restored {
			n.Restore()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const stall = 5 * time.Second
	s := &Server{
		Mode:                ModeEmbedded,
		Amnesic:             true,
		Torrc:               n.ClientTorrc(),
		AllowTestingNetwork: true,
		Creator:             libtor.Creator(),
		BridgeHintAfter:     stall,
		BootstrapStallAfter: stall,
		rootDir:             t.TempDir(),
	}
	defer s.Close()
	sub := s.Subscribe(ctx)
	start := time.Now()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var st Status
	for st.Hint == "" {
		select {
		case next, ok := <-sub:
			if !ok {
				t.Fatalf("Tor stopped: %v", s.Status().Err)
			}
			st = next
			if st.Ready {
				t.Fatal("bootstrapped although the network was cut")
			}
		case <-ctx.Done():
			t.Fatalf("no hint while stuck at %d%% (%s)", s.Status().Progress, s.Status().Summary)
		}
	}
	t.Logf("FIGURE stuck at %d%% (%s); hint after %.1f s: %s", st.Progress, st.Tag, time.Since(start).Seconds(), st.Hint)
	if !strings.Contains(st.Hint, "stuck at") || !strings.Contains(st.Hint, "bridges") {
		t.Errorf("hint %q does not say that Tor is stuck and what to try", st.Hint)
	}
	if got := st.String(); got != st.Hint {
		t.Errorf("the status line %q is not the hint", got)
	}

	if err := n.Restore(); err != nil {
		t.Fatal(err)
	}
	restored = true
	back := time.Now()
	if _, err := s.Up(ctx); err != nil {
		t.Fatalf("no bootstrap after the network came back: %v", err)
	}
	t.Logf("FIGURE bootstrapped %.1f s after the network came back", time.Since(back).Seconds())
	if st := s.Status(); st.Hint != "" || st.SuggestBridges || st.NetworkDown {
		t.Errorf("status once ready: %+v", st)
	}
}
