package mumble

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// A fakeServer hands out in-process peers speaking TLS over loopback TCP. It
// exists for protocol situations a real server cannot produce (garbage
// fields, reordering, oversize frames); everything else is tested against
// real servers in client_server_test.go.
type fakeServer struct {
	t     testing.TB
	cert  tls.Certificate
	fp    Fingerprint
	peers chan *fakePeer
	ln    net.Listener // on 127.0.0.1, for TCP's buffering (net.Pipe has none)

	mu    sync.Mutex
	dials []string // addresses DialContext was called with

	maxTLS uint16 // if set, the highest TLS version the peer speaks

	// roots trusts cert, which is valid for the names fake.example and
	// fake that the tests dial.
	roots *x509.CertPool
}

func newFakeServer(t testing.TB) *fakeServer {
	t.Helper()
	cert, fp := selfSignedCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	roots := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(leaf)
	return &fakeServer{t: t, cert: cert, fp: fp, peers: make(chan *fakePeer, 4), ln: ln, roots: roots}
}

func selfSignedCert(t testing.TB) (tls.Certificate, Fingerprint) {
	t.Helper()
	cert := murmurtest.SelfSignedCert(t, "fake mumble", "fake.example", "fake")
	return cert, FingerprintOf(cert.Certificate[0])
}

// Dial is a Config.DialContext: it connects to a new fake peer.
func (s *fakeServer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	s.dials = append(s.dials, network+" "+addr)
	s.mu.Unlock()
	// Whatever addr says, connect to our listener on 127.0.0.1.
	var d net.Dialer
	a, err := d.DialContext(ctx, "tcp", s.ln.Addr().String())
	if err != nil {
		return nil, err
	}
	b, err := s.ln.Accept()
	if err != nil {
		a.Close()
		return nil, err
	}
	p := &fakePeer{t: s.t, in: make(chan fakeFrame, 64), readDone: make(chan struct{})}
	p.conn = tls.Server(b, &tls.Config{
		Certificates: []tls.Certificate{s.cert},
		MaxVersion:   s.maxTLS,
		ClientAuth:   tls.RequestClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			p.clientCerts = cs.PeerCertificates
			return nil
		},
	})
	go p.readLoop()
	s.peers <- p
	return a, nil
}

// peer returns the next peer a client dialed.
func (s *fakeServer) peer() *fakePeer {
	select {
	case p := <-s.peers:
		return p
	case <-time.After(10 * time.Second):
		s.t.Error("no client connected to the fake server")
		return nil
	}
}

type fakeFrame struct {
	t       MessageType
	payload []byte
}

// A fakePeer is the server end of one connection.
type fakePeer struct {
	t           testing.TB
	conn        *tls.Conn
	in          chan fakeFrame
	readDone    chan struct{}
	readErr     error
	clientCerts []*x509.Certificate
	wmu         sync.Mutex
	discard     atomic.Bool // drop incoming frames (for benchmarks)
}

func (p *fakePeer) readLoop() {
	defer close(p.readDone)
	defer close(p.in)
	fr := NewFrameReader(p.conn)
	for {
		t, payload, err := fr.ReadFrame()
		if err != nil {
			p.readErr = err
			return
		}
		if p.discard.Load() {
			continue
		}
		p.in <- fakeFrame{t, append([]byte(nil), payload...)}
	}
}

// next returns the next frame from the client, skipping pings.
func (p *fakePeer) next() (fakeFrame, bool) {
	for {
		select {
		case f, ok := <-p.in:
			if !ok {
				return fakeFrame{}, false
			}
			if f.t == MessagePing {
				continue
			}
			return f, true
		case <-time.After(20 * time.Second):
			return fakeFrame{}, false
		}
	}
}

// expect reads the next non-ping frame, which must have type t, and decodes
// it into m (if not nil).
func (p *fakePeer) expect(t MessageType, m proto.Message) []byte {
	f, ok := p.next()
	if !ok {
		p.t.Errorf("fake peer: connection ended waiting for %v (%v)", t, p.readErr)
		return nil
	}
	if f.t != t {
		p.t.Errorf("fake peer: got %v, want %v", f.t, t)
		return f.payload
	}
	if m != nil {
		if err := proto.Unmarshal(f.payload, m); err != nil {
			p.t.Errorf("fake peer: decode %v: %v", t, err)
		}
	}
	return f.payload
}

// recv is expect for loops that run until the client disconnects: the end
// of the connection is not an error.
func (p *fakePeer) recv(t MessageType, m proto.Message) ([]byte, bool) {
	f, ok := p.next()
	if !ok {
		return nil, false
	}
	if f.t != t {
		p.t.Errorf("fake peer: got %v, want %v", f.t, t)
		return nil, false
	}
	if m != nil {
		if err := proto.Unmarshal(f.payload, m); err != nil {
			p.t.Errorf("fake peer: decode %v: %v", t, err)
		}
	}
	return f.payload, true
}

func (p *fakePeer) sendRaw(t MessageType, payload []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := WriteFrame(p.conn, t, payload); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		p.t.Logf("fake peer: write %v: %v", t, err)
	}
}

func (p *fakePeer) send(msgs ...proto.Message) {
	for _, m := range msgs {
		t, ok := TypeOf(m)
		if !ok {
			p.t.Errorf("fake peer: cannot send %T", m)
			return
		}
		b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
		if err != nil {
			p.t.Error(err)
			return
		}
		p.sendRaw(t, b)
	}
}

func (p *fakePeer) close() { p.conn.Close() }

// syncOptions describe the state a fake peer sends on login.
type syncOptions struct {
	version  Version
	session  uint32
	channels []*mumbleproto.ChannelState
	users    []*mumbleproto.UserState
	config   *mumbleproto.ServerConfig // nil: none sent
}

func defaultSync(v Version) syncOptions {
	return syncOptions{
		version: v,
		session: 2,
		channels: []*mumbleproto.ChannelState{
			{ChannelId: proto.Uint32(0), Name: proto.String("Server Root"), Position: proto.Int32(0)},
			{ChannelId: proto.Uint32(1), Parent: proto.Uint32(0), Name: proto.String("Lab"), Position: proto.Int32(0)},
			{ChannelId: proto.Uint32(2), Parent: proto.Uint32(1), Name: proto.String("Bench"), Position: proto.Int32(0)},
		},
		users: []*mumbleproto.UserState{
			{Session: proto.Uint32(1), Name: proto.String("alice"), ChannelId: proto.Uint32(1), UserId: proto.Uint32(5)},
			{Session: proto.Uint32(2), Name: proto.String("me"), ChannelId: proto.Uint32(0)},
		},
		config: &mumbleproto.ServerConfig{AllowHtml: proto.Bool(true), MessageLength: proto.Uint32(50), ImageMessageLength: proto.Uint32(100), MaxUsers: proto.Uint32(10)},
	}
}

// login reads the client's Version and Authenticate and sends the state.
func (p *fakePeer) login(o syncOptions) (*mumbleproto.Version, *mumbleproto.Authenticate) {
	if err := p.conn.HandshakeContext(context.Background()); err != nil {
		p.t.Errorf("fake peer: handshake: %v", err)
		return nil, nil
	}
	var ver mumbleproto.Version
	p.expect(MessageVersion, &ver)
	return &ver, p.loginAfterVersion(o)
}

// loginAfterVersion is login once the client's Version was read.
func (p *fakePeer) loginAfterVersion(o syncOptions) *mumbleproto.Authenticate {
	var auth mumbleproto.Authenticate
	p.expect(MessageAuthenticate, &auth)
	// CryptSetup before Version, as some servers do.
	p.send(&mumbleproto.CryptSetup{Key: make([]byte, 16), ClientNonce: make([]byte, 16), ServerNonce: make([]byte, 16)})
	p.send(&mumbleproto.Version{VersionV1: proto.Uint32(o.version.V1()), VersionV2: proto.Uint64(o.version.V2()), Release: proto.String("fake")})
	for _, ch := range o.channels {
		p.send(ch)
	}
	for _, u := range o.users {
		p.send(u)
	}
	p.send(&mumbleproto.ServerSync{Session: proto.Uint32(o.session), MaxBandwidth: proto.Uint32(72000), WelcomeText: proto.String("welcome"), Permissions: proto.Uint64(uint64(PermissionEnter | PermissionSpeak))})
	if o.config != nil {
		p.send(o.config)
	}
	return &auth
}

// dialFake connects a client to a peer of s that logs in with o; script
// runs on the peer afterwards, in its own goroutine.
func dialFake(t testing.TB, s *fakeServer, cfg *Config, o syncOptions, script func(p *fakePeer)) (*Client, *fakePeer) {
	t.Helper()
	if cfg == nil {
		cfg = &Config{Username: "me"}
	}
	cfg.DialContext = s.Dial
	if cfg.RootCAs == nil {
		cfg.RootCAs = s.roots
	}
	peerc := make(chan *fakePeer, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p := s.peer()
		peerc <- p
		if p == nil {
			return
		}
		p.login(o)
		if script != nil {
			script(p)
		}
	}()
	// The context lives as long as the client: cancelling it disconnects.
	cfg.ConnectTimeout = 20 * time.Second
	c, err := Dial(context.Background(), "fake.example:64738", cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	p := <-peerc
	if p == nil {
		t.FailNow()
	}
	t.Cleanup(func() {
		c.Close()
		p.close()
		<-done
	})
	return c, p
}

// goroutineCheck returns a function failing t if goroutines started after
// the call are still running when it is called.
func goroutineCheck(t *testing.T) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		for range 300 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf)
	}
}

// nextEvent returns the next event of type E from s, skipping others.
func nextEvent[E Event](t *testing.T, s *Subscription) E {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-s.C:
			if !ok {
				var zero E
				t.Fatalf("subscription closed waiting for %T", zero)
			}
			if e, ok := ev.(E); ok {
				return e
			}
		case <-timeout:
			var zero E
			t.Fatalf("no %T within 20 s", zero)
		}
	}
}
