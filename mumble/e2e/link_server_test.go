package e2e

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// member is one client with a Link, its events pumped into the link.
type member struct {
	t       testing.TB
	name    string
	c       *mumble.Client
	link    *Link
	changed chan struct{} // signalled after each handled event
	voice   chan mumble.VoicePacket
	wg      sync.WaitGroup

	mu      sync.Mutex
	notices []Notice
}

func startMember(ctx context.Context, t testing.TB, srv *murmurtest.Server, name string, channel uint32, id *Identity, trust *Trust) *member {
	t.Helper()
	m := newMember(ctx, t, srv, name, channel, id, trust)
	if err := m.link.Enable(ctx); err != nil {
		t.Fatalf("%s: enable: %v", name, err)
	}
	return m
}

// newMember connects name to channel with a disabled link.
func newMember(ctx context.Context, t testing.TB, srv *murmurtest.Server, name string, channel uint32, id *Identity, trust *Trust) *member {
	t.Helper()
	c, err := mumble.Dial(ctx, srv.Addr, &mumble.Config{Username: name, Password: srv.Password, DialContext: murmurtest.LoopbackDial, ConnectTimeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := c.Join(ctx, channel); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	link, err := NewLink(c, LinkConfig{Identity: id, Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	m := &member{t: t, name: name, c: c, link: link, changed: make(chan struct{}, 1), voice: make(chan mumble.VoicePacket, 1000)}
	sub, vs := c.Subscribe(), c.SubscribeVoice()
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		for ev := range sub.C {
			if _, _, err := link.HandleEvent(ctx, ev); err != nil && ctx.Err() == nil {
				t.Logf("%s: %v", name, err)
			}
			m.mu.Lock()
			m.notices = append(m.notices, link.Notices()...)
			m.mu.Unlock()
			select {
			case m.changed <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		defer m.wg.Done()
		for p := range vs.C {
			m.voice <- p
		}
	}()
	t.Cleanup(m.close)
	return m
}

func (m *member) close() {
	m.c.Close()
	m.wg.Wait()
	m.link.Close()
}

// waitFor waits until cond holds, checking after each event m handles.
func (m *member) waitFor(what string, cond func() bool) {
	m.t.Helper()
	m.waitLong(what, 30*time.Second, cond)
}

// waitLong waits like waitFor, at most limit.
func (m *member) waitLong(what string, limit time.Duration, cond func() bool) {
	m.t.Helper()
	timeout := time.After(limit)
	for !cond() {
		select {
		case <-m.changed:
		case <-timeout:
			m.t.Fatalf("%s: no %s within %v: %+v", m.name, what, limit, m.link.Room().Members())
		}
	}
}

func (m *member) member(name string) (Member, bool) {
	for _, x := range m.link.Room().Members() {
		if x.Name == name {
			return x, true
		}
	}
	return Member{}, false
}

// keyedBy reports whether m holds the current sender key of each of
// others, and only theirs.
func (m *member) keyedBy(others ...*member) bool {
	ms := m.link.Room().Members()
	if len(ms) != len(others) {
		return false
	}
	for _, o := range others {
		x, ok := m.member(o.name)
		if !ok || !x.HasKey || x.KeyID != o.link.Room().KeyID() {
			return false
		}
	}
	return true
}

// room starts alice, bob and carol in channel Lab, all keyed.
func room(ctx context.Context, t testing.TB, v murmurtest.Version) (srv *murmurtest.Server, alice, bob, carol *member, aliceTrust *Trust) {
	srv = murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab"}})
	ch := srv.Channels["Lab"]
	aliceTrust = NewTrust()
	alice = startMember(ctx, t, srv, "alice", ch, mustIdentity(t), aliceTrust)
	bob = startMember(ctx, t, srv, "bob", ch, mustIdentity(t), NewTrust())
	carol = startMember(ctx, t, srv, "carol", ch, mustIdentity(t), NewTrust())
	for _, m := range []struct{ m, o1, o2 *member }{{alice, bob, carol}, {bob, alice, carol}, {carol, alice, bob}} {
		m.m.waitFor("keys of the two others", func() bool { return m.m.keyedBy(m.o1, m.o2) })
	}
	flush(ctx, t, alice, bob, carol)
	return srv, alice, bob, carol, aliceTrust
}

// flush waits until the members sent everything they queued (the
// acknowledgements of the last keys), so that what is measured next does
// not wait behind it.
func flush(ctx context.Context, t testing.TB, ms ...*member) {
	t.Helper()
	for _, m := range ms {
		if err := m.link.Flush(ctx); err != nil {
			t.Fatalf("%s: flush: %v", m.name, err)
		}
	}
}

// TestLinkOverServers runs a room of three Links on real servers: safety
// numbers agree, a member who leaves keeps its old keys and cannot open
// what is sent after the rekey, and a known member's new key is a
// warning.
func TestLinkOverServers(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			srv, alice, bob, carol, _ := room(ctx, t, v)

			ab, _ := alice.member("bob")
			ba, _ := bob.member("alice")
			if ab.SafetyNumber != ba.SafetyNumber || len(ab.SafetyNumber) != 23 {
				t.Errorf("safety numbers: alice sees %q, bob %q", ab.SafetyNumber, ba.SafetyNumber)
			}

			old := carol.link.Room()
			start := time.Now()
			if err := carol.link.Disable(ctx); err != nil {
				t.Fatal(err)
			}
			alice.waitFor("bob's new key", func() bool { return alice.keyedBy(bob) })
			bob.waitFor("alice's new key", func() bool { return bob.keyedBy(alice) })
			t.Logf("%s: rekeyed %v after carol left", v, time.Since(start))

			opus := bytes.Repeat([]byte{0x78}, 33)
			// Three packets: Mumble 1.5 relays no lone terminator packet.
			for i := range 3 {
				sealed, target, ok, err := alice.link.SealVoice(nil, opus)
				if err != nil || !ok {
					t.Fatalf("seal: %v %v", ok, err)
				}
				if err := alice.c.SendVoice(ctx, mumble.OutgoingVoice{Opus: sealed, Frames: 2, Target: target, Last: i == 2}); err != nil {
					t.Fatal(err)
				}
			}
			var got mumble.VoicePacket
			select {
			case got = <-bob.voice:
			case <-ctx.Done():
				t.Fatal("bob got no voice")
			}
			relayed := append([]byte(nil), got.Opus...)
			if play, err := bob.link.OpenVoice(&got); !play || err != nil || !bytes.Equal(got.Opus, opus) {
				t.Fatalf("bob: play %v, %v, %x", play, err, got.Opus)
			}
			if _, err := old.OpenVoice(alice.c.Session(), nil, relayed); err == nil {
				t.Fatal("carol's old keys open a packet sealed after she left")
			}
			// Replays of the relayed packet are dropped and counted.
			replay := mumble.VoicePacket{Session: got.Session, Opus: relayed}
			if play, _ := bob.link.OpenVoice(&replay); play || bob.link.Room().Stats().Replayed != 1 {
				t.Fatalf("replay played %v, stats %+v", play, bob.link.Room().Stats())
			}

			// Carol comes back with a new key: alice, who knew her, is warned.
			carol.close()
			alice.waitFor("carol gone", func() bool { _, ok := alice.member("carol"); return !ok && alice.keyedBy(bob) })
			alice.mu.Lock()
			alice.notices = nil
			alice.mu.Unlock()
			startMember(ctx, t, srv, "carol", srv.Channels["Lab"], mustIdentity(t), NewTrust())
			alice.waitFor("a warning about carol's key", func() bool {
				alice.mu.Lock()
				defer alice.mu.Unlock()
				for _, n := range alice.notices {
					if n.Warning && n.Name == "carol" {
						return true
					}
				}
				return false
			})
			if m, _ := alice.member("carol"); m.Trust != Changed {
				t.Errorf("carol's new key is %v", m.Trust)
			}
		})
	}
}

// BenchmarkRekeyAfterLeave measures, on each server on loopback, the time
// from a member leaving until the two others hold each other's new keys.
func BenchmarkRekeyAfterLeave(b *testing.B) {
	for _, v := range murmurtest.Versions() {
		b.Run(v.String(), func(b *testing.B) { benchRekey(b, v) })
	}
}

func benchRekey(b *testing.B, v murmurtest.Version) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, alice, bob, carol, _ := room(ctx, b, v)
	var total, joins time.Duration
	n := 0
	for b.Loop() {
		// Disable sends the leave message, then clears the beacon (a
		// rate-limited UserState): the rekey does not wait for that.
		start := time.Now()
		disabled := make(chan error, 1)
		go func() { disabled <- carol.link.Disable(ctx) }()
		alice.waitFor("bob's new key", func() bool { return alice.keyedBy(bob) })
		bob.waitFor("alice's new key", func() bool { return bob.keyedBy(alice) })
		total += time.Since(start)
		n++
		b.StopTimer()
		if err := <-disabled; err != nil {
			b.Fatal(err)
		}
		// The join: until everyone holds everyone's current key and
		// sends voice with it (acknowledged by all).
		join := time.Now()
		if err := carol.link.Enable(ctx); err != nil {
			b.Fatal(err)
		}
		alice.waitFor("carol", func() bool { return alice.keyedBy(bob, carol) && alice.link.Room().KeyDelivered() })
		bob.waitFor("carol", func() bool { return bob.keyedBy(alice, carol) && bob.link.Room().KeyDelivered() })
		carol.waitFor("keys", func() bool { return carol.keyedBy(alice, bob) && carol.link.Room().KeyDelivered() })
		joins += time.Since(join)
		flush(ctx, b, alice, bob, carol)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/float64(time.Millisecond)/float64(n), "rekey_ms")
	b.ReportMetric(float64(joins)/float64(time.Millisecond)/float64(n), "join_ms")
}

// TestLinkSimultaneousJoins: five members turn encryption on at the same
// moment. Every signalling message is paced under the server's limit (text
// on 1.3.4, plugin messages on 1.5), so none is dropped: all end up with
// each other's current keys, and each one's key is acknowledged by all.
func TestLinkSimultaneousJoins(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab"}})
			var ms []*member
			for _, name := range []string{"m1", "m2", "m3", "m4", "m5"} {
				ms = append(ms, newMember(ctx, t, srv, name, srv.Channels["Lab"], mustIdentity(t), NewTrust()))
			}
			start := time.Now()
			var wg sync.WaitGroup
			for _, m := range ms {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := m.link.Enable(ctx); err != nil {
						t.Errorf("%s: enable: %v", m.name, err)
					}
				}()
			}
			wg.Wait()
			for i, m := range ms {
				others := append(append([]*member(nil), ms[:i]...), ms[i+1:]...)
				m.waitLong("everyone's keys, its own acknowledged", 3*time.Minute, func() bool {
					return m.keyedBy(others...) && m.link.Room().KeyDelivered()
				})
			}
			var st Stats
			for _, m := range ms {
				s := m.link.Room().Stats()
				st.BadMessages += s.BadMessages
				st.AckTimeouts += s.AckTimeouts
				st.Rekeys += s.Rekeys
			}
			t.Logf("%v: 5 simultaneous joins settled in %v; %d rekeys, %d ack timeouts", v, time.Since(start).Round(10*time.Millisecond), st.Rekeys, st.AckTimeouts)
			if st.BadMessages != 0 {
				t.Errorf("%d bad messages", st.BadMessages)
			}
		})
	}
}
