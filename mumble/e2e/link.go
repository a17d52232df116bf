package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tumble-voip/tumble/mumble"
)

// Transport constants: what official clients could see of a room, and
// what Tumble recognises.
const (
	// DataID names the plugin data that carries signalling on 1.4+
	// servers; official clients hand it to plugins, none of which wants it.
	DataID = "tumble-e2e"
	// TextPrefix starts a signalling text message on servers before 1.4.
	// Such messages go only to member sessions.
	TextPrefix = "TUMBLE-E2E:"
	// VoiceTarget is the voice target (whisper to the member sessions)
	// encrypted voice is sent to.
	VoiceTarget = 29
)

// Beacon is the avatar a member shows so that the members who enable
// encryption later find it: a few bytes that are no image, which official
// clients drop (they show no avatar). Only users showing it get any
// signalling.
var Beacon = []byte("TUMBLE-E2E\x01")

// pluginDataVersion is the first server version relaying plugin data.
var pluginDataVersion = mumble.Version{Major: 1, Minor: 4}

// Client is what a Link needs of a Mumble connection; *mumble.Client has
// it.
type Client interface {
	Session() uint32
	Self() mumble.User
	User(session uint32) (mumble.User, bool)
	UsersIn(channel uint32) []mumble.User
	ServerInfo() mumble.ServerInfo
	SetTexture(ctx context.Context, texture []byte) error
	SendPluginData(ctx context.Context, p mumble.PluginData) error
	SendText(ctx context.Context, m mumble.TextMessage) error
	SetVoiceTarget(ctx context.Context, id uint32, t mumble.VoiceTarget) error
}

// A LinkConfig configures a Link.
type LinkConfig struct {
	Identity *Identity
	Trust    *Trust
}

// A Link runs this client's encrypted room over a Mumble connection: the
// room of the channel the client is in, while enabled. Feed it every event
// of the client (HandleEvent) and pass voice through SealVoice and
// OpenVoice. It is safe for concurrent use.
type Link struct {
	c     Client
	cfg   LinkConfig
	plugs bool // server relays plugin data

	mu      sync.Mutex
	room    *Room // nil while disabled
	targets []uint32
	notices []Notice

	// The outgoing signalling queue (sendqueue.go), sent in order by one
	// goroutine, started when there is something to send and ended when
	// the queue is empty; Close ends it for good.
	ctx       context.Context // ended by Close
	stop      context.CancelFunc
	wg        sync.WaitGroup
	qmu       sync.Mutex
	queue     []*pending
	sending   bool
	closed    bool
	sendErr   error           // of a message nobody waited for
	flushed   []chan struct{} // closed when the sender goroutine ends
	coalesced uint64
}

// NewLink returns a disabled link for client c.
func NewLink(c Client, cfg LinkConfig) (*Link, error) {
	if cfg.Identity == nil || cfg.Trust == nil {
		return nil, errors.New("e2e: link needs an identity and a trust store")
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Link{c: c, cfg: cfg, plugs: c.ServerInfo().Version.Compare(pluginDataVersion) >= 0, ctx: ctx, stop: stop}, nil
}

// Enabled reports whether encryption is on.
func (l *Link) Enabled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.room != nil
}

// Room returns the current room, or nil while disabled.
func (l *Link) Room() *Room {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.room
}

// Enable turns encryption on for the client's channel and announces this
// member to the room; it returns once the announcement was sent.
func (l *Link) Enable(ctx context.Context) error { return l.enable(ctx, true) }

// enable is Enable; wait false only queues the announcement.
func (l *Link) enable(ctx context.Context, wait bool) error {
	self := l.c.Self()
	r, err := NewRoom(RoomConfig{Identity: l.cfg.Identity, Trust: l.cfg.Trust, Channel: self.ChannelID, CertHash: self.Hash})
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.room
	l.room = r
	l.mu.Unlock()
	if old != nil {
		if out, err := old.Stop(); err == nil {
			l.send(ctx, out, false)
		}
	}
	out, err := r.Start()
	if err != nil {
		return err
	}
	if err := l.c.SetTexture(ctx, Beacon); err != nil {
		return fmt.Errorf("e2e: beacon: %w", err)
	}
	if err := l.send(ctx, out, wait); err != nil {
		return err
	}
	return l.updateTarget(ctx)
}

// Disable tells the members this one left and turns encryption off.
func (l *Link) Disable(ctx context.Context) error {
	l.mu.Lock()
	r := l.room
	l.room = nil
	l.mu.Unlock()
	if r == nil {
		return nil
	}
	out, err := r.Stop()
	if err != nil {
		return err
	}
	if err := l.send(ctx, out, true); err != nil {
		return err
	}
	return l.c.SetTexture(ctx, nil)
}

// send queues out (see enqueue; wait for it to be sent if wait):
// announcements to the users of the room's channel who show the beacon,
// others to the listed members. Non-members never get anything but the
// beacon.
func (l *Link) send(ctx context.Context, out Out, wait bool) error {
	to := out.To
	if out.Announce {
		self := l.c.Self()
		to = nil
		for _, u := range l.c.UsersIn(self.ChannelID) {
			if u.Session != self.Session && bytes.Equal(u.Texture, Beacon) {
				to = append(to, u.Session)
			}
		}
	}
	if len(to) == 0 {
		return nil
	}
	return l.enqueue(ctx, slices.Clone(to), out.Data, wait)
}

// sendAll queues outs without waiting.
func (l *Link) sendAll(ctx context.Context, outs []Out) error {
	var first error
	for _, o := range outs {
		if err := l.send(ctx, o, false); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// updateTarget registers the voice target of the current members.
func (l *Link) updateTarget(ctx context.Context) error {
	l.mu.Lock()
	var s []uint32
	if l.room != nil {
		s = l.room.Sessions()
	}
	same := slices.Equal(s, l.targets)
	l.targets = s
	l.mu.Unlock()
	if same {
		return nil
	}
	return l.c.SetVoiceTarget(ctx, VoiceTarget, mumble.VoiceTarget{Users: s})
}

// Signal returns the signalling data carried by ev, if it is signalling
// (then the caller must not show it, whether or not encryption is on).
func Signal(ev mumble.Event) (from uint32, data []byte, ok bool) {
	switch e := ev.(type) {
	case *mumble.PluginDataEvent:
		if e.DataID == DataID {
			return e.Sender, e.Data, true
		}
	case *mumble.TextMessageEvent:
		if rest, found := strings.CutPrefix(e.Message, TextPrefix); found {
			b, err := base64.RawStdEncoding.DecodeString(rest)
			if err != nil || len(b) > MaxMessageSize {
				return e.Sender, nil, true
			}
			return e.Sender, b, true
		}
	}
	return 0, nil, false
}

// HandleEvent processes one event of the client. It returns the
// decrypted chat line an event carried, if any, and consumed = true for
// signalling, which the caller must not show.
func (l *Link) HandleEvent(ctx context.Context, ev mumble.Event) (line *ChatLine, consumed bool, err error) {
	defer func() {
		if err == nil {
			err = l.takeSendErr() // of a message sent earlier
		}
	}()
	r := l.Room()
	if from, data, ok := Signal(ev); ok {
		if r == nil || data == nil {
			return nil, true, nil
		}
		u, _ := l.c.User(from)
		outs, line, err := r.Handle(Sender{Session: from, Name: u.Name, CertHash: u.Hash, Channel: u.ChannelID}, data)
		l.collect(r)
		if err2 := l.sendAll(ctx, outs); err == nil {
			err = err2
		}
		if err2 := l.updateTarget(ctx); err == nil {
			err = err2
		}
		return line, true, err
	}
	if r == nil {
		return nil, false, nil
	}
	var outs []Out
	switch e := ev.(type) {
	case *mumble.UserChangedEvent:
		if e.Change&mumble.UserChangedTexture != 0 && e.User.Session != l.c.Session() &&
			e.User.ChannelID == r.Channel() && bytes.Equal(e.User.Texture, Beacon) && !r.IsMember(e.User.Session) {
			// A user here turned encryption on: ask it in (it may have
			// looked for members before our beacon reached it).
			out, err := r.Start()
			if err != nil {
				return nil, false, err
			}
			out.Announce, out.To = false, []uint32{e.User.Session}
			return nil, false, l.send(ctx, out, false)
		}
		if e.Change&mumble.UserChangedChannel == 0 {
			return nil, false, nil
		}
		if e.User.Session == l.c.Session() {
			if e.User.ChannelID == r.Channel() {
				return nil, false, nil
			}
			// We moved: the old room is left, the new one joined.
			return nil, false, l.enable(ctx, false)
		}
		if e.User.ChannelID != r.Channel() {
			outs, err = r.Remove(e.User.Session)
		}
	case *mumble.UserLeftEvent:
		outs, err = r.Remove(e.User.Session)
	default:
		return nil, false, nil
	}
	l.collect(r)
	if err2 := l.sendAll(ctx, outs); err == nil {
		err = err2
	}
	if err2 := l.updateTarget(ctx); err == nil {
		err = err2
	}
	return nil, false, err
}

func (l *Link) collect(r *Room) {
	n := r.Notices()
	l.mu.Lock()
	l.notices = append(l.notices, n...)
	l.mu.Unlock()
}

// Notices returns and clears what the user should be told.
func (l *Link) Notices() []Notice {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.notices
	l.notices = nil
	return n
}

// SendChat sends an encrypted chat line to the room's members.
func (l *Link) SendChat(ctx context.Context, text string) error {
	r := l.Room()
	if r == nil {
		return errors.New("e2e: encryption is off")
	}
	out, err := r.SealChat(text)
	if err != nil {
		return err
	}
	if len(out.To) == 0 {
		return errors.New("e2e: no other member in the encrypted room")
	}
	return l.send(ctx, out, true)
}

// SendPrivate sends an encrypted private message to member session
// (ErrNotMember if it is not one: the caller decides whether to send it
// in clear).
func (l *Link) SendPrivate(ctx context.Context, session uint32, text string) error {
	r := l.Room()
	if r == nil {
		return ErrNotMember
	}
	out, err := r.SealPrivate(session, text)
	if err != nil {
		return err
	}
	return l.send(ctx, out, true)
}

// SealVoice returns the packet to send for Opus packet opus, appended to
// dst, and the voice target to send it to; ok is false if there is no
// member to hear it (then nothing must be sent: never plain voice).
func (l *Link) SealVoice(dst, opus []byte) (p []byte, target uint32, ok bool, err error) {
	l.mu.Lock()
	r, n := l.room, len(l.targets)
	l.mu.Unlock()
	if r == nil || n == 0 {
		return dst, 0, false, nil
	}
	p, err = r.SealVoice(dst, opus)
	return p, VoiceTarget, err == nil, err
}

// OpenVoice decrypts a received voice packet in place if it comes from a
// room member (p.Opus then holds the Opus packet) and reports whether to
// play it: packets from members that do not open are dropped (and
// counted); voice from non-members passes unchanged.
func (l *Link) OpenVoice(p *mumble.VoicePacket) (bool, error) {
	r := l.Room()
	if r == nil || !r.IsMember(p.Session) {
		return true, nil
	}
	out, err := r.OpenVoice(p.Session, nil, p.Opus)
	if err != nil {
		return false, err
	}
	p.Opus = out
	return true, nil
}
