package tornet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTor is the tor binary used when Options.Tor is empty (Debian's tor
// package).
const DefaultTor = "/usr/bin/tor"

// Network shape.
const (
	numAuthorities = 3
	numRelays      = 3
)

// Timeouts.
const (
	startTimeout = 3 * time.Minute // StartT's bound on Start
	probeTimeout = 30 * time.Second
	portAttempts = 5 // fresh authority ports tried when another process takes one
)

// Authority ports are chosen in [portLow, portHigh): below Linux's default
// ephemeral range (32768-60999), so that they do not collide with the source
// ports of the network's own connections.
const (
	portLow  = 20000
	portHigh = 32000
)

// Options configures a network. The zero value is ready to use.
type Options struct {
	// Tor is the tor binary. If empty, DefaultTor. tor-gencert must be in
	// the same directory.
	Tor string

	// Bridge adds an unpublished bridge relay whose only client-facing
	// listener is an obfs4 server transport (Obfs4Proxy) on BridgeHost;
	// Network.BridgeLine returns its bridge line.
	Bridge bool
	// Profile names the emulated links of the network ("fast", "typical",
	// "bad"; see ProfileByName and Profile); empty for plain loopback.
	// Every authority and relay then sits behind a DelayProxy: it
	// advertises the proxy's port and listens on another, so every OR
	// connection, a client's or onion service's link to its guard
	// included, crosses one proxy.
	Profile string
}

// Obfs4Proxy is the obfs4 server transport of the bridge (Debian's
// obfs4proxy package).
const Obfs4Proxy = "/usr/bin/obfs4proxy"

// BridgeHost is the loopback address of the bridge's obfs4 listener. Every
// other listener of the network is on 127.0.0.1, so a connection to
// BridgeHost can only be a connection to the bridge.
const BridgeHost = "127.0.0.2"

// A Network is a running private Tor network. Its methods may be called
// from several goroutines.
type Network struct {
	dir            string
	tor, gencert   string
	emptyTorrc     string
	password       string
	hashedPassword string
	dirAuthorities []string // DirAuthority lines
	profile        *Profile // nil: plain loopback

	nodes         []*node // authorities, relays, then onion host and client, then the bridge
	onion, cli    *node
	bridge        *node  // nil without Options.Bridge
	bridgeLine    string // its obfs4 bridge line
	clientSOCKS   string
	clientControl string
	onionSOCKS    string
	clientCtl     *controlConn
	onionCtl      *controlConn // subscribed to HS_DESC events

	logMu    sync.Mutex
	started  time.Time
	progress *os.File // tornet.log: what Start and AddOnionService did, when

	withBridge bool

	mu     sync.Mutex
	closed bool
}

// progressLogName is the file in the network directory where the network
// logs its own progress, with times relative to the start.
const progressLogName = "tornet.log"

// logf appends a line to the progress log.
func (n *Network) logf(format string, args ...any) {
	n.logMu.Lock()
	defer n.logMu.Unlock()
	if n.progress == nil {
		return
	}
	fmt.Fprintf(n.progress, "%8.3fs "+format+"\n", append([]any{time.Since(n.started).Seconds()}, args...)...)
}

// Available returns an error that explains why Start cannot run a network
// with opts: tor or tor-gencert is missing.
func Available(opts Options) error {
	tor, gencert := binaries(opts)
	for _, b := range []string{tor, gencert} {
		if fi, err := os.Stat(b); err != nil {
			return fmt.Errorf("tornet: %w (install Debian's tor package)", err)
		} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("tornet: %s is not an executable file", b)
		}
	}
	if opts.Bridge {
		if _, err := os.Stat(Obfs4Proxy); err != nil {
			return fmt.Errorf("tornet: bridge: %w (install Debian's obfs4proxy package)", err)
		}
	}
	return nil
}

func binaries(opts Options) (tor, gencert string) {
	tor = opts.Tor
	if tor == "" {
		tor = DefaultTor
	}
	return tor, filepath.Join(filepath.Dir(tor), "tor-gencert")
}

// StartT starts a network for the test t in a directory from t.TempDir and
// closes it when the test and its subtests end; if the test failed, the tors'
// logs are written with t.Log.
//
// If tor is missing, StartT skips the test, or fails it if the environment
// variable TUMBLE_REQUIRE_SERVERS is 1 (as in make test). With -short
// (make check) it skips the test: Tor networks are for the full suite.
func StartT(t testing.TB, opts Options) *Network {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a private Tor network; skipped with -short")
	}
	if err := Available(opts); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatalf("%v (TUMBLE_REQUIRE_SERVERS=1)", err)
		}
		t.Skipf("%v; set TUMBLE_REQUIRE_SERVERS=1 to fail instead of skipping", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	n, err := start(ctx, t.TempDir(), opts)
	if err != nil {
		if n != nil {
			t.Logf("tornet: logs of the failed network:\n%s", n.Logs())
		}
		t.Fatal(err)
	}
	n.LogOnFailure(t) // registered first: runs after Close
	t.Cleanup(func() {
		if err := n.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("tornet: %v", err)
		}
	})
	return n
}

// LogOnFailure makes the network's logs part of tb's log if tb has failed
// when its cleanup runs. StartT does it for its own network; each test of
// a network shared by several calls it.
func (n *Network) LogOnFailure(tb testing.TB) {
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("tornet: logs of the network in %s:\n%s", n.Dir(), n.Logs())
		}
	})
}

// Start starts a network whose tors keep their files in dir (created if
// needed; the caller removes it) and returns once the client and
// onion-service tors have bootstrapped. ctx bounds the start only: the
// network runs until Close. On failure every process started is gone.
func Start(ctx context.Context, dir string, opts Options) (*Network, error) {
	n, err := start(ctx, dir, opts)
	if err != nil {
		if n != nil {
			err = fmt.Errorf("%w\n%s", err, n.logs(failureLogLines))
		}
		return nil, err
	}
	return n, nil
}

// start is Start, but on failure it also returns the closed network, if one
// was set up, for its logs.
func start(ctx context.Context, dir string, opts Options) (*Network, error) {
	if err := Available(opts); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("tornet: network directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tornet: network directory: %w", err)
	}
	n := &Network{dir: dir, password: rand.Text(), started: time.Now(), withBridge: opts.Bridge}
	n.tor, n.gencert = binaries(opts)
	if opts.Profile != "" {
		p, err := ProfileByName(opts.Profile)
		if err != nil {
			return nil, err
		}
		n.profile = &p
	}
	if n.progress, err = os.OpenFile(filepath.Join(dir, progressLogName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("tornet: %w", err)
	}
	if err := n.run(ctx); err != nil {
		n.logf("start failed: %v", err)
		n.Close()
		return n, fmt.Errorf("tornet: %w", err)
	}
	n.logf("network ready: client SOCKS %s, control %s", n.clientSOCKS, n.clientControl)
	return n, nil
}

// setup creates the network's files and directories, but no keys.
func (n *Network) setup() error {
	var salt [8]byte
	rand.Read(salt[:])
	n.hashedPassword = hashControlPassword(n.password, salt)
	n.emptyTorrc = filepath.Join(n.dir, emptyTorrcName)
	if err := os.WriteFile(n.emptyTorrc, nil, 0o600); err != nil {
		return err
	}
	add := func(name string, kind nodeKind) *node {
		nd := &node{name: name, kind: kind, dir: filepath.Join(n.dir, name)}
		n.nodes = append(n.nodes, nd)
		return nd
	}
	for i := range numAuthorities {
		add("a"+strconv.Itoa(i), authority)
	}
	for i := range numRelays {
		add("r"+strconv.Itoa(i), relay)
	}
	n.onion = add("onion", onionHost)
	n.cli = add("client", client)
	if n.withBridge {
		n.bridge = add("b0", bridge)
	}
	for _, nd := range n.nodes {
		if err := os.MkdirAll(nd.dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// run generates keys, starts every tor and waits until the network is
// usable.
func (n *Network) run(ctx context.Context) error {
	if err := n.setup(); err != nil {
		return err
	}
	auths := n.nodes[:numAuthorities]
	relays := n.nodes[:numAuthorities+numRelays] // authorities are relays too
	servers := relays
	if n.bridge != nil {
		servers = append(slices.Clip(relays), n.bridge)
	}
	v3ids := make([]string, len(auths))
	fprs := make([]string, len(auths))
	errs := make([]error, len(auths))
	var wg sync.WaitGroup
	for i, nd := range auths {
		wg.Go(func() {
			var err error
			if fprs[i], err = n.relayKeys(ctx, nd); err == nil {
				v3ids[i], err = n.authorityCert(ctx, nd)
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", nd.name, err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("authority keys: %w", ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("authority keys: %w", err)
	}
	n.logf("authority keys created")
	var inner int // hidden ORPorts to pick
	if n.profile != nil {
		for i, nd := range relays {
			var err error
			if nd.proxy, err = NewDelayProxy(*n.profile, uint64(i), ""); err != nil {
				return err
			}
		}
		inner = len(relays)
		n.logf("network profile %q: a delay proxy in front of each relay", n.profile.Name)
	}

	for attempt := 1; ; attempt++ {
		ports, err := pickPorts("127.0.0.1", 2*len(auths)+inner)
		if err != nil {
			return err
		}
		if n.bridge != nil {
			p, err := pickPorts(BridgeHost, 1)
			if err != nil {
				return err
			}
			n.bridge.orPort = p[0] // the obfs4 port
		}
		if inner > 0 {
			for i, nd := range relays {
				nd.orPort, nd.innerORPort = nd.proxy.Port(), ports[2*len(auths)+i]
				nd.proxy.SetTarget(net.JoinHostPort("127.0.0.1", strconv.Itoa(nd.innerORPort)))
			}
		}
		n.dirAuthorities = n.dirAuthorities[:0]
		for i, nd := range auths {
			nd.dirPort = ports[2*i+1]
			if nd.innerORPort == 0 {
				nd.orPort = ports[2*i]
			}
			n.dirAuthorities = append(n.dirAuthorities, fmt.Sprintf(
				"DirAuthority %s orport=%d no-v2 v3ident=%s 127.0.0.1:%d %s",
				nd.name, nd.orPort, v3ids[i], nd.dirPort, fprs[i]))
		}
		for _, nd := range n.nodes {
			if err := n.writeTorrc(nd); err != nil {
				return fmt.Errorf("write torrc: %w", err)
			}
		}
		n.logf("attempt %d: authority ports %v; launching authorities and relays", attempt, ports)
		err = n.launchAll(ctx, servers)
		if err == nil {
			break
		}
		n.logf("attempt %d failed: %v", attempt, err)
		for _, nd := range servers {
			nd.kill()
		}
		if !errors.Is(err, errPortInUse) || attempt == portAttempts {
			return err
		}
	}

	n.logf("authorities and relays listening")
	if err := n.waitConsensus(ctx); err != nil {
		return err
	}
	n.logf("consensus lists every relay as Running")
	if err := n.waitCaches(ctx, servers, len(relays)); err != nil {
		return err
	}
	if n.bridge != nil {
		if err := n.waitBridgeLine(ctx); err != nil {
			return err
		}
		n.logf("bridge ready: %s", n.bridgeLine)
	}
	n.logf("every relay has every microdescriptor; launching onion-service and client tors")

	if err := n.launchAll(ctx, []*node{n.onion, n.cli}); err != nil {
		return err
	}
	var err error
	n.clientControl = n.cli.controlAddr
	if n.onionCtl, err = dialControl(ctx, n.onion.controlAddr, n.password); err != nil {
		return err
	}
	if n.clientCtl, err = dialControl(ctx, n.clientControl, n.password); err != nil {
		return err
	}
	for _, nd := range []*node{n.onion, n.cli} {
		c := n.onionCtl
		if nd == n.cli {
			c = n.clientCtl
		}
		if err := waitBootstrapped(ctx, c); err != nil {
			return fmt.Errorf("tor %s: %w", nd.name, err)
		}
		n.logf("tor %s bootstrapped", nd.name)
	}
	if n.onionSOCKS, err = socksListener(ctx, n.onionCtl); err != nil {
		return err
	}
	if n.clientSOCKS, err = socksListener(ctx, n.clientCtl); err != nil {
		return err
	}
	if _, err := n.onionCtl.command(ctx, "SETEVENTS HS_DESC"); err != nil {
		return err
	}
	return nil
}

// launchAll launches nodes and waits until each listens.
func (n *Network) launchAll(ctx context.Context, nodes []*node) error {
	for _, nd := range nodes {
		if err := n.launch(nd); err != nil {
			return err
		}
	}
	for _, nd := range nodes {
		if _, err := nd.waitListening(ctx); err != nil {
			return err
		}
	}
	return nil
}

// waitConsensus waits until every authority serves a consensus that lists
// every authority and relay as Running. Client tors started earlier could
// bootstrap on a consensus with a single relay and stall for about 40
// seconds until they fetch a better one.
func (n *Network) waitConsensus(ctx context.Context) error {
	var want []string
	for _, nd := range n.nodes {
		if nd.kind == authority || nd.kind == relay {
			want = append(want, nd.name)
		}
	}
	hc := newDirClient()
	defer hc.CloseIdleConnections()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := errors.New("no consensus fetched yet")
	lastLogged := ""
	for {
		ready := true
		for _, nd := range n.nodes {
			if err := nd.exited(); err != nil {
				return err
			}
			if nd.kind != authority || !ready {
				continue
			}
			fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			names, err := runningRelays(fctx, hc, net.JoinHostPort("127.0.0.1", strconv.Itoa(nd.dirPort)))
			cancel()
			switch {
			case err != nil:
				ready, last = false, err
			case !containsAll(names, want):
				ready = false
				last = fmt.Errorf("authority %s: consensus lists %d of %d relays as Running (%s)",
					nd.name, len(names), len(want), strings.Join(names, " "))
			}
		}
		if ready {
			return nil
		}
		if msg := last.Error(); msg != lastLogged {
			n.logf("consensus: %s", msg)
			lastLogged = msg
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for a consensus listing all relays: %w (last: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// waitCaches waits until each of the relays, which are all directory
// caches, holds a microdescriptor for every relay. A client that bootstraps
// earlier can ask a cache that has yet to fetch them, get 404, and wait 10
// seconds (tor's GREEDY_DESCRIPTOR_RETRY_INTERVAL) before it tries another.
//
// Relays asked the authorities for a consensus before there was one and back
// off exponentially, so left alone they fetch the complete one up to 20
// seconds late. SIGNAL RELOAD (SIGHUP) resets their download schedules and
// makes them fetch at once.
func (n *Network) waitCaches(ctx context.Context, relays []*node, want int) error {
	conns := make([]*controlConn, len(relays))
	nudged := make([]time.Time, len(relays))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		missing := ""
		for i, nd := range relays {
			if err := nd.exited(); err != nil {
				return err
			}
			if conns[i] == nil {
				c, err := dialControl(ctx, nd.controlAddr, n.password)
				if err != nil {
					return fmt.Errorf("tor %s: %w", nd.name, err)
				}
				conns[i] = c
			}
			mds, err := conns[i].getInfo(ctx, "md/all")
			if err != nil {
				return fmt.Errorf("tor %s: %w", nd.name, err)
			}
			have := strings.Count(mds, "ntor-onion-key ")
			if have >= want {
				continue
			}
			missing += fmt.Sprintf(" %s:%d/%d", nd.name, have, want)
			if time.Since(nudged[i]) > 3*time.Second {
				if _, err := conns[i].command(ctx, "SIGNAL RELOAD"); err != nil {
					return fmt.Errorf("tor %s: %w", nd.name, err)
				}
				nudged[i] = time.Now()
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for relays to fetch every microdescriptor (have:%s): %w", missing, ctx.Err())
		case <-tick.C:
		}
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// socksListener returns the address of the SocksPort of the tor at c.
func socksListener(ctx context.Context, c *controlConn) (string, error) {
	v, err := c.getInfo(ctx, "net/listeners/socks")
	if err != nil {
		return "", err
	}
	addr := strings.Trim(strings.Fields(v + " ")[0], `"`)
	if err := checkLoopback(addr); err != nil {
		return "", fmt.Errorf("SocksPort: %w", err)
	}
	return addr, nil
}

// pickPorts returns k distinct ports in [portLow, portHigh) that are free on
// host at the time of the call. Another process may still take one before
// tor binds it; tor then exits and Start tries new ports.
func pickPorts(host string, k int) ([]int, error) {
	var ports []int
	for tries := 0; len(ports) < k; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("no %d free ports in [%d, %d) on %s", k, portLow, portHigh, host)
		}
		p := portLow + mathrand.IntN(portHigh-portLow)
		if slices.Contains(ports, p) {
			continue
		}
		l, err := net.Listen("tcp4", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, p)
	}
	return ports, nil
}

// SOCKSAddr returns the address ("127.0.0.1:port") of the standalone client
// tor's SocksPort. It isolates circuits by SOCKS username and password
// (IsolateSOCKSAuth) and answers onion-service failures with Tor's extended
// SOCKS5 error codes (0xF0-0xF7).
func (n *Network) SOCKSAddr() string { return n.clientSOCKS }

// ControlAddr returns the address ("127.0.0.1:port") of the standalone client
// tor's control port. Authenticate with ControlPassword.
func (n *Network) ControlAddr() string { return n.clientControl }

// ControlPassword returns the password of every control port in the network
// (AUTHENTICATE "password").
func (n *Network) ControlPassword() string { return n.password }

// ClientTorrc returns the torrc lines a client tor needs to use this network
// instead of the real Tor network: TestingTorNetwork 1, the network's
// DirAuthority lines and the client settings its other tors use, among them
// UseEntryGuards 0, without which a client can stall for tens of seconds on
// a young network this small. Each line is "Option value".
func (n *Network) ClientTorrc() []string {
	lines := []string{
		"TestingTorNetwork 1",
		"PathsNeededToBuildCircuits 0.67",
		"ClientUseIPv6 0",
		"UseEntryGuards 0", // see commonTorrc
	}
	return append(lines, n.dirAuthorities...)
}

// Dir returns the network's directory. Each tor has a subdirectory named
// after it (a0-a2 authorities, r0-r2 relays, onion, client) holding its
// torrc, data and logs.
func (n *Network) Dir() string { return n.dir }

// logLines is how much of each tor's log Logs returns; failureLogLines is
// how much Start puts in its error.
const (
	logLines        = 60
	failureLogLines = 8
)

// Logs returns the network's own progress log and the end of every tor's
// log, for debugging a failed test.
func (n *Network) Logs() string { return n.logs(logLines) }

// progressLog returns the network's own progress log.
func (n *Network) progressLog() string {
	data, _ := os.ReadFile(filepath.Join(n.dir, progressLogName))
	return string(data)
}

func (n *Network) logs(lines int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s:\n%s", progressLogName, n.progressLog())
	for _, nd := range n.nodes {
		b.WriteString(nd.log(lines))
	}
	return b.String()
}

// Close kills every tor of the network and waits for them to exit. It reports
// tors that had exited on their own before. Closing a network a second time
// returns net.ErrClosed.
func (n *Network) Close() error {
	n.mu.Lock()
	closed := n.closed
	n.closed = true
	n.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	for _, c := range []*controlConn{n.clientCtl, n.onionCtl} {
		if c != nil {
			c.Close()
		}
	}
	var errs []error
	for _, nd := range n.nodes {
		if err := nd.exited(); err != nil {
			errs = append(errs, err)
		}
		nd.kill()
		if nd.proxy != nil {
			nd.proxy.Close()
		}
	}
	n.logf("closed")
	n.logMu.Lock()
	if n.progress != nil {
		n.progress.Close()
		n.progress = nil
	}
	n.logMu.Unlock()
	return errors.Join(errs...)
}

// LinkDelays returns, for each authority and relay behind a delay proxy
// (see Options.Profile), the one-way delay drawn for each link it accepted
// so far, by tor name. It is empty without a profile.
func (n *Network) LinkDelays() map[string][]time.Duration {
	m := map[string][]time.Duration{}
	for _, nd := range n.nodes {
		if nd.proxy != nil {
			m[nd.name] = nd.proxy.LinkDelays()
		}
	}
	return m
}

// Profile returns the network's link profile, and false for plain loopback.
func (n *Network) Profile() (Profile, bool) {
	if n.profile == nil {
		return Profile{}, false
	}
	return *n.profile, true
}
