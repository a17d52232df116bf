package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"sync"

	"github.com/tumble-voip/tumble/mumble"
)

// fakeClient is a serverClient kept in memory, for fast tests of the
// session's logic. Tests change the server's state with its methods
// (addUser, talk, ...), which also deliver the matching events. The
// real-server tests (murmurtest) stay the reference for the wire.
type fakeClient struct {
	mu       sync.Mutex
	self     uint32
	channels map[uint32]mumble.Channel
	users    map[uint32]mumble.User
	info     mumble.ServerInfo
	texts    []mumble.TextMessage
	seq      map[uint32]uint64 // next voice sequence number per sender
	selfOps  []string          // "mute=true", "deaf=false", in the order asked
	joined   []uint32

	events chan mumble.Event
	voice  chan mumble.VoicePacket
	once   sync.Once
	done   chan struct{}
	wg     sync.WaitGroup // the voice goroutine
}

// newFakeClient returns a server with a root channel and this client's
// user (session 1, named self) in it.
func newFakeClient(self string) *fakeClient {
	f := &fakeClient{
		self:     1,
		channels: map[uint32]mumble.Channel{0: {ID: 0, Name: "Root"}},
		users:    map[uint32]mumble.User{1: {Session: 1, Name: self}},
		seq:      make(map[uint32]uint64),
		info:     mumble.ServerInfo{MaxBandwidth: 72000, MessageLength: 5000},
		events:   make(chan mumble.Event, 1<<16),
		voice:    make(chan mumble.VoicePacket, 1<<10),
		done:     make(chan struct{}),
	}
	return f
}

// dial is a dialFunc that returns f. As a connection's read goroutine
// would, it hands the fake's voice packets to cfg.OnVoice until Close.
func (f *fakeClient) dial(ctx context.Context, addr string, cfg *mumble.Config) (serverClient, error) {
	if cfg.OnVoice != nil {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for p := range f.voice {
				cfg.OnVoice(&p)
			}
		}()
	}
	return f, nil
}

func (f *fakeClient) addChannel(ch mumble.Channel) {
	f.mu.Lock()
	f.channels[ch.ID] = ch
	f.mu.Unlock()
	f.events <- &mumble.ChannelAddedEvent{Channel: ch}
}

func (f *fakeClient) addUser(u mumble.User) {
	f.mu.Lock()
	f.users[u.Session] = u
	f.mu.Unlock()
	f.events <- &mumble.UserJoinedEvent{User: u}
}

func (f *fakeClient) removeUser(session uint32) {
	f.mu.Lock()
	u := f.users[session]
	delete(f.users, session)
	f.mu.Unlock()
	f.events <- &mumble.UserLeftEvent{User: u}
}

// talk delivers one voice packet of session (a terminator ends the talk).
func (f *fakeClient) talk(session uint32, terminator bool) {
	f.talkIn(session, mumble.ContextNormal, terminator)
}

// talkIn delivers one voice packet of session with the voice context
// (mumble.ContextWhisper, ...) a server puts in it.
func (f *fakeClient) talkIn(session, context uint32, terminator bool) {
	f.mu.Lock()
	seq := f.seq[session]
	f.seq[session] += 2
	f.mu.Unlock()
	// A 20 ms Opus packet of silence (CELT, TOC 0xf8 + padding).
	f.voice <- mumble.VoicePacket{Session: session, Target: context, Sequence: seq, Terminator: terminator, Opus: []byte{0xf8, 0xff, 0xfe}}
}

// drop ends the connection as a server that went away would.
func (f *fakeClient) drop(err error) {
	f.events <- &mumble.DisconnectedEvent{Err: err}
	f.Close()
}

func (f *fakeClient) Events() (<-chan mumble.Event, func()) { return f.events, func() {} }

func (f *fakeClient) Session() uint32 { return f.self }

func (f *fakeClient) Self() mumble.User {
	u, _ := f.User(f.self)
	return u
}

func (f *fakeClient) User(session uint32) (mumble.User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[session]
	return u, ok
}

func (f *fakeClient) Users() []mumble.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]mumble.User, 0, len(f.users))
	for _, u := range f.users {
		out = append(out, u)
	}
	return out
}

func (f *fakeClient) Channels() []mumble.Channel {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]mumble.Channel, 0, len(f.channels))
	for _, ch := range f.channels {
		out = append(out, ch)
	}
	return out
}

func (f *fakeClient) Children(id uint32) []mumble.Channel {
	var out []mumble.Channel
	for _, ch := range f.Channels() {
		if ch.Parent == id && ch.ID != mumble.RootChannelID {
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b mumble.Channel) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (f *fakeClient) ServerInfo() mumble.ServerInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

func (f *fakeClient) MaxBitrate(frames int, positional bool) int { return 40000 }
func (f *fakeClient) Fingerprint() mumble.Fingerprint            { return mumble.Fingerprint{0xfa, 0xce} }
func (f *fakeClient) TLSVersion() uint16                         { return tls.VersionTLS13 }
func (f *fakeClient) CertificateExposed() bool                   { return false }
func (f *fakeClient) Err() error                                 { return nil }

func (f *fakeClient) Join(ctx context.Context, id uint32) error {
	f.mu.Lock()
	u := f.users[f.self]
	u.ChannelID = id
	f.users[f.self] = u
	f.joined = append(f.joined, id)
	f.mu.Unlock()
	f.events <- &mumble.UserChangedEvent{User: u, Change: mumble.UserChangedChannel}
	return nil
}

func (f *fakeClient) SendText(ctx context.Context, m mumble.TextMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.texts = append(f.texts, m)
	return nil
}

func (f *fakeClient) Register(ctx context.Context) error {
	f.mu.Lock()
	u := f.users[f.self]
	u.Registered, u.UserID = true, 7
	f.users[f.self] = u
	f.mu.Unlock()
	f.events <- &mumble.UserChangedEvent{User: u, Change: mumble.UserChangedRegistration}
	return nil
}

func (f *fakeClient) SetSelfMute(ctx context.Context, mute bool) error {
	return f.setSelf(func(u *mumble.User) { u.SelfMute = mute }, "mute", mute)
}

func (f *fakeClient) SetSelfDeaf(ctx context.Context, deaf bool) error {
	return f.setSelf(func(u *mumble.User) {
		u.SelfDeaf = deaf
		if deaf {
			u.SelfMute = true
		}
	}, "deaf", deaf)
}

func (f *fakeClient) setSelf(change func(*mumble.User), what string, on bool) error {
	f.mu.Lock()
	u := f.users[f.self]
	change(&u)
	f.users[f.self] = u
	op := what + "=false"
	if on {
		op = what + "=true"
	}
	f.selfOps = append(f.selfOps, op)
	f.mu.Unlock()
	f.events <- &mumble.UserChangedEvent{User: u, Change: mumble.UserChangedSelfMute | mumble.UserChangedSelfDeaf}
	return nil
}

func (f *fakeClient) RequestChannelDescriptions(ctx context.Context, ids ...uint32) error {
	return nil
}

func (f *fakeClient) SendVoice(ctx context.Context, v mumble.OutgoingVoice) error {
	select {
	case <-f.done:
		return errors.New("fake: closed")
	default:
		return nil
	}
}

func (f *fakeClient) Close() error {
	f.once.Do(func() {
		close(f.done)
		close(f.voice)
	})
	f.wg.Wait()
	return nil
}
