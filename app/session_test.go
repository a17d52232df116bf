package app

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor"
)

// newFakeController returns a controller whose connections go to fake
// (no network, no sound devices), with Tor off.
func newFakeController(t testing.TB, fake *fakeClient) *Controller {
	t.Helper()
	c := newTestController(t, ControllerConfig{AudioBackend: AudioNone})
	c.env.dial = fake.dial
	return c
}

// connectFake connects c to a bookmark for the fake server and waits
// until connected.
func connectFake(t testing.TB, c *Controller) State {
	t.Helper()
	b, err := c.SaveBookmark(Bookmark{Address: "fake.example", Port: 64738, Username: "me"})
	if err != nil {
		t.Fatal(err)
	}
	return connect(t, c, b)
}

// currentConn returns the controller's live connection.
func currentConn(t *testing.T, c *Controller) (*session, *conn) {
	t.Helper()
	s, cn, err := c.connected()
	if err != nil {
		t.Fatal(err)
	}
	return s, cn
}

func TestSessionTalkFlipChangesOneUser(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	fake.addChannel(mumble.Channel{ID: 1, Name: "Lab"})
	fake.addUser(mumble.User{Session: 5, Name: "bob", ChannelID: 1})
	waitFor(t, c, "bob", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil })
	s, cn := currentConn(t, c)
	s.mu.Lock()
	before := cn.tree
	s.mu.Unlock()

	fake.talk(5, false)
	st := waitFor(t, c, "bob talking", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil && u.Talking })
	if u, _ := userNamed(st.Root, "me"); u == nil || u.Talking {
		t.Errorf("me: %+v, want present and silent", u)
	}
	fake.talk(5, true)
	waitFor(t, c, "bob silent", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil && !u.Talking })
	s.mu.Lock()
	after := cn.tree
	s.mu.Unlock()
	if after != before {
		t.Error("a talk flip rebuilt the tree")
	}

	// A rebuild keeps the flag: bob talks, then someone joins.
	fake.talk(5, false)
	waitFor(t, c, "bob talking", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil && u.Talking })
	fake.addUser(mumble.User{Session: 6, Name: "carol", ChannelID: 1})
	st = waitFor(t, c, "carol", func(st State) bool { u, _ := userNamed(st.Root, "carol"); return u != nil })
	if u, _ := userNamed(st.Root, "bob"); !u.Talking {
		t.Error("bob's talking flag lost in a rebuild")
	}
	fake.removeUser(5)
	waitFor(t, c, "bob gone", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u == nil })
	s.mu.Lock()
	talking := len(cn.talking)
	s.mu.Unlock()
	if talking != 0 {
		t.Errorf("%d talkers remembered after bob left", talking)
	}
}

// TestSessionWhisperAndShout: the voice context of a speaker's packets
// tells a whisper to this client and a shout from talking in the channel,
// in the speaker's entry, and follows a change within one talk; the
// memory of it is bounded against made-up sessions.
func TestSessionWhisperAndShout(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	fake.addUser(mumble.User{Session: 5, Name: "bob"})
	fake.addUser(mumble.User{Session: 6, Name: "carol"})
	talkIs := func(name string, talking bool, kind TalkKind) func(State) bool {
		return func(st State) bool {
			u, _ := userNamed(st.Root, name)
			return u != nil && u.Talking == talking && u.Talk == kind
		}
	}
	fake.talkIn(5, mumble.ContextNormal, false)
	waitFor(t, c, "bob talking in the channel", talkIs("bob", true, TalkChannel))
	fake.talkIn(5, mumble.ContextWhisper, false)
	waitFor(t, c, "bob whispering", talkIs("bob", true, TalkWhisper))
	fake.talkIn(6, mumble.ContextShout, false)
	st := waitFor(t, c, "carol shouting", talkIs("carol", true, TalkShout))
	if u, _ := userNamed(st.Root, "bob"); u.Talk != TalkWhisper {
		t.Errorf("bob %v while carol shouts, want whispering", u.Talk)
	}
	fake.talkIn(5, mumble.ContextWhisper, true)
	waitFor(t, c, "bob silent", talkIs("bob", false, TalkChannel))
	fake.talkIn(6, mumble.ContextShout, true)
	waitFor(t, c, "carol silent", talkIs("carol", false, TalkChannel))
	fake.talkIn(6, mumble.ContextNormal, false)
	waitFor(t, c, "carol talking in the channel", talkIs("carol", true, TalkChannel))
	fake.talkIn(6, mumble.ContextNormal, true)
	waitFor(t, c, "carol silent", talkIs("carol", false, TalkChannel))

	// Whispers from many made-up sessions: the map stays bounded.
	for i := range uint32(2 * maxTalkKinds) {
		fake.talkIn(1000+i, mumble.ContextWhisper, true)
	}
	fake.talkIn(5, mumble.ContextNormal, false) // handled after the flood
	waitFor(t, c, "bob talking after the flood", talkIs("bob", true, TalkChannel))
	s, cn := currentConn(t, c)
	s.mu.Lock()
	n := len(cn.talkKind)
	s.mu.Unlock()
	if n > maxTalkKinds {
		t.Errorf("%d speakers' talk kinds remembered, bound %d", n, maxTalkKinds)
	}
}

func TestSessionStateIsACopy(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	fake.addUser(mumble.User{Session: 5, Name: "bob"})
	st := waitFor(t, c, "bob", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil })
	u, _ := userNamed(st.Root, "bob")
	u.Name = "mallory"
	st.Root.Name = "changed"
	again := c.State()
	if u, _ := userNamed(again.Root, "bob"); u == nil || again.Root.Name != "Root" {
		t.Errorf("changing a snapshot changed the state: %+v", again.Root)
	}
}

func TestSessionLocalVolumeAndMute(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	hash := "0123456789abcdef0123456789abcdef01234567"
	fake.addUser(mumble.User{Session: 5, Name: "bob", Hash: hash})
	waitFor(t, c, "bob", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil })
	c.SetUserVolume(5, 0.5, true)
	c.SetUserMute(5, true)
	st := c.State()
	u, _ := userNamed(st.Root, "bob")
	if u.LocalVolume != 0.5 || !u.LocalMute {
		t.Errorf("bob: volume %v, mute %v; want 0.5, true", u.LocalVolume, u.LocalMute)
	}
	if db := c.Settings().Output.UserVolumeDB[hash]; db != -6 {
		t.Errorf("remembered %d dB, want -6", db)
	}
	saved, err := LoadSettings(c.storage)
	if err != nil {
		t.Fatal(err)
	}
	if db := saved.Output.UserVolumeDB[hash]; db != -6 {
		t.Errorf("saved %d dB, want -6", db)
	}
	c.SetUserVolume(5, 1, true)
	if _, ok := c.Settings().Output.UserVolumeDB[hash]; ok {
		t.Error("0 dB still remembered")
	}
}

// blockingStorage is a Storage whose writes wait until released.
type blockingStorage struct {
	Storage
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStorage) WriteFile(name string, data []byte) error {
	b.entered <- struct{}{}
	<-b.release
	return b.Storage.WriteFile(name, data)
}

// TestSetUserVolumeSavesOutsideTheStateLock: while the settings file is
// being written, the state can be read and the session goes on. (Before,
// the write happened under the controller's lock: this test hung.)
func TestSetUserVolumeSavesOutsideTheStateLock(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	fake.addUser(mumble.User{Session: 5, Name: "bob", Hash: "0123456789abcdef0123456789abcdef01234567"})
	waitFor(t, c, "bob", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil })
	bs := &blockingStorage{Storage: c.storage, entered: make(chan struct{}), release: make(chan struct{})}
	c.storage = bs
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.SetUserVolume(5, 1.5, true)
	}()
	<-bs.entered // the write has started and waits
	st := c.State()
	if u, _ := userNamed(st.Root, "bob"); u.LocalVolume != 1.5 {
		t.Errorf("during the write bob's volume shows %v, want 1.5", u.LocalVolume)
	}
	fake.talk(5, false)
	waitFor(t, c, "bob talking during the write", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u.Talking })
	close(bs.release)
	<-done
}

func TestSessionSelfChangesInOrder(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	c.SetSelfMute(true)
	c.SetSelfDeaf(true)
	c.SetSelfDeaf(false) // muted before deafening: stays muted
	c.SetSelfMute(false)
	c.SetSelfDeaf(true)
	c.SetSelfDeaf(false) // unmuted before deafening: unmuted too
	c.SetSelfMute(true)
	_, cn := currentConn(t, c)
	st := waitFor(t, c, "self changes sent and confirmed", func(st State) bool {
		return !cn.selfOps.busy() && st.SelfMute && !st.SelfDeaf
	})
	fake.mu.Lock()
	got := fmt.Sprint(fake.selfOps)
	fake.mu.Unlock()
	want := "[mute=true deaf=true deaf=false mute=false deaf=true deaf=false mute=false mute=true]"
	if got != want {
		t.Errorf("sent %s\nwant %s", got, want)
	}
	if u, _ := userNamed(st.Root, "me"); !u.SelfMuted || u.SelfDeafened {
		t.Errorf("me in the tree: %+v, want muted, not deafened", u)
	}
}

func TestSessionConnectionLostShowsProblem(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	connectFake(t, c)
	fake.drop(errors.New("fake: reset by peer"))
	st := waitFor(t, c, "disconnected", isPhase(PhaseDisconnected))
	if st.Problem.Kind != ProblemOther || st.Root != nil {
		t.Errorf("after a drop: problem %+v, root %v", st.Problem, st.Root)
	}
	if _, _, err := c.connected(); !errors.Is(err, ErrNotConnected) {
		t.Errorf("connected after the drop: %v", err)
	}
}

func TestConnectUnknownBookmark(t *testing.T) {
	c := newFakeController(t, newFakeClient("me"))
	c.Connect("no-such-id")
	st := waitFor(t, c, "disconnected", isPhase(PhaseDisconnected))
	if st.Problem.Message == "" {
		t.Error("no problem shown")
	}
	if _, err := c.store.Get("no-such-id"); !errors.Is(err, fs.ErrNotExist) && err == nil {
		t.Error("the bookmark appeared")
	}
}

// TestBuildTreeDeepChainIterative builds a chain deeper than any stack
// recursion would survive cheaply, and a cycle, without recursion.
func TestBuildTreeDeepChainIterative(t *testing.T) {
	const depth = 200_000
	chans := make([]mumble.Channel, 0, depth+2)
	chans = append(chans, mumble.Channel{ID: 0, Name: "Root"})
	for i := uint32(1); i <= depth; i++ {
		chans = append(chans, mumble.Channel{ID: i, Parent: i - 1, Name: "c"})
	}
	// A cycle not reachable from the root.
	chans = append(chans, mumble.Channel{ID: depth + 1, Parent: depth + 2}, mumble.Channel{ID: depth + 2, Parent: depth + 1})
	users := []mumble.User{{Session: 7, Name: "deep", ChannelID: depth}}
	tr := buildTree(treeInput{channels: chans, users: users, description: func(*mumble.Channel) ChatMessage { return ChatMessage{} }})
	if u := tr.users[7]; u == nil || u.Name != "deep" {
		t.Fatalf("deep user not indexed: %+v", u)
	}
	if tr.hasChannel(depth+1) || !tr.hasChannel(depth) {
		t.Error("wrong channel set")
	}
	v := tr.root.clone()
	if u, ch := v.FindUser(7); u == nil || ch.ID != depth {
		t.Errorf("FindUser in the clone: %v, %v", u, ch)
	}
}

func TestBuildTreeOrder(t *testing.T) {
	chans := []mumble.Channel{
		{ID: 0, Name: "Root"},
		{ID: 3, Parent: 0, Name: "b", Position: 1},
		{ID: 2, Parent: 0, Name: "z", Position: 0},
		{ID: 4, Parent: 0, Name: "a", Position: 1},
		{ID: 5, Parent: 4, Name: "sub"},
	}
	users := []mumble.User{{Session: 2, Name: "zed", ChannelID: 4}, {Session: 1, Name: "amy", ChannelID: 4}, {Session: 3, Name: "lost", ChannelID: 99}}
	tr := buildTree(treeInput{
		channels: chans, users: users, self: 1, transmitting: true,
		talking:     map[uint32]bool{2: true},
		local:       map[uint32]localAudio{2: {volume: 0.5}},
		description: func(*mumble.Channel) ChatMessage { return ChatMessage{} },
	})
	var names []string
	tr.root.walk(func(c *ChannelView) bool { names = append(names, c.Name); return true })
	if got := fmt.Sprint(names); got != "[Root z a sub b]" {
		t.Errorf("order %s", got)
	}
	a := tr.root.Find(4)
	if len(a.Users) != 2 || a.Users[0].Name != "amy" || !a.Users[0].Self || !a.Users[0].Talking {
		t.Errorf("users of a: %+v", a.Users)
	}
	if z := a.Users[1]; !z.Talking || z.LocalVolume != 0.5 {
		t.Errorf("zed: %+v", z)
	}
	if tr.users[3] != nil {
		t.Error("a user in an unknown channel was placed")
	}
}

// treeOfSize returns the input of a tree with n users spread over m
// channels in a few levels.
func treeOfSize(n, m int) treeInput {
	chans := []mumble.Channel{{ID: 0, Name: "Root"}}
	for i := 1; i < m; i++ {
		chans = append(chans, mumble.Channel{ID: uint32(i), Parent: uint32(i / 8), Name: fmt.Sprintf("channel %d", i)})
	}
	users := make([]mumble.User, n)
	for i := range users {
		users[i] = mumble.User{Session: uint32(i + 1), Name: fmt.Sprintf("user %d", i), ChannelID: uint32(i % m)}
	}
	return treeInput{
		channels: chans, users: users, self: 1,
		local: map[uint32]localAudio{}, talking: map[uint32]bool{},
		description: func(*mumble.Channel) ChatMessage { return ChatMessage{} },
	}
}

// BenchmarkTalkFlip is what a speaker starting or stopping costs the
// state: one user's flag (1000 users, 300 channels).
func BenchmarkTalkFlip(b *testing.B) {
	s, cn := benchSession(treeOfSize(1000, 300))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.setTalking(cn, uint32(i%1000+1), i%2 == 0, false)
	}
}

// BenchmarkTreeRebuild is what every talk flip cost before: rebuilding
// the whole tree (1000 users, 300 channels).
func BenchmarkTreeRebuild(b *testing.B) {
	in := treeOfSize(1000, 300)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buildTree(in)
	}
}

// benchSession returns a session with a built tree and an owner that
// counts notifications.
func benchSession(in treeInput) (*session, *conn) {
	s := &session{owner: &countingOwner{}, env: &sessionEnv{}}
	cn := &conn{talking: in.talking, local: in.local}
	cn.tree = buildTree(in)
	s.conn = cn
	s.st.Root = &cn.tree.root
	return s, cn
}

// countingOwner is a sessionOwner that counts changes.
type countingOwner struct {
	mu      sync.Mutex
	changes int
}

func (o *countingOwner) currentSettings() Settings               { return DefaultSettings() }
func (o *countingOwner) torChoice() (torChoice, error)           { return torChoice{}, nil }
func (o *countingOwner) useTor(*session, *tor.Server, torChoice) {}
func (o *countingOwner) rememberVolume(string, int)              {}
func (o *countingOwner) sessionChanged(*session)                 { o.mu.Lock(); o.changes++; o.mu.Unlock() }

// TestControllerConnectCyclesJoinGoroutines connects to a real server and
// disconnects 200 times: every goroutine a connection starts has ended
// when its session has.
func TestControllerConnectCyclesJoinGoroutines(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{})
	b := addServerBookmark(t, c, srv.Addr, "cycler", "")
	b.Channel = []string{"NoSuchChannel"} // a join attempt runs too
	if _, err := c.SaveBookmark(b); err != nil {
		t.Fatal(err)
	}
	cycle := func() {
		connect(t, c, b)
		c.SetSelfMute(true) // a queued self change may be cut off
		c.mu.Lock()
		s := c.sess
		c.mu.Unlock()
		c.Disconnect()
		<-s.done
	}
	cycle() // starts what lives as long as the controller (Tor "off")
	before := runtime.NumGoroutine()
	cycles := 200
	if testing.Short() {
		cycles = 20
	}
	for range cycles {
		cycle()
	}
	// A goroutine left per cycle would show as hundreds more; a couple of
	// goroutines of earlier tests may still be ending while it runs.
	if after := runtime.NumGoroutine(); after > before+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before %d cycles, %d after:\n%s", before, cycles, after, buf[:runtime.Stack(buf, true)])
	}
}

// BenchmarkSetUserVolumeUIBlock measures how long a reader of the state
// (the interface redrawing) waits while the volume slider moves and every
// step is saved (real files, fsync). The figure before this design is the
// time of one save, which readers waited for under the controller's lock:
// reported in the same run as settings_save_us.
func BenchmarkSetUserVolumeUIBlock(b *testing.B) {
	fake := newFakeClient("me")
	c := newFakeController(b, fake)
	connectFake(b, c)
	fake.addUser(mumble.User{Session: 5, Name: "bob", Hash: "0123456789abcdef0123456789abcdef01234567"})
	waitFor(b, c, "bob", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u != nil })

	stop := make(chan struct{})
	var saves int
	var saveTime time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			c.SetUserVolume(5, 0.5+float64(i%10)/10, true) // a new dB value each step
			saveTime += time.Since(t0)
			saves++
		}
	}()
	waits := make([]time.Duration, b.N)
	var total time.Duration
	b.ResetTimer()
	for i := range waits {
		t0 := time.Now()
		c.State()
		waits[i] = time.Since(t0)
		total += waits[i]
	}
	b.StopTimer()
	close(stop)
	<-done
	slices.Sort(waits)
	b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(b.N), "ui_block_us")
	b.ReportMetric(float64(waits[len(waits)*99/100].Nanoseconds())/1e3, "ui_block_p99_us")
	if saves > 0 {
		b.ReportMetric(float64(saveTime.Microseconds())/float64(saves), "settings_save_us")
	}
}
