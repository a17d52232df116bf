package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// net delivers Outs between rooms in memory, in order.
type testNet struct {
	t     *testing.T
	rooms map[uint32]*Room
	names map[uint32]string
	queue []queued
	now   func() time.Time // the rooms' clock; nil: time.Now
	// hold, if set, keeps the messages it returns true for in held
	// instead of delivering them.
	hold func(queued) bool
	held []queued
}

type queued struct {
	from uint32
	out  Out
}

func newTestNet(t *testing.T) *testNet {
	return &testNet{t: t, rooms: map[uint32]*Room{}, names: map[uint32]string{}}
}

func (n *testNet) join(session uint32, name string, id *Identity, trust *Trust) *Room {
	n.t.Helper()
	r, err := NewRoom(RoomConfig{Identity: id, Trust: trust, Channel: 7, CertHash: name + "-cert", Now: n.now})
	if err != nil {
		n.t.Fatal(err)
	}
	n.rooms[session], n.names[session] = r, name
	out, err := r.Start()
	if err != nil {
		n.t.Fatal(err)
	}
	n.queue = append(n.queue, queued{session, out})
	n.run()
	return r
}

func (n *testNet) leave(session uint32) {
	delete(n.rooms, session)
	for _, r := range n.rooms {
		outs, err := r.Remove(session)
		if err != nil {
			n.t.Fatal(err)
		}
		for s, rr := range n.rooms {
			if rr == r {
				for _, o := range outs {
					n.queue = append(n.queue, queued{s, o})
				}
			}
		}
	}
	n.run()
}

func (n *testNet) run() {
	n.t.Helper()
	for len(n.queue) > 0 {
		q := n.queue[0]
		n.queue = n.queue[1:]
		if n.hold != nil && n.hold(q) {
			n.held = append(n.held, q)
			continue
		}
		var to []uint32
		if q.out.Announce {
			for s := range n.rooms {
				if s != q.from {
					to = append(to, s)
				}
			}
		} else {
			to = q.out.To
		}
		from := Sender{Session: q.from, Name: n.names[q.from], CertHash: n.names[q.from] + "-cert", Channel: 7}
		for _, s := range to {
			r := n.rooms[s]
			if r == nil {
				continue
			}
			outs, _, err := r.Handle(from, q.out.Data)
			if err != nil {
				n.t.Fatalf("%d handling from %d: %v", s, q.from, err)
			}
			for _, o := range outs {
				n.queue = append(n.queue, queued{s, o})
			}
		}
	}
}

func mustIdentity(t testing.TB) *Identity {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRoomThreeMembersAndLeaver(t *testing.T) {
	n := newTestNet(t)
	a := n.join(1, "alice", mustIdentity(t), NewTrust())
	b := n.join(2, "bob", mustIdentity(t), NewTrust())
	c := n.join(3, "carol", mustIdentity(t), NewTrust())
	for s, r := range map[uint32]*Room{1: a, 2: b, 3: c} {
		ms := r.Members()
		if len(ms) != 2 {
			t.Fatalf("%d has %d members", s, len(ms))
		}
		for _, m := range ms {
			if !m.HasKey {
				t.Errorf("%d lacks the key of %d", s, m.Session)
			}
		}
	}
	opus := []byte("pretend opus packet of about thirty bytes")
	p, err := a.SealVoice(nil, opus)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p) - len(opus); got > 24 {
		t.Errorf("overhead %d bytes", got)
	}
	for _, r := range []*Room{b, c} {
		got, err := r.OpenVoice(1, nil, p)
		if err != nil || !bytes.Equal(got, opus) {
			t.Fatalf("open: %q, %v", got, err)
		}
		if _, err := r.OpenVoice(1, nil, p); !errors.Is(err, ErrReplay) {
			t.Errorf("replay: %v", err)
		}
		if r.Stats().Replayed != 1 {
			t.Errorf("replays counted: %+v", r.Stats())
		}
	}
	// Chat.
	out, err := b.SealChat("the plan is at noon")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Data, []byte("noon")) {
		t.Fatal("plaintext in chat message")
	}
	_, line, err := a.Handle(Sender{Session: 2, Name: "bob", CertHash: "bob-cert", Channel: 7}, out.Data)
	if err != nil || line == nil || line.Text != "the plan is at noon" || line.Name != "bob" {
		t.Fatalf("chat: %+v, %v", line, err)
	}

	// Carol leaves but keeps her keys: she opens nothing sent afterwards.
	n.leave(3)
	p2, err := a.SealVoice(nil, opus)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.OpenVoice(1, nil, p2); err != nil || !bytes.Equal(got, opus) {
		t.Fatalf("bob after rekey: %v", err)
	}
	if _, err := c.OpenVoice(1, nil, p2); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("carol opened a packet sealed after she left: %v", err)
	}

	// Safety numbers agree on both sides.
	if a.Members()[0].SafetyNumber != b.Members()[0].SafetyNumber {
		t.Error("safety numbers differ")
	}
}

func TestRoomKeyChangeWarns(t *testing.T) {
	n := newTestNet(t)
	trust := NewTrust()
	a := n.join(1, "alice", mustIdentity(t), trust)
	n.join(2, "bob", mustIdentity(t), NewTrust())
	if !a.Verify(2) {
		t.Fatal("verify failed")
	}
	if a.Members()[0].Trust != Verified {
		t.Fatal("not verified")
	}
	n.leave(2)
	a.Notices()
	n.join(3, "bob", mustIdentity(t), NewTrust()) // same name, new key
	ms := a.Members()
	if len(ms) != 1 || ms[0].Trust != Changed {
		t.Fatalf("members %+v", ms)
	}
	var warned bool
	for _, no := range a.Notices() {
		warned = warned || no.Warning
	}
	if !warned {
		t.Error("no warning for a changed key")
	}
	if a.Verify(3) {
		t.Error("a changed key verified without Accept")
	}
}

func TestRoomRejectsForeignCertificate(t *testing.T) {
	a, err := NewRoom(RoomConfig{Identity: mustIdentity(t), Trust: NewTrust(), Channel: 7, CertHash: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewRoom(RoomConfig{Identity: mustIdentity(t), Trust: NewTrust(), Channel: 7, CertHash: "b"})
	out, _ := b.Start()
	if _, _, err := a.Handle(Sender{Session: 2, Name: "b", CertHash: "other", Channel: 7}, out.Data); err == nil {
		t.Fatal("hello accepted from a session with another certificate")
	}
	out.Data[len(out.Data)-1] ^= 1
	if _, _, err := a.Handle(Sender{Session: 2, Name: "b", CertHash: "b", Channel: 7}, out.Data); err == nil {
		t.Fatal("hello with a bad signature accepted")
	}
	if len(a.Members()) != 0 {
		t.Fatal("member added")
	}
}

func TestReplayWindow(t *testing.T) {
	k, _ := NewSenderKey(3)
	s, _ := NewVoiceSealer(k)
	o := NewVoiceOpener()
	if err := o.SetKey(k); err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for range 100 {
		p, _ := s.Seal(nil, []byte{1, 2, 3})
		pkts = append(pkts, p)
	}
	// Out of order within the window is fine; once only.
	for _, i := range []int{5, 3, 4, 90, 60, 89} {
		if _, err := o.Open(nil, pkts[i]); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	for _, i := range []int{5, 90, 20} { // replays; 20 is older than the window
		if _, err := o.Open(nil, pkts[i]); !errors.Is(err, ErrReplay) {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	bad := append([]byte(nil), pkts[91]...)
	bad[len(bad)-1] ^= 0x80
	if _, err := o.Open(nil, bad); !errors.Is(err, ErrForged) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := o.Open(nil, pkts[91]); err != nil {
		t.Fatalf("a forgery must not burn the counter: %v", err)
	}
}

func TestTrustRoundTrip(t *testing.T) {
	tr := NewTrust()
	fp := mustIdentity(t).Public().Fingerprint()
	tr.See("a b", fp)
	tr.Verify("a b", fp)
	tr.See("c", mustIdentity(t).Public().Fingerprint())
	b, _ := tr.MarshalText()
	tr2 := NewTrust()
	if err := tr2.UnmarshalText(b); err != nil {
		t.Fatal(err)
	}
	if tr2.See("a b", fp) != Verified {
		t.Fatal("verified mark lost")
	}
	if err := tr2.UnmarshalText([]byte("x zz name\n")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestIdentityRoundTrip(t *testing.T) {
	id := mustIdentity(t)
	b, _ := id.MarshalBinary()
	id2, err := UnmarshalIdentity(b)
	if err != nil || id2.Public() != id.Public() {
		t.Fatal("identity did not round trip", err)
	}
	if _, err := UnmarshalIdentity(b[:10]); err == nil {
		t.Fatal("short identity accepted")
	}
}

func FuzzParseMessage(f *testing.F) {
	r, _ := NewRoom(RoomConfig{Identity: mustIdentity(f), Trust: NewTrust(), Channel: 1, CertHash: "x"})
	hello, _ := r.Start()
	chat, _ := r.SealChat("hi")
	leave, _ := r.Stop()
	f.Add(hello.Data)
	f.Add(chat.Data)
	f.Add(leave.Data)
	f.Add([]byte("TE\x01\x05\x07"))                                    // Ack
	f.Add(append([]byte("TE\x01\x06"), make([]byte, minPrivate+3)...)) // Private
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			return
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, out)
		}
		// A room must take anything without panicking.
		r.Handle(Sender{Session: 9, Name: "f", CertHash: "x", Channel: 1}, b)
	})
}

// BenchmarkSealOpen seals and opens a 13 kb/s 20 ms Opus packet (33
// bytes) and reports the overhead of a packet an hour into a call.
func BenchmarkSealOpen(b *testing.B) {
	k, _ := NewSenderKey(0)
	s, _ := NewVoiceSealer(k)
	o := NewVoiceOpener()
	o.SetKey(k)
	opus := make([]byte, 33)
	buf := make([]byte, 0, 128)
	out := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Seal(buf[:0], opus)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Open(out[:0], p); err != nil {
			b.Fatal(err)
		}
	}
	s.ctr = 3600 * 50 // an hour of 20 ms packets
	p, _ := s.Seal(nil, opus)
	b.ReportMetric(float64(len(p)-len(opus)), "bytes/packet")
}

func TestRoomManyMembersKeysFit(t *testing.T) {
	n := newTestNet(t)
	var rooms []*Room
	for i := range 30 {
		rooms = append(rooms, n.join(uint32(i+1), fmt.Sprintf("m%d", i), mustIdentity(t), NewTrust()))
	}
	outs, err := rooms[0].Remove(30)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 3 {
		t.Fatalf("%d key messages for 28 members, want 3", len(outs))
	}
	for _, o := range outs {
		if len(o.Data) > 1000 {
			t.Errorf("key message of %d bytes", len(o.Data))
		}
	}
	for _, r := range rooms[1:] {
		for _, m := range r.Members() {
			if !m.HasKey {
				t.Fatalf("a member lacks a key")
			}
		}
	}
}

// TestRoomVoiceWaitsForAcks: after a join, a member keeps sealing voice
// with its previous sender key until every member acknowledged the new
// one (so nobody drops voice that overtook the key), through two joins in
// a row; then it switches. A member that never acknowledges delays the
// switch by AckTimeout at most. A leave switches at once.
func TestRoomVoiceWaitsForAcks(t *testing.T) {
	clock := time.Unix(1000, 0)
	n := newTestNet(t)
	n.now = func() time.Time { return clock }
	a := n.join(1, "alice", mustIdentity(t), NewTrust())
	b := n.join(2, "bob", mustIdentity(t), NewTrust())
	opus := []byte("pretend opus")
	hears := func(r *Room, what string) {
		t.Helper()
		p, err := a.SealVoice(nil, opus)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := r.OpenVoice(1, nil, p); err != nil || !bytes.Equal(out, opus) {
			t.Errorf("%s: %q, %v", what, out, err)
		}
	}
	deaf := func(r *Room, what string) {
		t.Helper()
		p, err := a.SealVoice(nil, opus)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.OpenVoice(1, nil, p); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: %v, want ErrUnknownKey", what, err)
		}
	}
	if !a.KeyDelivered() {
		t.Fatal("alice's key not delivered with bob acknowledging")
	}
	hears(b, "bob")

	// Carol and dave join; their acknowledgements to alice are held.
	isAckToAlice := func(q queued) bool {
		m, err := ParseMessage(q.out.Data)
		return err == nil && m.Type == TypeAck && slices.Contains(q.out.To, 1)
	}
	n.hold = isAckToAlice
	c := n.join(3, "carol", mustIdentity(t), NewTrust())
	hears(b, "bob, carol's join unacknowledged")
	d := n.join(4, "dave", mustIdentity(t), NewTrust())
	if a.KeyDelivered() {
		t.Error("alice's key delivered before the acknowledgements")
	}
	// (Every acknowledgement to alice is held, bob's of her newest key too.)
	if n := a.Unacknowledged(); n != 3 {
		t.Errorf("%d members have not acknowledged alice's key, want 3", n)
	}
	for _, m := range a.Members() {
		if m.Acked {
			t.Errorf("alice sees %s acknowledged", m.Name)
		}
	}
	hears(b, "bob, two joins unacknowledged")
	deaf(c, "carol before the switch")
	n.hold = nil
	n.queue, n.held = n.held, nil
	n.run()
	if !a.KeyDelivered() {
		t.Fatal("alice's key not delivered after the acknowledgements")
	}
	if n := a.Unacknowledged(); n != 0 {
		t.Errorf("%d members have not acknowledged alice's key after the acknowledgements", n)
	}
	for _, m := range a.Members() {
		if !m.Acked {
			t.Errorf("alice sees %s not acknowledged", m.Name)
		}
	}
	for name, r := range map[string]*Room{"bob": b, "carol": c, "dave": d} {
		hears(r, name+" after the switch")
	}

	// Erin never acknowledges: the switch comes after AckTimeout.
	n.hold = isAckToAlice
	e := n.join(5, "erin", mustIdentity(t), NewTrust())
	n.held = nil
	deaf(e, "erin before the timeout")
	clock = clock.Add(AckTimeout)
	hears(e, "erin after the timeout")
	hears(b, "bob after the timeout")
	if st := a.Stats(); st.AckTimeouts != 1 {
		t.Errorf("ack timeouts %d, want 1", st.AckTimeouts)
	}

	// Dave leaves: alice switches at once, even with acknowledgements
	// held, and dave's keys open nothing new.
	n.leave(4)
	p, err := a.SealVoice(nil, opus)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenVoice(1, nil, p); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("the leaver opened voice sealed after it left: %v", err)
	}
}

// TestRoomPrivateMessage: a private message opens only for its recipient
// (another member cannot read it), once (a replay is refused), and a
// non-member gets none.
func TestRoomPrivateMessage(t *testing.T) {
	n := newTestNet(t)
	a := n.join(1, "alice", mustIdentity(t), NewTrust())
	b := n.join(2, "bob", mustIdentity(t), NewTrust())
	c := n.join(3, "carol", mustIdentity(t), NewTrust())
	out, err := a.SealPrivate(2, "just for bob")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.To, []uint32{2}) || bytes.Contains(out.Data, []byte("just for bob")) {
		t.Fatalf("out %+v", out)
	}
	from := Sender{Session: 1, Name: "alice", CertHash: "alice-cert", Channel: 7}
	_, line, err := b.Handle(from, out.Data)
	if err != nil || line == nil || line.Text != "just for bob" || !line.Private || line.Name != "alice" {
		t.Fatalf("bob: %+v, %v", line, err)
	}
	if _, _, err := b.Handle(from, out.Data); !errors.Is(err, ErrReplay) {
		t.Errorf("replay: %v", err)
	}
	if _, line, err := c.Handle(from, out.Data); line != nil || !errors.Is(err, ErrForged) {
		t.Errorf("carol: %+v, %v", line, err)
	}
	if _, err := a.SealPrivate(9, "x"); !errors.Is(err, ErrNotMember) {
		t.Errorf("to a non-member: %v", err)
	}
	out2, _ := a.SealPrivate(2, "second")
	if _, line, err := b.Handle(from, out2.Data); err != nil || line.Text != "second" {
		t.Errorf("second: %+v, %v", line, err)
	}
}

// TestRoomFirstKeyAtOnce: a member's first key sent to anyone is used at
// once, without waiting for acknowledgements: nobody could open the key
// before it, which was never sent.
func TestRoomFirstKeyAtOnce(t *testing.T) {
	n := newTestNet(t)
	n.hold = func(q queued) bool {
		m, err := ParseMessage(q.out.Data)
		return err == nil && m.Type == TypeAck
	}
	a := n.join(1, "alice", mustIdentity(t), NewTrust())
	b := n.join(2, "bob", mustIdentity(t), NewTrust())
	for _, x := range []struct {
		from, to *Room
		s        uint32
	}{{a, b, 1}, {b, a, 2}} {
		p, err := x.from.SealVoice(nil, []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := x.to.OpenVoice(x.s, nil, p); err != nil || string(out) != "hello" {
			t.Errorf("voice of %d before any acknowledgement: %q, %v", x.s, out, err)
		}
	}
	if a.KeyDelivered() {
		t.Error("delivered without an acknowledgement")
	}
}
