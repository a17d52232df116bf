package mumble_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// These tests run the client against real Mumble servers (1.3.4 and 1.5)
// started on 127.0.0.1 by murmurtest.

// loopbackDial is a Config.DialContext that refuses anything but loopback
// addresses, so no test reaches the network (murmurtest.LoopbackDial).
var loopbackDial = murmurtest.LoopbackDial

func forEachServer(t *testing.T, f func(t *testing.T, v murmurtest.Version)) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) { f(t, v) })
	}
}

func connect(t *testing.T, srv *murmurtest.Server, name string, mod func(*mumble.Config)) *mumble.Client {
	t.Helper()
	cfg := &mumble.Config{Username: name, Password: srv.Password, DialContext: loopbackDial, ConnectTimeout: 20 * time.Second}
	if mod != nil {
		mod(cfg)
	}
	c, err := mumble.Dial(t.Context(), srv.Addr, cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func goroutinesSettle(t *testing.T, before int) {
	t.Helper()
	for range 500 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
}

// waitFor returns the first event of type E satisfying ok.
func waitFor[E mumble.Event](t *testing.T, s *mumble.Subscription, ok func(E) bool) E {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, open := <-s.C:
			if !open {
				var zero E
				t.Fatalf("subscription ended waiting for %T", zero)
			}
			if e, is := ev.(E); is && (ok == nil || ok(e)) {
				return e
			}
		case <-timeout:
			var zero E
			t.Fatalf("no matching %T within 15 s", zero)
		}
	}
}

func TestServerSync(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab/Bench", "Attic"}, Welcome: "hello tests"})
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		c := connect(t, srv, "alice", nil)

		info := c.ServerInfo()
		wantFormat := mumble.VoiceLegacy
		if v == murmurtest.V13 {
			if info.Version.Compare(mumble.Version{Major: 1, Minor: 3}) < 0 || info.Version.Compare(mumble.Version{Major: 1, Minor: 4}) >= 0 {
				t.Errorf("server version %v", info.Version)
			}
		} else {
			wantFormat = mumble.VoiceProtobuf
			if info.Version.Compare(mumble.Version{Major: 1, Minor: 5}) < 0 {
				t.Errorf("server version %v", info.Version)
			}
		}
		if c.VoiceFormat() != wantFormat {
			t.Errorf("voice format %v, want %v", c.VoiceFormat(), wantFormat)
		}
		if info.WelcomeText != "hello tests" || info.MaxBandwidth == 0 || info.MessageLength == 0 {
			t.Errorf("server info %+v", info)
		}
		if c.Fingerprint().String() != srv.Fingerprint() {
			t.Errorf("fingerprint %s, server's %s", c.Fingerprint(), srv.Fingerprint())
		}
		self := c.Self()
		if self.Name != "alice" || self.Session == 0 || self.Session != c.Session() || self.ChannelID != mumble.RootChannelID {
			t.Errorf("self %+v", self)
		}
		for path, id := range srv.Channels {
			ch, ok := c.ChannelByPath("Root/" + path)
			if !ok || ch.ID != id {
				t.Errorf("channel %q: %+v, %v; server says %d", path, ch, ok, id)
			}
		}
		if p, ok := c.ChannelPath(srv.Channels["Lab/Bench"]); !ok || !strings.HasSuffix(p, "/Lab/Bench") {
			t.Errorf("ChannelPath = %q", p)
		}
		if got := len(c.Channels()); got != 4 {
			t.Errorf("%d channels, want 4", got)
		}
		st, err := c.RequestUserStats(ctx, self.Session)
		if err != nil {
			t.Fatal(err)
		}
		if st.Session != self.Session || st.Online < 0 {
			t.Errorf("own stats %+v", st)
		}
		if err := c.SetSelfMute(ctx, true); err != nil {
			t.Fatal(err)
		}
		if err := c.SetSelfDeaf(ctx, true); err != nil {
			t.Fatal(err)
		}
		if err := c.SetSelfMute(ctx, false); err != nil {
			t.Fatal(err)
		}
		if u := c.Self(); u.SelfMute || u.SelfDeaf {
			t.Errorf("after unmute: %+v", u)
		}
		c.Close()
		goroutinesSettle(t, before)
	})
}

// TestServerTwoClients: two clients join a channel, one creates a temporary
// channel, text goes both ways, voice reaches the channel, a whisper
// reaches only its target, and a refused action comes back as a typed error.
func TestServerTwoClients(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		// Murmur silently drops a client's messages beyond a burst of 5
		// (messageburst): this test sends more than that in a row.
		srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab"},
			Extra: map[string]string{"messageburst": "100", "messagelimit": "100"}})
		before := runtime.NumGoroutine()
		// Every request gets a deadline: a reply the server never sends
		// must fail the test, not hang it.
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		a := connect(t, srv, "alice", nil)
		b := connect(t, srv, "bob", nil)
		c := connect(t, srv, "carol", nil)
		subA, subB := a.Subscribe(), b.Subscribe()
		defer subA.Close()
		defer subB.Close()

		lab, ok := a.ChannelByPath("Root/Lab")
		if !ok {
			t.Fatal("no Root/Lab")
		}
		for _, cl := range []*mumble.Client{a, b, c} {
			if err := cl.Join(ctx, lab.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"bob", "carol"} {
			waitFor(t, subA, func(e *mumble.UserChangedEvent) bool {
				return e.User.Name == name && e.Change&mumble.UserChangedChannel != 0 && e.User.ChannelID == lab.ID
			})
		}
		if got := len(a.UsersIn(lab.ID)); got != 3 {
			t.Errorf("%d users in Lab, want 3", got)
		}

		// Text both ways: channel and private.
		if err := a.SendText(ctx, mumble.TextMessage{Channels: []uint32{lab.ID}, Message: "hi lab"}); err != nil {
			t.Fatal(err)
		}
		tm := waitFor[*mumble.TextMessageEvent](t, subB, nil)
		if tm.Message != "hi lab" || tm.SenderName != "alice" || tm.Sender != a.Session() {
			t.Errorf("bob got %+v", tm)
		}
		if err := b.SendText(ctx, mumble.TextMessage{Users: []uint32{a.Session()}, Message: "hi alice"}); err != nil {
			t.Fatal(err)
		}
		tm = waitFor[*mumble.TextMessageEvent](t, subA, nil)
		if tm.Message != "hi alice" || tm.SenderName != "bob" || len(tm.Users) != 1 {
			t.Errorf("alice got %+v", tm)
		}

		// Voice to the channel: bob hears alice's packets in order.
		vB, vC := b.SubscribeVoice(), c.SubscribeVoice()
		defer vB.Close()
		defer vC.Close()
		sendBurst := func(target uint32, n int) {
			t.Helper()
			for i := range n {
				opus := []byte{0xFC, byte(target), byte(i), 0x55, 0xAA}
				if err := a.SendVoice(ctx, mumble.OutgoingVoice{Opus: opus, Frames: 2, Target: target, Last: i == n-1}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		recv := func(s *mumble.VoiceSubscription, n int) []mumble.VoicePacket {
			t.Helper()
			var got []mumble.VoicePacket
			timeout := time.After(10 * time.Second)
			for len(got) < n {
				select {
				case p := <-s.C:
					got = append(got, p)
				case <-timeout:
					for _, p := range got {
						t.Logf("got seq %d opus % x", p.Sequence, p.Opus)
					}
					t.Fatalf("received %d of %d voice packets", len(got), n)
				}
			}
			return got
		}
		const n = 10
		sendBurst(mumble.TargetNormal, n)
		got := recv(vB, n)
		for i, p := range got {
			if p.Session != a.Session() || p.Target != mumble.ContextNormal || p.Sequence != uint64(2*i) ||
				!bytes.Equal(p.Opus, []byte{0xFC, 0, byte(i), 0x55, 0xAA}) || p.Terminator != (i == n-1) {
				t.Errorf("packet %d at bob: %+v", i, p)
			}
		}
		recv(vC, n) // carol is in the channel too

		// Whisper to bob only.
		if err := a.SetVoiceTarget(ctx, 1, mumble.VoiceTarget{Users: []uint32{b.Session()}}); err != nil {
			t.Fatal(err)
		}
		sendBurst(1, n)
		// Measured: the 1.5.735 server drops the first packet sent to a
		// voice target after it is (re)registered, while it builds its
		// whisper cache. 1.3.4 relays it.
		want := n
		if v == murmurtest.V15 {
			want = n - 1
		}
		got = recv(vB, want)
		first := n - want
		for i, p := range got {
			k := first + i // index of the packet as sent
			if p.Session != a.Session() || p.Target != mumble.ContextWhisper || p.Opus[1] != 1 || p.Opus[2] != byte(k) ||
				(i > 0 && p.Sequence != got[i-1].Sequence+2) || p.Terminator != (k == n-1) {
				t.Errorf("whisper packet %d at bob: %+v", k, p)
			}
		}
		if got[0].Sequence < uint64(2*n+2*first) {
			t.Errorf("whisper transmission starts at %d, before the first one ended (%d)", got[0].Sequence, 2*n)
		}
		select {
		case p := <-vC.C:
			t.Errorf("carol heard a whisper to bob: %+v", p)
		case <-time.After(500 * time.Millisecond):
		}

		// Guests may not create temporary channels under the default ACL
		// (only registered users may): a typed refusal.
		_, err := b.CreateChannel(ctx, lab.ID, "Temp", true)
		var pd *mumble.PermissionDeniedError
		if !errors.As(err, &pd) || pd.Type != mumble.DenyPermission || pd.Permission&mumble.PermissionMakeTempChannel == 0 {
			t.Errorf("temporary channel as guest: %v", err)
		}

		// SuperUser may: the channel is created and its creator moved in.
		su := connect(t, srv, "SuperUser", func(cfg *mumble.Config) { cfg.Password = srv.SuperUserPassword })
		subSU := su.Subscribe()
		defer subSU.Close()
		if err := su.Join(ctx, lab.ID); err != nil {
			t.Fatal(err)
		}
		tmp, err := su.CreateChannel(ctx, lab.ID, "Temp", true)
		if err != nil {
			t.Fatal(err)
		}
		if !tmp.Temporary || tmp.Parent != lab.ID {
			t.Errorf("temporary channel %+v", tmp)
		}
		if ch, ok := b.ChannelByPath("Root/Lab/Temp"); !ok && !hasChannel(t, subB, tmp.ID) {
			t.Errorf("bob does not see the temporary channel: %+v", ch)
		}
		waitFor(t, subSU, func(e *mumble.UserChangedEvent) bool {
			return e.User.Session == su.Session() && e.User.ChannelID == tmp.ID
		})
		// Leaving it makes the server remove it.
		if err := su.Join(ctx, lab.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, subB, func(e *mumble.ChannelRemovedEvent) bool { return e.Channel.ID == tmp.ID })
		if _, ok := b.Channel(tmp.ID); ok {
			t.Error("removed channel still in bob's state")
		}
		// Moving others takes the Move permission: SuperUser has it, bob
		// does not.
		err = b.Move(ctx, c.Session(), mumble.RootChannelID)
		if !errors.As(err, &pd) || pd.Permission&mumble.PermissionMove == 0 {
			t.Errorf("move by a guest: %v", err)
		}
		if err := su.Move(ctx, c.Session(), mumble.RootChannelID); err != nil {
			t.Errorf("move by SuperUser: %v", err)
		}
		// Carol's own client learns of it a moment later.
		for i := 0; c.Self().ChannelID != mumble.RootChannelID; i++ {
			if i == 500 {
				t.Fatalf("carol in channel %d after the move", c.Self().ChannelID)
			}
			time.Sleep(10 * time.Millisecond)
		}
		su.Close()

		// Nor permanent ones.
		_, err = b.CreateChannel(ctx, lab.ID, "Permanent", false)
		if !errors.As(err, &pd) || pd.Type != mumble.DenyPermission || pd.Permission&mumble.PermissionMakeChannel == 0 {
			t.Errorf("permanent channel as guest: %v", err)
		}

		// Bob leaves: alice sees it.
		b.Close()
		waitFor(t, subA, func(e *mumble.UserLeftEvent) bool { return e.User.Name == "bob" })
		a.Close()
		c.Close()
		// Undrained subscriptions keep their goroutine until closed.
		for _, s := range []*mumble.Subscription{subA, subB, subSU} {
			s.Close()
		}
		vB.Close()
		vC.Close()
		goroutinesSettle(t, before)
	})
}

// hasChannel waits for channel id to be announced on s.
func hasChannel(t *testing.T, s *mumble.Subscription, id uint32) bool {
	waitFor(t, s, func(e *mumble.ChannelAddedEvent) bool { return e.Channel.ID == id })
	return true
}

func TestServerPasswordAndPin(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		srv := murmurtest.Start(t, murmurtest.Options{Version: v, Password: "sekrit"})
		before := runtime.NumGoroutine()
		_, err := mumble.Dial(t.Context(), srv.Addr, &mumble.Config{Username: "eve", Password: "wrong", DialContext: loopbackDial})
		var re *mumble.RejectError
		if !errors.Is(err, mumble.ErrWrongServerPW) || !errors.As(err, &re) || re.Type != mumble.RejectWrongServerPW {
			t.Errorf("wrong password: %v", err)
		}

		// The right certificate pin connects; another is refused, naming
		// both fingerprints.
		pin, err := mumble.ParseFingerprint(srv.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		c := connect(t, srv, "pinned", func(cfg *mumble.Config) { cfg.PinnedFingerprint = pin })
		c.Close()
		other := mumble.FingerprintOf([]byte("another certificate"))
		_, err = mumble.Dial(t.Context(), srv.Addr, &mumble.Config{Username: "pin2", Password: "sekrit", DialContext: loopbackDial, PinnedFingerprint: other})
		var mm *mumble.CertificateMismatchError
		if !errors.As(err, &mm) || mm.Pinned != other || mm.Got != pin {
			t.Errorf("pin mismatch: %v", err)
		}
		goroutinesSettle(t, before)
	})
}

// TestServerKilled: a killed server yields a DisconnectedEvent with the
// reason, Done closes, nothing hangs or leaks.
func TestServerKilled(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		srv := murmurtest.Start(t, murmurtest.Options{Version: v})
		before := runtime.NumGoroutine()
		c := connect(t, srv, "victim", nil)
		sub := c.Subscribe()
		vsub := c.SubscribeVoice()
		if err := srv.Kill(); err != nil {
			t.Fatal(err)
		}
		d := waitFor[*mumble.DisconnectedEvent](t, sub, nil)
		if d.Err == nil || errors.Is(d.Err, mumble.ErrClosed) {
			t.Errorf("disconnect reason %v", d.Err)
		}
		t.Logf("reason: %v", d.Err)
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed")
		}
		if _, open := <-sub.C; open {
			t.Error("subscription open after DisconnectedEvent")
		}
		for range vsub.C {
		}
		if err := c.SendText(t.Context(), mumble.TextMessage{Channels: []uint32{0}, Message: "x"}); err == nil {
			t.Error("SendText after disconnect succeeded")
		}
		c.Close()
		goroutinesSettle(t, before)
	})
}

// TestLooksLikeOfficialClient: the server logs for a Tumble user what it
// logs for the official 1.5.735 client with its OS hidden: version 1.5.735
// (1.5.255 for 1.3, which reads only the 32-bit field), release "1.5.735",
// no OS; nothing names Tumble. TLS 1.3 is negotiated, so the client
// certificate is encrypted.
func TestLooksLikeOfficialClient(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		srv := murmurtest.Start(t, murmurtest.Options{Version: v})
		cert := clientCert(t)
		c := connect(t, srv, "alice", func(cfg *mumble.Config) { cfg.Certificate = &cert })
		if c.TLSVersion() != tls.VersionTLS13 || c.CertificateExposed() {
			t.Errorf("TLS version %x, certificate exposed %v; want TLS 1.3, not exposed", c.TLSVersion(), c.CertificateExposed())
		}
		c.Close()
		if err := srv.Stop(); err != nil { // the log is complete once it exits
			t.Fatal(err)
		}
		log := srv.Log()
		want := map[murmurtest.Version]string{
			murmurtest.V13: "Client version 1.5.255 (: 1.5.735)",
			murmurtest.V15: "Client version 1.5.735 ( : 1.5.735)",
		}[v]
		if !strings.Contains(log, want) || strings.Contains(log, "Tumble") {
			t.Errorf("server log lacks %q or names Tumble:\n%s", want, log)
		}
	})
}

func clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	return murmurtest.SelfSignedCert(t, "alice")
}
