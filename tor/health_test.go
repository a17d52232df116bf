package tor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cretz/bine/control"
)

// readyServer returns a Server whose status is ready, for feeding it
// events by hand.
func readyServer(t *testing.T) *Server {
	t.Helper()
	s := &Server{CircuitStallAfter: time.Hour}
	s.init()
	s.setReady("done", "Done")
	return s
}

func circ(id, status, reason, remote string) *control.CircuitEvent {
	return &control.CircuitEvent{CircuitID: id, Status: status, Reason: reason, RemoteReason: remote}
}

// TestHealthCircuitFailures: circuits failing in a row for network reasons
// mean the network is down; a built circuit brings it back; circuits that
// end normally do not count.
func TestHealthCircuitFailures(t *testing.T) {
	s := readyServer(t)
	s.circuitEvent(circ("1", "LAUNCHED", "", ""))
	s.circuitEvent(circ("1", "FAILED", "TIMEOUT", ""))
	s.circuitEvent(circ("2", "CLOSED", "FINISHED", ""))
	s.circuitEvent(circ("3", "CLOSED", "DESTROYED", "CHANNEL_CLOSED"))
	if st := s.Status(); st.NetworkDown {
		t.Fatalf("down after 2 network failures: %+v", st)
	}
	s.circuitEvent(circ("4", "FAILED", "CONNECTFAILED", ""))
	st := s.Status()
	if !st.NetworkDown || !strings.Contains(st.NetworkProblem, "3 circuits in a row failed") || !st.Ready {
		t.Fatalf("after 3 failures: %+v", st)
	}
	if got := st.String(); !strings.HasPrefix(got, "Tor has lost the network: ") {
		t.Errorf("String() = %q", got)
	}
	s.circuitEvent(circ("5", "BUILT", "", ""))
	if st := s.Status(); st.NetworkDown || st.NetworkProblem != "" {
		t.Fatalf("after a built circuit: %+v", st)
	}
	// The count starts over after a built circuit.
	s.circuitEvent(circ("6", "FAILED", "TIMEOUT", ""))
	s.circuitEvent(circ("7", "FAILED", "TIMEOUT", ""))
	if st := s.Status(); st.NetworkDown {
		t.Fatalf("down after 2 failures following a built circuit: %+v", st)
	}
}

// TestHealthTorSays: Tor's own liveness and client status events.
func TestHealthTorSays(t *testing.T) {
	s := readyServer(t)
	s.networkLiveness(&control.NetworkLivenessEvent{Raw: "DOWN"})
	if st := s.Status(); !st.NetworkDown {
		t.Fatalf("NETWORK_LIVENESS DOWN: %+v", st)
	}
	s.networkLiveness(&control.NetworkLivenessEvent{Raw: "UP"})
	if st := s.Status(); st.NetworkDown {
		t.Fatalf("NETWORK_LIVENESS UP: %+v", st)
	}
	s.clientStatus(&control.StatusEvent{Action: "CIRCUIT_NOT_ESTABLISHED", Arguments: map[string]string{"REASON": "DIR_ALL_UNREACHABLE"}})
	if st := s.Status(); !st.NetworkDown || !strings.Contains(st.NetworkProblem, "no relay") {
		t.Fatalf("CIRCUIT_NOT_ESTABLISHED: %+v", st)
	}
	s.clientStatus(&control.StatusEvent{Action: "CIRCUIT_ESTABLISHED", Arguments: map[string]string{}})
	if st := s.Status(); st.NetworkDown {
		t.Fatalf("CIRCUIT_ESTABLISHED: %+v", st)
	}
	s.clientStatus(&control.StatusEvent{Action: "NOT_ENOUGH_DIR_INFO", Arguments: map[string]string{}})
	if st := s.Status(); !st.NetworkDown {
		t.Fatalf("NOT_ENOUGH_DIR_INFO: %+v", st)
	}

	// Before bootstrap has finished, these are bootstrap's business.
	b := &Server{}
	b.init()
	b.networkLiveness(&control.NetworkLivenessEvent{Raw: "DOWN"})
	if st := b.Status(); st.NetworkDown {
		t.Fatalf("network down before ready: %+v", st)
	}
}

// TestHealthCircuitStall: a circuit that stays unbuilt, with none built
// meanwhile, means the network does not answer; one built meanwhile means
// it does. The timer fires by itself.
func TestHealthCircuitStall(t *testing.T) {
	s := readyServer(t)
	s.circuitEvent(circ("1", "LAUNCHED", "", ""))
	s.mu.Lock()
	launched := s.health.pending["1"]
	s.mu.Unlock()
	s.circuitEvent(circ("2", "LAUNCHED", "", ""))
	s.circuitEvent(circ("2", "BUILT", "", "")) // after 1's launch: 1 is slow, the network works
	s.circuitStalled("1", launched)
	if st := s.Status(); st.NetworkDown {
		t.Fatalf("down although a circuit was built after the slow one's launch: %+v", st)
	}

	s.CircuitStallAfter = 50 * time.Millisecond
	sub := s.Subscribe(t.Context())
	s.circuitEvent(circ("3", "LAUNCHED", "", ""))
	deadline := time.After(time.Minute)
	for {
		select {
		case st := <-sub:
			if st.NetworkDown {
				if !strings.Contains(st.NetworkProblem, "No circuit got an answer") {
					t.Errorf("problem %q", st.NetworkProblem)
				}
				s.mu.Lock()
				n := len(s.health.pending)
				s.mu.Unlock()
				if n != 0 {
					t.Errorf("%d circuits still followed after they stalled", n)
				}
				return
			}
		case <-deadline:
			t.Fatal("circuit 3 stalled but the network is not down")
		}
	}
}

// TestCheckNetworkNotStarted: a check needs a started Server.
func TestCheckNetworkNotStarted(t *testing.T) {
	s := &Server{}
	if _, err := s.CheckNetwork(context.Background()); err == nil {
		t.Fatal("CheckNetwork on a Server never started: no error")
	}
}

// TestBootstrapStallHint: a bootstrap that stays at one percentage past
// reaching a relay says so after BootstrapStallAfter, with the next step;
// a repeated warning at the same percentage keeps the hint, progress
// clears it, and Ready stops the timer.
func TestBootstrapStallHint(t *testing.T) {
	s := &Server{BootstrapStallAfter: 50 * time.Millisecond}
	s.init()
	sub := s.Subscribe(t.Context())
	s.applyBootstrap(bootstrapPhase{Progress: 50, Tag: "loading_descriptors", Summary: "Loading relay descriptors"})
	deadline := time.After(time.Minute)
	var st Status
	for st.Hint == "" {
		select {
		case st = <-sub:
		case <-deadline:
			t.Fatal("no hint for a bootstrap stuck at 50%")
		}
	}
	if !strings.Contains(st.Hint, "stuck at 50% (Loading relay descriptors)") || !strings.Contains(st.Hint, "Check this computer's network") {
		t.Errorf("hint %q", st.Hint)
	}
	s.applyBootstrap(bootstrapPhase{Progress: 50, Tag: "loading_descriptors", Summary: "Loading relay descriptors",
		Warning: "no route", Recommendation: "ignore"})
	if st := s.Status(); st.Hint == "" {
		t.Error("a repeated warning at the same percentage cleared the hint")
	}
	s.applyBootstrap(bootstrapPhase{Progress: 75, Tag: "enough_dirinfo", Summary: "Loaded enough directory info"})
	if st := s.Status(); st.Hint != "" {
		t.Errorf("progress kept the hint %q", st.Hint)
	}
	s.applyBootstrap(bootstrapPhase{Progress: 100, Tag: "done", Summary: "Done"})
	s.mu.Lock()
	armed := s.bootStall != nil
	s.mu.Unlock()
	if armed {
		t.Error("the stall timer is still armed once ready")
	}
}

// TestBootstrapStallHintAtConnected: stuck at "Connected to a relay", no
// relay has answered: the hint suggests bridges, as a network that
// swallows Tor's traffic leaves Tor there.
func TestBootstrapStallHintAtConnected(t *testing.T) {
	s := &Server{BootstrapStallAfter: time.Hour}
	s.init()
	s.applyBootstrap(bootstrapPhase{Progress: 10, Tag: "conn_done", Summary: "Connected to a relay"})
	s.bootstrapStalled(10, time.Minute)
	st := s.Status()
	if !st.SuggestBridges || !strings.Contains(st.Hint, "stuck at 10% (Connected to a relay) for 1m0s: the relay does not answer") {
		t.Errorf("status %+v", st)
	}
	s.bootstrapStalled(14, time.Minute) // too late: Tor is elsewhere; the hint stays as it is
	if got := s.Status().Hint; got != st.Hint {
		t.Errorf("hint changed to %q", got)
	}
}
