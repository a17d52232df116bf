package app

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
)

// session is one Connect: attempts to connect to one bookmark, the
// connection, and the automatic reconnection after it. It ends when
// cancelled (Cancel, Disconnect, another Connect, Close) or when it gives
// up (PhaseDisconnected). Only the current session (Controller.sess) may
// change the Controller's state.
type session struct {
	c      *Controller
	ctx    context.Context
	cancel context.CancelFunc
	// reconnector is nil when automatic reconnection is off.
	reconnector *Reconnector

	// bookmark is the session's copy, refreshed from the store before
	// every attempt. Used by the session goroutine only.
	bookmark Bookmark

	// link is the live connection; guarded by c.mu, nil when not
	// connected.
	link *link
}

// link is one established connection.
type link struct {
	client *mumble.Client
	audio  audioLink
	ctx    context.Context // ends with the connection

	// Guarded by Controller.mu:
	talking      map[uint32]bool // sessions being heard
	local        map[uint32]localAudio
	transmitting bool
	bitrate      int
	descs        map[uint32]parsedDescription // by channel ID

	// wantDescs signals fetchDescriptions to look for descriptions
	// announced by their hash only.
	wantDescs chan struct{}

	// The user's own mute and deafen as last asked for (the server's
	// state follows through selfOps). unmuteOnUndeaf records that the
	// user was not muted when deafening: undeafening then unmutes too, as
	// in Mumble (deafening implies muting; undeafening restores the mute
	// state from before).
	selfMu                             sync.Mutex
	wantMute, wantDeaf, unmuteOnUndeaf bool

	// selfOps runs the changes to this user's own state in the order the
	// user made them, so that the server sees the last one last.
	selfOps opQueue
}

// opQueue runs functions one after another, in the order given, on a
// goroutine of its own while there is work.
type opQueue struct {
	mu      sync.Mutex
	ops     []func()
	running bool
}

// do queues f.
func (q *opQueue) do(f func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ops = append(q.ops, f)
	if !q.running {
		q.running = true
		go q.run()
	}
}

func (q *opQueue) run() {
	for {
		q.mu.Lock()
		if len(q.ops) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		f := q.ops[0]
		q.ops = q.ops[1:]
		q.mu.Unlock()
		f()
	}
}

// parsedDescription is a channel description and its plain text, kept
// so that the tree is not rebuilt from HTML at every change.
type parsedDescription struct {
	html string
	msg  ChatMessage
}

// localAudio is a user's local volume and mute.
type localAudio struct {
	volume float64 // linear 0-2
	muted  bool
}

// newSession returns a session for b. c.mu must be held.
func newSession(c *Controller, b Bookmark) *session {
	ctx, cancel := context.WithCancel(c.ctx)
	s := &session{c: c, ctx: ctx, cancel: cancel, bookmark: b.Clone()}
	if n := c.settings.Network; n.Reconnect {
		if r, err := NewReconnector(n.ReconnectPolicy(), c.clock); err == nil {
			s.reconnector = r
		} else {
			c.logf("app: reconnect policy: %v; not reconnecting", err)
		}
	}
	return s
}

// update applies f to the controller's state if s is still the current
// session, and notifies watchers. It reports whether it did.
func (s *session) update(f func(st *State)) bool {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s || c.closed {
		return false
	}
	f(&c.state)
	c.notifyLocked()
	return true
}

// run is the session's goroutine: the state machine.
func (s *session) run() {
	defer s.cancel()
	for {
		err := s.attempt()
		if s.ctx.Err() != nil {
			return // cancelled: the canceller has set the state
		}
		p, retry := classify(s.bookmark, err)
		var lost *lostError
		if errors.As(err, &lost) {
			s.systemLine(p.Message)
		}
		if s.reconnector != nil && retry {
			cd, rerr := s.reconnector.Next()
			if rerr == nil {
				if s.countdown(cd, p) {
					continue
				}
				if s.ctx.Err() != nil {
					return
				}
			} else if errors.Is(rerr, ErrReconnectExhausted) {
				p.Message += fmt.Sprintf(" Gave up reconnecting after %d attempts.", s.reconnector.Attempts())
			}
		}
		s.update(func(st *State) {
			resetConnection(st)
			st.Phase = PhaseDisconnected
			st.Problem = p
		})
		return
	}
}

// resetConnection clears what belongs to a connection from the state,
// keeping the bookmark, the chat of the session, the last problem and the
// Tor status.
func resetConnection(st *State) {
	st.Root = nil
	st.Self = UserView{}
	st.SelfMute, st.SelfDeaf, st.Transmitting = false, false, false
	st.ReconnectIn, st.ReconnectAttempt, st.ReconnectMaxAttempts = 0, 0, 0
	st.Bitrate = 0
}

// countdown shows the wait before the next attempt and reports whether it
// elapsed (false: stopped or cancelled).
func (s *session) countdown(cd *Countdown, p Problem) bool {
	defer cd.Stop()
	s.update(func(st *State) {
		resetConnection(st)
		st.Phase = PhaseReconnectWait
		st.Problem = p
		st.ReconnectIn = cd.Delay
		st.ReconnectAttempt, st.ReconnectMaxAttempts = cd.Attempt, cd.MaxAttempts
	})
	for {
		select {
		case left, ok := <-cd.C:
			if !ok {
				return cd.Err() == nil && s.ctx.Err() == nil
			}
			s.update(func(st *State) { st.ReconnectIn = left })
		case <-s.ctx.Done():
			return false
		}
	}
}

// errOnionNeedsTor refuses to connect to an onion service without Tor:
// that would look the name up in the DNS.
var errOnionNeedsTor = errors.New("an .onion address can only be reached through Tor, and Tor is off")

// attempt makes one connection attempt and, if it succeeds, runs the
// connection until it ends. It returns why it ended.
func (s *session) attempt() error {
	c := s.c
	if b, err := c.store.Get(s.bookmark.ID); err == nil {
		s.bookmark = b // pick up a new pin, circuit or password
	}
	b := s.bookmark

	c.mu.Lock()
	choice, cerr := c.torChoiceLocked()
	c.mu.Unlock()
	s.update(func(st *State) {
		resetConnection(st)
		nb := b.Clone()
		st.Bookmark = &nb
		st.Phase = PhaseStartingTor
	})
	if cerr != nil {
		return &torError{err: cerr}
	}
	if choice.mode == tor.ModeOff && b.IsOnion() {
		return errOnionNeedsTor
	}
	e, err := c.tors.get(choice)
	if err != nil {
		return &torError{err: err}
	}
	c.mu.Lock()
	if c.sess == s {
		c.torCur = e.srv
		c.state.Tor = torStatusView(e.srv.Status(), choice)
		c.notifyLocked()
	}
	c.mu.Unlock()
	if _, err := e.up(s.ctx); err != nil {
		return err
	}

	s.update(func(st *State) { st.Phase = PhaseConnecting })
	iso, err := torIsolation(b.Isolation)
	if err != nil {
		return fmt.Errorf("bookmark %s: %w", b.Name(), err)
	}
	dialer := e.srv.Isolated(iso)
	if k, ok, err := torClientAuthKey(b); err != nil {
		return &clientAuthError{err: err}
	} else if ok {
		if err := e.srv.AddClientAuth(s.ctx, k); errors.Is(err, tor.ErrNoControl) {
			c.logf("app: %v; the key must be in that Tor's ClientOnionAuthDir", err)
		} else if err != nil {
			return &torError{err: err, status: e.srv.Status()}
		}
	}
	cert, err := b.Identity.TLSCertificate()
	if err != nil {
		return fmt.Errorf("bookmark %s: %w", b.Name(), err)
	}
	cfg := &mumble.Config{
		Username:          b.Username,
		Password:          b.Password,
		DialContext:       dialer.DialContext,
		Certificate:       &cert,
		PinnedFingerprint: b.PinnedFingerprint,
		ConnectTimeout:    c.cfg.ConnectTimeout,
	}
	connCtx, connCancel := context.WithCancel(s.ctx)
	defer connCancel()
	client, err := mumble.Dial(connCtx, b.HostPort(), cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	if s.reconnector != nil {
		s.reconnector.Reset()
	}
	if b.PinnedFingerprint == "" {
		s.pin(client.Fingerprint())
	}
	return s.connected(connCtx, client)
}

// pin saves the server's certificate fingerprint into the bookmark (trust
// on first use).
func (s *session) pin(fp string) {
	fp, err := NormalizeFingerprint(fp)
	if err == nil {
		var nb Bookmark
		nb, err = s.c.store.Modify(s.bookmark.ID, func(b *Bookmark) error {
			if b.PinnedFingerprint == "" {
				b.PinnedFingerprint = fp
			}
			return nil
		})
		if err == nil {
			s.bookmark = nb
			s.update(func(st *State) {
				b := nb.Clone()
				st.Bookmark = &b
			})
			return
		}
	}
	s.c.logf("app: pin server certificate of %s: %v", s.bookmark.Name(), err)
	s.systemLine(fmt.Sprintf("The server's certificate could not be saved (%v): it will not be checked next time.", err))
}

// connected runs an established connection until it ends.
func (s *session) connected(ctx context.Context, client *mumble.Client) error {
	c := s.c
	sub := client.Subscribe()
	defer sub.Close()
	voiceSub := client.SubscribeVoice()
	defer voiceSub.Close()

	c.mu.Lock()
	settings := c.settings.Clone()
	c.mu.Unlock()
	bitrate, limit, warn := effectiveBitrate(settings.Input, client)
	sender := newVoiceSender(ctx, client)
	defer sender.close()
	audio, desc, err := openAudio(audioParams{
		cfg:        c.cfg,
		settings:   settings,
		bitrateCap: limit,
		send:       sender.send,
	})
	if err != nil {
		desc = fmt.Sprintf("No sound: %v. Voice is received but not played.", err)
		audio = newSilentAudio()
	}
	defer audio.close()

	l := &link{
		client:    client,
		audio:     audio,
		ctx:       ctx,
		talking:   make(map[uint32]bool),
		local:     make(map[uint32]localAudio),
		bitrate:   bitrate,
		descs:     make(map[uint32]parsedDescription),
		wantDescs: make(chan struct{}, 1),
	}
	self := client.Self()
	if !s.update(func(st *State) {
		s.link = l
		st.Phase = PhaseConnected
		st.Problem = Problem{}
		st.Audio = desc
		st.Bitrate = bitrate
		for _, u := range client.Users() {
			s.applyStoredVolumeLocked(l, u)
		}
		s.refreshLocked(st)
		if w := client.ServerInfo().WelcomeText; w != "" {
			addChat(st, chatLine("", w, true))
		}
		if warn != "" {
			addChat(st, ChatLine{Time: time.Now(), Text: warn, System: true})
		}
	}) {
		return s.ctx.Err()
	}
	defer func() {
		s.c.mu.Lock()
		s.link = nil
		s.c.mu.Unlock()
	}()
	audio.setSelfMute(self.SelfMute || self.SelfDeaf)
	audio.setSelfDeaf(self.SelfDeaf)
	l.selfMu.Lock()
	l.wantMute, l.wantDeaf = self.SelfMute, self.SelfDeaf
	l.selfMu.Unlock()

	go func() {
		for p := range voiceSub.C {
			audio.handlePacket(&p, time.Now())
		}
	}()
	if len(s.bookmark.Channel) > 0 {
		go s.joinBookmarkChannel(l, s.bookmark.Channel)
	}
	go s.fetchDescriptions(l)
	l.wantDescriptions()

	talkCh := audio.talk()
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return connectionEnd(client.Err())
			}
			if d, ok := ev.(*mumble.DisconnectedEvent); ok {
				return connectionEnd(d.Err)
			}
			s.handleEvent(l, ev)
		case t, ok := <-talkCh:
			if !ok {
				talkCh = nil
				continue
			}
			s.update(func(st *State) {
				if t.notice != "" {
					st.Audio = t.notice
					addChat(st, ChatLine{Time: time.Now(), Text: t.notice, System: true})
					return
				}
				if t.self {
					l.transmitting = t.talking
				} else if t.talking {
					l.talking[t.session] = true
				} else {
					delete(l.talking, t.session)
				}
				s.refreshLocked(st)
			})
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// connectionEnd returns the reason a connection ended, never nil.
func connectionEnd(err error) error {
	if err == nil {
		return mumble.ErrServerClosed
	}
	return &lostError{err: err}
}

// lostError marks the end of an established connection.
type lostError struct{ err error }

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// clientAuthError reports an unusable onion client authorization key.
type clientAuthError struct{ err error }

func (e *clientAuthError) Error() string { return e.err.Error() }
func (e *clientAuthError) Unwrap() error { return e.err }

// handleEvent applies one event of the connection.
func (s *session) handleEvent(l *link, ev mumble.Event) {
	switch ev := ev.(type) {
	case *mumble.UserJoinedEvent:
		s.update(func(st *State) {
			s.applyStoredVolumeLocked(l, ev.User)
			s.refreshLocked(st)
		})
	case *mumble.UserChangedEvent:
		if ev.User.Session == l.client.Session() {
			l.audio.setSelfMute(ev.User.SelfMute || ev.User.SelfDeaf || ev.User.Mute || ev.User.Suppress)
			l.audio.setSelfDeaf(ev.User.SelfDeaf || ev.User.Deaf)
		} else if ev.Change&mumble.UserChangedHash != 0 {
			s.update(func(st *State) { s.applyStoredVolumeLocked(l, ev.User) })
		}
		s.update(func(st *State) { s.refreshLocked(st) })
	case *mumble.UserLeftEvent:
		l.audio.removeUser(ev.User.Session)
		s.update(func(st *State) {
			delete(l.talking, ev.User.Session)
			delete(l.local, ev.User.Session)
			s.refreshLocked(st)
		})
	case *mumble.TextMessageEvent:
		s.update(func(st *State) {
			line := chatLine(ev.SenderName, ev.Message, ev.Sender == 0)
			line.Private = len(ev.Users) > 0 && len(ev.Channels) == 0 && len(ev.Trees) == 0
			addChat(st, line)
		})
	case *mumble.PermissionDeniedEvent:
		s.systemLine("The server refused: " + ev.Err.Error())
	case *mumble.ChannelAddedEvent, *mumble.ChannelChangedEvent, *mumble.ChannelRemovedEvent:
		l.wantDescriptions()
		s.update(func(st *State) { s.refreshLocked(st) })
	case *mumble.ServerConfigEvent:
		c := s.c
		c.mu.Lock()
		in := c.settings.Input
		c.mu.Unlock()
		s.applyBitrate(l, in)
	default: // channel events and anything new: redraw the tree
		s.update(func(st *State) { s.refreshLocked(st) })
	}
}

// applyBitrate recomputes the send bit rate from the settings and the
// server's limit and applies it.
func (s *session) applyBitrate(l *link, in AudioInput) {
	br, limit, warn := effectiveBitrate(in, l.client)
	l.audio.setBitrateCap(limit)
	s.update(func(st *State) {
		l.bitrate = br
		st.Bitrate = br
		if warn != "" {
			addChat(st, ChatLine{Time: time.Now(), Text: warn, System: true})
		}
	})
}

// effectiveBitrate returns the Opus bit rate to send with, the settings'
// quality lowered to what the server's bandwidth limit allows for the
// packet length, and that limit. If even the lowest Opus bit rate does not
// fit, the encoder still uses that lowest rate and a warning says that the
// server will drop some packets.
func effectiveBitrate(in AudioInput, client *mumble.Client) (bitrate, limit int, warn string) {
	frames := max(1, in.PacketMs/10)
	limit = client.MaxBitrate(frames, false)
	bitrate = min(in.QualityBitrate, limit)
	if bitrate < mumble.MinOpusBitrate {
		return mumble.MinOpusBitrate, limit, fmt.Sprintf(
			"The server allows only %d bit/s per user, too little for voice in %d ms packets; "+
				"some packets will be dropped. Longer packets (Settings, Audio Input) need less.",
			client.ServerInfo().MaxBandwidth, in.PacketMs)
	}
	return bitrate, limit, ""
}

// applySettingsLocked applies changed settings to a running connection.
// c.mu must be held.
func (s *session) applySettingsLocked(set Settings) {
	l := s.link
	if l == nil {
		return
	}
	l.audio.applySettings(set)
	go s.applyBitrate(l, set.Input)
}

// descriptionTimeout bounds the wait for the descriptions asked for in one
// request; over Tor many long descriptions take a while.
const descriptionTimeout = time.Minute

// wantDescriptions has fetchDescriptions look for descriptions to fetch.
func (l *link) wantDescriptions() {
	select {
	case l.wantDescs <- struct{}{}:
	default: // a look is pending already
	}
}

// fetchDescriptions asks the server for the channel descriptions it
// announced by their hash only (long ones), whenever l.wantDescriptions is
// called (on connecting and at every channel change) until the connection
// ends. All that are missing go in one request: one message and one round
// trip however many there are. Asking for every description, not only
// for the channels the user looks at, tells the server nothing about the
// user's interest. A description is asked for once per hash, unless the
// request failed (a channel removed meanwhile, no answer in time): then it
// is asked for again at the next channel change.
func (s *session) fetchDescriptions(l *link) {
	asked := make(map[uint32][]byte) // channel ID -> hash asked for
	for {
		select {
		case <-l.wantDescs:
		case <-l.ctx.Done():
			return
		}
		var ids []uint32
		for _, ch := range l.client.Channels() {
			if ch.NeedsDescription() && !bytes.Equal(asked[ch.ID], ch.DescriptionHash) {
				asked[ch.ID] = ch.DescriptionHash
				ids = append(ids, ch.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(l.ctx, descriptionTimeout)
		err := l.client.RequestChannelDescriptions(ctx, ids...)
		cancel()
		if err != nil && l.ctx.Err() == nil {
			s.c.logf("app: %v", err)
			for _, id := range ids {
				delete(asked, id)
			}
		}
	}
}

// descriptionLocked returns the plain text of channel ch's description.
// c.mu must be held.
func (l *link) descriptionLocked(ch *mumble.Channel) ChatMessage {
	if d, ok := l.descs[ch.ID]; ok && d.html == ch.Description {
		return d.msg
	}
	m := ParseChatHTML(ch.Description)
	l.descs[ch.ID] = parsedDescription{html: ch.Description, msg: m}
	return m
}

// joinBookmarkChannel joins the channel the bookmark names, a path of names
// below the root.
func (s *session) joinBookmarkChannel(l *link, path []string) {
	id := uint32(mumble.RootChannelID)
	for _, name := range path {
		found := false
		for _, ch := range l.client.Children(id) {
			if ch.Name == name {
				id, found = ch.ID, true
				break
			}
		}
		if !found {
			s.systemLine(fmt.Sprintf("The bookmark's channel %q does not exist on this server.", joinPath(path)))
			return
		}
	}
	ctx, cancel := context.WithTimeout(l.ctx, 30*time.Second)
	defer cancel()
	if err := l.client.Join(ctx, id); err != nil && l.ctx.Err() == nil {
		s.systemLine(fmt.Sprintf("Could not join %q: %v", joinPath(path), err))
	}
}

func joinPath(path []string) string {
	out := ""
	for i, p := range path {
		if i > 0 {
			out += "/"
		}
		out += p
	}
	return out
}

// systemLine adds a system line to the chat.
func (s *session) systemLine(text string) {
	s.update(func(st *State) {
		addChat(st, ChatLine{Time: time.Now(), Text: text, System: true})
	})
}

// chatLine makes a chat line from server HTML.
func chatLine(from, html string, system bool) ChatLine {
	m := ParseChatHTML(html)
	return ChatLine{Time: time.Now(), From: from, Text: m.Text, Links: m.Links, System: system}
}

// addChat appends a line, dropping the oldest beyond MaxChatLines.
func addChat(st *State, l ChatLine) {
	st.Chat = append(st.Chat, l)
	if n := len(st.Chat) - MaxChatLines; n > 0 {
		st.Chat = slices.Delete(st.Chat, 0, n)
	}
}

// sendChat sends text to the channel this client is in.
func (s *session) sendChat(l *link, text string) error {
	html, err := FormatChatMessage(text, int(l.client.ServerInfo().MessageLength))
	if err != nil {
		return err
	}
	self := l.client.Self()
	ctx, cancel := context.WithTimeout(l.ctx, 30*time.Second)
	defer cancel()
	err = l.client.SendText(ctx, mumble.TextMessage{Channels: []uint32{self.ChannelID}, Message: html})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	s.update(func(st *State) {
		line := chatLine(self.Name, html, false)
		line.Own = true
		addChat(st, line)
	})
	return nil
}

// selfStateTimeout bounds the wait for the server to confirm a self-mute
// or deafen. Servers silently drop messages beyond their rate limit
// (messageburst), so a confirmation may never come.
const selfStateTimeout = 10 * time.Second

// setSelfMute asks the server to mute or unmute this client. The sender
// stops at once when muting.
func (s *session) setSelfMute(l *link, mute bool) {
	l.selfMu.Lock()
	l.wantMute = mute
	if !mute {
		l.wantDeaf = false // unmuting undeafens too (the server does so)
	}
	l.selfMu.Unlock()
	if mute {
		l.audio.setSelfMute(true)
	}
	l.selfOps.do(func() { s.sendSelfMute(l, mute) })
}

// sendSelfMute asks the server for the self-mute state and waits for its
// confirmation (the client paces it to the server's rate limit).
func (s *session) sendSelfMute(l *link, mute bool) {
	ctx, cancel := context.WithTimeout(l.ctx, selfStateTimeout)
	defer cancel()
	if err := l.client.SetSelfMute(ctx, mute); err != nil && l.ctx.Err() == nil {
		s.systemLine(fmt.Sprintf("Could not change self-mute: %v.", err))
	}
}

// setSelfDeaf asks the server to deafen or undeafen this client.
func (s *session) setSelfDeaf(l *link, deaf bool) {
	l.selfMu.Lock()
	unmute := false
	if deaf {
		if !l.wantDeaf {
			l.unmuteOnUndeaf = !l.wantMute
		}
	} else if l.wantDeaf && l.unmuteOnUndeaf {
		unmute = true
		l.wantMute = false
	}
	l.wantDeaf = deaf
	l.selfMu.Unlock()
	if deaf {
		l.audio.setSelfMute(true)
		l.audio.setSelfDeaf(true)
	}
	l.selfOps.do(func() {
		ctx, cancel := context.WithTimeout(l.ctx, selfStateTimeout)
		defer cancel()
		if err := l.client.SetSelfDeaf(ctx, deaf); err != nil {
			if l.ctx.Err() == nil {
				s.systemLine(fmt.Sprintf("Could not change self-deafen: %v.", err))
			}
			return
		}
		// Unmuting is part of this change: queued behind later ones, it
		// could undo a mute the user asked for since.
		if unmute {
			s.sendSelfMute(l, false)
		}
	})
}

// Local volumes are kept between 0 and 2 (linear).
const maxLocalVolume = 2

// setUserVolume sets a user's local volume and, when final, remembers it
// for users with a certificate.
func (s *session) setUserVolume(l *link, session uint32, v float64, final bool) {
	if math.IsNaN(v) {
		return
	}
	v = min(max(v, 0), maxLocalVolume)
	l.audio.setUserVolume(session, v)
	u, _ := l.client.User(session)
	c := s.c
	c.mu.Lock()
	la := l.local[session]
	la.volume = v
	l.local[session] = la
	var save *Settings
	if final && len(u.Hash) == 40 && isLowerHex(u.Hash) {
		set := c.settings.Clone()
		if set.Output.UserVolumeDB == nil {
			set.Output.UserVolumeDB = make(map[string]int)
		}
		db := UserVolumeMinDB
		if v > 0 {
			db = int(math.Round(20 * math.Log10(v)))
		}
		db = min(max(db, UserVolumeMinDB), UserVolumeMaxDB)
		if db == 0 {
			delete(set.Output.UserVolumeDB, u.Hash)
		} else {
			set.Output.UserVolumeDB[u.Hash] = db
		}
		c.settings = set
		save = &set
	}
	if save != nil {
		if err := SaveSettings(c.storage, *save); err != nil {
			c.logf("app: save local volume: %v", err)
		}
	}
	if c.sess == s {
		s.refreshLocked(&c.state)
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// setUserMute mutes or unmutes a user locally.
func (s *session) setUserMute(l *link, session uint32, muted bool) {
	l.audio.setUserMute(session, muted)
	s.update(func(st *State) {
		la, ok := l.local[session]
		if !ok {
			la.volume = 1
		}
		la.muted = muted
		l.local[session] = la
		s.refreshLocked(st)
	})
}

// applyStoredVolumeLocked applies the remembered local volume of u, if
// any. c.mu must be held.
func (s *session) applyStoredVolumeLocked(l *link, u mumble.User) {
	if u.Hash == "" || u.Session == l.client.Session() {
		return
	}
	db, ok := s.c.settings.Output.UserVolumeDB[u.Hash]
	if !ok {
		return
	}
	v := min(math.Pow(10, float64(db)/20), maxLocalVolume)
	la := l.local[u.Session]
	la.volume = v
	l.local[u.Session] = la
	l.audio.setUserVolume(u.Session, v)
}

// refreshLocked rebuilds the channel tree and the self view from the
// client's state. c.mu must be held.
func (s *session) refreshLocked(st *State) {
	l := s.link
	if l == nil {
		return
	}
	self := l.client.Self()
	views := make(map[uint32]*ChannelView)
	channels := l.client.Channels()
	for _, ch := range channels {
		desc := l.descriptionLocked(&ch)
		views[ch.ID] = &ChannelView{
			ID:                 ch.ID,
			Name:               ch.Name,
			Description:        desc.Text,
			DescriptionLinks:   desc.Links,
			DescriptionPending: ch.NeedsDescription(),
			Temporary:          ch.Temporary,
		}
	}
	for id := range l.descs {
		if views[id] == nil {
			delete(l.descs, id)
		}
	}
	for _, u := range l.client.Users() {
		v := views[u.ChannelID]
		if v == nil {
			continue
		}
		v.Users = append(v.Users, s.userViewLocked(l, u, u.Session == self.Session))
	}
	for _, v := range views {
		slices.SortFunc(v.Users, func(a, b UserView) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Session, b.Session))
		})
	}
	// Children in the server's display order: position, then name, then
	// ID (as mumble.Client.Children).
	kids := make(map[uint32][]mumble.Channel)
	for _, ch := range channels {
		if ch.ID != mumble.RootChannelID {
			kids[ch.Parent] = append(kids[ch.Parent], ch)
		}
	}
	for _, list := range kids {
		slices.SortFunc(list, func(a, b mumble.Channel) int {
			return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
	}
	seen := make(map[uint32]bool, len(channels))
	var build func(id uint32) ChannelView
	build = func(id uint32) ChannelView {
		seen[id] = true
		v := *views[id]
		for _, k := range kids[id] {
			if !seen[k.ID] { // a malicious server's cycle
				v.Children = append(v.Children, build(k.ID))
			}
		}
		return v
	}
	if views[mumble.RootChannelID] == nil {
		st.Root = &ChannelView{ID: mumble.RootChannelID, Name: "Root"}
	} else {
		root := build(mumble.RootChannelID)
		st.Root = &root
	}
	st.Self = s.userViewLocked(l, self, true)
	st.SelfMute = self.SelfMute
	st.SelfDeaf = self.SelfDeaf
	st.Transmitting = l.transmitting
	st.Bitrate = l.bitrate
}

// userViewLocked returns the view of user u. c.mu must be held.
func (s *session) userViewLocked(l *link, u mumble.User, self bool) UserView {
	la, ok := l.local[u.Session]
	if !ok {
		la.volume = 1
	}
	talking := l.talking[u.Session]
	if self {
		talking = l.transmitting
	}
	return UserView{
		Session:         u.Session,
		Name:            u.Name,
		Self:            self,
		Talking:         talking,
		Muted:           u.Mute,
		Deafened:        u.Deaf,
		SelfMuted:       u.SelfMute,
		SelfDeafened:    u.SelfDeaf,
		Suppressed:      u.Suppress,
		PrioritySpeaker: u.PrioritySpeaker,
		Recording:       u.Recording,
		LocalVolume:     la.volume,
		LocalMute:       la.muted,
	}
}

// classify turns why an attempt or connection ended into a Problem for the
// user, and says whether reconnecting automatically makes sense.
func classify(b Bookmark, err error) (p Problem, retry bool) {
	name := b.Name()
	var (
		mismatch *mumble.CertificateMismatchError
		torErr   *torError
		caErr    *clientAuthError
		kicked   *mumble.KickedError
		lost     *lostError
	)
	switch {
	case err == nil:
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("The connection to %s ended.", name)}, true
	case errors.As(err, &mismatch):
		return Problem{
			Kind: ProblemCertificateChanged,
			Message: fmt.Sprintf("The certificate of %s has changed. This can mean that someone is intercepting "+
				"the connection, or that the server's operator replaced the certificate. The connection was refused.", name),
			PinnedFingerprint: mismatch.Pinned,
			NewFingerprint:    mismatch.Got,
		}, false
	case errors.Is(err, mumble.ErrWrongServerPW):
		return Problem{Kind: ProblemWrongPassword, Message: fmt.Sprintf("%s refused the server password.", name)}, false
	case errors.Is(err, mumble.ErrWrongUserPW):
		return Problem{Kind: ProblemWrongPassword, Message: fmt.Sprintf("%s refused the password of the registered user %s.", name, b.Username)}, false
	case errors.Is(err, tor.ErrClientAuthRequired):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The onion service %s requires client authorization. Add the key its operator gave you to the bookmark.", name)}, false
	case errors.Is(err, tor.ErrClientAuthBad):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The onion service %s rejected the bookmark's client authorization key.", name)}, false
	case errors.As(err, &caErr):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The bookmark's client authorization key cannot be used: %v", caErr.err)}, false
	case errors.As(err, &torErr):
		return Problem{Kind: ProblemTorFailed, Message: "Tor failed: " + torErr.Error()}, false
	case errors.Is(err, errOnionNeedsTor):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("Cannot connect to %s: %v.", name, err)}, false
	case errors.As(err, &kicked):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("%s: %v", name, kicked)}, false
	case errors.Is(err, mumble.ErrUsernameInUse):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf(
			"%s says the user name %s is in use (an earlier connection may linger for a while).", name, b.Username)}, true
	case errors.Is(err, mumble.ErrServerFull), errors.Is(err, mumble.ErrNoNewConnections):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("%s refused the connection: %v", name, err)}, true
	case errors.Is(err, mumble.ErrRejected):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("%s refused the connection: %v", name, err)}, false
	case errors.As(err, &lost):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("The connection to %s was lost: %v", name, lost.err)}, true
	}
	return Problem{Kind: ProblemOther, Message: fmt.Sprintf("Could not connect to %s: %v", name, err)}, true
}
