package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cretz/bine/process"

	"github.com/tumble-voip/tumble/tor"
)

// torChoice is a Tor mode as the controller resolves it from the
// configuration or the settings.
type torChoice struct {
	mode  tor.Mode
	socks string // SOCKS address in tor.ModeSOCKS
}

// name returns the mode as TorStatus.Mode shows it.
func (t torChoice) name() string {
	switch t.mode {
	case tor.ModeOff:
		return string(TorOff)
	case tor.ModeSOCKS:
		return string(TorSOCKS)
	}
	return string(TorEmbedded)
}

// resolveTorChoice returns the Tor mode to use: the configuration's
// (--tor) if given, else the settings'. The settings' "embedded" maps to
// tor.ModeDefault, which on a Whonix workstation uses the gateway's SOCKS
// port instead of running Tor over Tor.
func resolveTorChoice(cfgMode string, n Network) (torChoice, error) {
	if cfgMode != "" {
		m, socks, err := tor.ParseMode(cfgMode)
		if err != nil {
			return torChoice{}, fmt.Errorf("app: Tor mode %q: %w", cfgMode, err)
		}
		return torChoice{mode: m, socks: socks}, nil
	}
	switch n.TorMode {
	case TorOff:
		return torChoice{mode: tor.ModeOff}, nil
	case TorSOCKS:
		return torChoice{mode: tor.ModeSOCKS, socks: n.SOCKSAddress}, nil
	case TorEmbedded:
		return torChoice{mode: tor.ModeDefault}, nil
	}
	return torChoice{}, fmt.Errorf("app: unknown Tor mode %q in the settings", n.TorMode)
}

// torServers holds the tor.Servers of this process, one per mode, created
// when first needed and started once (tor.Server.Start is idempotent, and
// the embedded Tor can run only once per process). Servers live until
// closeAll, so switching modes back and forth reuses them.
type torServers struct {
	ctx          context.Context // bounds starts: the controller's lifetime
	amnesic      bool
	dataDir      string // embedded Tor's data directory when not amnesic
	torrc        []string
	allowTesting bool
	creator      process.Creator
	logf         func(format string, args ...any)
	onStatus     func(srv *tor.Server, st tor.Status) // called for every status change

	mu      sync.Mutex
	bridges []string // bridge lines of the embedded Tor (setBridges)
	servers map[torChoice]*torEntry
	closed  bool
}

// torEntry is one server and the outcome of its start.
type torEntry struct {
	srv      *tor.Server
	started  chan struct{} // closed once Start returned
	startErr error         // valid after started is closed

	bmu     sync.Mutex // serialises syncBridges
	running bool       // Start succeeded
	bridges []string   // bridge lines the server's Tor has
}

// errTorClosed is returned by torServers.get after closeAll.
var errTorClosed = errors.New("app: Tor has been shut down")

// get returns the server for choice, creating it and starting it in the
// background on first use. Starting is bounded by the controller's
// lifetime, not by the caller's, so that cancelling one connection attempt
// does not leave a half-started Tor behind for all later ones.
func (t *torServers) get(choice torChoice) (*torEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errTorClosed
	}
	if e, ok := t.servers[choice]; ok {
		return e, nil
	}
	srv := &tor.Server{
		Mode:                choice.mode,
		SOCKSAddr:           choice.socks,
		Amnesic:             t.amnesic,
		Torrc:               append([]string(nil), t.torrc...),
		AllowTestingNetwork: t.allowTesting,
		Creator:             t.creator,
		Logf:                t.logf,
		UseBridges:          len(t.bridges) > 0 && choice.mode != tor.ModeOff,
		Bridges:             slices.Clone(t.bridges),
	}
	if !t.amnesic && t.dataDir != "" {
		srv.DataDir = t.dataDir
	}
	e := &torEntry{srv: srv, started: make(chan struct{}), bridges: srv.Bridges}
	if t.servers == nil {
		t.servers = make(map[torChoice]*torEntry)
	}
	t.servers[choice] = e
	if t.onStatus != nil {
		sub := srv.Subscribe(t.ctx)
		go func() {
			for st := range sub {
				t.onStatus(srv, st)
			}
		}()
	}
	go func() {
		defer close(e.started)
		if e.startErr = srv.Start(t.ctx); e.startErr != nil {
			return
		}
		e.bmu.Lock()
		e.running = true
		e.bmu.Unlock()
		// The bridges may have changed while Tor was starting.
		if err := t.syncBridges(e); err != nil && t.logf != nil {
			t.logf("%v", err)
		}
	}()
	return e, nil
}

// up waits until e's server has started and can carry connections, or ctx
// is done.
func (e *torEntry) up(ctx context.Context) (tor.Status, error) {
	select {
	case <-e.started:
	case <-ctx.Done():
		return e.srv.Status(), ctx.Err()
	}
	if e.startErr != nil {
		return e.srv.Status(), &torError{err: e.startErr, status: e.srv.Status()}
	}
	st, err := e.srv.Up(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, &torError{err: err, status: st}
	}
	return st, nil
}

// closeAll stops every server.
func (t *torServers) closeAll() error {
	t.mu.Lock()
	t.closed = true
	servers := t.servers
	t.servers = nil
	t.mu.Unlock()
	var errs []error
	for _, e := range servers {
		if err := e.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// torError reports that Tor could not be started or could not carry
// connections; it becomes ProblemTorFailed.
type torError struct {
	err    error
	status tor.Status
}

func (e *torError) Error() string {
	msg := e.err.Error()
	if w := torWarning(e.status); w != "" && !strings.Contains(msg, w) {
		msg += " (Tor said: " + w + ")"
	}
	return msg
}

func (e *torError) Unwrap() error { return e.err }

// torWarning returns Tor's own words about a stalled bootstrap: its warning
// and reason.
func torWarning(st tor.Status) string {
	var parts []string
	if st.Warning != "" {
		parts = append(parts, st.Warning)
	}
	if st.Reason != "" && st.Reason != st.Warning {
		parts = append(parts, "reason: "+st.Reason)
	}
	return strings.Join(parts, "; ")
}

// torDataDir returns the embedded Tor's persistent data directory inside
// the configuration directory.
func torDataDir(configDir string) string {
	if configDir == "" {
		return ""
	}
	return filepath.Join(configDir, "tor")
}
