//go:build libtor

package tor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor/libtor"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// The embedded Tor can start once per process, so TestMain starts one
// private network and one embedded Server for the whole package, and every
// embedded test uses them.
var (
	embServer     *Server
	embeddedErr   error // why embServer is nil
	embeddedStart time.Time
	bootstrapTime time.Duration // Start to Up

	statusMu    sync.Mutex
	statusLog   []Status      // every Status the Server published, in order
	statusReady chan struct{} // closed when statusLog has a ready Status
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	if os.Getenv(setBridgesChildEnv) != "" || os.Getenv(stuckChildEnv) != "" {
		// A child of TestEmbeddedSetBridges or TestEmbeddedStuckBootstrap:
		// it brings its own Tor.
		return m.Run()
	}
	// The network has an obfs4 bridge for TestEmbeddedSetBridges.
	opts := tornet.Options{Bridge: true}
	if err := tornet.Available(opts); err != nil {
		embeddedErr = err
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "tumble-tornet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	n, err := tornet.Start(ctx, dir, opts)
	if err != nil {
		embeddedErr = fmt.Errorf("private Tor network: %w", err)
		return m.Run()
	}
	defer func() {
		// A tor of the network that exited before this (a relay lost
		// mid-run makes onion connects hang) fails the run.
		if err := n.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: private Tor network: %v\n", err)
			code = 1
		}
	}()
	fmt.Printf("FIGURE private network start %.1f s\n", time.Since(start).Seconds())
	sharedNet = n

	// The torrc lines from the harness are what keeps this Tor off the
	// real network; refuse to go on without them.
	torrc := n.ClientTorrc()
	if !torrcHasKey(torrc, "TestingTorNetwork") || !torrcHasKey(torrc, "DirAuthority") {
		fmt.Fprintln(os.Stderr, "tornet.ClientTorrc lacks TestingTorNetwork/DirAuthority: refusing to start an embedded Tor that could reach the real network")
		return 1
	}
	embServer = &Server{
		Mode:                ModeEmbedded,
		Amnesic:             true,
		Torrc:               torrc,
		AllowTestingNetwork: true,
		Creator:             libtor.Creator(),
		ConnectTimeout:      2 * time.Minute,
		rootDir:             dir, // never a Whonix workstation
	}
	subCtx, stopSub := context.WithCancel(context.Background())
	statusReady = make(chan struct{})
	ch := embServer.Subscribe(subCtx)
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		var readyOnce sync.Once
		for st := range ch {
			statusMu.Lock()
			statusLog = append(statusLog, st)
			statusMu.Unlock()
			if st.Ready {
				readyOnce.Do(func() { close(statusReady) })
			}
		}
	}()
	embeddedStart = time.Now()
	if err := embServer.Start(ctx); err != nil {
		embeddedErr = err
		embServer = nil
	} else {
		// Fail closed while bootstrapping: Tor is at a few percent now.
		_, earlyDialErr = embServer.Dial(ctx, "tcp", earlyTarget(ctx))
		earlyDialReady = embServer.Status().Ready
		if _, err := embServer.Up(ctx); err != nil {
			embeddedErr = err
		}
		bootstrapTime = time.Since(embeddedStart)
	}
	code = m.Run()
	if embServer != nil {
		if err := closeChecks(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: embedded Tor close: %v\n", err)
			code = 1
		}
	}
	stopSub()
	<-subDone
	return code
}

var (
	earlyDialErr   error // Dial right after Start
	earlyDialReady bool  // whether Tor was (improbably) ready by then
	earlyAccepted  = make(chan struct{}, 1)
)

// earlyTarget returns the address of a listener that records whether
// anything ever connects to it.
func earlyTarget(ctx context.Context) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:1"
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() {
		if c, err := ln.Accept(); err == nil {
			earlyAccepted <- struct{}{}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// closeChecks closes the embedded Server and checks what must hold after:
// Dial fails closed, the amnesic data directory is gone, a second Close
// reports net.ErrClosed.
func closeChecks(ctx context.Context) error {
	emb, err := embServer.control()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := embServer.Close(); err != nil {
		return err
	}
	fmt.Printf("FIGURE embedded Tor Close %.3f s\n", time.Since(start).Seconds())
	if _, err := os.Stat(emb.dataDir); !os.IsNotExist(err) {
		return fmt.Errorf("amnesic data directory %s still there (%v)", emb.dataDir, err)
	}
	target := earlyTarget(ctx)
	if _, err := embServer.Dial(ctx, "tcp", target); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("Dial after Close: %v, want net.ErrClosed", err)
	}
	if err := embServer.Close(); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	if st := embServer.Status(); !errors.Is(st.Err, net.ErrClosed) || st.Ready {
		return fmt.Errorf("status after Close: %+v", st)
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case <-earlyAccepted:
		return errors.New("a dial target was connected to")
	default:
	}
	return nil
}

func TestEmbeddedFailClosedWhileBootstrapping(t *testing.T) {
	up(t)
	if earlyDialReady {
		t.Skip("Tor bootstrapped before the early dial")
	}
	if !errors.Is(earlyDialErr, ErrNotReady) {
		t.Errorf("Dial right after Start: %v, want ErrNotReady", earlyDialErr)
	}
	t.Logf("early dial: %v", earlyDialErr)
	select {
	case <-earlyAccepted:
		t.Error("the early dial's target was connected to")
	default:
	}
}

// up returns the embedded Server once it has bootstrapped.
func up(t *testing.T) *Server {
	t.Helper()
	if embServer == nil {
		if requireServers() {
			t.Fatalf("embedded Tor unavailable: %v (TUMBLE_REQUIRE_SERVERS=1)", embeddedErr)
		}
		t.Skipf("embedded Tor unavailable: %v", embeddedErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := embServer.Up(ctx); err != nil {
		t.Fatalf("Up: %v", err)
	}
	return embServer
}

func TestEmbeddedBootstrap(t *testing.T) {
	s := up(t)
	t.Logf("FIGURE embedded bootstrap on the private network: %.3f s (Start to Up)", bootstrapTime.Seconds())
	st := s.Status()
	if !st.Ready || st.Progress != 100 || st.Mode != ModeEmbedded || st.Err != nil {
		t.Errorf("status = %+v", st)
	}
	if !s.IsProtected() {
		t.Error("embedded Tor not protected")
	}
	// The progress stream: several steps, never backwards, reaching ready
	// (the subscriber may see it after Up has returned).
	select {
	case <-statusReady:
	case <-time.After(2 * time.Minute):
		t.Fatal("no ready Status published 2 minutes after Up")
	}
	statusMu.Lock()
	log := append([]Status(nil), statusLog...)
	statusMu.Unlock()
	var steps []string
	last := -1
	for _, st := range log {
		if st.Progress < last {
			t.Errorf("progress went back from %d to %d", last, st.Progress)
		}
		if st.Progress != last {
			steps = append(steps, fmt.Sprintf("%d%% %s", st.Progress, st.Tag))
		}
		last = st.Progress
	}
	t.Logf("bootstrap steps seen: %s", strings.Join(steps, ", "))
	if len(steps) < 3 || last != 100 {
		t.Errorf("status stream %v does not show bootstrap progress reaching ready", steps)
	}

	// Tor itself confirms: network on, a SOCKS port on loopback only, no
	// TCP control port.
	emb, err := s.control()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.controlConf(emb, "DisableNetwork"); err != nil || v != "0" {
		t.Errorf("DisableNetwork = %q, %v", v, err)
	}
	if v, err := s.controlInfo(emb, "net/listeners/control"); err != nil || strings.TrimSpace(v) != "" {
		t.Errorf("control listeners = %q, %v; want none", v, err)
	}
	if v, err := s.controlInfo(emb, "net/listeners/socks"); err != nil || strings.Count(v, ":") != 1 || !strings.Contains(v, "127.0.0.1:") {
		t.Errorf("socks listeners = %q, %v", v, err)
	}
	if v, err := s.controlConf(emb, "SocksPort"); err != nil || !strings.Contains(v, "IsolateSOCKSAuth") || !strings.Contains(v, "ExtendedErrors") {
		t.Errorf("SocksPort = %q, %v", v, err)
	}

	// Tor starts once per process.
	again := &Server{Mode: ModeEmbedded, Amnesic: true, Creator: libtor.Creator(), rootDir: t.TempDir(),
		Torrc: s.Torrc, AllowTestingNetwork: true}
	if err := again.Start(context.Background()); !errors.Is(err, libtor.ErrAlreadyStarted) {
		t.Errorf("second embedded Tor: %v, want libtor.ErrAlreadyStarted", err)
	}
}

func TestEmbeddedDialOnion(t *testing.T) {
	s := up(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, err := sharedNet.AddOnionService(ctx, echoServer(t), 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	d := s.Isolated(NewIsolation())
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", svc.Addr())
	if err != nil {
		t.Fatalf("dial %s: %v", svc.Addr(), err)
	}
	t.Logf("FIGURE embedded: first onion connect %.3f s", time.Since(start).Seconds())
	if c.RemoteAddr().String() != svc.Addr() {
		t.Errorf("RemoteAddr = %v", c.RemoteAddr())
	}
	echoRoundTrip(t, c)
	c.Close()

	start = time.Now()
	c, err = d.DialContext(ctx, "tcp", svc.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("FIGURE embedded: second connect, same isolation %.3f s", time.Since(start).Seconds())
	echoRoundTrip(t, c)
	c.Close()

	// Tor's extended errors come through typed.
	if _, err := s.Dial(ctx, "tcp", testOnion(t)+":64738"); !errors.Is(err, ErrOnionNotFound) {
		t.Errorf("unknown onion: %v, want ErrOnionNotFound", err)
	}
	// Clearnet names are Tor's to resolve; the private network has no
	// exits, so Tor keeps the stream waiting for one: no answer, and no
	// local lookup either.
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if _, err := s.Dial(short, "tcp", "example.com:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("clearnet dial on a network without exits: %v, want a timeout", err)
	}
}

// TestEmbeddedIsolation: streams with different credentials use different
// circuits (SOCKS_USERNAME in circuit-status), streams with the same
// credentials share one.
func TestEmbeddedIsolation(t *testing.T) {
	s := up(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, err := sharedNet.AddOnionService(ctx, echoServer(t), 64738, false)
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewIsolation(), NewIsolation()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, iso := range []Isolation{a, b, a} {
		c, err := s.Isolated(iso).DialContext(ctx, "tcp", svc.Addr())
		if err != nil {
			t.Fatal(err)
		}
		echoRoundTrip(t, c)
		conns = append(conns, c)
	}
	emb, err := s.control()
	if err != nil {
		t.Fatal(err)
	}
	circs, err := s.controlInfo(emb, "circuit-status")
	if err != nil {
		t.Fatal(err)
	}
	streams, err := s.controlInfo(emb, "stream-status")
	if err != nil {
		t.Fatal(err)
	}
	users := circuitUsers(t, circs)
	byUser := map[string][]string{} // username -> circuits of its open streams
	for _, circ := range streamCircuits(streams) {
		if u, ok := users[circ]; ok {
			byUser[u] = append(byUser[u], circ)
		}
	}
	ca, cb := byUser[a.Username()], byUser[b.Username()]
	if len(ca) != 2 || len(cb) != 1 {
		t.Fatalf("streams per isolation: a=%v b=%v\ncircuit-status:%s\nstream-status:%s", ca, cb, circs, streams)
	}
	if ca[0] != ca[1] {
		t.Errorf("same isolation used circuits %s and %s", ca[0], ca[1])
	}
	if ca[0] == cb[0] {
		t.Errorf("different isolations share circuit %s", ca[0])
	}
	t.Logf("isolation a -> circuit %s (2 streams), b -> circuit %s", ca[0], cb[0])
}

func TestEmbeddedClientAuth(t *testing.T) {
	s := up(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, err := sharedNet.AddOnionService(ctx, echoServer(t), 64738, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Isolated(NewIsolation()).DialContext(ctx, "tcp", svc.Addr())
	if !errors.Is(err, ErrClientAuthRequired) || !strings.Contains(err.Error(), "client authorization required") {
		t.Fatalf("dial without key: %v, want ErrClientAuthRequired", err)
	}
	k, err := ParseClientAuthKey(svc.ClientAuthKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddClientAuth(ctx, k); err != nil {
		t.Fatal(err)
	}
	c, err := s.Isolated(NewIsolation()).DialContext(ctx, "tcp", svc.Addr())
	if err != nil {
		t.Fatalf("dial with key: %v", err)
	}
	echoRoundTrip(t, c)
	c.Close()
	if err := s.RemoveClientAuth(ctx, k.Onion); err != nil {
		t.Errorf("RemoveClientAuth: %v", err)
	}

	// A wrong key for another such service.
	svc2, err := sharedNet.AddOnionService(ctx, echoServer(t), 64738, true)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := GenerateClientAuthKey(svc2.Address)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddClientAuth(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	_, err = s.Isolated(NewIsolation()).DialContext(ctx, "tcp", svc2.Addr())
	if !errors.Is(err, ErrClientAuthBad) {
		t.Errorf("dial with a wrong key: %v, want ErrClientAuthBad", err)
	}
}

// TestEmbeddedListen publishes an onion service from the embedded Tor,
// reaches it through the network's standalone client tor (socks mode), and
// republishes it with the same key: same address, reachable again.
func TestEmbeddedListen(t *testing.T) {
	s := up(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var seed [ed25519.SeedSize]byte
	rand.Read(seed[:])
	key := ed25519.NewKeyFromSeed(seed[:])
	want, _ := OnionAddress(key.Public().(ed25519.PublicKey))

	client := &Server{Mode: ModeSOCKS, SOCKSAddr: sharedNet.SOCKSAddr(), rootDir: t.TempDir()}
	defer client.Close()
	if _, err := client.Up(ctx); err != nil {
		t.Fatal(err)
	}

	for round := 1; round <= 2; round++ {
		start := time.Now()
		// The key is recreated from the stored seed each time.
		l, err := s.Listen(ctx, 64738, ed25519.NewKeyFromSeed(seed[:]))
		if err != nil {
			t.Fatalf("round %d: Listen: %v", round, err)
		}
		t.Logf("FIGURE Listen round %d: published in %.3f s", round, time.Since(start).Seconds())
		if l.Onion() != want || l.Addr().String() != want+":64738" {
			t.Fatalf("round %d: address %s, want %s", round, l.Addr(), want)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 512)
					n, _ := c.Read(buf)
					c.Write(buf[:n])
				}()
			}
		}()
		var c net.Conn
		for {
			c, err = client.Isolated(NewIsolation()).DialContext(ctx, "tcp", l.Addr().String())
			if err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(500 * time.Millisecond) // the client may hold the old descriptor
		}
		if err != nil {
			t.Fatalf("round %d: dial own onion: %v", round, err)
		}
		t.Logf("FIGURE Listen round %d: reachable %.3f s after Listen began", round, time.Since(start).Seconds())
		echoRoundTrip(t, c)
		c.Close()
		if err := l.Close(); err != nil {
			t.Errorf("round %d: close listener: %v", round, err)
		}
	}
	if _, err := s.Listen(ctx, 64738, nil); err == nil {
		t.Error("Listen without a key succeeded")
	}
}

// circuitUsers parses GETINFO circuit-status and returns each circuit's
// SOCKS username (circuits without one are left out).
func circuitUsers(t *testing.T, status string) map[string]string {
	t.Helper()
	users := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		line = strings.TrimSpace(line)
		id, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		kv, err := parseKeyVals(rest)
		if err != nil {
			t.Fatalf("circuit-status line %q: %v", line, err)
		}
		if u := kv["SOCKS_USERNAME"]; u != "" {
			users[id] = u
		}
	}
	return users
}

// streamCircuits parses GETINFO stream-status and returns the circuit of
// each stream.
func streamCircuits(status string) map[string]string {
	circ := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 {
			circ[f[0]] = f[2]
		}
	}
	return circ
}

func requireServers() bool { return os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" }
