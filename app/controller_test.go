package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/app/apptest"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor"
)

// waitLimit guards against hangs; the conditions normally hold within a
// second.
const waitLimit = 30 * time.Second

// newTestController returns a controller with its own configuration
// directory, Tor off (loopback servers) and null sound devices, closed when
// the test ends.
func newTestController(t testing.TB, cfg ControllerConfig) *Controller {
	t.Helper()
	if cfg.ConfigDir == "" && !cfg.Amnesic {
		cfg.ConfigDir = t.TempDir()
	}
	if cfg.TorMode == "" {
		cfg.TorMode = "off"
	}
	if cfg.AudioBackend == AudioDevices {
		cfg.AudioBackend = AudioNull
	}
	c, err := NewController(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor waits until cond holds for the controller's state, following
// Watch, and returns that state.
func waitFor(t testing.TB, c *Controller, what string, cond func(State) bool) State {
	t.Helper()
	return waitWithin(t, c, waitLimit, what, cond)
}

// waitWithin is waitFor with a deadline of its own, for waits that Tor's
// own timeouts make long.
func waitWithin(t testing.TB, c *Controller, d time.Duration, what string, cond func(State) bool) State {
	t.Helper()
	ch, cancel := c.Watch()
	defer cancel()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		st := c.State()
		if cond(st) {
			return st
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s; phase %v, problem %+v, tor %+v", d, what, st.Phase, st.Problem, st.Tor)
		}
	}
}

func isPhase(p Phase) func(State) bool { return func(st State) bool { return st.Phase == p } }

// addServerBookmark saves a bookmark for a server at addr ("127.0.0.1:port").
func addServerBookmark(t *testing.T, c *Controller, addr, user, password string) Bookmark {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	b, err := c.SaveBookmark(Bookmark{Label: "test server", Address: host, Port: p, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// connect connects c to bookmark b and waits for PhaseConnected.
func connect(t testing.TB, c *Controller, b Bookmark) State {
	t.Helper()
	c.Connect(b.ID)
	return waitFor(t, c, "connected", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("connect failed: %+v", st.Problem)
		}
		return st.Phase == PhaseConnected && st.Root != nil
	})
}

// channelByName finds a channel in the tree by name.
func channelByName(v *ChannelView, name string) *ChannelView {
	if v == nil {
		return nil
	}
	if v.Name == name {
		return v
	}
	for i := range v.Children {
		if f := channelByName(&v.Children[i], name); f != nil {
			return f
		}
	}
	return nil
}

// userNamed finds a user by name in the tree and returns it and its
// channel.
func userNamed(v *ChannelView, name string) (*UserView, *ChannelView) {
	if v == nil {
		return nil, nil
	}
	for i := range v.Users {
		if v.Users[i].Name == name {
			return &v.Users[i], v
		}
	}
	for i := range v.Children {
		if u, ch := userNamed(&v.Children[i], name); u != nil {
			return u, ch
		}
	}
	return nil, nil
}

func TestControllerConnectShowsChannelTree(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{
		Version:  murmurtest.V13,
		Channels: []string{"Lab", "Lab/Quiet", "Lobby"},
		Welcome:  "Welcome to <b>the lab</b>",
	})
	c := newTestController(t, ControllerConfig{})
	if st := c.State(); st.Phase != PhaseIdle || st.Tor.Protected || st.Tor.Mode != "off" {
		t.Fatalf("idle state with Tor off: phase %v, tor %+v; want idle, unprotected, mode off", st.Phase, st.Tor)
	}
	b := addServerBookmark(t, c, srv.Addr, "alice", "")
	if !b.PinnedFingerprint.IsZero() {
		t.Fatalf("new bookmark already pinned")
	}
	st := connect(t, c, b)

	if st.Tor.Protected {
		t.Errorf("Tor off shows Protected = true")
	}
	if st.Bookmark == nil || st.Bookmark.ID != b.ID {
		t.Errorf("State.Bookmark = %+v, want the connected bookmark", st.Bookmark)
	}
	lab := channelByName(st.Root, "Lab")
	if lab == nil || channelByName(lab, "Quiet") == nil || channelByName(st.Root, "Lobby") == nil {
		t.Fatalf("channel tree lacks Lab/Quiet or Lobby: %+v", st.Root)
	}
	if lab.ID != srv.Channels["Lab"] {
		t.Errorf("Lab has ID %d, server says %d", lab.ID, srv.Channels["Lab"])
	}
	u, ch := userNamed(st.Root, "alice")
	if u == nil || !u.Self || ch.ID != 0 {
		t.Fatalf("self not shown in the root channel: user %+v channel %+v", u, ch)
	}
	if !st.Self.Self || st.Self.Name != "alice" || u.LocalVolume != 1 {
		t.Errorf("Self = %+v, user view %+v", st.Self, u)
	}
	var welcome bool
	for _, l := range st.Chat {
		if l.System && l.Text == "Welcome to the lab" {
			welcome = true
		}
	}
	if !welcome {
		t.Errorf("welcome text not in the chat as plain text: %+v", st.Chat)
	}
	if want := min(DefaultSettings().Input.QualityBitrate, mumble.MaxBitrate(mumble.DefaultMaxBandwidth, 2, false)); st.Bitrate != want {
		t.Errorf("Bitrate = %d, want %d", st.Bitrate, want)
	}

	// Trust on first use: the fingerprint is pinned and saved on disk.
	st = waitFor(t, c, "pinned", func(st State) bool { return !st.Bookmark.PinnedFingerprint.IsZero() })
	if st.Bookmark.PinnedFingerprint.String() != srv.Fingerprint() {
		t.Errorf("pinned %s, server's certificate is %s", st.Bookmark.PinnedFingerprint, srv.Fingerprint())
	}
	disk, err := NewDirStorage(c.cfg.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := OpenBookmarkStore(disk)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := store.Get(b.ID)
	if err != nil || saved.PinnedFingerprint.String() != srv.Fingerprint() {
		t.Errorf("bookmark on disk: pin %q, err %v; want %s", saved.PinnedFingerprint, err, srv.Fingerprint())
	}

	c.StopReconnect() // reconnecting is off: nothing to stop
	c.Disconnect()
	st = c.State()
	if st.Phase != PhaseIdle || st.Root != nil || st.Bookmark != nil {
		t.Errorf("after Disconnect: phase %v root %v bookmark %v; want idle and empty", st.Phase, st.Root, st.Bookmark)
	}
}

func TestControllerChatJoinMuteBetweenTwoClients(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab"},
				// Servers drop a client's messages beyond a burst of 5
				// (messageburst, 1 per second after); this test sends
				// more in quick succession.
				Extra: map[string]string{"messageburst": "100", "messagelimit": "100"}})
			a := newTestController(t, ControllerConfig{})
			b := newTestController(t, ControllerConfig{})
			connect(t, a, addServerBookmark(t, a, srv.Addr, "alice", ""))
			connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))

			lab := srv.Channels["Lab"]
			if err := a.Join(lab); err != nil {
				t.Fatalf("Join: %v", err)
			}
			waitFor(t, b, "bob sees alice in Lab", func(st State) bool {
				_, ch := userNamed(st.Root, "alice")
				return ch != nil && ch.ID == lab
			})
			if err := b.Join(lab); err != nil {
				t.Fatalf("Join: %v", err)
			}
			if err := a.Join(12345); err == nil {
				t.Errorf("Join of a channel that does not exist succeeded")
			}

			if err := a.SendChat("hello <b>bob</b> & co"); err != nil {
				t.Fatalf("SendChat: %v", err)
			}
			st := waitFor(t, b, "bob gets the message", func(st State) bool {
				return len(st.Chat) > 0 && st.Chat[len(st.Chat)-1].From == "alice"
			})
			if got := st.Chat[len(st.Chat)-1]; got.Text != "hello <b>bob</b> & co" || got.Own || got.System {
				t.Errorf("bob's line: %+v; want alice's text exactly as typed", got)
			}
			if err := b.SendChat("hi, see https://example.org/x"); err != nil {
				t.Fatalf("SendChat: %v", err)
			}
			st = waitFor(t, a, "alice gets the reply", func(st State) bool {
				return len(st.Chat) > 0 && st.Chat[len(st.Chat)-1].From == "bob"
			})
			last := st.Chat[len(st.Chat)-1]
			if last.Text != "hi, see https://example.org/x" {
				t.Errorf("alice's line: %+v", last)
			}
			var own bool
			for _, l := range st.Chat {
				own = own || (l.Own && l.From == "alice" && l.Text == "hello <b>bob</b> & co")
			}
			if !own {
				t.Errorf("alice's own message missing from her chat: %+v", st.Chat)
			}
			if err := a.SendChat("  \n "); !errors.Is(err, ErrEmptyMessage) {
				t.Errorf("empty message: err %v, want ErrEmptyMessage", err)
			}

			a.SetSelfMute(true)
			waitFor(t, a, "alice self-muted", func(st State) bool { return st.SelfMute && st.Self.SelfMuted })
			waitFor(t, b, "bob sees alice muted", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.SelfMuted
			})
			a.SetSelfDeaf(true)
			waitFor(t, b, "bob sees alice deafened", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.SelfDeafened
			})
			// Muted before deafening: undeafening keeps the mute (Mumble).
			a.SetSelfDeaf(false)
			waitFor(t, b, "bob sees alice undeafened, still muted", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && !u.SelfDeafened && u.SelfMuted
			})
			a.SetSelfMute(false)
			waitFor(t, a, "alice undeafened and unmuted", func(st State) bool { return !st.SelfMute && !st.SelfDeaf })
			// Not muted before deafening: undeafening unmutes too.
			a.SetSelfDeaf(true)
			waitFor(t, a, "alice deafened (and so muted)", func(st State) bool { return st.SelfDeaf && st.Self.SelfMuted })
			a.SetSelfDeaf(false)
			waitFor(t, b, "bob sees alice undeafened and unmuted", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && !u.SelfDeafened && !u.SelfMuted
			})

			// Local volume and mute of another user.
			st = b.State()
			alice, _ := userNamed(st.Root, "alice")
			// The steps of a drag are heard but not saved.
			b.SetUserVolume(alice.Session, 0.25, false)
			waitFor(t, b, "local volume of a drag step shown", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.LocalVolume == 0.25
			})
			if db := b.Settings().Output.UserVolumeDB; len(db) != 0 {
				t.Errorf("a drag step saved UserVolumeDB = %v", db)
			}
			b.SetUserVolume(alice.Session, 0.5, true)
			b.SetUserMute(alice.Session, true)
			st = waitFor(t, b, "local volume shown", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.LocalVolume == 0.5 && u.LocalMute
			})
			// Remembered by alice's certificate hash, in dB.
			if db := b.Settings().Output.UserVolumeDB; len(db) != 1 {
				t.Errorf("UserVolumeDB = %v, want alice's -6 dB", db)
			} else {
				for _, v := range db {
					if v != -6 {
						t.Errorf("UserVolumeDB = %v, want -6 dB", db)
					}
				}
			}
			b.SetUserVolume(alice.Session, 7, true)
			waitFor(t, b, "local volume clamped", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.LocalVolume == 2
			})
			// The volume is applied again on the next connection.
			b.Disconnect()
			st = connect(t, b, b.Bookmarks()[0])
			if u, _ := userNamed(st.Root, "alice"); u == nil || math.Abs(u.LocalVolume-math.Pow(10, 6.0/20)) > 1e-9 || u.LocalMute {
				t.Errorf("after reconnecting alice is %+v; want the remembered +6 dB and no local mute", u)
			}
		})
	}
}

func TestControllerCertificateChanged(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{})
	b := addServerBookmark(t, c, srv.Addr, "carol", "")
	wrong := mumble.FingerprintOf([]byte("another certificate"))
	b.PinnedFingerprint = wrong
	b, err := c.SaveBookmark(b)
	if err != nil {
		t.Fatal(err)
	}

	c.Connect(b.ID)
	st := waitFor(t, c, "refused", isPhase(PhaseDisconnected))
	p := st.Problem
	if p.Kind != ProblemCertificateChanged || p.PinnedFingerprint != wrong || p.NewFingerprint.String() != srv.Fingerprint() {
		t.Fatalf("Problem = %+v; want certificate changed from %s to %s", p, wrong, srv.Fingerprint())
	}
	if saved := c.Bookmarks()[0]; saved.PinnedFingerprint != wrong {
		t.Fatalf("the pin changed without the user's consent: %s", saved.PinnedFingerprint)
	}

	c.TrustNewCertificate()
	connect(t, c, b)
	if saved := c.Bookmarks()[0]; saved.PinnedFingerprint.String() != srv.Fingerprint() {
		t.Errorf("after TrustNewCertificate the pin is %s, want %s", saved.PinnedFingerprint, srv.Fingerprint())
	}
}

func TestControllerWrongPassword(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Password: "right horse"})
	c := newTestController(t, ControllerConfig{})
	// Reconnecting must not retry a wrong password.
	s := c.Settings()
	s.Network.Reconnect = true
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	b := addServerBookmark(t, c, srv.Addr, "dave", "wrong staple")
	c.Connect(b.ID)
	st := waitFor(t, c, "refused", func(st State) bool { return st.Phase == PhaseDisconnected || st.Phase == PhaseReconnectWait })
	if st.Phase != PhaseDisconnected || st.Problem.Kind != ProblemWrongPassword {
		t.Fatalf("phase %v problem %+v; want disconnected with wrong password", st.Phase, st.Problem)
	}

	b.Password = "right horse"
	if _, err := c.SaveBookmark(b); err != nil {
		t.Fatal(err)
	}
	connect(t, c, b)
}

// waitClosedByPeer waits until the peer closes conn (a read returns EOF or
// an error).
func waitClosedByPeer(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(waitLimit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was not closed after Cancel")
	}
}

func TestControllerCancelWhileConnecting(t *testing.T) {
	bh := apptest.NewBlackhole(t)
	c := newTestController(t, ControllerConfig{})
	b := addServerBookmark(t, c, bh.Addr, "erin", "")
	c.Connect(b.ID)
	waitFor(t, c, "connecting", isPhase(PhaseConnecting))
	var conn net.Conn
	select {
	case conn = <-bh.Accepted:
	case <-time.After(waitLimit):
		t.Fatal("the controller never dialed")
	}
	c.Cancel()
	st := c.State()
	if st.Phase != PhaseIdle || st.Problem.Kind != ProblemNone || st.Bookmark != nil {
		t.Fatalf("after Cancel: phase %v problem %+v; want idle without a problem", st.Phase, st.Problem)
	}
	waitClosedByPeer(t, conn)
	// The cancelled session must not change the state afterwards.
	time.Sleep(100 * time.Millisecond)
	if st := c.State(); st.Phase != PhaseIdle {
		t.Fatalf("a cancelled session changed the phase to %v", st.Phase)
	}
}

func TestControllerCancelWhileStartingTor(t *testing.T) {
	// A "Tor SOCKS port" that accepts and never answers: Tor never becomes
	// ready, so the session waits in PhaseStartingTor.
	bh := apptest.NewBlackhole(t)
	c := newTestController(t, ControllerConfig{TorMode: "socks=" + bh.Addr})
	if st := c.State(); !st.Tor.Protected || st.Tor.Mode != "socks" {
		t.Fatalf("socks mode shows %+v", st.Tor)
	}
	b := addServerBookmark(t, c, "127.0.0.1:64738", "frank", "")
	c.Connect(b.ID)
	waitFor(t, c, "starting Tor", isPhase(PhaseStartingTor))
	var conn net.Conn
	select {
	case conn = <-bh.Accepted:
	case <-time.After(waitLimit):
		t.Fatal("the controller never tried Tor's SOCKS port")
	}
	c.Cancel()
	if st := c.State(); st.Phase != PhaseIdle {
		t.Fatalf("after Cancel: phase %v, want idle", st.Phase)
	}
	waitClosedByPeer(t, conn)
	// A new attempt waits for Tor again (it was not left broken).
	c.Connect(b.ID)
	waitFor(t, c, "starting Tor again", isPhase(PhaseStartingTor))
	c.Cancel()
}

func TestControllerTorFailed(t *testing.T) {
	// The embedded Tor without a Creator (a build without -tags libtor).
	c := newTestController(t, ControllerConfig{TorMode: "embedded"})
	b := addServerBookmark(t, c, "127.0.0.1:64738", "gina", "")
	c.Connect(b.ID)
	st := waitFor(t, c, "Tor failed", isPhase(PhaseDisconnected))
	if st.Problem.Kind != ProblemTorFailed || !strings.Contains(st.Problem.Message, "built without its own Tor") ||
		!strings.Contains(st.Problem.Detail, "without embedded Tor") {
		t.Fatalf("Problem = %+v; want Tor failed with Tor's reason", st.Problem)
	}
	if !st.Tor.Protected {
		t.Errorf("embedded mode shows Protected = false")
	}
}

func TestControllerOnionWithoutTorRefused(t *testing.T) {
	c := newTestController(t, ControllerConfig{})
	b, err := c.SaveBookmark(Bookmark{Address: newTestOnion(t), Username: "hank"})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(b.ID)
	st := waitFor(t, c, "refused", isPhase(PhaseDisconnected))
	if !strings.Contains(st.Problem.Message, "only Tor can reach") || !strings.Contains(st.Problem.Detail, "only be reached through Tor") {
		t.Fatalf("Problem = %+v; want a refusal to connect to an onion without Tor", st.Problem)
	}
}

// socksResponder is a minimal SOCKS5 server on loopback standing in for
// Tor's SOCKS port: it accepts username/password authentication, records
// the credentials and the requested target, and answers every CONNECT
// with reply.
type socksResponder struct {
	ln    net.Listener
	reply byte
	mu    sync.Mutex
	seen  []socksRequest
}

type socksRequest struct {
	user, pass, host string
	atyp             byte
	port             int
}

func newSOCKSResponder(t *testing.T, reply byte) *socksResponder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socksResponder{ln: ln, reply: reply}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *socksResponder) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(conn, methods); err != nil {
		return
	}
	if _, err := conn.Write([]byte{5, 2}); err != nil {
		return
	}
	var req socksRequest
	var b [1]byte
	readString := func() (string, error) {
		if _, err := io.ReadFull(conn, b[:]); err != nil {
			return "", err
		}
		buf := make([]byte, b[0])
		_, err := io.ReadFull(conn, buf)
		return string(buf), err
	}
	if _, err := io.ReadFull(conn, b[:]); err != nil { // auth version
		return
	}
	var err error
	if req.user, err = readString(); err != nil {
		return
	}
	if req.pass, err = readString(); err != nil {
		return
	}
	if _, err := conn.Write([]byte{1, 0}); err != nil {
		return
	}
	var head [4]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return
	}
	req.atyp = head[3]
	switch req.atyp {
	case 3:
		if req.host, err = readString(); err != nil {
			return
		}
	case 1:
		ip := make([]byte, 4)
		if _, err := io.ReadFull(conn, ip); err != nil {
			return
		}
		req.host = net.IP(ip).String()
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(conn, port[:]); err != nil {
		return
	}
	req.port = int(port[0])<<8 | int(port[1])
	s.mu.Lock()
	s.seen = append(s.seen, req)
	s.mu.Unlock()
	conn.Write([]byte{5, s.reply, 0, 1, 0, 0, 0, 0, 0, 0})
}

func (s *socksResponder) requests() []socksRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]socksRequest(nil), s.seen...)
}

func TestControllerClientAuthRequiredThroughSOCKS(t *testing.T) {
	// 0xF4: Tor's extended SOCKS error "onion service client authorization
	// required" (proposal 304).
	socks := newSOCKSResponder(t, 0xF4)
	c := newTestController(t, ControllerConfig{TorMode: "socks=" + socks.ln.Addr().String()})
	onion := newTestOnion(t)
	b, err := c.SaveBookmark(Bookmark{Address: onion, Port: 64738, Username: "ivy"})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(b.ID)
	st := waitFor(t, c, "refused", isPhase(PhaseDisconnected))
	if st.Problem.Kind != ProblemClientAuthRequired {
		t.Fatalf("Problem = %+v; want client authorization required", st.Problem)
	}
	reqs := socks.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d SOCKS requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.atyp != 3 || r.host != onion || r.port != 64738 {
		t.Errorf("SOCKS request for %q (type %d) port %d; want the onion name %q as a name, port 64738", r.host, r.atyp, r.port, onion)
	}
	if r.user != b.Isolation.Username() || r.pass != b.Isolation.Password() {
		t.Errorf("SOCKS credentials %q/%q; want the bookmark's isolation %q/%q", r.user, r.pass, b.Isolation.Username(), b.Isolation.Password())
	}

	// A fresh circuit means fresh credentials on the next attempt.
	if err := c.NewCircuit(b.ID); err != nil {
		t.Fatal(err)
	}
	c.Connect(b.ID)
	waitFor(t, c, "refused again", func(st State) bool {
		return st.Phase == PhaseDisconnected && len(socks.requests()) == 2
	})
	if r2 := socks.requests()[1]; r2.user == r.user || r2.pass == r.pass {
		t.Errorf("NewCircuit did not change the SOCKS credentials")
	}
}

// tcpProxy forwards loopback connections to a server and can cut them all,
// as a network failure would, while the server keeps running.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	count  int
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.count++
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

// cut closes every proxied connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

func reconnectSettings(t *testing.T, c *Controller, attempts int) {
	t.Helper()
	s := c.Settings()
	s.Network.Reconnect = true
	s.Network.ReconnectInitialSeconds = 1
	s.Network.ReconnectMaxSeconds = 2
	s.Network.ReconnectMaxAttempts = attempts
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
}

func TestControllerReconnectsAfterLostConnection(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	proxy := newTCPProxy(t, srv.Addr)
	c := newTestController(t, ControllerConfig{})
	reconnectSettings(t, c, 5)
	b := addServerBookmark(t, c, proxy.ln.Addr().String(), "judy", "")
	connect(t, c, b)

	proxy.cut()
	st := waitFor(t, c, "countdown", isPhase(PhaseReconnectWait))
	if st.ReconnectIn <= 0 || st.ReconnectIn > 2*time.Second || st.ReconnectAttempt != 1 || st.ReconnectMaxAttempts != 5 {
		t.Errorf("countdown: in %v, attempt %d of %d; want (0, 2s], 1 of 5", st.ReconnectIn, st.ReconnectAttempt, st.ReconnectMaxAttempts)
	}
	if st.Problem.Kind != ProblemOther || !strings.Contains(st.Problem.Message, "lost") {
		t.Errorf("Problem while waiting = %+v", st.Problem)
	}
	connect := waitFor(t, c, "reconnected", func(st State) bool { return st.Phase == PhaseConnected && st.Root != nil })
	if u, _ := userNamed(connect.Root, "judy"); u == nil {
		t.Errorf("after reconnecting the tree lacks self")
	}
	if n := proxy.connections(); n != 2 {
		t.Errorf("%d connections through the proxy, want 2", n)
	}
}

// TestControllerReconnectTurnedOnWhileConnected: automatic reconnection
// switched on in the settings during a connection to a real server applies
// to that connection: when it is lost, Tumble connects again.
func TestControllerReconnectTurnedOnWhileConnected(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	proxy := newTCPProxy(t, srv.Addr)
	c := newTestController(t, ControllerConfig{})
	b := addServerBookmark(t, c, proxy.ln.Addr().String(), "ruth", "")
	if c.Settings().Network.Reconnect {
		t.Fatal("reconnection is on by default; the test needs it off at the start")
	}
	connect(t, c, b)
	reconnectSettings(t, c, 5)

	proxy.cut()
	waitFor(t, c, "countdown", func(st State) bool {
		if st.Phase == PhaseDisconnected {
			t.Fatalf("disconnected for good although reconnection was turned on: %+v", st.Problem)
		}
		return st.Phase == PhaseReconnectWait
	})
	waitFor(t, c, "reconnected", func(st State) bool { return st.Phase == PhaseConnected && st.Root != nil })
	if n := proxy.connections(); n != 2 {
		t.Errorf("%d connections through the proxy, want 2", n)
	}
}

func TestControllerStopReconnect(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{})
	reconnectSettings(t, c, 10)
	b := addServerBookmark(t, c, srv.Addr, "kim", "")
	connect(t, c, b)

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, c, "countdown", isPhase(PhaseReconnectWait))
	if st.ReconnectIn <= 0 {
		t.Errorf("ReconnectIn = %v in the countdown", st.ReconnectIn)
	}
	c.StopReconnect()
	st = waitFor(t, c, "stopped", isPhase(PhaseDisconnected))
	if st.Problem.Kind != ProblemOther || st.ReconnectIn != 0 {
		t.Errorf("after StopReconnect: problem %+v, countdown %v", st.Problem, st.ReconnectIn)
	}
	time.Sleep(1500 * time.Millisecond) // past the first countdown
	if st := c.State(); st.Phase != PhaseDisconnected {
		t.Errorf("reconnecting went on after StopReconnect: phase %v", st.Phase)
	}
}

func TestControllerReconnectGivesUp(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{})
	reconnectSettings(t, c, 2)
	b := addServerBookmark(t, c, srv.Addr, "lee", "")
	connect(t, c, b)
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	var sawAttempt2 bool
	st := waitFor(t, c, "gave up", func(st State) bool {
		sawAttempt2 = sawAttempt2 || (st.Phase == PhaseReconnectWait && st.ReconnectAttempt == 2)
		return st.Phase == PhaseDisconnected
	})
	if !strings.Contains(st.Problem.Message, "Gave up reconnecting after 2 attempts") {
		t.Errorf("Problem = %+v; want it to say it gave up after 2 attempts", st.Problem)
	}
	if !sawAttempt2 {
		t.Errorf("never saw the countdown to attempt 2")
	}
}

func TestControllerAmnesicWritesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "tumble")
	srv := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{ConfigDir: dir, Amnesic: true})
	if !c.Amnesic() {
		t.Fatal("Amnesic() = false")
	}
	b := addServerBookmark(t, c, srv.Addr, "mia", "")
	s := c.Settings()
	s.Output.VolumePercent = 50
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	connect(t, c, b)
	waitFor(t, c, "pinned in memory", func(st State) bool { return st.Bookmark.PinnedFingerprint.String() == srv.Fingerprint() })
	if got := c.Bookmarks(); len(got) != 1 || got[0].PinnedFingerprint.String() != srv.Fingerprint() {
		t.Errorf("bookmarks in memory: %+v", got)
	}
	if c.Settings().Output.VolumePercent != 50 {
		t.Errorf("settings not kept in memory")
	}
	c.Close()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("amnesic mode wrote %d entries next to the configuration directory, e.g. %s", len(entries), entries[0].Name())
	}
}

func TestControllerAmnesicFromSettings(t *testing.T) {
	dir := t.TempDir()
	c := newTestController(t, ControllerConfig{ConfigDir: dir})
	if c.Amnesic() {
		t.Fatal("amnesic without being asked")
	}
	addServerBookmark(t, c, "127.0.0.1:64738", "nina", "")
	s := c.Settings()
	s.Privacy.Amnesic = true
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	c.Close()
	before := readDir(t, dir)

	c2 := newTestController(t, ControllerConfig{ConfigDir: dir})
	if !c2.Amnesic() {
		t.Fatal("saved Privacy.Amnesic did not turn amnesic mode on")
	}
	if len(c2.Bookmarks()) != 1 {
		t.Fatalf("the saved bookmarks were not read")
	}
	addServerBookmark(t, c2, "127.0.0.1:64739", "olga", "")
	s = c2.Settings()
	s.Output.VolumePercent = 77
	if err := c2.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if after := readDir(t, dir); after != before {
		t.Errorf("amnesic mode changed the configuration directory:\nbefore %s\nafter  %s", before, after)
	}
}

// readDir returns the names, sizes and contents of a directory's files.
func readDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&sb, "%s:%d:%x;", e.Name(), len(data), data)
	}
	return sb.String()
}

func TestControllerWatchCoalescesAndNeverBlocks(t *testing.T) {
	c := newTestController(t, ControllerConfig{})
	ch, cancel := c.Watch()
	// Nobody reads: many changes must not block the controller.
	for i := 0; i < 50; i++ {
		if _, err := c.SaveBookmark(Bookmark{Address: "127.0.0.1", Port: 1000 + i, Username: "w", Identity: mustIdentity(t)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ch:
	default:
		t.Fatal("no notification after changes")
	}
	select {
	case <-ch:
		t.Fatal("notifications were not coalesced")
	default:
	}
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("the channel is open after cancel")
	}
	cancel() // twice is fine
}

func mustIdentity(t *testing.T) Identity {
	t.Helper()
	id, err := testIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestControllerBookmarksAndSettings(t *testing.T) {
	dir := t.TempDir()
	c := newTestController(t, ControllerConfig{ConfigDir: dir})
	b1, err := c.ImportLink("mumble://pat@127.0.0.1:1234/Lab?title=Test")
	if err != nil {
		t.Fatal(err)
	}
	if b1.Label != "Test" || b1.Port != 1234 || b1.Username != "pat" || len(b1.Channel) != 1 || b1.ID == "" {
		t.Fatalf("imported %+v", b1)
	}
	nb, err := c.ImportLink("mumble://127.0.0.1")
	if !errors.Is(err, ErrLinkNeedsUsername) || nb.Address != "127.0.0.1" || nb.ID != "" {
		t.Fatalf("link without user: %+v, %v", nb, err)
	}
	nb.Username = "quinn"
	b2, err := c.SaveBookmark(nb)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MoveBookmark(b2.ID, 0); err != nil {
		t.Fatal(err)
	}
	if l := c.Bookmarks(); len(l) != 2 || l[0].ID != b2.ID {
		t.Fatalf("order after move: %+v", l)
	}

	// An editor holding an older copy does not undo the pin or the keys.
	pinned := b1
	pinned.PinnedFingerprint = mumble.FingerprintOf([]byte("cd"))
	if _, err := c.SaveBookmark(pinned); err != nil {
		t.Fatal(err)
	}
	edited := b1
	edited.Label = "Renamed"
	edited.Identity, edited.Isolation = Identity{}, tor.Isolation{}
	got, err := c.SaveBookmark(edited)
	if err != nil {
		t.Fatal(err)
	}
	if got.Label != "Renamed" || got.PinnedFingerprint != pinned.PinnedFingerprint || got.Identity != b1.Identity || got.Isolation != b1.Isolation {
		t.Errorf("update lost fields: %+v", got)
	}
	if err := c.ForgetCertificate(b1.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBookmark(b2.ID); err != nil {
		t.Fatal(err)
	}
	if l := c.Bookmarks(); len(l) != 1 || !l[0].PinnedFingerprint.IsZero() {
		t.Fatalf("after forget and delete: %+v", l)
	}

	bad := c.Settings()
	bad.Input.PacketMs = 33
	if err := c.SetSettings(bad); err == nil || !hasFieldError(err, "input.packet_ms") {
		t.Errorf("invalid settings accepted: %v", err)
	}
	if err := c.ResetSettings(string(PresetTorLowBandwidth)); err != nil {
		t.Fatal(err)
	}
	if c.Settings().Input.PacketMs != 60 {
		t.Errorf("preset not applied: %+v", c.Settings().Input)
	}
	if err := c.ResetSettings("nonsense"); err == nil {
		t.Errorf("unknown preset accepted")
	}
	c.Close()
	if err := c.Close(); !errors.Is(err, ErrControllerClosed) {
		t.Errorf("second Close: %v", err)
	}

	// Everything survived on disk.
	c2 := newTestController(t, ControllerConfig{ConfigDir: dir})
	if l := c2.Bookmarks(); len(l) != 1 || l[0].Label != "Renamed" {
		t.Errorf("bookmarks after reopening: %+v", l)
	}
	if c2.Settings().Input.PacketMs != 60 || !c2.Settings().MatchesPreset(PresetTorLowBandwidth) {
		t.Errorf("settings after reopening: %+v", c2.Settings().Input)
	}
}

func TestControllerBitrateFollowsServerLimit(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{MaxBandwidth: 40000})
	c := newTestController(t, ControllerConfig{})
	s := c.Settings()
	s.Input.QualityBitrate = 40000
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	st := connect(t, c, addServerBookmark(t, c, srv.Addr, "rob", ""))
	want := mumble.MaxBitrate(40000, 2, false)
	if want >= 40000 || st.Bitrate != want {
		t.Errorf("Bitrate = %d, want the server's cap %d", st.Bitrate, want)
	}
	// Longer packets leave more for the voice.
	s.Input.PacketMs = 60
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	want60 := mumble.MaxBitrate(40000, 6, false)
	waitFor(t, c, "bitrate for 60 ms packets", func(st State) bool { return st.Bitrate == want60 })
	if want60 <= want {
		t.Errorf("60 ms packets allow %d, 20 ms %d", want60, want)
	}
}

func TestControllerClassify(t *testing.T) {
	b := Bookmark{Label: "srv", Username: "u"}
	cases := []struct {
		err   error
		kind  ProblemKind
		retry bool
	}{
		{fmt.Errorf("x: %w", &mumble.CertificateMismatchError{Pinned: mumble.FingerprintOf([]byte("a")), Got: mumble.FingerprintOf([]byte("b"))}), ProblemCertificateChanged, false},
		{&mumble.RejectError{Type: mumble.RejectWrongServerPW}, ProblemWrongPassword, false},
		{&mumble.RejectError{Type: mumble.RejectWrongUserPW}, ProblemWrongPassword, false},
		{&mumble.RejectError{Type: mumble.RejectUsernameInUse}, ProblemOther, true},
		{&mumble.RejectError{Type: mumble.RejectInvalidUsername}, ProblemOther, false},
		{&torError{err: errors.New("boom")}, ProblemTorFailed, false},
		{&lostError{err: mumble.ErrPingTimeout}, ProblemOther, true},
		{&lostError{err: &mumble.KickedError{Reason: "bye"}}, ProblemOther, false},
		{errors.New("connection refused"), ProblemOther, true},
	}
	for _, tc := range cases {
		p, retry := classify(b, tc.err)
		if p.Kind != tc.kind || retry != tc.retry || p.Message == "" {
			t.Errorf("classify(%v) = %+v, retry %v; want %v, retry %v", tc.err, p, retry, tc.kind, tc.retry)
		}
	}
	if p, _ := classify(b, fmt.Errorf("x: %w", &mumble.CertificateMismatchError{Pinned: mumble.FingerprintOf([]byte("a")), Got: mumble.FingerprintOf([]byte("b"))})); p.PinnedFingerprint != mumble.FingerprintOf([]byte("a")) || p.NewFingerprint != mumble.FingerprintOf([]byte("b")) {
		t.Errorf("fingerprints not carried: %+v", p)
	}
}

func TestControllerTorModeFromSettings(t *testing.T) {
	c, err := NewController(context.Background(), ControllerConfig{ConfigDir: t.TempDir(), AudioBackend: AudioNone})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.State(); st.Tor.Mode != "embedded" || !st.Tor.Protected || st.Tor.Ready {
		t.Fatalf("default Tor status %+v; want embedded, protected, not started", st.Tor)
	}
	s := c.Settings()
	if err := s.SetTorMode(TorOff, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if st := c.State(); st.Tor.Mode != "off" || st.Tor.Protected {
		t.Fatalf("Tor off in the settings shows %+v; want off and unprotected", st.Tor)
	}
	if err := s.SetTorMode(TorSOCKS, "127.0.0.1:9050"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if st := c.State(); st.Tor.Mode != "socks" || !st.Tor.Protected {
		t.Fatalf("socks mode shows %+v", st.Tor)
	}
	if _, err := NewController(context.Background(), ControllerConfig{ConfigDir: t.TempDir(), TorMode: "bogus"}); err == nil {
		t.Errorf("an unknown --tor mode was accepted")
	}
}

func TestControllerJoinsBookmarkChannel(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Channels: []string{"Lab/Quiet", "Lobby"}})
	c := newTestController(t, ControllerConfig{})
	b := addServerBookmark(t, c, srv.Addr, "vic", "")
	b.Channel = []string{"Lab", "Quiet"}
	b, err := c.SaveBookmark(b)
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c, b)
	waitFor(t, c, "in Lab/Quiet", func(st State) bool {
		_, ch := userNamed(st.Root, "vic")
		return ch != nil && ch.ID == srv.Channels["Lab/Quiet"]
	})
	c.Disconnect()

	b.Channel = []string{"Nowhere"}
	if b, err = c.SaveBookmark(b); err != nil {
		t.Fatal(err)
	}
	connect(t, c, b)
	st := waitFor(t, c, "a note about the missing channel", func(st State) bool {
		for _, l := range st.Chat {
			if l.System && strings.Contains(l.Text, `"Nowhere" does not exist`) {
				return true
			}
		}
		return false
	})
	if _, ch := userNamed(st.Root, "vic"); ch == nil || ch.ID != 0 {
		t.Errorf("without the bookmark's channel the user should stay in the root")
	}
}

func TestTorStatusView(t *testing.T) {
	st := tor.Status{Mode: tor.ModeEmbedded, Progress: 25, Tag: "loading_descriptors", Summary: "Loading relay descriptors",
		Warning: "Connection refused", Reason: "CONNECTREFUSED", Recommendation: "warn"}
	v := torStatusView(st, torChoice{mode: tor.ModeDefault})
	if v.Mode != "embedded" || !v.Protected || v.Progress != 25 || v.Summary != st.Summary || v.Ready {
		t.Errorf("view %+v", v)
	}
	if !strings.Contains(v.Warning, "Connection refused") || !strings.Contains(v.Warning, "CONNECTREFUSED") {
		t.Errorf("Warning %q lacks Tor's own words", v.Warning)
	}
	// The Whonix default resolves to the gateway's SOCKS port.
	v = torStatusView(tor.Status{Mode: tor.ModeSOCKS, Progress: 100, Ready: true}, torChoice{mode: tor.ModeDefault})
	if v.Mode != "socks" || !v.Protected || !v.Ready || v.Warning != "" {
		t.Errorf("view %+v", v)
	}
	v = torStatusView(tor.Status{Mode: tor.ModeOff, Progress: 100, Ready: true}, torChoice{mode: tor.ModeOff})
	if v.Mode != "off" || v.Protected {
		t.Errorf("Tor off shows %+v", v)
	}
	v = torStatusView(tor.Status{Mode: tor.ModeEmbedded, Err: errors.New("tor: the Tor instance is no longer running")}, torChoice{})
	if v.Ready || !strings.Contains(v.Warning, "no longer running") {
		t.Errorf("stopped Tor shows %+v", v)
	}
}

// TestControllerRapidSelfChanges clicks mute and deafen faster than the
// server's rate limit allows: every change reaches the server, in order,
// and the other user ends up seeing the last state asked for.
func TestControllerRapidSelfChanges(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15})
	a := newTestController(t, ControllerConfig{})
	b := newTestController(t, ControllerConfig{})
	connect(t, a, addServerBookmark(t, a, srv.Addr, "alice", ""))
	connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))
	start := time.Now()
	a.SetSelfMute(true)
	a.SetSelfDeaf(true)
	a.SetSelfDeaf(false) // muted before deafening: stays muted
	a.SetSelfMute(false)
	a.SetSelfDeaf(true)
	a.SetSelfDeaf(false) // unmuted before deafening: unmuted
	a.SetSelfMute(true)
	a.SetSelfMute(false)
	a.SetSelfMute(true)
	// Alice's changes are all confirmed when her queue has run dry.
	_, cn, err := a.connected()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "alice's changes confirmed", func(st State) bool {
		return !cn.selfOps.busy() && st.SelfMute && !st.SelfDeaf
	})
	// A text from alice reaches bob after every state change she made
	// (the server relays her messages in order): a barrier.
	if err := a.SendChat("barrier"); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, b, "bob reads the barrier", func(st State) bool {
		return len(st.Chat) > 0 && st.Chat[len(st.Chat)-1].Text == "barrier"
	})
	if u, _ := userNamed(st.Root, "alice"); u == nil || !u.SelfMuted || u.SelfDeafened {
		t.Fatalf("bob sees alice as %+v, want muted and not deafened (the last change)", u)
	}
	t.Logf("9 changes settled in %v", time.Since(start).Round(100*time.Millisecond))
	for _, l := range a.State().Chat {
		if l.System && strings.Contains(l.Text, "Could not change") {
			t.Errorf("a change failed: %s", l.Text)
		}
	}
}
