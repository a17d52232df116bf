package app

import (
	"fmt"
	"time"

	"github.com/tumble-voip/tumble/mumble"
)

// Phase is where the Controller's session state machine stands.
//
//	Idle -> StartingTor -> Connecting -> Connected -> Disconnected
//	                  \__________\___________\______-> ReconnectWait -> StartingTor ...
//
// Cancel (or Disconnect) returns to Idle from every phase.
type Phase int

// The phases of a session.
const (
	// PhaseIdle: no server chosen, nothing running.
	PhaseIdle Phase = iota
	// PhaseStartingTor: waiting for Tor to start and bootstrap
	// (State.Tor shows the progress).
	PhaseStartingTor
	// PhaseConnecting: dialing the server through Tor, TLS handshake,
	// authentication and the initial state transfer.
	PhaseConnecting
	// PhaseConnected: logged in; State.Root holds the channel tree.
	PhaseConnected
	// PhaseDisconnected: the last attempt or connection ended for the
	// reason in State.Problem.
	PhaseDisconnected
	// PhaseReconnectWait: counting down (State.ReconnectIn) before the
	// next automatic attempt; StopReconnect ends it.
	PhaseReconnectWait
)

// String returns the phase's name in lower case ("starting tor").
func (p Phase) String() string {
	switch p {
	case PhaseIdle:
		return "idle"
	case PhaseStartingTor:
		return "starting tor"
	case PhaseConnecting:
		return "connecting"
	case PhaseConnected:
		return "connected"
	case PhaseDisconnected:
		return "disconnected"
	case PhaseReconnectWait:
		return "waiting to reconnect"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// TorStatus is what the user sees of Tor.
type TorStatus struct {
	// Mode is "embedded", "socks" or "off".
	Mode string
	// Protected is false only when Tor is off: connections then go out
	// directly and the interface must say UNPROTECTED.
	Protected bool
	// Progress is Tor's bootstrap progress, 0-100.
	Progress int
	// Summary is Tor's description of the current bootstrap phase.
	Summary string
	// Warning is Tor's own words when bootstrapping is stalled (its
	// warning and reason), empty otherwise.
	Warning string
	// Hint says, when Tor has not reached a relay for a while, that the
	// network may block Tor and what to try; SuggestBridges is true when
	// that is turning on bridges (Settings > Network). Empty/false
	// otherwise.
	Hint           string
	SuggestBridges bool
	// BridgeFailure names the last bridge that failed and why, while Tor
	// is not ready yet.
	BridgeFailure string
	// Ready is true once Tor can carry connections.
	Ready bool
	// NetworkDown is set while Tor, once ready, has lost the Tor network
	// (the network of this computer is gone, circuits fail or get no
	// answer; with an external Tor: its SOCKS port stopped answering).
	// NetworkProblem says what, for the user. Cleared when Tor gets
	// through again.
	NetworkDown    bool
	NetworkProblem string
}

// ProblemKind classifies why a connection attempt or a connection ended.
type ProblemKind int

// Problem kinds. Each one except ProblemNone and ProblemOther has a dialog
// of its own.
const (
	// ProblemNone: no problem (never connected, or ended by the user).
	ProblemNone ProblemKind = iota
	// ProblemCertificateChanged: the server presented a certificate other
	// than the pinned one. The connection was refused; Problem holds both
	// fingerprints and TrustNewCertificate accepts the new one.
	ProblemCertificateChanged
	// ProblemWrongPassword: the server refused the password (server
	// password or the registered user's password).
	ProblemWrongPassword
	// ProblemClientAuthRequired: the onion service requires client
	// authorization and the bookmark has no key, or Tor's key was refused.
	ProblemClientAuthRequired
	// ProblemTorFailed: Tor could not be started or stopped working;
	// Message carries Tor's reason.
	ProblemTorFailed
	// ProblemOther: anything else (server unreachable, connection lost,
	// rejected for another reason); Message says what.
	ProblemOther
)

// String returns the kind's name in lower case.
func (k ProblemKind) String() string {
	switch k {
	case ProblemNone:
		return "none"
	case ProblemCertificateChanged:
		return "certificate changed"
	case ProblemWrongPassword:
		return "wrong password"
	case ProblemClientAuthRequired:
		return "client authorization required"
	case ProblemTorFailed:
		return "tor failed"
	case ProblemOther:
		return "other"
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem says why the last attempt or connection ended.
type Problem struct {
	// Kind selects the dialog.
	Kind ProblemKind
	// Message says, for the user, what happened and what to do.
	Message string
	// Detail is the raw error behind Message (Tor's, the SOCKS reply, the
	// server's), for a "Details" button; empty without an error.
	Detail string
	// PasswordNeeded, with ProblemWrongPassword, says that the bookmark
	// had no password and the server needs one (rather than refusing the
	// one given).
	PasswordNeeded bool
	// PinnedFingerprint and NewFingerprint are the SHA-256 fingerprints
	// (64 lower-case hex digits) of the pinned and the presented server
	// certificate, for ProblemCertificateChanged.
	PinnedFingerprint, NewFingerprint mumble.Fingerprint
}

// TalkKind says how a talking user's voice reaches this client, from the
// voice context the server puts in every packet.
type TalkKind int

// Talk kinds.
const (
	// TalkChannel: the user talks in this client's channel.
	TalkChannel TalkKind = iota
	// TalkShout: the user talks to several channels at once (a voice
	// target with channels, possibly linked ones), this client's among
	// them.
	TalkShout
	// TalkWhisper: the user whispers to this client (a voice target
	// naming users): the rest of the channel does not hear it.
	TalkWhisper
	// TalkListen: heard through a channel listener (Mumble 1.5 servers).
	TalkListen
)

// String returns the kind in words, for a tooltip or a test message.
func (k TalkKind) String() string {
	switch k {
	case TalkChannel:
		return "talks in the channel"
	case TalkShout:
		return "shouts"
	case TalkWhisper:
		return "whispers to you"
	case TalkListen:
		return "heard by listening"
	}
	return fmt.Sprintf("TalkKind(%d)", int(k))
}

// talkKindOf maps a received packet's voice context to a TalkKind.
func talkKindOf(context uint32) TalkKind {
	switch context {
	case mumble.ContextShout:
		return TalkShout
	case mumble.ContextWhisper:
		return TalkWhisper
	case mumble.ContextListen:
		return TalkListen
	}
	return TalkChannel
}

// UserView is one user as the channel tree shows it.
type UserView struct {
	// Session identifies the user on this connection.
	Session uint32
	// Name is the user's name.
	Name string
	// Self marks this client's own user.
	Self bool
	// Talking is true while the user is heard (for Self: while
	// transmitting).
	Talking bool
	// Talk says how the user's voice reaches this client while Talking:
	// in the channel, shouted, whispered to this client alone, or through
	// a listener. TalkChannel for Self and for silent users.
	Talk TalkKind
	// Muted and Deafened are set by an administrator.
	Muted, Deafened bool
	// SelfMuted and SelfDeafened are set by the user.
	SelfMuted, SelfDeafened bool
	// Suppressed is a mute imposed by the server (no Speak permission).
	Suppressed bool
	// PrioritySpeaker is heard over others.
	PrioritySpeaker bool
	// Registered is true for a user registered on the server.
	Registered bool
	// Recording is true while the user records.
	Recording bool
	// LocalVolume is the local volume of this user, linear 0-2 (1 is
	// unchanged).
	LocalVolume float64
	// LocalMute is true if this user is muted locally.
	LocalMute bool
}

// ChannelView is one channel of the tree, with its users and sub-channels.
type ChannelView struct {
	// ID is the channel's ID (0 for the root).
	ID uint32
	// Name is the channel's name.
	Name string
	// Description is the channel description as plain text (server HTML
	// reduced by ParseChatHTML; nothing fetched, images are
	// ImagePlaceholder).
	Description string
	// DescriptionLinks are the links in the description, for display
	// only, as in ChatLine.Links.
	DescriptionLinks []ChatLink
	// DescriptionPending is true while the server has announced a long
	// description (by its hash) whose text has not arrived yet. Tumble
	// asks for all of them when it connects and whenever one changes.
	DescriptionPending bool
	// Temporary channels disappear when their last user leaves.
	Temporary bool
	// Users are the users in the channel, by name.
	Users []UserView
	// Children are the sub-channels in the server's display order.
	Children []ChannelView
}

// Find returns the channel with the given ID in the tree rooted at v, or
// nil.
func (v *ChannelView) Find(id uint32) *ChannelView {
	var found *ChannelView
	v.walk(func(c *ChannelView) bool {
		if c.ID == id {
			found = c
		}
		return found == nil
	})
	return found
}

// FindUser returns the user with the given session in the tree rooted at v
// and the channel holding it, or nil, nil.
func (v *ChannelView) FindUser(session uint32) (*UserView, *ChannelView) {
	var (
		user *UserView
		in   *ChannelView
	)
	v.walk(func(c *ChannelView) bool {
		for i := range c.Users {
			if c.Users[i].Session == session {
				user, in = &c.Users[i], c
				return false
			}
		}
		return true
	})
	return user, in
}

// walk calls f for every channel of the tree rooted at v in pre-order
// (display order), until f returns false. It keeps a stack of its own, so a
// deep tree cannot exhaust the goroutine's stack.
func (v *ChannelView) walk(f func(*ChannelView) bool) {
	if v == nil {
		return
	}
	stack := []*ChannelView{v}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !f(c) {
			return
		}
		for i := len(c.Children) - 1; i >= 0; i-- {
			stack = append(stack, &c.Children[i])
		}
	}
}

// clone returns a deep copy. It walks the tree with a stack of its own, so
// a deep tree cannot exhaust the goroutine's stack.
func (v ChannelView) clone() ChannelView {
	out := v
	stack := []*ChannelView{&out}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c.Users = append([]UserView(nil), c.Users...)
		c.DescriptionLinks = append([]ChatLink(nil), c.DescriptionLinks...)
		if c.Children != nil {
			c.Children = append([]ChannelView(nil), c.Children...)
			for i := range c.Children {
				stack = append(stack, &c.Children[i])
			}
		}
	}
	return out
}

// ChatLine is one line of the chat pane.
type ChatLine struct {
	// Time is when the line arrived or was sent.
	Time time.Time
	// From is the sender's name; empty for server and system lines.
	From string
	// Text is plain text (server HTML reduced by ParseChatHTML).
	Text string
	// Links are the links in the text, shown, never fetched.
	Links []ChatLink
	// Own marks what this client sent.
	Own bool
	// Private marks a message sent to this client alone, or (Own) sent
	// by this client to one user, named in To.
	Private bool
	To      string
	// System marks lines from the server or from Tumble itself (welcome
	// text, refusals, connection notices).
	System bool
	// Encrypted marks a line of the encrypted room (end to end).
	Encrypted bool
}

// MaxChatLines bounds State.Chat; older lines are dropped.
const MaxChatLines = 500

// State is a snapshot of everything the interface shows.
type State struct {
	// Phase is where the session stands.
	Phase Phase
	// Hosting is the room this Tumble hosts, if any.
	Hosting RoomView
	// Bookmark is the bookmark being used, nil when idle.
	Bookmark *Bookmark
	// Tor is Tor's status.
	Tor TorStatus
	// Problem is why the last attempt or connection ended.
	Problem Problem
	// Root is the channel tree with users; nil unless connected.
	Root *ChannelView
	// Self is this client's own user while connected.
	Self UserView
	// Chat holds the last MaxChatLines chat lines of the session.
	Chat []ChatLine
	// SelfMute and SelfDeaf are this client's own mute and deafen.
	SelfMute, SelfDeaf bool
	// Transmitting is true while the microphone is being sent.
	Transmitting bool
	// ReconnectIn is the time left before the next automatic attempt, in
	// PhaseReconnectWait.
	ReconnectIn time.Duration
	// ReconnectAttempt and ReconnectMaxAttempts number the automatic
	// attempt being counted down to ("attempt 2 of 10").
	ReconnectAttempt, ReconnectMaxAttempts int
	// Bitrate is the effective Opus send bit rate (bit/s) after the
	// server's bandwidth limit; 0 when not connected.
	Bitrate int
	// Audio says how sound is handled: the devices in use, or why there
	// are none (voice is then still received and shown, not played).
	Audio string
	// Certificate, while not nil, is a question for the user: the server
	// (reached by a DNS name) presented a certificate that is neither
	// pinned nor valid for its name. The connection waits, with nothing
	// sent yet, until AnswerCertificate.
	Certificate *CertificateQuestion
	// TLS is the connection's TLS version ("TLS 1.3"), empty when not
	// connected.
	TLS string
	// CertificateExposed is true when the connection used TLS 1.2 with
	// the client certificate: it crossed the network unencrypted (to a
	// Tor exit, for a server reached by name through Tor).
	CertificateExposed bool
	// Room is the encrypted room of this client's channel (docs/e2e.md).
	Room EncryptedRoom
}

// CertificateQuestion describes a server certificate that is neither
// pinned nor valid for the server's name.
type CertificateQuestion struct {
	// Host is the name the certificate should have been valid for.
	Host string
	// Fingerprint is the certificate's SHA-256, to compare with one the
	// server's operator gave out.
	Fingerprint mumble.Fingerprint
	// Reason is why it is not valid (self-signed, another name, expired).
	Reason string
}

// CertificateAnswer is the user's answer to a CertificateQuestion.
type CertificateAnswer int

// The answers to a CertificateQuestion.
const (
	// CertificateRefuse ends the attempt; nothing was sent.
	CertificateRefuse CertificateAnswer = iota
	// CertificateTrustOnce accepts the certificate for this connection.
	CertificateTrustOnce
	// CertificateTrustAndPin accepts it and pins it in the bookmark:
	// another certificate is refused from now on.
	CertificateTrustAndPin
)

// clone returns a deep copy of s.
func (s State) clone() State {
	if s.Certificate != nil {
		q := *s.Certificate
		s.Certificate = &q
	}
	if s.Bookmark != nil {
		b := s.Bookmark.Clone()
		s.Bookmark = &b
	}
	if s.Root != nil {
		r := s.Root.clone()
		s.Root = &r
	}
	if s.Chat != nil {
		chat := make([]ChatLine, len(s.Chat))
		for i, l := range s.Chat {
			l.Links = append([]ChatLink(nil), l.Links...)
			chat[i] = l
		}
		s.Chat = chat
	}
	s.Room.Members = append([]RoomMember(nil), s.Room.Members...)
	return s
}
