package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/e2e"
)

// EncryptedRoom is the state of the encrypted room of this client's
// channel (issue #14, docs/e2e.md).
type EncryptedRoom struct {
	// Available is false when the connection cannot carry one.
	Available bool
	// On is true while this client encrypts in its channel.
	On bool
	// Channel is the room's channel while On.
	Channel uint32
	// Members are the other members, sorted by session.
	Members []RoomMember
	// Dropped counts voice packets and chat lines from members that did
	// not decrypt (forged, replayed, or under a key not received).
	Dropped uint64
	// Waiting is how many members have not acknowledged this client's
	// newest sender key yet (0: every member holds it; see KeyStatus).
	Waiting int
}

// KeyStatus says whether this client's newest sender key reached every
// member: "keys delivered", "waiting for 1 member", "waiting for N
// members", or "" when the room is off or has no other member.
func (r EncryptedRoom) KeyStatus() string {
	switch {
	case !r.On || len(r.Members) == 0:
		return ""
	case r.Waiting == 0:
		return "keys delivered"
	case r.Waiting == 1:
		return "waiting for 1 member"
	}
	return fmt.Sprintf("waiting for %d members", r.Waiting)
}

// RoomMember is another member of the encrypted room.
type RoomMember struct {
	Session uint32
	Name    string
	// Trust is "verified", "unverified" or "KEY CHANGED".
	Trust string
	// Changed is true when the member's key is not the one seen before:
	// warn loudly.
	Changed bool
	// SafetyNumber is the pair's safety number, to compare aloud.
	SafetyNumber string
	// Keyed is true once its sender key arrived (it can be heard).
	Keyed bool
	// Acked is true once it acknowledged this client's newest sender
	// key (it can hear this client with it).
	Acked bool
}

// RoomKeys are a bookmark's encrypted-room keys: one E2E identity per
// bookmark, so servers cannot link a user across servers, and the keys of
// the members seen there, so a key that changes is flagged even after a
// restart. They are saved with the bookmark (0600, atomically; in memory
// only in amnesic mode) and travel with its (encrypted) export.
type RoomKeys struct {
	// Identity is the e2e.Identity's secret key material, or nil before
	// encryption was first used on the bookmark.
	Identity []byte `json:"identity,omitempty"`
	// Known are the members' keys (e2e.Trust.MarshalText: one line
	// "u|v fingerprint name" per member).
	Known string `json:"known,omitempty"`
}

// IsZero reports whether no keys are set.
func (k RoomKeys) IsZero() bool { return k.Identity == nil && k.Known == "" }

// validate checks that the keys load.
func (k RoomKeys) validate() error {
	if k.Identity != nil {
		if _, err := e2e.UnmarshalIdentity(k.Identity); err != nil {
			return err
		}
	}
	if k.Known != "" {
		if err := e2e.NewTrust().UnmarshalText([]byte(k.Known)); err != nil {
			return err
		}
	}
	return nil
}

// roomKeys are a session's E2E identity and known members' keys, loaded
// from its bookmark and saved back to it when they change.
type roomKeys struct {
	mu       sync.Mutex
	bookmark string // the bookmark's ID
	id       *e2e.Identity
	trust    *e2e.Trust
	stored   bool   // the identity is in the store
	saved    uint64 // trust version last saved
}

// get returns the session's keys, loading them from the bookmark b the
// first time (a fresh identity if it has none yet; saved on first use).
func (k *roomKeys) get(b Bookmark) (*e2e.Identity, *e2e.Trust, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.id != nil {
		return k.id, k.trust, nil
	}
	trust := e2e.NewTrust()
	if err := trust.UnmarshalText([]byte(b.RoomKeys.Known)); err != nil {
		return nil, nil, fmt.Errorf("app: bookmark's room keys: %w", err)
	}
	var id *e2e.Identity
	var err error
	if b.RoomKeys.Identity != nil {
		id, err = e2e.UnmarshalIdentity(b.RoomKeys.Identity)
	} else {
		id, err = e2e.NewIdentity()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("app: bookmark's room keys: %w", err)
	}
	k.bookmark, k.id, k.trust = b.ID, id, trust
	k.stored, k.saved = b.RoomKeys.Identity != nil, trust.Version()
	return id, trust, nil
}

// save writes the keys into the bookmark if they changed since the last
// save. The store serialises writers, and each writes the keys as they
// are then, so the newest state is what stays.
func (s *session) saveRoomKeys() {
	k := &s.keys
	k.mu.Lock()
	id, trust, bookmark := k.id, k.trust, k.bookmark
	todo := id != nil && (!k.stored || trust.Version() != k.saved)
	k.mu.Unlock()
	if !todo {
		return
	}
	secret, err := id.MarshalBinary()
	if err != nil {
		s.logf("app: save room keys: %v", err)
		return
	}
	var version uint64
	_, err = s.env.store.Modify(bookmark, func(b *Bookmark) error {
		version = trust.Version() // the state written is this one or newer
		known, err := trust.MarshalText()
		if err != nil {
			return err
		}
		b.RoomKeys = RoomKeys{Identity: secret, Known: string(known)}
		return nil
	})
	if err != nil {
		s.logf("app: save room keys of the bookmark: %v", err)
		s.systemLine(fmt.Sprintf("The encrypted room's keys could not be saved (%v): a changed key will not be noticed after a restart.", err))
		return
	}
	k.mu.Lock()
	k.stored = true
	if version > k.saved {
		k.saved = version
	}
	k.mu.Unlock()
}

// roomLocks remember, for the Controller's lifetime, the channels of each
// bookmark in which the user turned encryption on (the lock is the user's
// intent): a new connection to the bookmark (an automatic reconnect, or
// Connect again) re-enters the encrypted room there by itself, and sends
// nothing in clear in such a channel before it has. They are not saved:
// which channels a user encrypted is kept off the disk, as is any other
// record of use. Safe for concurrent use; a nil *roomLocks remembers
// nothing.
type roomLocks struct {
	mu sync.Mutex
	on map[roomLock]bool
}

// roomLock is one bookmark's channel.
type roomLock struct {
	bookmark string
	channel  uint32
}

// set records the user's lock of a bookmark's channel.
func (l *roomLocks) set(bookmark string, channel uint32, on bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !on {
		delete(l.on, roomLock{bookmark, channel})
		return
	}
	if l.on == nil {
		l.on = make(map[roomLock]bool)
	}
	l.on[roomLock{bookmark, channel}] = true
}

// locked reports whether the user locked a bookmark's channel.
func (l *roomLocks) locked(bookmark string, channel uint32) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on[roomLock{bookmark, channel}]
}

// roomCrypto is a connection's encrypted room. A nil *roomCrypto passes
// everything through unchanged.
type roomCrypto struct {
	link     *e2e.Link
	client   e2e.Client
	locks    *roomLocks
	bookmark string
}

// mustEncrypt reports whether the client's channel is one the user
// locked, so that nothing may go there in clear, whether or not the room
// is on yet.
func (r *roomCrypto) mustEncrypt() bool {
	return r != nil && r.locks.locked(r.bookmark, r.client.Self().ChannelID)
}

// ErrRoomNotReady reports chat for a channel the user locked before its
// encrypted room is entered again: it is not sent in clear.
var ErrRoomNotReady = errors.New("app: the encrypted room of this channel is being entered again; the line was not sent")

// newRoomCrypto returns the connection's (disabled) room, or nil if the
// client cannot carry one (test fakes).
func (s *session) newRoomCrypto(client serverClient) *roomCrypto {
	ec, ok := client.(e2e.Client)
	if !ok {
		return nil
	}
	id, trust, err := s.keys.get(s.bookmark)
	if err != nil {
		s.logf("app: encrypted rooms unavailable: %v", err)
		return nil
	}
	link, err := e2e.NewLink(ec, e2e.LinkConfig{Identity: id, Trust: trust})
	if err != nil {
		s.logf("app: encrypted rooms unavailable: %v", err)
		return nil
	}
	return &roomCrypto{link: link, client: ec, locks: s.env.locks, bookmark: s.bookmark.ID}
}

// relock re-enters the encrypted room if the user locked the client's
// channel and the room is off (after a reconnect, or on moving back into
// such a channel). Runs on the connection's event loop.
func (s *session) relock(c *conn) {
	if c.room == nil || c.room.enabled() || !c.room.mustEncrypt() {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	err := c.room.link.Enable(ctx)
	view := c.room.view()
	s.update(func(st *State) {
		st.Room = view
		if err != nil {
			addChat(st, ChatLine{Time: time.Now(), Text: "The encrypted room could not be entered again (" + err.Error() + "): nothing is sent in this channel.", System: true})
		}
	})
}

func (r *roomCrypto) enabled() bool { return r != nil && r.link.Enabled() }

// close stops the room's signalling sender (the connection ended).
func (r *roomCrypto) close() {
	if r != nil {
		r.link.Close()
	}
}

// wrapSend seals outgoing voice while the room is on: sent only to the
// members, never in clear.
func (r *roomCrypto) wrapSend(send func(mumble.OutgoingVoice)) func(mumble.OutgoingVoice) {
	if r == nil {
		return send
	}
	return func(v mumble.OutgoingVoice) {
		if !r.link.Enabled() {
			if !r.mustEncrypt() {
				send(v)
			}
			return // locked, the room not entered yet: never in clear
		}
		sealed, target, ok, err := r.link.SealVoice(nil, v.Opus)
		if err != nil || !ok {
			return // nobody to hear it: nothing leaves
		}
		v.Opus, v.Target = sealed, target
		send(v)
	}
}

// open decrypts a member's voice packet in place; false drops it.
func (r *roomCrypto) open(p *mumble.VoicePacket) bool {
	if r == nil {
		return true
	}
	play, _ := r.link.OpenVoice(p)
	return play
}

// view returns the room's state.
func (r *roomCrypto) view() EncryptedRoom {
	if r == nil {
		return EncryptedRoom{}
	}
	v := EncryptedRoom{Available: true}
	room := r.link.Room()
	if room == nil {
		return v
	}
	v.On, v.Channel = true, room.Channel()
	st := room.Stats()
	v.Dropped = st.Forged + st.Replayed + st.UnknownKey
	for _, m := range room.Members() {
		v.Members = append(v.Members, RoomMember{Session: m.Session, Name: m.Name, Trust: m.Trust.String(),
			Changed: m.Trust == e2e.Changed, SafetyNumber: m.SafetyNumber, Keyed: m.HasKey, Acked: m.Acked})
		if !m.Acked {
			v.Waiting++
		}
	}
	return v
}

// handleRoomEvent passes ev to the room; true if ev was signalling (never
// shown). Decrypted chat and the room's notices become chat lines.
func (s *session) handleRoomEvent(c *conn, ev mumble.Event) bool {
	if c.room == nil {
		// Still never show another member's signalling.
		_, _, signal := e2e.Signal(ev)
		return signal
	}
	line, consumed, err := c.room.link.HandleEvent(c.ctx, ev)
	notices := c.room.link.Notices()
	if len(notices) > 0 {
		s.saveRoomKeys() // a member seen for the first time
	}
	selfMoved := false
	if ue, ok := ev.(*mumble.UserChangedEvent); ok && ue.User.Session == c.client.Session() {
		selfMoved = ue.Change&mumble.UserChangedChannel != 0 // the room follows
	}
	if !consumed && line == nil && len(notices) == 0 && err == nil && !selfMoved {
		return false // nothing of the room changed: no extra redraw
	}
	if selfMoved {
		s.relock(c) // into a channel the user locked
	}
	view := c.room.view()
	if view.On {
		// The room followed the user: its channel is locked too.
		c.room.locks.set(c.room.bookmark, view.Channel, true)
	}
	s.update(func(st *State) {
		st.Room = view
		if err != nil && c.room.link.Enabled() {
			addChat(st, ChatLine{Time: time.Now(), Text: "Encrypted room: " + err.Error(), System: true})
		}
		for _, n := range notices {
			text := n.Name + " " + n.Text
			if n.Warning {
				text = "⚠ " + n.Text
			}
			addChat(st, ChatLine{Time: time.Now(), Text: text, System: true, Encrypted: true})
		}
		if line != nil {
			l := chatLine(line.Name, line.Text, false)
			l.Encrypted, l.Private = true, line.Private
			addChat(st, l)
		}
	})
	return consumed
}

// sendRoomChat sends an encrypted chat line to the room's members.
func (s *session) sendRoomChat(ctx context.Context, c *conn, self, html string) error {
	if err := c.room.link.SendChat(ctx, html); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	s.update(func(st *State) {
		line := chatLine(self, html, false)
		line.Own, line.Encrypted = true, true
		addChat(st, line)
	})
	return nil
}

// ErrNoEncryptedRooms reports a connection that cannot carry an encrypted
// room.
var ErrNoEncryptedRooms = errors.New("app: encrypted rooms are not available on this connection")

// SetRoomEncrypted turns the encrypted room of this client's channel on
// or off (the lock on the channel). It waits for the server (at most
// 30 s); call it off the user interface's event loop.
func (c *Controller) SetRoomEncrypted(on bool) error {
	s, cn, err := c.connected()
	if err != nil {
		return err
	}
	if cn.room == nil {
		return ErrNoEncryptedRooms
	}
	ctx, cancel := context.WithTimeout(cn.ctx, 30*time.Second)
	defer cancel()
	channel := cn.client.Self().ChannelID
	if r := cn.room.link.Room(); r != nil {
		channel = r.Channel()
	}
	if on {
		err = cn.room.link.Enable(ctx)
		if r := cn.room.link.Room(); r != nil {
			channel = r.Channel()
		}
	} else {
		err = cn.room.link.Disable(ctx)
	}
	if err == nil || on {
		// On: remembered even if the announcement failed (nothing goes
		// in clear there); off: only once the room is left.
		cn.room.locks.set(cn.room.bookmark, channel, on)
	}
	view := cn.room.view()
	s.update(func(st *State) { st.Room = view })
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	if on {
		s.saveRoomKeys() // the bookmark's identity, from its first use on
	}
	return nil
}

// VerifyRoomMember marks a member verified after the user compared safety
// numbers; false if it is not a member or its key changed.
func (c *Controller) VerifyRoomMember(session uint32) bool {
	s, cn, err := c.connected()
	if err != nil || cn.room == nil {
		return false
	}
	r := cn.room.link.Room()
	if r == nil || !r.Verify(session) {
		return false
	}
	s.saveRoomKeys()
	view := cn.room.view()
	s.update(func(st *State) { st.Room = view })
	return true
}
