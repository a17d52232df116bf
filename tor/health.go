package tor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cretz/bine/control"
)

// Once bootstrapped, Tor can still lose the network: the cable is pulled,
// the Wi-Fi drops, a firewall starts blocking. Tor itself reports that
// late or not at all (NETWORK_LIVENESS DOWN comes only after circuit
// timeouts with no cell received, and on a network that swallows packets
// without refusing them not even then), so the embedded Server follows
// three signals and publishes the first that fires as Status.NetworkDown:
//
//   - Tor's own words: NETWORK_LIVENESS DOWN, STATUS_CLIENT
//     CIRCUIT_NOT_ESTABLISHED and NOT_ENOUGH_DIR_INFO;
//   - circuits that fail or break in a row, with no circuit built between
//     them (CIRC FAILED or CLOSED for a network reason);
//   - a circuit that stays unbuilt for CircuitStallAfter while no other
//     circuit gets built.
//
// A built circuit, NETWORK_LIVENESS UP or CIRCUIT_ESTABLISHED clears it.
// CheckNetwork asks actively. In socks mode the other Tor's control port
// is not ours: all that can be known is whether its SOCKS port answers.

// DefaultCircuitStallAfter is Server.CircuitStallAfter's default. On a
// working network Tor builds a circuit in about a second, and gives up on
// one after at most a minute.
const DefaultCircuitStallAfter = 30 * time.Second

// circuitFailuresDown is the number of circuits failing in a row, without
// one built in between, that means the network is down.
const circuitFailuresDown = 3

// maxPendingCircuits bounds the circuits followed for stalling.
const maxPendingCircuits = 64

// checkCircuitTimeout bounds the circuit CheckNetwork builds when its
// context has no earlier deadline.
const checkCircuitTimeout = 30 * time.Second

// health is what the embedded Server knows of Tor's connection to the
// network after bootstrapping. Guarded by Server.mu.
type health struct {
	failures   int                  // circuits failed in a row
	lastBuilt  time.Time            // when a circuit was last built
	pending    map[string]time.Time // circuits launched and not built or failed yet
	stallTimer map[string]*time.Timer
	waiters    map[string]chan string // CheckNetwork's circuits: final status
	// ended holds the final status of the last circuits that ended, so a
	// CheckNetwork that registers after its circuit's event still sees
	// it; endedIDs is their order, oldest first.
	ended    map[string]string
	endedIDs []string
}

// maxEndedCircuits bounds health.ended.
const maxEndedCircuits = 32

func (s *Server) circuitStallAfter() time.Duration {
	if s.CircuitStallAfter > 0 {
		return s.CircuitStallAfter
	}
	return DefaultCircuitStallAfter
}

// networkFailureReason reports whether a circuit that ended with reason
// (Tor's REASON or REMOTE_REASON) ended because the network failed, not
// because it was done or refused.
func networkFailureReason(reason string) bool {
	switch reason {
	case "TIMEOUT", "CHANNEL_CLOSED", "CONNECTFAILED", "OR_CONN_CLOSED", "NOPATH", "IOERROR", "MEASUREMENT_EXPIRED":
		return true
	}
	return false
}

// setNetworkDown publishes that Tor lost the network, with why in words
// for the user. It has an effect only once Tor was ready.
func (s *Server) setNetworkDown(why string) {
	s.updateStatus(func(st *Status) {
		if !st.Ready || st.Err != nil {
			return
		}
		if !st.NetworkDown || st.NetworkProblem != why {
			s.logf("tor: network lost: %s", why)
		}
		st.NetworkDown, st.NetworkProblem = true, why
	})
}

// setNetworkUp publishes that Tor reaches the network (again).
func (s *Server) setNetworkUp(why string) {
	s.updateStatus(func(st *Status) {
		if st.NetworkDown {
			s.logf("tor: network back: %s", why)
		}
		st.NetworkDown, st.NetworkProblem = false, ""
	})
}

// clientStatus handles a STATUS_CLIENT event other than BOOTSTRAP.
func (s *Server) clientStatus(e *control.StatusEvent) {
	switch e.Action {
	case "CIRCUIT_ESTABLISHED":
		s.setNetworkUp("Tor says it can build circuits")
	case "CIRCUIT_NOT_ESTABLISHED":
		why := "Tor cannot build circuits"
		switch e.Arguments["REASON"] {
		case "EXTERNAL_ADDRESS":
			why += ": this computer's address changed"
		case "DIR_ALL_UNREACHABLE":
			why += ": no relay of the Tor network answers"
		case "CLOCK_JUMPED":
			why += ": the clock jumped (after sleep?); Tor is building new ones"
		}
		s.setNetworkDown(why)
	case "NOT_ENOUGH_DIR_INFO":
		s.setNetworkDown("Tor lacks the directory information it needs to build circuits")
	}
}

// networkLiveness handles a NETWORK_LIVENESS event.
func (s *Server) networkLiveness(e *control.NetworkLivenessEvent) {
	switch strings.TrimSpace(e.Raw) {
	case "UP":
		s.setNetworkUp("Tor says the network is up")
	case "DOWN":
		s.setNetworkDown("Tor gets no answer from the Tor network")
	}
}

// circuitEvent follows the embedded Tor's circuits (CIRC events).
func (s *Server) circuitEvent(e *control.CircuitEvent) {
	now := time.Now()
	var (
		up, down string
		waiter   chan string
	)
	s.mu.Lock()
	h := &s.health
	if h.pending == nil {
		h.pending = make(map[string]time.Time)
		h.stallTimer = make(map[string]*time.Timer)
	}
	waiter = h.waiters[e.CircuitID]
	final := e.Status == "BUILT" || e.Status == "FAILED" || e.Status == "CLOSED"
	result := e.Status + " " + circuitReasonText(e.Reason, e.RemoteReason)
	if final && waiter == nil {
		if h.ended == nil {
			h.ended = make(map[string]string)
		}
		if _, ok := h.ended[e.CircuitID]; !ok {
			h.endedIDs = append(h.endedIDs, e.CircuitID)
		}
		h.ended[e.CircuitID] = result
		if len(h.endedIDs) > maxEndedCircuits {
			delete(h.ended, h.endedIDs[0])
			h.endedIDs = h.endedIDs[1:]
		}
	}
	switch e.Status {
	case "LAUNCHED":
		if len(h.pending) < maxPendingCircuits {
			id := e.CircuitID
			h.pending[id] = now
			h.stallTimer[id] = time.AfterFunc(s.circuitStallAfter(), func() { s.circuitStalled(id, now) })
		}
	case "BUILT":
		s.forgetCircuitLocked(e.CircuitID)
		h.failures = 0
		h.lastBuilt = now
		up = "Tor built a circuit"
	case "FAILED", "CLOSED":
		s.forgetCircuitLocked(e.CircuitID)
		if networkFailureReason(e.Reason) || e.Reason == "DESTROYED" && networkFailureReason(e.RemoteReason) {
			h.failures++
			if h.failures >= circuitFailuresDown {
				down = fmt.Sprintf("%d circuits in a row failed (%s)", h.failures, circuitReasonText(e.Reason, e.RemoteReason))
			}
		}
	}
	s.mu.Unlock()
	if waiter != nil && final {
		select {
		case waiter <- result:
		default:
		}
	}
	switch {
	case up != "":
		s.setNetworkUp(up)
	case down != "":
		s.setNetworkDown(down)
	}
}

// forgetCircuitLocked stops following a circuit. s.mu must be held.
func (s *Server) forgetCircuitLocked(id string) {
	if t := s.health.stallTimer[id]; t != nil {
		t.Stop()
	}
	delete(s.health.stallTimer, id)
	delete(s.health.pending, id)
}

// circuitStalled runs CircuitStallAfter after circuit id was launched: if
// it is still not built and no circuit was built since, the network does
// not answer.
func (s *Server) circuitStalled(id string, launched time.Time) {
	s.mu.Lock()
	_, pending := s.health.pending[id]
	builtSince := s.health.lastBuilt.After(launched)
	s.forgetCircuitLocked(id)
	s.mu.Unlock()
	if pending && !builtSince {
		s.setNetworkDown(fmt.Sprintf("No circuit got an answer for %v",
			s.circuitStallAfter().Round(time.Second)))
	}
}

// circuitReasonText says in words why a circuit ended.
func circuitReasonText(reason, remote string) string {
	if reason == "DESTROYED" && remote != "" {
		reason = remote
	}
	switch reason {
	case "TIMEOUT":
		return "timed out"
	case "CHANNEL_CLOSED", "OR_CONN_CLOSED":
		return "the connection to a relay broke"
	case "CONNECTFAILED":
		return "could not connect to a relay"
	case "NOPATH":
		return "not enough relays reachable"
	case "":
		return "no reason given"
	}
	return strings.ToLower(reason)
}

// CheckNetwork finds out whether Tor still reaches the network, for a user
// who lost a connection: was it the server or the network? The embedded
// Tor builds a circuit that carries nothing (purpose "controller": Tor
// never puts a stream on it) and closes it again; a SOCKS-mode Server can
// only check that the other Tor's SOCKS port answers. The outcome is
// published in the Status (NetworkDown, NetworkProblem) and returned.
// ctx bounds the check; without an earlier deadline, 30 s do. The error
// is set only when the check could not be made (not started, stopped,
// ctx done before an answer).
func (s *Server) CheckNetwork(ctx context.Context) (Status, error) {
	s.init()
	s.mu.Lock()
	mode, addr, emb, started := s.mode, s.socksAddr, s.emb, s.started
	s.mu.Unlock()
	if !started {
		return s.Status(), fmt.Errorf("tor: check network: %w", ErrNotReady)
	}
	if st := s.Status(); st.Err != nil {
		return st, st.Err
	}
	switch mode {
	case ModeSOCKS:
		if err := s.probeSOCKS(ctx, addr); err != nil {
			if ctx.Err() != nil {
				return s.Status(), ctx.Err()
			}
			s.setNetworkDown(fmt.Sprintf("The Tor at %s does not answer", addr))
			return s.Status(), nil
		}
		s.setNetworkUp("the SOCKS port answers")
		return s.Status(), nil
	case ModeEmbedded:
		return s.checkCircuit(ctx, emb)
	}
	return s.Status(), nil
}

// checkCircuit builds one circuit that carries nothing and reports what
// became of it.
func (s *Server) checkCircuit(ctx context.Context, emb *embedded) (Status, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, checkCircuitTimeout)
		defer cancel()
	}
	if !s.Status().Ready {
		return s.Status(), fmt.Errorf("tor: check network: %w", ErrNotReady)
	}
	ch := make(chan string, 1)
	// Tor may announce the circuit's fate before the waiter is
	// registered: circuitEvent keeps the last outcomes for that.
	emb.ctlMu.Lock()
	id, err := emb.t.Control.ExtendCircuit("0", nil, "controller")
	if err == nil {
		s.mu.Lock()
		if s.health.waiters == nil {
			s.health.waiters = make(map[string]chan string)
		}
		s.health.waiters[id] = ch
		if res, ok := s.health.ended[id]; ok { // its event came first
			ch <- res
		}
		s.mu.Unlock()
	}
	emb.ctlMu.Unlock()
	if err != nil {
		// Tor refuses to start a circuit when it has no usable path,
		// e.g. all relays were marked unreachable: that is an answer.
		s.setNetworkDown("Tor cannot start a circuit (" + err.Error() + ")")
		return s.Status(), nil
	}
	defer func() {
		s.mu.Lock()
		delete(s.health.waiters, id)
		s.mu.Unlock()
		emb.ctlMu.Lock()
		emb.t.Control.CloseCircuit(id, nil) // an error: it is gone already
		emb.ctlMu.Unlock()
	}()
	start := time.Now()
	select {
	case res := <-ch:
		if strings.HasPrefix(res, "BUILT") {
			s.setNetworkUp("Tor built a circuit")
			return s.Status(), nil
		}
		s.setNetworkDown("A test circuit failed (" +
			strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(res, "FAILED"), "CLOSED")) + ")")
		return s.Status(), nil
	case <-s.stopped:
		st := s.Status()
		return st, st.Err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.setNetworkDown(fmt.Sprintf("A test circuit got no answer in %v",
				time.Since(start).Round(time.Second)))
			return s.Status(), nil
		}
		return s.Status(), ctx.Err()
	}
}
