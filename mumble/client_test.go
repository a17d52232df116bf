package mumble

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

func TestDialRequiresDialer(t *testing.T) {
	_, err := Dial(context.Background(), "127.0.0.1:1", &Config{Username: "x"})
	if err == nil || !strings.Contains(err.Error(), "DialContext") {
		t.Fatalf("Dial without DialContext: %v", err)
	}
	if _, err := Dial(context.Background(), "127.0.0.1:1", nil); err == nil {
		t.Fatal("Dial with nil Config succeeded")
	}
}

// TestLoginState checks the login exchange and the state built from a sync
// that starts with CryptSetup before Version.
func TestLoginState(t *testing.T) {
	check := goroutineCheck(t)
	s := newFakeServer(t)
	c, p := dialFake(t, s, &Config{Username: "me", Password: "pw", Tokens: []string{"t1"}}, defaultSync(Version{1, 5, 735}), nil)
	if c.Session() != 2 || c.Self().Name != "me" {
		t.Errorf("session %d, self %+v", c.Session(), c.Self())
	}
	info := c.ServerInfo()
	if info.Version != (Version{1, 5, 735}) || info.Release != "fake" || info.MaxBandwidth != 72000 ||
		info.WelcomeText != "welcome" || info.MessageLength != 50 || info.ImageMessageLength != 100 || info.MaxUsers != 10 ||
		info.Permissions != PermissionEnter|PermissionSpeak {
		t.Errorf("server info %+v", info)
	}
	if c.VoiceFormat() != VoiceProtobuf {
		t.Errorf("voice format with 1.5 server: %v", c.VoiceFormat())
	}
	if c.Fingerprint() != s.fp {
		t.Errorf("fingerprint %s, want %s", c.Fingerprint(), s.fp)
	}
	chs := c.Channels()
	if len(chs) != 3 || chs[0].Name != "Server Root" || chs[2].Parent != 1 {
		t.Fatalf("channels %+v", chs)
	}
	for path, want := range map[string]int{"Root": 0, "Server Root": 0, "X/Lab": 1, "Root/Lab/Bench": 2, "/Lab": 1, "Root/Nope": -1, "Root/Bench": -1, "": -1} {
		ch, ok := c.ChannelByPath(path)
		if (want < 0 && ok) || (want >= 0 && (!ok || ch.ID != uint32(want))) {
			t.Errorf("ChannelByPath(%q) = %d, %v; want %d", path, ch.ID, ok, want)
		}
	}
	if p, ok := c.ChannelPath(2); !ok || p != "Server Root/Lab/Bench" {
		t.Errorf("ChannelPath(2) = %q, %v", p, ok)
	}
	if u, ok := c.UserByName("alice"); !ok || !u.Registered || u.UserID != 5 || u.ChannelID != 1 {
		t.Errorf("alice = %+v, %v", u, ok)
	}
	if us := c.UsersIn(1); len(us) != 1 || us[0].Name != "alice" {
		t.Errorf("UsersIn(1) = %+v", us)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err after Close: %v", c.Err())
	}
	p.close()
	check()
}

// TestLoginMessages checks what the client tells the server: versions v1
// and v2 advertising 1.5, no OS details unless asked, credentials, Opus.
func TestLoginMessages(t *testing.T) {
	for _, sendOS := range []bool{false, true} {
		s := newFakeServer(t)
		type seen struct {
			ver  *mumbleproto.Version
			auth *mumbleproto.Authenticate
		}
		ch := make(chan seen, 1)
		go func() {
			p := s.peer()
			if p == nil {
				ch <- seen{}
				return
			}
			v, a := p.login(defaultSync(Version{1, 3, 4}))
			ch <- seen{v, a}
			p.next() // until the client closes
		}()
		c, err := Dial(context.Background(), "fake.example:64738", &Config{
			Username: "me", Password: "secret", Tokens: []string{"a", "b"}, DialContext: s.Dial, RootCAs: s.roots,
			SendOSInfo: sendOS, OS: "TestOS", OSVersion: "9",
		})
		if err != nil {
			t.Fatal(err)
		}
		got := <-ch
		c.Close()
		if got.ver == nil {
			t.Fatal("peer saw no login")
		}
		v := got.ver
		if v.GetVersionV1() != 0x0105FF || v.GetVersionV2() != 1<<48|5<<32|735<<16 || v.GetRelease() != "1.5.735" {
			t.Errorf("Version %v", v)
		}
		if !sendOS && (v.Os != nil || v.OsVersion != nil) {
			t.Errorf("OS details sent without SendOSInfo: %v", v)
		}
		if sendOS && (v.GetOs() != "TestOS" || v.GetOsVersion() != "9") {
			t.Errorf("OS details with SendOSInfo: %v", v)
		}
		a := got.auth
		if a.GetUsername() != "me" || a.GetPassword() != "secret" || !a.GetOpus() || len(a.Tokens) != 2 || len(a.CeltVersions) != 0 {
			t.Errorf("Authenticate %v", a)
		}
		if c.VoiceFormat() != VoiceLegacy {
			t.Errorf("voice format with a 1.3 server: %v", c.VoiceFormat())
		}
		s.mu.Lock()
		if len(s.dials) != 1 || s.dials[0] != "tcp fake.example:64738" {
			t.Errorf("DialContext calls: %q", s.dials)
		}
		s.mu.Unlock()
	}
}

// TestGarbageTolerated sends what real servers sometimes get wrong: a junk
// Version field 5, missing required fields, unknown message types, a
// malformed field in an otherwise good message.
func TestGarbageTolerated(t *testing.T) {
	s := newFakeServer(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p := s.peer()
		if p == nil {
			return
		}
		if err := p.conn.Handshake(); err != nil {
			t.Error(err)
			return
		}
		p.expect(MessageVersion, nil)
		p.expect(MessageAuthenticate, nil)
		var v []byte
		v = protowire.AppendTag(v, 1, protowire.VarintType)
		v = protowire.AppendVarint(v, uint64(Version{1, 4, 0}.V1()))
		v = protowire.AppendTag(v, 5, protowire.BytesType) // junk: v2 is a varint
		v = protowire.AppendBytes(v, []byte("junk"))
		p.sendRaw(MessageVersion, v)
		p.sendRaw(MessageType(200), []byte("unknown type"))
		p.sendRaw(MessageCodecVersion, []byte{0x20, 0x01}) // required alpha/beta missing
		for _, ch := range defaultSync(Version{}).channels {
			p.send(ch)
		}
		// A user whose texture field is cut short mid-message: the good
		// fields before it still count.
		var u []byte
		u = protowire.AppendTag(u, 1, protowire.VarintType)
		u = protowire.AppendVarint(u, 7)
		u = protowire.AppendTag(u, 3, protowire.BytesType)
		u = protowire.AppendString(u, "bob")
		u = protowire.AppendTag(u, 11, protowire.BytesType)
		u = protowire.AppendVarint(u, 100)
		u = append(u, 1, 2, 3)
		p.sendRaw(MessageUserState, u)
		p.send(&mumbleproto.UserState{Session: proto.Uint32(2), Name: proto.String("me")})
		p.sendRaw(MessageUDPTunnel, []byte{0x20, 0x01, 0x02}) // CELT: dropped
		p.send(&mumbleproto.ServerSync{Session: proto.Uint32(2)})
		// No ServerConfig: the next message completes the sync.
		p.sendRaw(MessageTextMessage, []byte{0x08, 0x07}) // no message field
		p.next()
	}()
	c, err := Dial(context.Background(), "fake:1", &Config{Username: "me", DialContext: s.Dial, RootCAs: s.roots})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := c.ServerInfo().Version; v != (Version{1, 4, 0}) {
		t.Errorf("version from v1 with junk v2: %v", v)
	}
	if u, ok := c.User(7); !ok || u.Name != "bob" {
		t.Errorf("salvaged user: %+v, %v", u, ok)
	}
	c.Close()
	<-done
}

func TestPartialUpdatesMerged(t *testing.T) {
	s := newFakeServer(t)
	step := make(chan []proto.Message)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		for msgs := range step {
			p.send(msgs...)
		}
	})
	defer close(step)
	sub := c.Subscribe()
	defer sub.Close()
	first := nextEvent[*ConnectedEvent](t, sub)
	if len(first.Channels) != 3 || len(first.Users) != 2 || first.Self.Session != 2 {
		t.Fatalf("connected event %+v", first)
	}

	// A user update carrying only self_mute keeps everything else.
	step <- []proto.Message{&mumbleproto.UserState{Session: proto.Uint32(1), SelfMute: proto.Bool(true), Actor: proto.Uint32(1)}}
	uc := nextEvent[*UserChangedEvent](t, sub)
	if uc.Change != UserChangedSelfMute || uc.User.Name != "alice" || uc.User.ChannelID != 1 || !uc.User.Registered || !uc.User.SelfMute || uc.Prev.SelfMute {
		t.Errorf("user change %+v", uc)
	}
	// Comments: a short one comes in full, a long one as a hash.
	step <- []proto.Message{&mumbleproto.UserState{Session: proto.Uint32(1), Comment: proto.String("hi")}}
	uc = nextEvent[*UserChangedEvent](t, sub)
	if uc.User.Comment != "hi" || !bytes.Equal(uc.User.CommentHash, textHash("hi")) || uc.Change != UserChangedComment {
		t.Errorf("comment %+v", uc)
	}
	step <- []proto.Message{&mumbleproto.UserState{Session: proto.Uint32(1), CommentHash: bytes.Repeat([]byte{1}, 20)}}
	uc = nextEvent[*UserChangedEvent](t, sub)
	if uc.User.Comment != "" || len(uc.User.CommentHash) != 20 {
		t.Errorf("comment hash %+v", uc)
	}

	// A channel description change keeps the name and parent; links are
	// symmetric and may be added later.
	step <- []proto.Message{&mumbleproto.ChannelState{ChannelId: proto.Uint32(2), Description: proto.String("desk")}}
	cc := nextEvent[*ChannelChangedEvent](t, sub)
	if cc.Channel.Name != "Bench" || cc.Channel.Parent != 1 || cc.Channel.Description != "desk" || cc.Prev.Description != "" {
		t.Errorf("channel change %+v", cc)
	}
	step <- []proto.Message{&mumbleproto.ChannelState{ChannelId: proto.Uint32(2), LinksAdd: []uint32{1}}}
	a := nextEvent[*ChannelChangedEvent](t, sub)
	b := nextEvent[*ChannelChangedEvent](t, sub)
	if a.Channel.ID != 2 || len(a.Channel.Links) != 1 || a.Channel.Links[0] != 1 || b.Channel.ID != 1 || len(b.Channel.Links) != 1 || b.Channel.Links[0] != 2 || len(b.Prev.Links) != 0 {
		t.Errorf("link events %+v / %+v", a, b)
	}
	// A reparenting that would make a cycle is ignored.
	step <- []proto.Message{&mumbleproto.ChannelState{ChannelId: proto.Uint32(1), Parent: proto.Uint32(2), Name: proto.String("Lab2")}}
	cc = nextEvent[*ChannelChangedEvent](t, sub)
	if cc.Channel.Parent != 0 || cc.Channel.Name != "Lab2" {
		t.Errorf("cyclic reparent: %+v", cc.Channel)
	}
	// Removing a channel unlinks it.
	step <- []proto.Message{&mumbleproto.ChannelRemove{ChannelId: proto.Uint32(2)}}
	cr := nextEvent[*ChannelRemovedEvent](t, sub)
	cc = nextEvent[*ChannelChangedEvent](t, sub)
	if cr.Channel.ID != 2 || cc.Channel.ID != 1 || len(cc.Channel.Links) != 0 {
		t.Errorf("remove: %+v, %+v", cr, cc)
	}
	if ch, _ := c.Channel(1); len(ch.Links) != 0 {
		t.Errorf("channel 1 links after removal: %v", ch.Links)
	}
	// A new user, a partial update for an unknown session (ignored), a
	// user leaving, and a new user reusing the session.
	step <- []proto.Message{
		&mumbleproto.UserState{Session: proto.Uint32(9), SelfDeaf: proto.Bool(true)},
		&mumbleproto.UserState{Session: proto.Uint32(3), Name: proto.String("carol"), ChannelId: proto.Uint32(1)},
		&mumbleproto.UserRemove{Session: proto.Uint32(3), Actor: proto.Uint32(1), Reason: proto.String("bye"), Ban: proto.Bool(true)},
		&mumbleproto.UserState{Session: proto.Uint32(3), Name: proto.String("dave")},
	}
	j := nextEvent[*UserJoinedEvent](t, sub)
	l := nextEvent[*UserLeftEvent](t, sub)
	j2 := nextEvent[*UserJoinedEvent](t, sub)
	if j.User.Name != "carol" || l.User.Name != "carol" || l.Reason != "bye" || !l.Ban || l.Actor != 1 || j2.User.Name != "dave" || j2.User.ChannelID != 0 {
		t.Errorf("join/leave: %+v %+v %+v", j, l, j2)
	}
	if _, ok := c.User(9); ok {
		t.Error("partial update for an unknown session created a user")
	}
	// Accessors return copies.
	ch, _ := c.Channel(0)
	ch.Name = "changed"
	if ch2, _ := c.Channel(0); ch2.Name != "Server Root" {
		t.Error("Channel returned shared state")
	}
}

func TestReject(t *testing.T) {
	for _, tc := range []struct {
		typ  mumbleproto.Reject_RejectType
		want error
	}{
		{mumbleproto.Reject_WrongServerPW, ErrWrongServerPW},
		{mumbleproto.Reject_WrongUserPW, ErrWrongUserPW},
		{mumbleproto.Reject_UsernameInUse, ErrUsernameInUse},
		{mumbleproto.Reject_ServerFull, ErrServerFull},
		{mumbleproto.Reject_InvalidUsername, ErrInvalidUsername},
		{mumbleproto.Reject_NoCertificate, ErrNoCertificate},
		{mumbleproto.Reject_AuthenticatorFail, ErrAuthenticatorFail},
		{mumbleproto.Reject_WrongVersion, ErrWrongVersion},
		{mumbleproto.Reject_None, ErrRejected},
	} {
		check := goroutineCheck(t)
		s := newFakeServer(t)
		go func() {
			p := s.peer()
			if p == nil {
				return
			}
			p.conn.Handshake()
			p.expect(MessageVersion, nil)
			p.expect(MessageAuthenticate, nil)
			p.send(&mumbleproto.Reject{Type: tc.typ.Enum(), Reason: proto.String("because")})
			p.close()
		}()
		_, err := Dial(context.Background(), "fake:1", &Config{Username: "me", DialContext: s.Dial, RootCAs: s.roots})
		var re *RejectError
		if !errors.Is(err, tc.want) || !errors.Is(err, ErrRejected) || !errors.As(err, &re) || re.Reason != "because" || int32(re.Type) != int32(tc.typ) {
			t.Errorf("%v: Dial error %v", tc.typ, err)
		}
		if tc.want != ErrWrongServerPW && errors.Is(err, ErrWrongServerPW) {
			t.Errorf("%v matches ErrWrongServerPW", tc.typ)
		}
		check()
	}
}

func TestPinnedFingerprint(t *testing.T) {
	s := newFakeServer(t)
	// The right pin (upper case, with colons) connects.
	hexFP := s.fp.String()
	var colons []string
	for i := 0; i < len(hexFP); i += 2 {
		colons = append(colons, strings.ToUpper(hexFP[i:i+2]))
	}
	pin, err := ParseFingerprint(" " + strings.Join(colons, ":") + " ")
	if err != nil || pin != s.fp {
		t.Fatalf("ParseFingerprint = %v, %v; want %v", pin, err, s.fp)
	}
	c, _ := dialFake(t, s, &Config{Username: "me", PinnedFingerprint: pin}, defaultSync(Version{1, 5, 0}), nil)
	c.Close()

	// Another certificate is refused, naming both fingerprints.
	check := goroutineCheck(t)
	other, otherFP := selfSignedCert(t)
	s2 := newFakeServer(t)
	s2.cert = other
	go func() {
		if p := s2.peer(); p != nil {
			p.conn.Handshake()
			p.close()
		}
	}()
	_, err = Dial(context.Background(), "fake:1", &Config{Username: "me", DialContext: s2.Dial, PinnedFingerprint: s.fp})
	var mm *CertificateMismatchError
	if !errors.As(err, &mm) || mm.Pinned != s.fp || mm.Got != otherFP {
		t.Fatalf("Dial with wrong pin: %v", err)
	}
	if !strings.Contains(err.Error(), s.fp.String()) || !strings.Contains(err.Error(), otherFP.String()) {
		t.Errorf("error does not name both fingerprints: %v", err)
	}
	check()
}

func TestParseFingerprint(t *testing.T) {
	fp := FingerprintOf([]byte("not really a certificate"))
	if s := fp.String(); len(s) != 64 || s != strings.ToLower(s) || fp.IsZero() {
		t.Fatalf("String = %q", s)
	}
	for _, in := range []string{fp.String(), strings.ToUpper(fp.String()), " " + fp.String() + "\n"} {
		if got, err := ParseFingerprint(in); err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 64), fp.String() + "00"} {
		if _, err := ParseFingerprint(bad); err == nil || !strings.HasPrefix(err.Error(), "mumble: ") {
			t.Errorf("ParseFingerprint(%q) = %v, want an error", bad, err)
		}
	}
	text, err := fp.MarshalText()
	var back Fingerprint
	if err != nil || back.UnmarshalText(text) != nil || back != fp {
		t.Errorf("text round trip: %q -> %v, %v", text, back, err)
	}
	var zero Fingerprint
	if !zero.IsZero() || zero.String() != "" || back.UnmarshalText(nil) != nil || !back.IsZero() {
		t.Errorf("zero value: %q, after empty UnmarshalText %v", zero, back)
	}
}

func TestClientCertificate(t *testing.T) {
	s := newFakeServer(t)
	cert, fp := selfSignedCert(t)
	c, p := dialFake(t, s, &Config{Username: "me", Certificate: &cert}, defaultSync(Version{1, 5, 0}), nil)
	defer c.Close()
	if len(p.clientCerts) != 1 || FingerprintOf(p.clientCerts[0].Raw) != fp {
		t.Errorf("server saw client certificates %v", p.clientCerts)
	}
}

func TestOversizeFrameDisconnects(t *testing.T) {
	check := goroutineCheck(t)
	s := newFakeServer(t)
	start := make(chan struct{})
	c, _ := dialFake(t, s, &Config{Username: "me", MaxFrameSize: 1000}, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		<-start
		p.sendRaw(MessageTextMessage, make([]byte, 1001))
	})
	sub := c.Subscribe()
	close(start)
	d := nextEvent[*DisconnectedEvent](t, sub)
	var tooLarge *FrameTooLargeError
	if !errors.As(d.Err, &tooLarge) || tooLarge.Size != 1001 {
		t.Errorf("disconnect reason %v", d.Err)
	}
	if _, ok := <-sub.C; ok {
		t.Error("subscription not closed after DisconnectedEvent")
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed")
	}
	c.Close()
	check()
}

func TestPingTimeoutAndStats(t *testing.T) {
	s := newFakeServer(t)
	c, _ := dialFake(t, s, &Config{Username: "me", PingInterval: 20 * time.Millisecond, PingTimeout: 300 * time.Millisecond}, defaultSync(Version{1, 5, 0}), nil)
	// The fake peer does not answer pings (its next() skips them): the
	// client must give up after PingTimeout.
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect without ping replies")
	}
	if !errors.Is(c.Err(), ErrPingTimeout) {
		t.Errorf("reason %v", c.Err())
	}
	if st := c.PingStats(); st.Sent < 3 || st.Received != 0 {
		t.Errorf("ping stats %+v", st)
	}
}

func TestPingEcho(t *testing.T) {
	s := newFakeServer(t)
	c, p := dialFake(t, s, &Config{Username: "me", PingInterval: 10 * time.Millisecond}, defaultSync(Version{1, 5, 0}), nil)
	// Echo pings from the test goroutine.
	deadline := time.After(10 * time.Second)
	for echoed := 0; echoed < 5; {
		select {
		case f, ok := <-p.in:
			if !ok {
				t.Fatal("connection ended")
			}
			if f.t == MessagePing {
				time.Sleep(2 * time.Millisecond)
				p.sendRaw(MessagePing, f.payload)
				echoed++
			}
		case <-deadline:
			t.Fatal("no pings")
		}
	}
	for range 100 {
		if c.PingStats().Received >= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := c.PingStats()
	if st.Received < 5 || st.Mean < 2*time.Millisecond || st.Last < 2*time.Millisecond || st.Variance < 0 {
		t.Errorf("ping stats %+v", st)
	}
}

func TestContextCancelCloses(t *testing.T) {
	check := goroutineCheck(t)
	s := newFakeServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if p := s.peer(); p != nil {
			p.login(defaultSync(Version{1, 5, 0}))
			p.next()
		}
	}()
	c, err := Dial(ctx, "fake:1", &Config{Username: "me", DialContext: s.Dial, RootCAs: s.roots})
	if err != nil {
		t.Fatal(err)
	}
	sub := c.Subscribe()
	vsub := c.SubscribeVoice()
	cancel()
	d := nextEvent[*DisconnectedEvent](t, sub)
	if !errors.Is(d.Err, context.Canceled) {
		t.Errorf("reason %v", d.Err)
	}
	for range vsub.C {
	}
	<-done
	c.Close()
	check()
}

// TestDialContextCancelDuringSync cancels while the server stalls before
// ServerSync.
func TestDialContextCancelDuringSync(t *testing.T) {
	check := goroutineCheck(t)
	s := newFakeServer(t)
	go func() {
		if p := s.peer(); p != nil {
			p.conn.Handshake()
			p.expect(MessageVersion, nil)
			p.expect(MessageAuthenticate, nil)
			p.next() // stall
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, "fake:1", &Config{Username: "me", DialContext: s.Dial, RootCAs: s.roots})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial: %v", err)
	}
	check()
}

func TestKicked(t *testing.T) {
	s := newFakeServer(t)
	start := make(chan struct{})
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		<-start
		p.send(&mumbleproto.UserRemove{Session: proto.Uint32(2), Actor: proto.Uint32(1), Reason: proto.String("spam")})
	})
	close(start)
	<-c.Done()
	var k *KickedError
	if !errors.As(c.Err(), &k) || k.By != "alice" || k.Reason != "spam" || k.Ban {
		t.Errorf("reason %v", c.Err())
	}
}

func TestSubscriptionCloseEarly(t *testing.T) {
	check := goroutineCheck(t)
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), nil)
	sub := c.Subscribe() // never read
	vsub := c.SubscribeVoice()
	sub.Close()
	sub.Close()
	vsub.Close()
	c.Close()
	late := c.Subscribe()
	if d, ok := (<-late.C).(*DisconnectedEvent); !ok || !errors.Is(d.Err, ErrClosed) {
		t.Errorf("subscription after close: %v", d)
	}
	check()
}

func TestTextMessages(t *testing.T) {
	s := newFakeServer(t)
	got := make(chan *mumbleproto.TextMessage, 4)
	start := make(chan struct{})
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		<-start
		p.send(&mumbleproto.TextMessage{Actor: proto.Uint32(1), ChannelId: []uint32{0}, Message: proto.String("hello")})
		p.send(&mumbleproto.TextMessage{TreeId: []uint32{0}, Message: proto.String("from the server")})
		for {
			var m mumbleproto.TextMessage
			if _, ok := p.recv(MessageTextMessage, &m); !ok {
				return
			}
			got <- &m
		}
	})
	sub := c.Subscribe()
	defer sub.Close()
	close(start)
	e := nextEvent[*TextMessageEvent](t, sub)
	if e.Sender != 1 || e.SenderName != "alice" || e.Message != "hello" || len(e.Channels) != 1 {
		t.Errorf("text event %+v", e)
	}
	e = nextEvent[*TextMessageEvent](t, sub)
	if e.Sender != 0 || e.SenderName != "" || e.Message != "from the server" || len(e.Trees) != 1 {
		t.Errorf("server text event %+v", e)
	}

	ctx := context.Background()
	if err := c.SendText(ctx, TextMessage{Users: []uint32{1}, Message: "hi alice"}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.GetMessage() != "hi alice" || len(m.Session) != 1 || m.Session[0] != 1 {
		t.Errorf("sent %v", m)
	}
	// The server's limits (50 plain, 100 with HTML) are enforced, counting
	// UTF-16 units.
	var tl *TextTooLongError
	if err := c.SendText(ctx, TextMessage{Channels: []uint32{0}, Message: strings.Repeat("é", 51)}); !errors.As(err, &tl) || tl.Length != 51 || tl.Max != 50 {
		t.Errorf("long text: %v", err)
	}
	if err := c.SendText(ctx, TextMessage{Channels: []uint32{0}, Message: strings.Repeat("😀", 26)}); !errors.As(err, &tl) || tl.Length != 52 {
		t.Errorf("long text in UTF-16 units: %v", err)
	}
	if err := c.SendText(ctx, TextMessage{Channels: []uint32{0}, Message: "<b>" + strings.Repeat("x", 60) + "</b>"}); err != nil {
		t.Errorf("HTML between the limits: %v", err)
	}
	<-got
	if err := c.SendText(ctx, TextMessage{Channels: []uint32{0}, Message: "<b>" + strings.Repeat("x", 100) + "</b>"}); !errors.As(err, &tl) || tl.Max != 100 {
		t.Errorf("HTML over the image limit: %v", err)
	}
	if err := c.SendText(ctx, TextMessage{Message: "nobody"}); err == nil {
		t.Error("message without recipients accepted")
	}
	if err := c.SendText(ctx, TextMessage{Channels: []uint32{0}}); err == nil {
		t.Error("empty message accepted")
	}
}

func TestJoinAndCreateDenied(t *testing.T) {
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		// Join 1: granted. Join 2: denied. Create: denied, then granted.
		var us mumbleproto.UserState
		p.expect(MessageUserState, &us)
		if us.GetSession() != 2 || us.GetChannelId() != 1 {
			t.Errorf("join request %v", &us)
		}
		p.send(&mumbleproto.UserState{Session: proto.Uint32(2), Actor: proto.Uint32(2), ChannelId: proto.Uint32(1)})
		p.expect(MessageUserState, &us)
		p.send(&mumbleproto.PermissionDenied{Type: mumbleproto.PermissionDenied_Permission.Enum(), Permission: proto.Uint32(uint32(PermissionEnter)), ChannelId: proto.Uint32(2), Session: proto.Uint32(2)})
		var cs mumbleproto.ChannelState
		p.expect(MessageChannelState, &cs)
		if cs.GetParent() != 1 || cs.GetName() != "bad/name" || !cs.GetTemporary() || cs.Position == nil {
			t.Errorf("create request %v", &cs)
		}
		p.send(&mumbleproto.PermissionDenied{Type: mumbleproto.PermissionDenied_ChannelName.Enum(), Name: proto.String("bad/name")})
		p.expect(MessageChannelState, &cs)
		p.send(&mumbleproto.ChannelState{ChannelId: proto.Uint32(9), Parent: proto.Uint32(1), Name: proto.String("Temp"), Temporary: proto.Bool(true)})
		// Moving alice out of channel 1: servers name her current channel.
		p.expect(MessageUserState, &us)
		if us.GetSession() != 1 || us.GetChannelId() != 0 {
			t.Errorf("move request %v", &us)
		}
		p.send(&mumbleproto.PermissionDenied{Type: mumbleproto.PermissionDenied_Permission.Enum(), Permission: proto.Uint32(uint32(PermissionMove)), ChannelId: proto.Uint32(1), Session: proto.Uint32(2)})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Join(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if c.Self().ChannelID != 1 {
		t.Errorf("self in channel %d", c.Self().ChannelID)
	}
	if err := c.Join(ctx, 1); err != nil {
		t.Errorf("join current channel: %v", err)
	}
	err := c.Join(ctx, 2)
	var pd *PermissionDeniedError
	if !errors.As(err, &pd) || pd.Type != DenyPermission || pd.Permission != PermissionEnter || !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("denied join: %v", err)
	}
	if err := c.Join(ctx, 77); err == nil {
		t.Error("join of an unknown channel succeeded")
	}
	_, err = c.CreateChannel(ctx, 1, "bad/name", true)
	if !errors.As(err, &pd) || pd.Type != DenyChannelName {
		t.Errorf("denied create: %v", err)
	}
	ch, err := c.CreateChannel(ctx, 1, "Temp", true)
	if err != nil || ch.ID != 9 || !ch.Temporary {
		t.Errorf("create: %+v, %v", ch, err)
	}
	if _, err := c.CreateChannel(ctx, 1, "Temp", true); err == nil {
		t.Error("creating an existing channel succeeded")
	}
	if err := c.Move(ctx, 1, 0); !errors.As(err, &pd) || pd.Permission != PermissionMove {
		t.Errorf("denied move: %v", err)
	}
}

// TestJoinContext checks that an unanswered Join honours its context.
func TestJoinContext(t *testing.T) {
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Join(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unanswered join: %v", err)
	}
	c.mu.Lock()
	n := len(c.waiters)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

func TestVoiceTargetAndStats(t *testing.T) {
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		var vt mumbleproto.VoiceTarget
		p.expect(MessageVoiceTarget, &vt)
		if vt.GetId() != 3 || len(vt.Targets) != 2 || len(vt.Targets[0].Session) != 1 || vt.Targets[1].GetChannelId() != 1 || !vt.Targets[1].GetChildren() || vt.Targets[1].GetLinks() {
			t.Errorf("voice target %v", &vt)
		}
		var us mumbleproto.UserStats
		p.expect(MessageUserStats, &us)
		p.send(&mumbleproto.UserStats{Session: proto.Uint32(us.GetSession()), TcpPackets: proto.Uint32(42), Onlinesecs: proto.Uint32(3),
			Address: net.ParseIP("127.0.0.1").To16(), Version: &mumbleproto.Version{VersionV2: proto.Uint64(Version{1, 5, 735}.V2()), Release: proto.String("x")}})
	})
	ctx := context.Background()
	if err := c.SetVoiceTarget(ctx, 3, VoiceTarget{Users: []uint32{1}, Channels: []VoiceTargetChannel{{ID: 1, Children: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetVoiceTarget(ctx, 31, VoiceTarget{}); err == nil {
		t.Error("voice target 31 accepted")
	}
	st, err := c.RequestUserStats(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Session != 1 || st.TCPPackets != 42 || st.Online != 3*time.Second || st.Address.String() != "127.0.0.1" || st.Version != (Version{1, 5, 735}) {
		t.Errorf("stats %+v", st)
	}
}

func TestVoiceReceive(t *testing.T) {
	s := newFakeServer(t)
	legacy, _ := AppendVoicePacket(nil, &VoicePacket{Target: ContextWhisper, Session: 1, Sequence: 4, Opus: []byte{1, 2, 3}}, VoiceLegacy, ServerToClient)
	pb, _ := AppendVoicePacket(nil, &VoicePacket{Target: ContextShout, Session: 1, Sequence: 6, Opus: []byte{4, 5}, Terminator: true, HasPosition: true, Position: [3]float32{1, 2, 3}, VolumeAdjustment: 0.5}, VoiceProtobuf, ServerToClient)
	start := make(chan struct{})
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		<-start
		p.sendRaw(MessageUDPTunnel, legacy)
		p.sendRaw(MessageUDPTunnel, []byte{0x20, 1, 2, 3}) // CELT, dropped
		p.sendRaw(MessageUDPTunnel, pb)
	})
	vs := c.SubscribeVoice()
	defer vs.Close()
	close(start)
	a, b := <-vs.C, <-vs.C
	if a.Session != 1 || a.Sequence != 4 || a.Target != ContextWhisper || !bytes.Equal(a.Opus, []byte{1, 2, 3}) || a.Terminator {
		t.Errorf("legacy packet %+v", a)
	}
	if b.Session != 1 || b.Sequence != 6 || b.Target != ContextShout || !b.Terminator || !b.HasPosition || b.Position != [3]float32{1, 2, 3} || b.Volume() != 0.5 {
		t.Errorf("protobuf packet %+v", b)
	}
}

// receiveVoice returns a fake server script that parses every voice packet
// the client sends, checks that it is in format want, and delivers it on
// got, which is closed when the connection ends.
func receiveVoice(t *testing.T, want VoiceFormat) (script func(p *fakePeer), got <-chan VoicePacket) {
	ch := make(chan VoicePacket, 16)
	return func(p *fakePeer) {
		for {
			b, ok := p.recv(MessageUDPTunnel, nil)
			if !ok {
				close(ch)
				return
			}
			var vp VoicePacket
			f, err := ParseVoicePacket(b, &vp, ClientToServer)
			if err != nil || f != want {
				t.Errorf("packet % x: format %v, %v; want %v", b, f, err, want)
			}
			vp.Opus = bytes.Clone(vp.Opus)
			ch <- vp
		}
	}, ch
}

// TestOnVoice: Config.OnVoice sees every voice packet on the read
// goroutine, without allocating, next to a subscriber's copies.
func TestOnVoice(t *testing.T) {
	s := newFakeServer(t)
	pkt, _ := AppendVoicePacket(nil, &VoicePacket{Target: ContextNormal, Session: 1, Sequence: 8, Opus: []byte{7, 8, 9}}, VoiceLegacy, ServerToClient)
	start := make(chan struct{})
	got := make(chan VoicePacket, 4)
	cfg := &Config{Username: "me", OnVoice: func(p *VoicePacket) {
		v := *p
		v.Opus = bytes.Clone(p.Opus)
		got <- v
	}}
	c, _ := dialFake(t, s, cfg, defaultSync(Version{1, 3, 4}), func(p *fakePeer) {
		<-start
		p.sendRaw(MessageUDPTunnel, pkt)
		p.sendRaw(MessageUDPTunnel, []byte{0x20, 1, 2, 3}) // CELT, dropped
		p.sendRaw(MessageUDPTunnel, pkt)
	})
	vs := c.SubscribeVoice()
	defer vs.Close()
	close(start)
	for i := range 2 {
		a := <-got
		if a.Session != 1 || a.Sequence != 8 || !bytes.Equal(a.Opus, []byte{7, 8, 9}) {
			t.Errorf("OnVoice packet %d: %+v", i, a)
		}
		if b := <-vs.C; b.Sequence != 8 || !bytes.Equal(b.Opus, []byte{7, 8, 9}) {
			t.Errorf("subscriber packet %d: %+v", i, b)
		}
	}
	select {
	case p := <-got:
		t.Errorf("OnVoice called for a dropped packet: %+v", p)
	default:
	}

	// Without subscribers, handing a packet to OnVoice allocates nothing.
	vs.Close()
	calls := 0
	c.cfg.OnVoice = func(*VoicePacket) { calls++ }
	allocs := testing.AllocsPerRun(100, func() { c.handleVoice(pkt) })
	if allocs != 0 || calls != 101 {
		t.Errorf("handleVoice with OnVoice: %v allocations, %d calls", allocs, calls)
	}
}

func TestSendVoiceFormatAndSequence(t *testing.T) {
	for _, tc := range []struct {
		server Version
		format VoiceFormat
	}{{Version{1, 3, 4}, VoiceLegacy}, {Version{1, 4, 0}, VoiceLegacy}, {Version{1, 5, 735}, VoiceProtobuf}} {
		s := newFakeServer(t)
		script, got := receiveVoice(t, tc.format)
		c, _ := dialFake(t, s, nil, defaultSync(tc.server), script)
		clock := time.Unix(1000, 0)
		c.now = func() time.Time { return clock }
		send := func(frames int, last bool, pos *[3]float32, target uint32) {
			t.Helper()
			if err := c.SendVoice(context.Background(), OutgoingVoice{Opus: []byte{0xFC, byte(frames)}, Frames: frames, Last: last, Position: pos, Target: target}); err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(time.Duration(frames) * FrameDuration)
		}
		// A transmission of 20 ms packets: 0, 2, 4 (terminator).
		send(2, false, nil, 0)
		send(2, false, &[3]float32{1, 2, 3}, 0)
		send(2, true, nil, 3)
		// 1 s of silence, then a new transmission: the silence counts.
		clock = clock.Add(time.Second)
		send(4, true, nil, 0)
		// Over 5 s of silence: numbering restarts.
		clock = clock.Add(6 * time.Second)
		send(1, false, nil, 0)
		want := []struct {
			seq      uint64
			last     bool
			pos      bool
			target   uint32
			opusByte byte
		}{{0, false, false, 0, 2}, {2, false, true, 0, 2}, {4, true, false, 3, 2}, {106, true, false, 0, 4}, {0, false, false, 0, 1}}
		for i, w := range want {
			vp := <-got
			if vp.Sequence != w.seq || vp.Terminator != w.last || vp.HasPosition != w.pos || vp.Target != w.target || vp.Opus[1] != w.opusByte {
				t.Errorf("server %v packet %d: %+v, want %+v", tc.server, i, vp, w)
			}
		}
		if err := c.SendVoice(context.Background(), OutgoingVoice{Opus: []byte{1}, Frames: 0}); err == nil {
			t.Error("0 frames accepted")
		}
		if err := c.SendVoice(context.Background(), OutgoingVoice{Opus: make([]byte, 1100), Frames: 2}); !errors.Is(err, ErrVoiceTooLarge) {
			t.Errorf("oversize voice: %v", err)
		}
		c.Close()
	}
}

func TestSendVoicePacketSequence(t *testing.T) {
	// Config.PacketSequence counts packets, not frames, and not the
	// silence between transmissions; over 5 s of silence still restarts.
	s := newFakeServer(t)
	script, got := receiveVoice(t, VoiceProtobuf)
	c, _ := dialFake(t, s, &Config{Username: "bot", PacketSequence: true}, defaultSync(Version{1, 5, 735}), script)
	defer c.Close()
	clock := time.Unix(1000, 0)
	c.now = func() time.Time { return clock }
	for _, step := range []struct {
		frames int
		last   bool
		before time.Duration
	}{{4, false, 0}, {4, false, 0}, {4, true, 0}, {2, false, time.Second}, {2, true, 0}, {6, false, 6 * time.Second}, {6, true, 0}} {
		clock = clock.Add(step.before)
		if err := c.SendVoice(context.Background(), OutgoingVoice{Opus: []byte{0xFC, 1}, Frames: step.frames, Last: step.last}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Duration(step.frames) * FrameDuration)
	}
	for i, want := range []uint64{0, 1, 2, 3, 4, 0, 1} {
		if seq := (<-got).Sequence; seq != want {
			t.Errorf("packet %d: sequence %d, want %d", i, seq, want)
		}
	}
}

// TestSendVoiceNoAlloc checks the send path's allocations over a
// connection that discards what it gets.
func TestSendVoiceNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := newFakeServer(t)
	c, p := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), nil)
	p.discard.Store(true)
	v := OutgoingVoice{Opus: make([]byte, 60), Frames: 2}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.SendVoice(ctx, v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("SendVoice allocates %v times per packet", allocs)
	}
}

func TestBandwidth(t *testing.T) {
	// Upstream's formula: bitrate + (47 + frames [+12]) * (800/frames).
	for _, tc := range []struct {
		bitrate, frames int
		pos             bool
		want            int
	}{
		{40000, 2, false, 40000 + 49*400},
		{40000, 1, true, 40000 + 60*800},
		{72000, 6, false, 72000 + 53*133},
		{0, 4, false, 51 * 200},
	} {
		if got := NetworkBandwidth(tc.bitrate, tc.frames, tc.pos); got != tc.want {
			t.Errorf("NetworkBandwidth(%d, %d, %v) = %d, want %d", tc.bitrate, tc.frames, tc.pos, got, tc.want)
		}
	}
	for _, frames := range []int{1, 2, 4, 6} {
		for _, pos := range []bool{false, true} {
			b := MaxBitrate(72000, frames, pos)
			if NetworkBandwidth(b, frames, pos) > 72000 || NetworkBandwidth(b+1, frames, pos) <= 72000 {
				t.Errorf("MaxBitrate(72000, %d, %v) = %d is not the highest that fits", frames, pos, b)
			}
		}
	}
	if MaxBitrate(0, 2, false) != MaxOpusBitrate || MaxBitrate(10_000_000, 2, false) != MaxOpusBitrate {
		t.Error("no limit should give the Opus maximum")
	}
	if MaxBitrate(1000, 1, false) != 0 || NetworkBandwidth(1, 0, false) != 0 || MaxBitrate(72000, 0, false) != 0 {
		t.Error("impossible settings")
	}
	if AdjustBitrate(128000, 72000, 2, false) != 72000-49*400 || AdjustBitrate(24000, 72000, 2, false) != 24000 {
		t.Error("AdjustBitrate")
	}
	// The client applies the server's limit from ServerSync.
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), nil)
	if c.AdjustBitrate(128000, 2, false) != 72000-49*400 || c.MaxBitrate(4, false) != 72000-51*200 {
		t.Errorf("client bitrate limits %d %d", c.AdjustBitrate(128000, 2, false), c.MaxBitrate(4, false))
	}
}

func TestSelfMuteDeaf(t *testing.T) {
	s := newFakeServer(t)
	c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 0}), func(p *fakePeer) {
		var us mumbleproto.UserState
		p.expect(MessageUserState, &us)
		if us.GetSession() != 2 || !us.GetSelfMute() {
			t.Errorf("mute request %v", &us)
		}
		p.send(&mumbleproto.UserState{Session: proto.Uint32(2), SelfMute: proto.Bool(true)})
		p.expect(MessageUserState, &us)
		if !us.GetSelfDeaf() {
			t.Errorf("deaf request %v", &us)
		}
		p.send(&mumbleproto.UserState{Session: proto.Uint32(2), SelfDeaf: proto.Bool(true)})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.SetSelfMute(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSelfMute(ctx, true); err != nil { // already: no request
		t.Fatal(err)
	}
	if err := c.SetSelfDeaf(ctx, true); err != nil {
		t.Fatal(err)
	}
	if u := c.Self(); !u.SelfMute || !u.SelfDeaf {
		t.Errorf("self %+v", u)
	}
}

func TestVoiceReceivePacketNumbering(t *testing.T) {
	// A sender that numbers packets +1 each, relayed in either format with
	// a packet lost and two overtaking each other: the subscriber gets
	// every number as sent, in arrival order, for the receive path to
	// sort out.
	for _, f := range []VoiceFormat{VoiceLegacy, VoiceProtobuf} {
		seqs := []uint64{7, 8, 10, 9, 11, 12}
		var wire [][]byte
		for i, seq := range seqs {
			b, err := AppendVoicePacket(nil, &VoicePacket{Session: 3, Sequence: seq, Opus: []byte{0x78, byte(seq)}, Terminator: i == len(seqs)-1}, f, ServerToClient)
			if err != nil {
				t.Fatal(err)
			}
			wire = append(wire, b)
		}
		s := newFakeServer(t)
		start := make(chan struct{})
		c, _ := dialFake(t, s, nil, defaultSync(Version{1, 5, 735}), func(p *fakePeer) {
			<-start
			for _, b := range wire {
				p.sendRaw(MessageUDPTunnel, b)
			}
		})
		vs := c.SubscribeVoice()
		close(start)
		for i, seq := range seqs {
			p := <-vs.C
			if p.Session != 3 || p.Sequence != seq || !bytes.Equal(p.Opus, []byte{0x78, byte(seq)}) || p.Terminator != (i == len(seqs)-1) {
				t.Errorf("%v packet %d: %+v, want sequence %d", f, i, p, seq)
			}
		}
		vs.Close()
		c.Close()
	}
}

// TestCertificateExposedWithTLS12: with a server that speaks only TLS 1.2
// the client certificate crosses in clear, and the client says so; with
// TLS 1.3, or without a certificate, it does not.
func TestCertificateExposedWithTLS12(t *testing.T) {
	cert, _ := selfSignedCert(t)
	for _, tt := range []struct {
		max     uint16
		cert    bool
		exposed bool
	}{
		{tls.VersionTLS12, true, true},
		{tls.VersionTLS12, false, false},
		{0, true, false},
	} {
		s := newFakeServer(t)
		s.maxTLS = tt.max
		cfg := &Config{Username: "me"}
		if tt.cert {
			cfg.Certificate = &cert
		}
		c, _ := dialFake(t, s, cfg, defaultSync(Version{1, 5, 0}), nil)
		want := uint16(tls.VersionTLS13)
		if tt.max != 0 {
			want = tt.max
		}
		if c.TLSVersion() != want || c.CertificateExposed() != tt.exposed {
			t.Errorf("max %x cert %v: version %x exposed %v, want %x %v", tt.max, tt.cert, c.TLSVersion(), c.CertificateExposed(), want, tt.exposed)
		}
	}
}

// TestNamesSanitized: control and bidi override characters in names from
// the server are dropped where they enter, so a newline in a user name
// cannot forge a chat line and an override cannot reverse a name.
func TestNamesSanitized(t *testing.T) {
	s := newFakeServer(t)
	o := defaultSync(Version{1, 5, 0})
	o.users[0].Name = proto.String("eve\n[12:00] alice: my password is \u202Eabc\x00\xff")
	o.channels[1].Name = proto.String("La\u2066b\r")
	c, _ := dialFake(t, s, nil, o, nil)
	u, _ := c.User(1)
	if want := "eve[12:00] alice: my password is abc\uFFFD"; u.Name != want {
		t.Errorf("user name %q, want %q", u.Name, want)
	}
	if ch, _ := c.Channel(1); ch.Name != "Lab" {
		t.Errorf("channel name %q, want Lab", ch.Name)
	}
	for _, in := range []string{"plain", "ünïcödé 名前", "tab\there"} {
		if got := cleanLine(in); (got != in) != strings.ContainsRune(in, '\t') {
			t.Errorf("cleanLine(%q) = %q", in, got)
		}
	}
}
