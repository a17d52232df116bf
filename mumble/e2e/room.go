package e2e

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// An Out is a signalling message for the caller to send: to every user on
// the server in a way official clients ignore (Announce: discovery), or to
// the listed member sessions only.
type Out struct {
	Announce bool
	To       []uint32
	Data     []byte
}

// A Notice is something the user should be told: a member's key changed, a
// member joined or left the room, a message could not be decrypted.
type Notice struct {
	Session uint32
	Name    string
	Text    string
	Warning bool // loud: a known member's key changed
}

// Stats counts what a Room dropped, its rekeys, and its switches to a new
// sender key that a member had not acknowledged in AckTimeout.
type Stats struct {
	Replayed, Forged, UnknownKey, BadMessages, Rekeys, AckTimeouts uint64
}

// AckTimeout bounds how long a member keeps sealing voice with its
// previous sender key while members have not acknowledged the new one.
const AckTimeout = 3 * time.Second

// A Member is a room member as shown to the user.
type Member struct {
	Session      uint32
	Name         string
	Fingerprint  Fingerprint
	Trust        TrustState
	SafetyNumber string
	HasKey       bool  // its sender key arrived: we can hear it
	KeyID        uint8 // the ID of its newest sender key, if HasKey
	// Acked is true once it acknowledged this member's newest sender key.
	Acked bool
}

// RoomConfig configures a Room.
type RoomConfig struct {
	Identity *Identity
	Trust    *Trust
	// Channel is the Mumble channel of the room.
	Channel uint32
	// CertHash is this client's Mumble certificate hash (UserState.hash),
	// to which the identity is bound; empty without a certificate.
	CertHash string
	// Now is the clock (time.Now if nil), for AckTimeout.
	Now func() time.Time
}

// A Room is this client's side of one encrypted room. It turns received
// signalling into messages to send (Out) and seals and opens voice and
// chat. It is safe for concurrent use.
type Room struct {
	mu    sync.Mutex
	id    *Identity
	trust *Trust
	eph   *ecdh.PrivateKey
	now   func() time.Time
	hello Hello
	key   SenderKey // the newest sender key
	chat  *Sealer   // with key: chat follows its Keys message in order
	voice *Sealer   // with the key in use for voice
	// next is voice with key, not yet in use: voice, a stream of its own,
	// would overtake the Keys message (rate-limited text on servers
	// before 1.4) and be undecryptable until it arrives. It is used once
	// every member acknowledged key (unacked empty), or after AckTimeout
	// (deadline).
	next     *Sealer
	shared   bool // voice's key was sent to members (the first one never is)
	unacked  map[uint32]bool
	deadline time.Time
	peers    map[uint32]*peer
	stats    Stats
	notices  []Notice
}

type peer struct {
	session uint32
	name    string
	hello   Hello
	pair    *pairKey
	trust   TrustState
	voice   *Opener
	chat    *Opener
	hasKey  bool
	// Private message counters, per direction: the last sent, and the
	// last received (replays and reordering are refused).
	privOut, privIn uint64
}

// NewRoom makes a room. Call Start to announce it.
func NewRoom(cfg RoomConfig) (*Room, error) {
	if cfg.Identity == nil || cfg.Trust == nil {
		return nil, errors.New("e2e: room needs an identity and a trust store")
	}
	if len(cfg.CertHash) > maxCertHash {
		return nil, errors.New("e2e: certificate hash too long")
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("e2e: ephemeral key: %w", err)
	}
	r := &Room{id: cfg.Identity, trust: cfg.Trust, eph: eph, peers: map[uint32]*peer{}, now: cfg.Now}
	if r.now == nil {
		r.now = time.Now
	}
	r.hello = Hello{Channel: cfg.Channel, Key: cfg.Identity.Public(), CertHash: cfg.CertHash}
	copy(r.hello.Eph[:], eph.PublicKey().Bytes())
	copy(r.hello.Sig[:], ed25519.Sign(cfg.Identity.sign, r.hello.signed(nil)))
	if err := r.rekeyLocked(true); err != nil {
		return nil, err
	}
	return r, nil
}

// KeyDelivered reports whether every member acknowledged the sender key
// voice is sealed with: all of them can hear this member.
func (r *Room) KeyDelivered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked()
	return r.next == nil && len(r.unacked) == 0 && len(r.peers) > 0
}

// Unacknowledged returns how many members have not acknowledged this
// member's newest sender key yet.
func (r *Room) Unacknowledged() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked()
	return len(r.unacked)
}

// KeyID returns the ID of this member's current sender key.
func (r *Room) KeyID() uint8 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.key.ID
}

// Channel returns the room's channel.
func (r *Room) Channel() uint32 { return r.hello.Channel }

// Start returns the announcement of this member, asking the room's
// members to answer.
func (r *Room) Start() (Out, error) {
	h := r.hello
	h.Reply = true
	copy(h.Sig[:], ed25519.Sign(r.id.sign, h.signed(nil)))
	b, err := (&Message{Type: TypeHello, Hello: &h}).Marshal()
	return Out{Announce: true, Data: b}, err
}

// Stop returns the message telling the members that this one left.
func (r *Room) Stop() (Out, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := (&Message{Type: TypeLeave, Leave: r.hello.Channel}).Marshal()
	return Out{To: r.sessionsLocked(), Data: b}, err
}

func (r *Room) sessionsLocked() []uint32 {
	out := make([]uint32, 0, len(r.peers))
	for s := range r.peers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// rekeyLocked makes a new sender key. Voice switches to it at once if
// now is true (a member left: it must not hear another word) or no member
// holds the key in use, else once the members acknowledged it.
func (r *Room) rekeyLocked(now bool) error {
	id := uint8(0)
	if r.voice != nil {
		id = r.key.ID + 1
	}
	k, err := NewSenderKey(id)
	if err != nil {
		return err
	}
	v, err := NewVoiceSealer(k)
	if err != nil {
		return err
	}
	c, err := NewChatSealer(k)
	if err != nil {
		return err
	}
	r.key, r.chat = k, c
	r.unacked = make(map[uint32]bool, len(r.peers))
	for s := range r.peers {
		r.unacked[s] = true
	}
	// Nobody holds the key in use (the first, never sent): nothing to
	// lose by switching at once.
	if now || r.voice == nil || len(r.peers) == 0 || !r.shared {
		r.voice, r.next, r.shared = v, nil, len(r.peers) > 0
		return nil
	}
	r.next, r.deadline = v, r.now().Add(AckTimeout)
	return nil
}

// pruneLocked forgets the acknowledgements of members that left.
func (r *Room) pruneLocked() {
	for s := range r.unacked {
		if r.peers[s] == nil {
			delete(r.unacked, s)
		}
	}
}

// switchVoiceLocked starts sealing voice with the next key if every
// member acknowledged it or its time is up.
func (r *Room) switchVoiceLocked() {
	if r.next == nil {
		return
	}
	r.pruneLocked()
	if len(r.unacked) > 0 {
		if r.now().Before(r.deadline) {
			return
		}
		r.stats.AckTimeouts++
	}
	r.voice, r.next, r.shared = r.next, nil, true
}

// rekeyOutLocked makes a new sender key and returns it sealed for every
// member that has a pair key (see rekeyLocked for now).
func (r *Room) rekeyOutLocked(now bool) ([]Out, error) {
	if err := r.rekeyLocked(now); err != nil {
		return nil, err
	}
	r.stats.Rekeys++
	if len(r.peers) == 0 {
		return nil, nil
	}
	// One message per group of keysPerMessage members, sent to them
	// only: it stays under the plugin data and text size limits.
	var outs []Out
	to := r.sessionsLocked()
	for len(to) > 0 {
		group := to[:min(len(to), keysPerMessage)]
		to = to[len(group):]
		keys := &Keys{KeyID: r.key.ID}
		for _, s := range group {
			p := r.peers[s]
			fp := p.hello.Key.Fingerprint()
			var pre [8]byte
			copy(pre[:], fp[:])
			e, err := p.pair.sealKey(r.key, pre)
			if err != nil {
				return nil, err
			}
			keys.Entries = append(keys.Entries, e)
		}
		b, err := (&Message{Type: TypeKeys, Keys: keys}).Marshal()
		if err != nil {
			return nil, err
		}
		outs = append(outs, Out{To: group, Data: b})
	}
	return outs, nil
}

// keysPerMessage bounds the entries of a Keys message: 12 entries are 822
// bytes, under mumble.MaxPluginData.
const keysPerMessage = 12

// A ChatLine is a decrypted chat line.
type ChatLine struct {
	Sender uint32
	Name   string
	Text   string
	// Private is true for a private message to this member alone.
	Private bool
}

// A Sender is who sent a signalling message, as the server reports it.
type Sender struct {
	Session  uint32
	Name     string
	CertHash string // UserState.hash
	Channel  uint32 // the channel the sender is in now
}

// Handle processes signalling message data from sender and returns what
// to send in answer and, for chat, the decrypted line. Bad messages are
// counted and returned as errors; they change nothing.
func (r *Room) Handle(from Sender, data []byte) ([]Out, *ChatLine, error) {
	m, err := ParseMessage(data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.BadMessages++
		return nil, nil, err
	}
	switch m.Type {
	case TypeHello:
		outs, err := r.handleHelloLocked(from, m.Hello)
		if err != nil {
			r.stats.BadMessages++
		}
		return outs, nil, err
	case TypeKeys:
		err := r.handleKeysLocked(from, m.Keys)
		if err != nil {
			return nil, nil, err
		}
		// Acknowledge: the sender switches its voice to the key once
		// every member has it.
		b, err := (&Message{Type: TypeAck, Ack: m.Keys.KeyID}).Marshal()
		return []Out{{To: []uint32{from.Session}, Data: b}}, nil, err
	case TypePrivate:
		line, err := r.openPrivateLocked(from, m.Private)
		return nil, line, err
	case TypeAck:
		if m.Ack == r.key.ID {
			delete(r.unacked, from.Session)
			r.switchVoiceLocked()
		}
		return nil, nil, nil
	case TypeChat:
		line, err := r.openChatLocked(from, m.Chat)
		return nil, line, err
	case TypeLeave:
		if m.Leave != r.hello.Channel {
			return nil, nil, nil
		}
		outs, err := r.removeLocked(from.Session, "left the encrypted room")
		return outs, nil, err
	}
	return nil, nil, nil
}

func (r *Room) handleHelloLocked(from Sender, h *Hello) ([]Out, error) {
	if err := h.Verify(); err != nil {
		return nil, err
	}
	if h.CertHash != from.CertHash {
		return nil, errors.New("e2e: hello not bound to the sender's certificate")
	}
	if h.Channel != r.hello.Channel || from.Channel != r.hello.Channel {
		// Another room: if it was a member, it left.
		return r.removeLocked(from.Session, "left the encrypted room")
	}
	if old := r.peers[from.Session]; old != nil && old.hello.Eph == h.Eph && old.hello.Key == h.Key {
		// A repeat (both sides may invite each other at once): answer
		// if asked; nothing changed.
		if !h.Reply {
			return nil, nil
		}
		b, err := (&Message{Type: TypeHello, Hello: &r.hello}).Marshal()
		return []Out{{To: []uint32{from.Session}, Data: b}}, err
	}
	pair, err := derivePairKey(r.id, r.eph, &r.hello, h)
	if err != nil {
		return nil, err
	}
	if h.Key == r.hello.Key {
		return nil, errors.New("e2e: hello with our own key")
	}
	fp := h.Key.Fingerprint()
	p := &peer{session: from.Session, name: from.Name, hello: *h, pair: pair,
		voice: NewVoiceOpener(), chat: NewChatOpener()}
	p.hello.Reply = false
	p.trust = r.trust.See(from.Name, fp)
	r.peers[from.Session] = p
	n := Notice{Session: from.Session, Name: from.Name, Text: "joined the encrypted room (" + p.trust.String() + ")"}
	if p.trust == Changed {
		n.Warning = true
		n.Text = "KEY CHANGED: " + from.Name + "'s encryption key is not the one seen before. " +
			"Compare safety numbers before trusting anything said."
	}
	r.notices = append(r.notices, n)
	var outs []Out
	if h.Reply {
		b, err := (&Message{Type: TypeHello, Hello: &r.hello}).Marshal()
		if err != nil {
			return nil, err
		}
		outs = append(outs, Out{To: []uint32{from.Session}, Data: b})
	}
	// A joiner gets only a key made after it joined.
	rk, err := r.rekeyOutLocked(false)
	return append(outs, rk...), err
}

func (r *Room) handleKeysLocked(from Sender, k *Keys) error {
	p := r.peers[from.Session]
	if p == nil {
		r.stats.UnknownKey++
		return ErrUnknownKey
	}
	fp := r.hello.Key.Fingerprint()
	for _, e := range k.Entries {
		if string(e.To[:]) != string(fp[:8]) {
			continue
		}
		sk, err := p.pair.openKey(k.KeyID, e)
		if err != nil {
			r.stats.Forged++
			return err
		}
		if err := p.voice.SetKey(sk); err != nil {
			return err
		}
		if err := p.chat.SetKey(sk); err != nil {
			return err
		}
		p.hasKey = true
		return nil
	}
	r.stats.UnknownKey++
	return ErrUnknownKey
}

// Remove drops member session (it left the channel or the server) and
// returns the new sender key for the others.
func (r *Room) Remove(session uint32) ([]Out, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.removeLocked(session, "left the encrypted room")
}

func (r *Room) removeLocked(session uint32, why string) ([]Out, error) {
	p := r.peers[session]
	if p == nil {
		return nil, nil
	}
	delete(r.peers, session)
	r.notices = append(r.notices, Notice{Session: session, Name: p.name, Text: why})
	// Voice moves to the new key at once: the leaver has the old one. The
	// others may miss what overtakes the key (docs/e2e.md).
	return r.rekeyOutLocked(true)
}

// IsMember reports whether session is a member of the room.
func (r *Room) IsMember(session uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[session] != nil
}

// Sessions returns the member sessions (not this client), sorted: the
// receivers of voice and chat.
func (r *Room) Sessions() []uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessionsLocked()
}

// SealVoice appends Opus packet opus sealed with this member's voice key
// to dst.
func (r *Room) SealVoice(dst, opus []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.switchVoiceLocked()
	return r.voice.Seal(dst, opus)
}

// OpenVoice opens sealed voice packet p from session, appending the Opus
// packet to dst. Failures are counted.
func (r *Room) OpenVoice(session uint32, dst, p []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pr := r.peers[session]
	if pr == nil {
		r.stats.UnknownKey++
		return dst, ErrUnknownKey
	}
	out, err := pr.voice.Open(dst, p)
	r.count(err)
	return out, err
}

func (r *Room) count(err error) {
	switch {
	case err == nil:
	case errors.Is(err, ErrReplay):
		r.stats.Replayed++
	case errors.Is(err, ErrUnknownKey):
		r.stats.UnknownKey++
	default:
		r.stats.Forged++
	}
}

// SealChat returns a chat line for the members.
func (r *Room) SealChat(text string) (Out, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sealed, err := r.chat.Seal(nil, []byte(text))
	if err != nil {
		return Out{}, err
	}
	b, err := (&Message{Type: TypeChat, Chat: sealed}).Marshal()
	return Out{To: r.sessionsLocked(), Data: b}, err
}

func (r *Room) openChatLocked(from Sender, sealed []byte) (*ChatLine, error) {
	p := r.peers[from.Session]
	if p == nil {
		r.stats.UnknownKey++
		return nil, ErrUnknownKey
	}
	text, err := p.chat.Open(nil, sealed)
	r.count(err)
	if err != nil {
		r.notices = append(r.notices, Notice{Session: from.Session, Name: from.Name,
			Text: "sent an encrypted message that cannot be decrypted"})
		return nil, err
	}
	return &ChatLine{Sender: from.Session, Name: p.name, Text: string(text)}, nil
}

// ErrNotMember reports a private message to a session that is not a
// member of the room.
var ErrNotMember = errors.New("e2e: not a member of the encrypted room")

// SealPrivate returns a private message to member session alone, sealed
// with the pair key: other members cannot read it either.
func (r *Room) SealPrivate(session uint32, text string) (Out, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[session]
	if p == nil {
		return Out{}, ErrNotMember
	}
	p.privOut++
	sealed, err := p.pair.sealPrivate(p.privOut, r.hello.Key.Fingerprint(), p.hello.Key.Fingerprint(), []byte(text))
	if err != nil {
		return Out{}, err
	}
	b, err := (&Message{Type: TypePrivate, Private: sealed}).Marshal()
	return Out{To: []uint32{session}, Data: b}, err
}

func (r *Room) openPrivateLocked(from Sender, sealed []byte) (*ChatLine, error) {
	p := r.peers[from.Session]
	if p == nil {
		r.stats.UnknownKey++
		return nil, ErrUnknownKey
	}
	ctr, text, err := p.pair.openPrivate(sealed, p.hello.Key.Fingerprint(), r.hello.Key.Fingerprint())
	if err == nil && ctr <= p.privIn {
		err = ErrReplay
	}
	r.count(err)
	if err != nil {
		r.notices = append(r.notices, Notice{Session: from.Session, Name: from.Name,
			Text: "sent an encrypted private message that cannot be decrypted"})
		return nil, err
	}
	p.privIn = ctr
	return &ChatLine{Sender: from.Session, Name: p.name, Text: string(text), Private: true}, nil
}

// Members returns the room's members, sorted by session.
func (r *Room) Members() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Member, 0, len(r.peers))
	for _, s := range r.sessionsLocked() {
		p := r.peers[s]
		out = append(out, Member{Session: s, Name: p.name, Fingerprint: p.hello.Key.Fingerprint(),
			Trust: p.trust, SafetyNumber: SafetyNumber(r.hello.Key, p.hello.Key), HasKey: p.hasKey, KeyID: p.voice.keys[0].id,
			Acked: !r.unacked[s]})
	}
	return out
}

// Verify marks member session's key verified (after comparing safety
// numbers); false if it is not a member or its key changed.
func (r *Room) Verify(session uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[session]
	if p == nil || p.trust == Changed || !r.trust.Verify(p.name, p.hello.Key.Fingerprint()) {
		return false
	}
	p.trust = Verified
	return true
}

// Notices returns and clears what the user should be told.
func (r *Room) Notices() []Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.notices
	r.notices = nil
	return n
}

// Stats returns the drop counters.
func (r *Room) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}
