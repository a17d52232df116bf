package tor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cretz/bine/control"

	bine "github.com/cretz/bine/tor"

	"github.com/tumble-voip/tumble/tor/atomicfile"
	"github.com/tumble-voip/tumble/tor/lockdir"
)

// embedded is the state of a running embedded Tor.
type embedded struct {
	t       *bine.Tor
	dataDir string
	lock    *lockdir.Lock // held on dataDir until Tor has exited
	amnesic bool          // dataDir is ours to remove

	// ctlMu serialises requests on the control connection.
	ctlMu sync.Mutex

	pumpDone chan struct{} // closed when the control connection is gone
	procDone chan struct{} // closed when Tor has exited

	hsMu   sync.Mutex
	hsWait map[string]chan *control.HSDescEvent // by service ID

	// Guarded by Server.mu (SetBridges changes them):
	bridges []Bridge    // in use; nil without bridges
	hint    *time.Timer // fires the "stuck before a relay" hint
}

// socksPortConf is the embedded Tor's only SOCKS listener: loopback, a
// free port, circuits isolated by SOCKS credentials, and the prop 304
// extended error codes so onion service failures can be told apart.
const socksPortConf = "127.0.0.1:auto IsolateSOCKSAuth ExtendedErrors"

// checkTorrc rejects extra torrc lines that are malformed or that enable
// TestingTorNetwork without permission.
func checkTorrc(lines []string, allowTesting bool) error {
	for i, line := range lines {
		if strings.ContainsAny(line, "\r\n\x00") {
			return fmt.Errorf("tor: torrc line %d: contains a line break or NUL; give one option per line", i+1)
		}
		key, val := torrcKeyVal(line)
		if strings.EqualFold(key, "TestingTorNetwork") && val != "0" && !allowTesting {
			return fmt.Errorf("tor: torrc line %d: %w", i+1, ErrTestingNetwork)
		}
	}
	return nil
}

// torrcKeyVal splits a torrc line into option name and value; comments and
// blank lines give "".
func torrcKeyVal(line string) (key, val string) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", ""
	}
	key, val, _ = strings.Cut(line, " ")
	if k, v, ok := strings.Cut(key, "\t"); ok {
		key, val = k, v+" "+val
	}
	return strings.TrimLeft(key, "+/"), strings.TrimSpace(val)
}

func torrcHasKey(lines []string, name string) bool {
	for _, l := range lines {
		if k, _ := torrcKeyVal(l); strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// maxDataDirs bounds the data directories tried when others are in use.
const maxDataDirs = 8

// dataDirectory creates, locks and returns the embedded Tor's data
// directory.
//
// Tor allows one process per data directory (its own lock), so a second
// Tumble with the same directory used to die at start. Each process now
// takes a directory of its own: the base directory if free, else
// "BASE-2", "BASE-3", ..., each locked for the process's lifetime
// (lockdir: released even by kill -9) and each keeping its own Tor state,
// so that every directory has persistent guards. Reusing the first
// process's Tor over a unix SOCKS socket was the alternative; it was not
// chosen because the second process would lose its connections when the
// first exits, could not own onion services or apply its own torrc, and
// would share the first's guards and circuits' lifetime.
//
// A test network (TestingTorNetwork in Torrc) without an explicit DataDir
// gets a temporary directory, so that its state never lands in the user's
// real data directory.
func (s *Server) dataDirectory() (dir string, lock *lockdir.Lock, amnesic bool, err error) {
	if s.Amnesic || (s.DataDir == "" && s.testingTorrc()) {
		dir, lock, err := lockdir.TempDir("tumble-tor-")
		if err != nil {
			return "", nil, false, fmt.Errorf("tor: amnesic data directory: %w", err)
		}
		return dir, lock, true, nil
	}
	base := s.DataDir
	if base == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return "", nil, false, fmt.Errorf("tor: no data directory: set Server.DataDir: %w", err)
		}
		base = filepath.Join(cfg, "tumble", "tor")
	}
	base, err = filepath.Abs(base)
	if err != nil {
		return "", nil, false, fmt.Errorf("tor: data directory: %w", err)
	}
	for i := 1; i <= maxDataDirs; i++ {
		dir := base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", nil, false, fmt.Errorf("tor: data directory: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", nil, false, fmt.Errorf("tor: data directory: %w", err)
		}
		lock, err := lockdir.TryLock(dir)
		if errors.Is(err, lockdir.ErrLocked) {
			continue
		}
		if err != nil {
			return "", nil, false, fmt.Errorf("tor: data directory: %w", err)
		}
		if i > 1 {
			s.logf("tor: data directory %s is in use by another Tumble; using %s", base, dir)
		}
		return dir, lock, false, nil
	}
	return "", nil, false, fmt.Errorf("tor: data directories %s to %s-%d are all in use by other Tumble processes: close one, or give this one its own (amnesic mode or another data directory)",
		base, base, maxDataDirs)
}

// testingTorrc reports whether Torrc turns on TestingTorNetwork.
func (s *Server) testingTorrc() bool {
	for _, l := range s.Torrc {
		if k, v := torrcKeyVal(l); strings.EqualFold(k, "TestingTorNetwork") && v != "0" {
			return true
		}
	}
	return false
}

func (s *Server) startEmbedded(ctx context.Context) (err error) {
	if s.Creator == nil {
		return fmt.Errorf("tor: %w", ErrNoEmbeddedTor)
	}
	if err := checkTorrc(s.Torrc, s.AllowTestingNetwork); err != nil {
		return err
	}
	bridgeLines, bridges, err := s.bridgeTorrc()
	if err != nil {
		return err
	}
	dir, lock, amnesic, err := s.dataDirectory()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && amnesic {
			os.RemoveAll(dir)
		}
		if err != nil {
			lock.Release()
		}
	}()

	torrc := filepath.Join(dir, "torrc")
	defaults := filepath.Join(dir, "torrc-defaults")
	var b strings.Builder
	b.WriteString("# Written by Tumble at every start from its settings; edits here are lost.\n")
	for _, l := range append(slices.Clip(s.Torrc), bridgeLines...) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if err := atomicfile.Write(torrc, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("tor: write torrc: %w", err)
	}
	// An empty defaults file keeps any system-wide torrc-defaults out.
	if err := atomicfile.Write(defaults, nil, 0o600); err != nil {
		return fmt.Errorf("tor: write torrc-defaults: %w", err)
	}
	args := []string{
		// Tor logs to the console (standard output, shared with the
		// program it is embedded in) until its configuration is parsed;
		// --quiet keeps that console log off so standard output stays
		// the program's own. Tor's warnings go to stderr below.
		"--quiet",
		"--defaults-torrc", defaults,
		"--SocksPort", socksPortConf,
		"--ControlPort", "0", // control only over the owning socket
	}
	if !torrcHasKey(s.Torrc, "Log") {
		args = append(args, "--Log", "warn stderr")
	}

	if bridges != nil {
		s.logf("tor: using %d bridges", len(bridges))
	}
	s.logf("tor: starting embedded Tor (data directory %s)", dir)
	s.updateStatus(func(st *Status) { st.Summary = "Starting Tor" })
	t, err := startBine(ctx, &bine.StartConf{
		ProcessCreator:         s.Creator,
		UseEmbeddedControlConn: true,
		DataDir:                dir,
		TorrcFile:              torrc,
		DisableCookieAuth:      true, // the owning control socket is pre-authenticated
		NoAutoSocksPort:        true,
		ExtraArgs:              args,
	})
	if err != nil {
		return fmt.Errorf("tor: start embedded Tor: %w", err)
	}
	emb := &embedded{
		t:        t,
		dataDir:  dir,
		lock:     lock,
		amnesic:  amnesic,
		pumpDone: make(chan struct{}),
		procDone: make(chan struct{}),
		hsWait:   make(map[string]chan *control.HSDescEvent),
		bridges:  bridges,
	}
	s.mu.Lock()
	s.emb = emb
	s.mu.Unlock()
	defer func() {
		if err != nil {
			s.mu.Lock()
			s.failing = true
			s.mu.Unlock()
			s.stopEmbedded(emb)
			s.mu.Lock()
			s.emb = nil
			s.mu.Unlock()
		}
	}()

	go func() {
		werr := t.Process.Wait()
		close(emb.procDone)
		if werr == nil {
			werr = errors.New("exited")
		}
		s.torStopped(fmt.Errorf("%w: %v", ErrTorExited, werr))
	}()

	// Events: bine hands them to a channel it writes while holding the
	// control connection's read lock, so the channel is drained by a
	// goroutine that never blocks.
	events := make(chan control.Event, 256)
	// Connections to bridges too, to name the ones that fail: Tor reports
	// a failure through a transport only in a warning. Bridges can be set
	// later (SetBridges), so these are always on.
	// Circuits and liveness tell when Tor loses the network after
	// bootstrapping (health.go).
	codes := []control.EventCode{control.EventCodeStatusClient, control.EventCodeHSDesc,
		control.EventCodeORConn, control.EventCodeLogWarn, control.EventCodeCircuit,
		control.EventCodeNetworkLiveness}
	if err := t.Control.AddEventListener(events, codes...); err != nil {
		return fmt.Errorf("tor: subscribe to events: %w", err)
	}
	go func() {
		for {
			if err := t.Control.HandleNextEvent(); err != nil {
				close(emb.pumpDone)
				s.torStopped(fmt.Errorf("%w: control connection: %v", ErrTorExited, err))
				return
			}
		}
	}()
	go s.dispatchEvents(emb, events)

	// The torrc could reach TestingTorNetwork through %include; ask Tor.
	testing, err := s.controlConf(emb, "TestingTorNetwork")
	if err != nil {
		return err
	}
	if testing != "0" && !s.AllowTestingNetwork {
		return fmt.Errorf("tor: %w", ErrTestingNetwork)
	}

	if phase, err := s.controlInfo(emb, "status/bootstrap-phase"); err == nil {
		if ph, err := parseBootstrap(phase); err == nil {
			s.applyBootstrap(ph)
		}
	}
	emb.ctlMu.Lock()
	err = t.Control.SetConf(control.KeyVals("DisableNetwork", "0")...)
	emb.ctlMu.Unlock()
	if err != nil {
		return fmt.Errorf("tor: enable network: %w", err)
	}
	s.mu.Lock()
	s.armHintLocked(emb, bridges != nil)
	s.mu.Unlock()
	// Tor opens its listeners only with the network enabled.
	socks, err := s.controlInfo(emb, "net/listeners/socks")
	if err != nil {
		return err
	}
	addr, err := parseListenerAddr(socks)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.socksAddr = addr
	s.mu.Unlock()
	s.logf("tor: embedded Tor running, SOCKS port %s", addr)
	return nil
}

// torStopped records that Tor stopped on its own. During Close or a failed
// Start it does nothing: those report why the Server stopped.
func (s *Server) torStopped(err error) {
	s.mu.Lock()
	closing := s.closed || s.failing
	s.mu.Unlock()
	if !closing {
		s.logf("tor: %v", err)
		s.setStopped(err)
	}
}

// startBine runs bine's tor.Start bounded by ctx. bine ties the process's
// lifetime to the context it is given, but ctx bounds only the start, so
// bine gets a context that is never cancelled; if ctx ends first, the Tor
// that bine may still bring up is stopped again when it does.
func startBine(ctx context.Context, conf *bine.StartConf) (*bine.Tor, error) {
	type result struct {
		t   *bine.Tor
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := bine.Start(context.WithoutCancel(ctx), conf)
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		return r.t, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.t.Control.Signal("HALT")
				r.t.Control.Close() // Tor exits when its owning controller goes
			}
		}()
		return nil, ctx.Err()
	}
}

// parseListenerAddr returns the first loopback address in a GETINFO
// net/listeners/* value (space separated, possibly quoted).
func parseListenerAddr(v string) (string, error) {
	for _, f := range strings.Fields(v) {
		ap, err := netip.ParseAddrPort(strings.Trim(f, `"`))
		if err == nil && ap.Addr().IsLoopback() && ap.Port() != 0 {
			return ap.String(), nil
		}
	}
	return "", fmt.Errorf("tor: no loopback SOCKS listener in %q", v)
}

func (s *Server) controlInfo(emb *embedded, key string) (string, error) {
	emb.ctlMu.Lock()
	defer emb.ctlMu.Unlock()
	kvs, err := emb.t.Control.GetInfo(key)
	if err != nil {
		return "", fmt.Errorf("tor: GETINFO %s: %w", key, err)
	}
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Val, nil
		}
	}
	return "", fmt.Errorf("tor: GETINFO %s: no value", key)
}

func (s *Server) controlConf(emb *embedded, key string) (string, error) {
	emb.ctlMu.Lock()
	defer emb.ctlMu.Unlock()
	kvs, err := emb.t.Control.GetConf(key)
	if err != nil {
		return "", fmt.Errorf("tor: GETCONF %s: %w", key, err)
	}
	for _, kv := range kvs {
		if strings.EqualFold(kv.Key, key) {
			return kv.Val, nil
		}
	}
	return "", fmt.Errorf("tor: GETCONF %s: no value", key)
}

// dispatchEvents handles Tor's asynchronous events until the control
// connection is gone. It never blocks on anything but the event channel.
func (s *Server) dispatchEvents(emb *embedded, events <-chan control.Event) {
	for {
		select {
		case ev := <-events:
			switch e := ev.(type) {
			case *control.StatusEvent:
				if e.Action != "BOOTSTRAP" {
					s.clientStatus(e)
					continue
				}
				ph, err := parseBootstrap(e.Raw)
				if err != nil {
					s.logf("%v", err)
					continue
				}
				s.applyBootstrap(ph)
				if ph.Warning != "" {
					s.bridgeProblem(s.bridgesInUse(emb), ph.HostID, ph.HostAddr, ph.Warning)
				}
			case *control.ORConnEvent:
				if e.Status == "FAILED" || e.Status == "CLOSED" && e.Reason != "" && e.Reason != "DONE" {
					why := strings.ToLower(e.Reason)
					if why == "" {
						why = "connection failed"
					}
					s.bridgeProblem(s.bridgesInUse(emb), e.Target, "", why)
				}
			case *control.LogEvent:
				if id, addr, why, ok := parseConnWarning(e.Raw); ok {
					s.bridgeProblem(s.bridgesInUse(emb), id, addr, why)
				}
			case *control.CircuitEvent:
				s.circuitEvent(e)
			case *control.NetworkLivenessEvent:
				s.networkLiveness(e)
			case *control.HSDescEvent:
				emb.hsMu.Lock()
				ch := emb.hsWait[e.Address]
				emb.hsMu.Unlock()
				if ch != nil {
					select {
					case ch <- e:
					default: // the waiter has enough to decide
					}
				}
			}
		case <-emb.pumpDone:
			return
		}
	}
}

// applyBootstrap publishes a bootstrap phase.
func (s *Server) applyBootstrap(ph bootstrapPhase) {
	if ph.Progress >= 100 {
		s.logf("tor: bootstrapped 100%%")
		s.setReady(ph.Tag, ph.Summary)
		return
	}
	s.updateStatus(func(st *Status) {
		if ph.Progress < st.Progress && ph.Warning == "" {
			return // stale
		}
		if ph.Progress != st.Progress || ph.Tag != st.Tag {
			s.logf("tor: bootstrap %d%%: %s", ph.Progress, ph.Summary)
		}
		if ph.Warning != "" {
			s.logf("tor: bootstrap problem at %d%% (%s): %s (reason %s, recommendation %s)",
				ph.Progress, ph.Tag, ph.Warning, ph.Reason, ph.Recommendation)
		}
		if ph.Progress != st.Progress || ph.Tag != st.Tag {
			st.Warning, st.Reason, st.Recommendation = "", "", ""
		}
		if ph.Progress >= connDoneProgress && ph.Progress != st.Progress {
			st.Hint, st.SuggestBridges = "", false
			s.armBootStallLocked(ph.Progress)
		}
		st.Progress, st.Tag, st.Summary = ph.Progress, ph.Tag, ph.Summary
		if ph.Warning != "" {
			st.Warning, st.Reason, st.Recommendation = ph.Warning, ph.Reason, ph.Recommendation
		}
	})
}

// bridgeProblem names the bridge that a failure concerns in the status,
// if ids or addr (Tor's HOSTID/HOSTADDR or ORCONN target) name one.
func (s *Server) bridgeProblem(bridges []Bridge, id, addr, why string) {
	b, ok := bridgeFor(bridges, id)
	if !ok && addr != "" {
		b, ok = bridgeFor(bridges, addr)
	}
	if !ok {
		return
	}
	msg := b.Name() + ": " + why
	s.logf("tor: bridge failed: %s", msg)
	s.updateStatus(func(st *Status) { st.BridgeFailure = msg })
}

// stuckHint runs once BridgeHintAfter has passed since the network was
// enabled: if Tor has not reached a relay by then, the network probably
// blocks Tor (or the bridges), and the status says what to try.
func (s *Server) stuckHint(usingBridges bool) {
	s.updateStatus(func(st *Status) {
		if st.Ready || st.Progress >= connDoneProgress {
			return
		}
		wait := s.bridgeHintAfter().Round(time.Second)
		if usingBridges {
			st.Hint = fmt.Sprintf("Tor has been stuck at %d%% for %v: the bridges may be blocked or down; try other bridges or another transport", st.Progress, wait)
			return
		}
		st.SuggestBridges = true
		st.Hint = fmt.Sprintf("Tor has been stuck at %d%% for %v: this network may block Tor; try bridges (Settings > Network > Use bridges)", st.Progress, wait)
	})
}

// armBootStallLocked (re)starts the timer that says bootstrap is stuck at
// progress. s.mu must be held.
func (s *Server) armBootStallLocked(progress int) {
	s.stopBootStallLocked()
	after := s.BootstrapStallAfter
	if after <= 0 {
		after = DefaultBootstrapStallAfter
	}
	s.bootStall = time.AfterFunc(after, func() { s.bootstrapStalled(progress, after) })
}

// stopBootStallLocked stops that timer. s.mu must be held.
func (s *Server) stopBootStallLocked() {
	if s.bootStall != nil {
		s.bootStall.Stop()
		s.bootStall = nil
	}
}

// bootstrapStalled runs when Tor has stayed at progress (past reaching a
// relay) for after: the status says so, and what to do.
func (s *Server) bootstrapStalled(progress int, after time.Duration) {
	s.updateStatus(func(st *Status) {
		if st.Ready || st.Progress != progress || st.Hint != "" {
			return
		}
		what := st.Summary
		if what == "" {
			what = "bootstrapping"
		}
		stuck := fmt.Sprintf("Tor has been stuck at %d%% (%s) for %v", progress, what, after.Round(time.Second))
		switch {
		case progress < handshakeDoneProgress && s.bridgesOn():
			// Connected, but no answer: a network that swallows Tor's
			// traffic looks like this.
			st.Hint = stuck + ": the bridge does not answer; it may be blocked or down. Try other bridges or " +
				"another transport, and check this computer's network connection."
		case progress < handshakeDoneProgress:
			st.SuggestBridges = true
			st.Hint = stuck + ": the relay does not answer; this network may block Tor. Try bridges " +
				"(Settings > Network > Use bridges), and check this computer's network connection."
		default:
			st.Hint = stuck + ": it reached the Tor network but cannot finish. Check this computer's network " +
				"connection and clock; if it stays stuck, try bridges (Settings > Network > Use bridges) or restart Tumble."
		}
		s.logf("tor: %s", st.Hint)
	})
}

// bridgesOn reports whether the embedded Tor uses bridges now. s.mu must
// be held.
func (s *Server) bridgesOn() bool { return s.emb != nil && s.emb.bridges != nil }

// handshakeDoneProgress is Tor's bootstrap percentage for "Handshake with
// a relay done" (tag handshake_done): below it, no relay has answered.
const handshakeDoneProgress = 15

// connDoneProgress is Tor's bootstrap percentage for "Connected to a
// relay" (tag conn_done).
const connDoneProgress = 10

// stopEmbedded asks Tor to exit, waits for it and removes an amnesic data
// directory.
func (s *Server) stopEmbedded(emb *embedded) error {
	var errs []error
	s.mu.Lock()
	if emb.hint != nil {
		emb.hint.Stop()
	}
	for id := range s.health.pending {
		s.forgetCircuitLocked(id)
	}
	s.mu.Unlock()
	select {
	case <-emb.procDone:
	default:
		emb.ctlMu.Lock()
		// HALT exits at once; Tor may close the connection before it
		// answers, so the reply's error is not interesting.
		emb.t.Control.Signal("HALT")
		emb.ctlMu.Unlock()
	}
	// Closing the owning control connection makes Tor exit too.
	emb.t.Control.Close()
	select {
	case <-emb.procDone:
	case <-time.After(10 * time.Second):
		errs = append(errs, errors.New("embedded Tor did not exit within 10 s"))
	}
	if emb.amnesic {
		if err := os.RemoveAll(emb.dataDir); err != nil {
			errs = append(errs, fmt.Errorf("remove amnesic data directory: %w", err))
		}
	}
	emb.lock.Release()
	return errors.Join(errs...)
}

// armHintLocked (re)starts the timer of the "stuck before a relay" hint.
// s.mu must be held.
func (s *Server) armHintLocked(emb *embedded, usingBridges bool) {
	if emb.hint != nil {
		emb.hint.Stop()
	}
	emb.hint = time.AfterFunc(s.bridgeHintAfter(), func() { s.stuckHint(usingBridges) })
}

// bridgesInUse returns the bridges the embedded Tor uses now.
func (s *Server) bridgesInUse(emb *embedded) []Bridge {
	s.mu.Lock()
	defer s.mu.Unlock()
	return emb.bridges
}
