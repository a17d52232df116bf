package mumble

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// Defaults for Config fields left zero.
const (
	// DefaultConnectTimeout bounds connecting: dialing, the TLS handshake
	// and the initial state transfer. It is generous because circuits to
	// onion services take tens of seconds to build.
	DefaultConnectTimeout = 90 * time.Second
	// DefaultPingInterval is how often the client pings the server, as the
	// official client does.
	DefaultPingInterval = 5 * time.Second
	// DefaultPingTimeout is how long the client tolerates silence from the
	// server (a dozen lost pings) before giving up on the connection.
	DefaultPingTimeout = 60 * time.Second
)

// A Config configures a Client. Only DialContext is required.
type Config struct {
	// Username is the name to connect as.
	Username string
	// Password is the server password, or the password of the registered
	// user Username.
	Password string
	// Tokens are access tokens for the server's ACL groups.
	Tokens []string

	// DialContext opens the TCP connection to the server (network "tcp",
	// addr as given to Dial). It is required: the package never resolves
	// names or dials on its own, so that a Tor dialer can carry every
	// connection.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Certificate is the client certificate presented to the server, the
	// user's identity on it. If nil, none is presented.
	Certificate *tls.Certificate
	// PinnedFingerprint is the SHA-256 of the DER encoding of the server's
	// certificate. If set (not zero), a server presenting another
	// certificate is refused with a
	// *CertificateMismatchError, and no other check is made.
	//
	// If zero, a server reached by a DNS name must present a certificate
	// valid for that name under the system's certificate authorities (as
	// the official client checks), else the connection stops after the
	// TLS handshake and before anything is sent: VerifyServer decides, and
	// without it Dial fails with an *UnverifiedCertificateError. Onion
	// addresses (the address authenticates the service) and IP addresses
	// are accepted on first use. Store Client.Fingerprint and pin it next
	// time.
	PinnedFingerprint Fingerprint
	// VerifyServer, if set, is asked about a server reached by a DNS name
	// whose certificate is not pinned and not verified (the
	// *UnverifiedCertificateError Dial would return otherwise). It runs
	// after the TLS handshake and before the client sends anything: return
	// nil to go on (trust once; pin Client.Fingerprint to trust for
	// good), or an error to stop. It may block (to ask the user), within
	// ctx and ConnectTimeout.
	VerifyServer func(ctx context.Context, e *UnverifiedCertificateError) error
	// RootCAs are the certificate authorities for DNS names; nil means the
	// system's.
	RootCAs *x509.CertPool

	// ConnectTimeout bounds Dial (dial, TLS handshake, state transfer). If
	// zero, DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// PingInterval is the time between pings. If zero,
	// DefaultPingInterval.
	PingInterval time.Duration
	// PingTimeout is how long the server may stay silent (it answers every
	// ping) before the client disconnects with ErrPingTimeout (up to a
	// sixteenth more); it also bounds each write. If zero,
	// DefaultPingTimeout.
	PingTimeout time.Duration

	// ClientName is the release name sent to the server. If empty, the
	// one the official client of the advertised version sends, so that
	// the server cannot tell Tumble from it.
	ClientName string
	// SendOSInfo sends OS and OSVersion to the server. By default nothing
	// about the operating system is sent.
	SendOSInfo bool
	// OS and OSVersion are sent if SendOSInfo is set; an empty OS means
	// runtime.GOOS.
	OS, OSVersion string

	// MaxFrameSize is the largest control message accepted from the
	// server, in bytes. If zero, DefaultMaxFrameSize.
	MaxFrameSize int

	// Limits bound what the client accepts from the server; the zero
	// value means the defaults.
	Limits Limits

	// RateLimit is the server's per-user message rate limit; the zero
	// value is Murmur's default. Messages the server would drop for going
	// over it (text messages, changes to oneself, channel edits) wait
	// their turn instead, in order.
	RateLimit RateLimit

	// PacketSequence numbers outgoing voice packets +1 per packet, as
	// gumble-based bots and some web clients do, instead of by 10 ms
	// frames as the official client does (see VoicePacket.Sequence).
	// Receivers meet both; this lets tests send the other kind through a
	// real server. Normal clients leave it off.
	PacketSequence bool
	// OnVoice, if set, is called on the connection's read goroutine with
	// every voice packet received, before the voice subscribers get
	// their copies. p and p.Opus are valid only during the call, and
	// OnVoice must not block: the connection waits for it. It spares a
	// receive path that never blocks (a jitter buffer that copies the
	// payload) the copy, the queue and two goroutine hand-offs per packet
	// of a VoiceSubscription.
	OnVoice func(p *VoicePacket)
}

// state is the server state a Client mirrors. It is guarded by Client.mu.
type state struct {
	session  uint32
	channels map[uint32]*Channel
	// kids indexes channels by parent: kids[p] holds the IDs of the
	// channels whose Parent is p (the root excluded).
	kids   map[uint32]map[uint32]struct{}
	users  map[uint32]*User
	server ServerInfo
	perms  map[uint32]Permission
	lim    Limits
	// stored is the size of the avatars, comments and descriptions held.
	stored int
}

func newState(lim Limits) state {
	return state{
		channels: make(map[uint32]*Channel),
		kids:     make(map[uint32]map[uint32]struct{}),
		users:    make(map[uint32]*User),
		perms:    make(map[uint32]Permission),
		server:   ServerInfo{MaxBandwidth: DefaultMaxBandwidth, AllowHTML: true, RecordingAllowed: true},
		lim:      lim.withDefaults(),
	}
}

// Sync stages: waiting for ServerSync, waiting for ServerConfig (or any
// other message, for servers that send none), synced.
const (
	stageAuthenticating = iota
	stageConfig
	stageSynced
)

// A Client is a connection to a Mumble server. Its methods are safe for
// concurrent use.
type Client struct {
	cfg         Config
	addr        string
	conn        net.Conn
	fingerprint Fingerprint
	tlsVersion  uint16    // negotiated
	certSent    bool      // a client certificate was presented
	epoch       time.Time // ping timestamps count from here
	now         func() time.Time

	// wsem is a one-slot semaphore serialising writes; it guards wbuf and
	// voice.
	wsem  chan struct{}
	wbuf  []byte
	voice voiceSequencer

	// bucket paces the messages the server rate-limits; nil with
	// RateLimit.Off. plugins paces plugin data (its own limit on 1.4+);
	// nil with RateLimit.PluginOff. Set by start.
	bucket, plugins *messageBucket

	mu        sync.Mutex
	st        state
	stage     int
	subs      map[*Subscription]struct{}
	voiceSubs map[*VoiceSubscription]struct{}
	waiters   map[*waiter]struct{}
	ping      pingState
	overflow  error       // a subscription's queue is full: disconnect
	rxVoice   VoicePacket // scratch for decoding, used by the reader only

	synced      chan struct{} // closed when the initial state transfer is complete
	done        chan struct{} // closed when the connection has ended
	err         error         // why; set before done is closed
	closeOnce   sync.Once
	closeCalled atomic.Bool
	stopCtx     func() bool // guarded by mu
	wg          sync.WaitGroup
}

// newClient returns an unconnected Client with cfg's defaults filled in.
func newClient(addr string, cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("mumble: nil Config")
	}
	c := &Client{
		cfg:       *cfg,
		addr:      addr,
		now:       time.Now,
		wsem:      make(chan struct{}, 1),
		st:        newState(cfg.Limits),
		subs:      make(map[*Subscription]struct{}),
		voiceSubs: make(map[*VoiceSubscription]struct{}),
		waiters:   make(map[*waiter]struct{}),
		synced:    make(chan struct{}),
		done:      make(chan struct{}),
		epoch:     time.Now(),
	}
	c.cfg.Tokens = append([]string(nil), cfg.Tokens...)
	c.voice.perPacket = cfg.PacketSequence
	if c.cfg.DialContext == nil {
		return nil, errors.New("mumble: Config.DialContext is nil (the package never dials on its own)")
	}
	if c.cfg.ConnectTimeout <= 0 {
		c.cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if c.cfg.PingInterval <= 0 {
		c.cfg.PingInterval = DefaultPingInterval
	}
	if c.cfg.PingTimeout <= 0 {
		c.cfg.PingTimeout = DefaultPingTimeout
	}
	if c.cfg.ClientName == "" {
		c.cfg.ClientName = advertisedRelease
	}
	if c.cfg.MaxFrameSize <= 0 {
		c.cfg.MaxFrameSize = DefaultMaxFrameSize
	}
	return c, nil
}

// Dial connects to the Mumble server at addr ("host:port") through
// cfg.DialContext, authenticates and returns once the server has sent its
// complete state (channels, users, ServerSync and ServerConfig).
//
// The connection uses TLS 1.3, or 1.2 with old servers. The server
// certificate is checked against cfg.PinnedFingerprint if set; otherwise a
// server reached by a DNS name needs a certificate valid for it or
// cfg.VerifyServer's consent, before anything is sent (see
// Config.PinnedFingerprint and Client.Fingerprint).
//
// If the server refuses the connection the error wraps a *RejectError
// (errors.Is(err, ErrWrongServerPW) and so on).
//
// Unlike net.Dialer.DialContext, ctx governs the whole connection:
// cancelling it, during Dial or later, closes the connection. Pass a context
// that lives as long as the connection should; Dial itself is bounded by
// cfg.ConnectTimeout.
func Dial(ctx context.Context, addr string, cfg *Config) (*Client, error) {
	c, err := newClient(addr, cfg)
	if err != nil {
		return nil, err
	}
	op := "connect to " + addr
	connectCtx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()

	raw, err := c.cfg.DialContext(connectCtx, "tcp", addr)
	if err != nil {
		return nil, opError(op, err)
	}
	if raw == nil {
		return nil, opError(op, errors.New("DialContext returned no connection"))
	}
	conn := tls.Client(raw, c.tlsConfig())
	if err := conn.HandshakeContext(connectCtx); err != nil {
		raw.Close()
		return nil, opError(op, fmt.Errorf("TLS handshake: %w", err))
	}
	cs := conn.ConnectionState()
	c.tlsVersion = cs.Version
	if err := c.checkServer(connectCtx, cs); err != nil {
		conn.Close()
		return nil, opError(op, err)
	}
	c.start(ctx, conn)

	if err := c.send(connectCtx, c.versionMessage()); err != nil {
		c.Close()
		return nil, opError(op, err)
	}
	auth := &mumbleproto.Authenticate{
		Username: proto.String(c.cfg.Username),
		Tokens:   c.cfg.Tokens,
		Opus:     proto.Bool(true),
	}
	if c.cfg.Password != "" {
		auth.Password = proto.String(c.cfg.Password)
	}
	if err := c.send(connectCtx, auth); err != nil {
		c.Close()
		return nil, opError(op, err)
	}

	select {
	case <-c.synced:
		return c, nil
	case <-c.done:
	case <-connectCtx.Done():
		if ctx.Err() != nil {
			c.shutdown(fmt.Errorf("mumble: context ended: %w", context.Cause(ctx)))
		} else {
			c.shutdown(fmt.Errorf("mumble: server state incomplete after the connect timeout (%v): %w",
				c.cfg.ConnectTimeout, context.Cause(connectCtx)))
		}
	}
	select {
	case <-c.synced:
		if c.Err() == nil {
			return c, nil
		}
	default:
	}
	c.Close()
	return nil, opError(op, c.err)
}

// versionMessage is what we tell the server about ourselves.
func (c *Client) versionMessage() *mumbleproto.Version {
	m := &mumbleproto.Version{
		VersionV1: proto.Uint32(advertisedVersion.V1()),
		VersionV2: proto.Uint64(advertisedVersion.V2()),
		Release:   proto.String(c.cfg.ClientName),
	}
	if c.cfg.SendOSInfo {
		osName := c.cfg.OS
		if osName == "" {
			osName = runtime.GOOS
		}
		m.Os = proto.String(osName)
		if c.cfg.OSVersion != "" {
			m.OsVersion = proto.String(c.cfg.OSVersion)
		}
	}
	return m
}

// start runs the connection's goroutines on conn.
func (c *Client) start(ctx context.Context, conn net.Conn) {
	c.conn = conn
	// The server's bucket starts when it accepts the connection, a little
	// earlier than this: it has drained at least as much as ours.
	c.bucket = newMessageBucket(c.cfg.RateLimit, c.now)
	c.plugins = newMessageBucket(c.cfg.RateLimit.pluginRate(), c.now)
	c.wg.Add(2)
	go c.readLoop()
	go c.pingLoop()
	stop := context.AfterFunc(ctx, func() {
		c.shutdown(fmt.Errorf("mumble: context ended: %w", context.Cause(ctx)))
	})
	c.mu.Lock()
	c.stopCtx = stop
	c.mu.Unlock()
}

// Close disconnects from the server and waits until the client's
// goroutines have exited. Subscriptions receive a DisconnectedEvent with
// ErrClosed (unless the connection had already ended). A second Close
// returns net.ErrClosed.
func (c *Client) Close() error {
	if !c.closeCalled.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	c.shutdown(ErrClosed)
	c.wg.Wait()
	return nil
}

// Done returns a channel closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is up.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Fingerprint returns the SHA-256 of the server certificate's DER encoding,
// to be pinned with Config.PinnedFingerprint.
func (c *Client) Fingerprint() Fingerprint { return c.fingerprint }

// Addr returns the server address given to Dial.
func (c *Client) Addr() string { return c.addr }

// shutdown ends the connection for reason; only the first call counts.
func (c *Client) shutdown(reason error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.err = reason
		subs, voiceSubs := c.subs, c.voiceSubs
		c.subs, c.voiceSubs = nil, nil
		stopCtx := c.stopCtx
		c.mu.Unlock()
		close(c.done)
		if stopCtx != nil {
			stopCtx()
		}
		if c.conn != nil {
			c.conn.Close()
		}
		ev := &DisconnectedEvent{Err: reason}
		for s := range subs {
			s.q.pushLast(ev)
		}
		for s := range voiceSubs {
			s.q.finish()
		}
	})
}

// readLoop reads and handles frames until the connection ends.
func (c *Client) readLoop() {
	defer c.wg.Done()
	fr := NewFrameReader(c.conn)
	fr.MaxSize = c.cfg.MaxFrameSize
	// The read deadline is moved on at most every slack rather than for
	// every frame (50 voice packets a second would each reset a runtime
	// timer), and set slack further out, so the server may stay silent
	// for PingTimeout to PingTimeout+slack.
	slack := c.cfg.PingTimeout / 16
	var moved time.Time
	for {
		if now := time.Now(); moved.IsZero() || now.Sub(moved) >= slack {
			if err := c.conn.SetReadDeadline(now.Add(c.cfg.PingTimeout + slack)); err != nil {
				c.shutdown(c.readError(err))
				return
			}
			moved = now
		}
		t, payload, err := fr.ReadFrame()
		if err != nil {
			c.shutdown(c.readError(err))
			return
		}
		c.handle(t, payload)
	}
}

func (c *Client) readError(err error) error {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return pingTimeoutError(c.cfg.PingTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrServerClosed
	}
	var tooLarge *FrameTooLargeError
	if errors.As(err, &tooLarge) {
		return err
	}
	return fmt.Errorf("mumble: read from %s: %w", c.addr, err)
}

// keepWriteBuffer is the largest write buffer kept between writes.
const keepWriteBuffer = 64 << 10

// write builds a frame with build and writes it. A write error ends the
// connection, since a partly written frame cannot be taken back.
func (c *Client) write(ctx context.Context, build func(dst []byte) ([]byte, error)) error {
	select {
	case c.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.err
	}
	defer func() { <-c.wsem }()
	select {
	case <-c.done:
		return c.err
	default:
	}
	buf, err := build(c.wbuf[:0])
	if err != nil {
		return err
	}
	if cap(buf) <= keepWriteBuffer {
		c.wbuf = buf[:0]
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.cfg.PingTimeout)); err != nil {
		return err
	}
	if _, err := c.conn.Write(buf); err != nil {
		err = fmt.Errorf("mumble: write to %s: %w", c.addr, err)
		c.shutdown(err)
		return err
	}
	return nil
}

// send writes the control message m.
func (c *Client) send(ctx context.Context, m proto.Message) error {
	write := func() error {
		return c.write(ctx, func(dst []byte) ([]byte, error) { return AppendMessage(dst, m) })
	}
	if _, ok := m.(*mumbleproto.PluginDataTransmission); ok && c.plugins != nil {
		return c.plugins.do(ctx, c.done, write)
	}
	if c.bucket == nil {
		return write()
	}
	c.mu.Lock()
	self := c.st.session
	c.mu.Unlock()
	if !rateLimited(m, self) {
		return write()
	}
	return c.bucket.do(ctx, c.done, write)
}

// An OpError is an error from a Client operation.
type OpError struct {
	Op  string // for example "join channel 3"
	Err error
}

func (e *OpError) Error() string {
	return "mumble: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "mumble: ")
}

func (e *OpError) Unwrap() error { return e.Err }

func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Err: err}
}

// A waiter is an operation waiting for the server's answer. match is
// called, with c.mu held, for every event and reply; it returns done when the
// waiter has its answer, err being the operation's result.
type waiter struct {
	match  func(v any) (done bool, err error)
	result chan error
}

// addWaiter registers a waiter; register before sending the request.
func (c *Client) addWaiter(match func(v any) (bool, error)) *waiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addWaiterLocked(match)
}

// addWaiterLocked is addWaiter for callers that hold c.mu, so that they
// can check the state and register in one step.
func (c *Client) addWaiterLocked(match func(v any) (bool, error)) *waiter {
	w := &waiter{match: match, result: make(chan error, 1)}
	c.waiters[w] = struct{}{}
	return w
}

func (c *Client) removeWaiter(w *waiter) {
	c.mu.Lock()
	delete(c.waiters, w)
	c.mu.Unlock()
}

// wait waits for w's answer, ctx's end or the connection's end.
func (c *Client) wait(ctx context.Context, w *waiter) error {
	select {
	case err := <-w.result:
		return err
	case <-ctx.Done():
		c.removeWaiter(w)
		return ctx.Err()
	case <-c.done:
		c.removeWaiter(w)
		select {
		case err := <-w.result:
			return err
		default:
			return c.err
		}
	}
}

// notify offers v to the waiters. c.mu must be held.
func (c *Client) notify(v any) {
	for w := range c.waiters {
		if done, err := w.match(v); done {
			delete(c.waiters, w)
			w.result <- err
		}
	}
}

// publish delivers ev to the subscribers and waiters. c.mu must be held.
// A full subscription queue sets c.overflow, on which the reader
// disconnects.
func (c *Client) publish(ev Event) {
	for s := range c.subs {
		if !s.q.push(ev) && c.overflow == nil {
			c.overflow = &LimitError{What: "events waiting for a subscriber", Limit: c.st.lim.MaxQueuedEvents}
		}
	}
	c.notify(ev)
}

// wantEvents reports whether anyone listens to events. c.mu must be held.
func (c *Client) wantEvents() bool {
	return c.stage == stageSynced && (len(c.subs) > 0 || len(c.waiters) > 0)
}

// Subscribe returns a subscription to the client's events. Its first event
// is a ConnectedEvent with the current state (or, if the connection has
// ended, a DisconnectedEvent).
func (c *Client) Subscribe() *Subscription {
	s := &Subscription{q: newQueue[Event](c.st.lim.MaxQueuedEvents+1, false), c: c}
	s.C = s.q.out
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil {
		s.q.push(&DisconnectedEvent{Err: c.err})
		s.q.finish()
		return s
	}
	self := User{Session: c.st.session}
	if u := c.st.users[c.st.session]; u != nil {
		self = u.clone()
	}
	s.q.push(&ConnectedEvent{
		Self:     self,
		Channels: c.st.channelList(),
		Users:    c.st.userList(func(*User) bool { return true }),
		Server:   c.st.server,
	})
	c.subs[s] = struct{}{}
	return s
}

// SubscribeVoice returns a subscription to the voice packets the client
// receives.
func (c *Client) SubscribeVoice() *VoiceSubscription {
	s := &VoiceSubscription{q: newQueue[VoicePacket](DefaultMaxQueuedVoice, true), c: c}
	s.C = s.q.out
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.voiceSubs == nil {
		s.q.finish()
		return s
	}
	c.voiceSubs[s] = struct{}{}
	return s
}
