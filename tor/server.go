package tor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/cretz/bine/process"
)

// DefaultConnectTimeout bounds a Dial through Tor when
// Server.ConnectTimeout is zero. Reaching an onion service takes a
// descriptor fetch and introduction and rendezvous circuits; on a slow
// network that can take a minute or more.
const DefaultConnectTimeout = 120 * time.Second

// DefaultBootstrapStallAfter is Server.BootstrapStallAfter's default. Past
// "Connected to a relay" each step takes seconds even on a slow network;
// a network that swallows Tor's traffic leaves it at 10% for good.
const DefaultBootstrapStallAfter = time.Minute

// DefaultBridgeHintAfter is Server.BridgeHintAfter's default: a Tor that
// has not reached a relay within it is probably blocked.
const DefaultBridgeHintAfter = 30 * time.Second

// Server is a connection to the Tor network for this program: an embedded
// Tor, an existing Tor's SOCKS port, or (explicitly) no Tor at all.
//
// The exported fields are the configuration. They may be changed until the
// first call of a method and must not be changed afterwards. The zero
// Server is usable: it runs the embedded Tor (if Creator is set) with its
// data under the user's configuration directory.
//
// Start starts it; Up waits until it can carry connections; Dial and the
// Dialers returned by Isolated connect through it; Listen publishes onion
// services; Close stops everything.
type Server struct {
	// Mode says how to reach Tor. The zero value, ModeDefault, means the
	// embedded Tor, or the gateway's SOCKS port on a Whonix workstation.
	Mode Mode

	// SOCKSAddr is the address (IP:PORT) of an existing Tor's SOCKS port
	// in ModeSOCKS, where it is required. It is ignored in other modes.
	SOCKSAddr string

	// DataDir is the embedded Tor's data directory (consensus cache, guard
	// state). If empty, the directory "tumble/tor" under
	// os.UserConfigDir is used. Ignored when Amnesic is set.
	DataDir string

	// Amnesic, if true, gives the embedded Tor a new private temporary
	// directory instead of DataDir, removed again by Close, so that nothing
	// persists (for disposable systems). Every start then bootstraps from
	// scratch.
	Amnesic bool

	// Torrc holds extra torrc lines for the embedded Tor, one option per
	// element (e.g. "UseBridges 1"). The Server's own SocksPort and
	// ControlPort settings take precedence over lines setting those.
	// If nil, none.
	Torrc []string

	// AllowTestingNetwork permits Torrc to enable TestingTorNetwork. It is
	// false by default, and Start then refuses such a configuration, so a
	// stray test setting can never weaken a real Tor. Set it only when the
	// user explicitly supplied the torrc lines (tumble-cli --torrc FILE).
	// Extra torrc lines are the only way to point Tor at a test network.
	AllowTestingNetwork bool

	// UseBridges makes the embedded Tor reach the Tor network only through
	// the bridges in Bridges (for networks that block Tor). Bridges apply
	// to the embedded Tor only: in socks and off modes Start refuses them
	// with an error wrapping ErrBridgesNotHere.
	UseBridges bool

	// Bridges are the bridge lines used when UseBridges is set, one per
	// element, as ParseBridgeLines accepts them (e.g. "obfs4 IP:PORT
	// FINGERPRINT cert=... iat-mode=0", or DefaultSnowflakeBridges).
	// Start fails if any line is bad, naming each bad line.
	Bridges []string

	// TransportPaths maps a pluggable transport name ("obfs4",
	// "snowflake", "webtunnel") to the client program Tor runs for it as a
	// managed proxy. A transport not in the map is looked up on PATH and in
	// /usr/bin (obfs4proxy or lyrebird, snowflake-client,
	// webtunnel-client). If nil, all are looked up.
	TransportPaths map[string]string

	// BridgeHintAfter is how long the embedded Tor may stay before "Connected
	// to a relay" (bootstrap 10%) before Status.Hint suggests bridges (or,
	// with bridges, other bridges). If zero, DefaultBridgeHintAfter.
	BridgeHintAfter time.Duration

	// BootstrapStallAfter is how long the embedded Tor may stay at one
	// bootstrap percentage past "Connected to a relay" (10%) before
	// Status.Hint says that it is stuck and what to do. (Before 10%,
	// BridgeHintAfter applies.) If zero, DefaultBootstrapStallAfter.
	BootstrapStallAfter time.Duration

	// CircuitStallAfter is how long a circuit of the embedded Tor may stay
	// unbuilt, with no other circuit built meanwhile, before
	// Status.NetworkDown says that Tor has lost the network. If zero,
	// DefaultCircuitStallAfter.
	CircuitStallAfter time.Duration

	// Creator runs the embedded Tor: libtor.Creator() from
	// github.com/tumble-voip/tumble/tor/libtor in builds with -tags libtor.
	// If nil, Start fails in embedded mode with ErrNoEmbeddedTor.
	Creator process.Creator

	// ConnectTimeout bounds each Dial through Tor, SOCKS handshake and
	// onion service lookup included. If zero, DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// Logf, if non-nil, receives the Server's log messages (start, stop,
	// bootstrap progress). If nil, nothing is logged.
	Logf func(format string, args ...any)

	// lookPath finds transport programs; nil means lookProgram. Tests only.
	lookPath func(string) (string, error)
	// rootDir is the file system root for the Whonix check; "" means "/".
	// Tests only.
	rootDir string
	// netDialer opens every TCP connection the Server makes (to the SOCKS
	// port, or directly in ModeOff). Tests set its Control to record the
	// addresses. If nil, a zero net.Dialer.
	netDialer *net.Dialer

	initOnce  sync.Once
	startOnce sync.Once
	startErr  error

	mu         sync.Mutex
	started    bool
	closed     bool
	stopErr    error // why the Server stopped; set with stopped closed
	failing    bool  // a failed start is stopping Tor again
	mode       Mode  // effective mode
	socksAddr  string
	status     Status
	subs       map[chan Status]struct{}
	ready      chan struct{} // closed when ready
	stopped    chan struct{} // closed when stopped (Close or Tor exit)
	defaultIso Isolation
	emb        *embedded
	listeners  map[*OnionListener]struct{}
	health     health      // the embedded Tor's network after bootstrap (health.go)
	bootStall  *time.Timer // fires bootstrapStalled; nil when not armed
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.subs = make(map[chan Status]struct{})
		s.ready = make(chan struct{})
		s.stopped = make(chan struct{})
		s.listeners = make(map[*OnionListener]struct{})
		s.defaultIso = NewIsolation()
	})
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Server) root() string {
	if s.rootDir == "" {
		return "/"
	}
	return s.rootDir
}

func (s *Server) dialer() *net.Dialer {
	if s.netDialer != nil {
		return s.netDialer
	}
	return &net.Dialer{}
}

func (s *Server) connectTimeout() time.Duration {
	if s.ConnectTimeout > 0 {
		return s.ConnectTimeout
	}
	return DefaultConnectTimeout
}

func (s *Server) bridgeHintAfter() time.Duration {
	if s.BridgeHintAfter > 0 {
		return s.BridgeHintAfter
	}
	return DefaultBridgeHintAfter
}

// IsProtected reports whether connections go through Tor: false only in
// ModeOff. User interfaces should show unprotected connections as such.
func (s *Server) IsProtected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return s.mode != ModeOff
	}
	return s.Mode != ModeOff
}

// Start starts the Server: in embedded mode it starts Tor (network enabled
// once configured) without waiting for it to bootstrap; use Up or Subscribe
// to follow that. ctx bounds only the start itself.
//
// Start is idempotent: later calls return the first call's result. The
// embedded Tor can be started once per process; see package libtor.
func (s *Server) Start(ctx context.Context) error {
	s.init()
	s.startOnce.Do(func() {
		s.startErr = s.start(ctx)
		if s.startErr != nil {
			s.logf("tor: start failed: %v", s.startErr)
			s.setStopped(s.startErr)
		}
	})
	if s.startErr == nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return fmt.Errorf("tor: %w", net.ErrClosed)
		}
	}
	return s.startErr
}

func (s *Server) start(ctx context.Context) error {
	mode, socksAddr, err := resolveMode(s.Mode, s.SOCKSAddr, s.root())
	if err != nil {
		return err
	}
	if err := checkBridgesMode(s.UseBridges, mode, socksAddr); err != nil {
		return err
	}
	s.mu.Lock()
	s.mode, s.socksAddr = mode, socksAddr
	s.status.Mode = mode
	s.mu.Unlock()

	switch mode {
	case ModeOff:
		s.logf("tor: mode off: connections go out directly, NOT through Tor")
		s.setReady("off", "Tor is off: direct connections")
	case ModeSOCKS:
		s.logf("tor: using the Tor SOCKS port at %s", socksAddr)
		s.updateStatus(func(st *Status) { st.Summary = "Using the Tor SOCKS port at " + socksAddr })
	case ModeEmbedded:
		if err := s.startEmbedded(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	return nil
}

// Up starts the Server if needed and waits until it can carry connections
// (embedded: bootstrap 100%; socks: the SOCKS port answers; off: at once),
// or until ctx is done or Tor stops. It returns the Status at that point.
func (s *Server) Up(ctx context.Context) (Status, error) {
	if err := s.Start(ctx); err != nil {
		return s.Status(), err
	}
	s.mu.Lock()
	mode, addr := s.mode, s.socksAddr
	s.mu.Unlock()
	if mode == ModeSOCKS {
		select {
		case <-s.ready:
		default:
			if err := s.probeSOCKS(ctx, addr); err != nil {
				return s.Status(), err
			}
			s.setReady("socks", "Using the Tor SOCKS port at "+addr)
		}
	}
	select {
	case <-s.stopped: // checked first: a stopped Server was ready once
		st := s.Status()
		return st, st.Err
	default:
	}
	select {
	case <-s.ready:
		return s.Status(), nil
	case <-s.stopped:
		st := s.Status()
		return st, st.Err
	case <-ctx.Done():
		st := s.Status()
		return st, fmt.Errorf("tor: waiting for Tor (%v): %w", st, ctx.Err())
	}
}

// probeSOCKS checks that a SOCKS5 server that accepts username/password
// authentication listens at addr.
func (s *Server) probeSOCKS(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := s.dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("tor: %w: connect to %s: %w", ErrSOCKSUnreachable, addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := socksProbe(conn); err != nil {
		return fmt.Errorf("tor: SOCKS port %s: %w", addr, err)
	}
	return nil
}

// Status returns the current status.
func (s *Server) Status() Status {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Subscribe returns a channel that delivers the current Status at once and
// then every change, until ctx is done or the Server stops (after the final
// Status, whose Err is set), when it is closed. A slow reader does not hold
// the Server up: it misses intermediate values but always gets the latest.
func (s *Server) Subscribe(ctx context.Context) <-chan Status {
	s.init()
	ch := make(chan Status, 1)
	s.mu.Lock()
	ch <- s.status
	if s.subs == nil { // stopped
		close(ch)
		s.mu.Unlock()
		return ch
	}
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
	})
	return ch
}

// updateStatus applies f to the status and publishes the result, if it
// changed anything.
func (s *Server) updateStatus(f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil { // stopped: status is final
		return
	}
	next := s.status
	f(&next)
	if next == s.status {
		return
	}
	s.status = next
	s.broadcastLocked()
}

// broadcastLocked sends the status to every subscriber, replacing a value
// the subscriber has not read yet. s.mu must be held.
func (s *Server) broadcastLocked() {
	for ch := range s.subs {
		select {
		case ch <- s.status:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- s.status:
			default:
			}
		}
	}
}

// setReady marks the Server ready to dial; tag and summary describe the
// final phase.
func (s *Server) setReady(tag, summary string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		return
	}
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
	s.stopBootStallLocked()
	s.status.Ready = true
	s.status.Progress = 100
	s.status.Tag, s.status.Summary = tag, summary
	s.status.Warning, s.status.Reason, s.status.Recommendation = "", "", ""
	s.status.Hint, s.status.SuggestBridges, s.status.BridgeFailure = "", false, ""
	s.broadcastLocked()
}

// setStopped records that the Server has stopped because of cause and
// publishes the final status. Only the first call has an effect.
func (s *Server) setStopped(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		return
	}
	s.stopErr = cause
	s.stopBootStallLocked()
	close(s.stopped)
	s.status.Ready = false
	s.status.Err = cause
	if !strings.HasPrefix(cause.Error(), "tor: ") {
		s.status.Err = fmt.Errorf("tor: %w", cause)
	}
	s.broadcastLocked()
	for ch := range s.subs {
		close(ch)
	}
	s.subs = nil
}

// Close stops the Server: it closes onion listeners, stops the embedded Tor
// and removes an amnesic data directory. Established connections through
// Tor break. A second Close returns an error wrapping net.ErrClosed.
func (s *Server) Close() error {
	s.init()
	// Keep a Start that has not begun from ever starting; wait for one in
	// progress to finish.
	s.startOnce.Do(func() { s.startErr = fmt.Errorf("tor: %w", net.ErrClosed) })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("tor: %w", net.ErrClosed)
	}
	s.closed = true
	ls := make([]*OnionListener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	emb := s.emb
	s.mu.Unlock()

	var errs []error
	for _, l := range ls {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if emb != nil {
		if err := s.stopEmbedded(emb); err != nil {
			errs = append(errs, err)
		}
	}
	s.setStopped(net.ErrClosed)
	if len(errs) > 0 {
		return fmt.Errorf("tor: close: %w", errors.Join(errs...))
	}
	s.logf("tor: closed")
	return nil
}
