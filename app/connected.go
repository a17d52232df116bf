package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice"
)

// connected runs an established connection until it ends, and returns
// why it ended. Every goroutine it starts has ended when it returns.
func (s *session) connected(client serverClient) error {
	events, stopEvents := client.Events()
	defer stopEvents()
	c := newConn(s.ctx, client)
	c.room = s.newRoomCrypto(client)
	set := s.owner.currentSettings()
	bitrate, limit, warn := effectiveBitrate(set.Input, client)
	sender := newVoiceSender(c.ctx, client)
	call, err := openCall(callParams{
		cfg:        s.env.cfg,
		settings:   set,
		bitrateCap: limit,
		send:       c.room.wrapSend(sender.send),
	})
	if err != nil {
		sender.close()
		c.close()
		c.room.close()
		return err
	}
	desc := call.Description()
	c.call = call
	c.bitrate = bitrate
	c.selfOps.idle = func() { s.owner.sessionChanged(s) }
	s.setVoiceSink(&voiceSink{conn: c, room: c.room, call: call})
	defer func() {
		s.mu.Lock()
		s.conn = nil
		s.st.Room = EncryptedRoom{}
		s.mu.Unlock()
		s.setVoiceSink(nil)
		c.close() // joins the goroutines, which use the call
		c.room.close()
		call.Close()
		sender.close()
	}()

	s.mu.Lock()
	s.conn = c
	for _, u := range client.Users() {
		applyStoredVolumeLocked(c, set, u)
	}
	s.rebuildLocked(c)
	s.st.Phase = PhaseConnected
	s.st.Problem = Problem{}
	s.st.Room = c.room.view()
	s.st.Audio = desc
	s.st.TLS = tls.VersionName(client.TLSVersion())
	s.st.CertificateExposed = client.CertificateExposed()
	if w := client.ServerInfo().WelcomeText; w != "" {
		addChat(&s.st, chatLine("", w, true))
	}
	if warn != "" {
		addChat(&s.st, ChatLine{Time: time.Now(), Text: warn, System: true})
	}
	s.mu.Unlock()
	s.owner.sessionChanged(s)

	self := client.Self()
	call.SetSelfMute(self.SelfMute || self.SelfDeaf)
	call.SetSelfDeaf(self.SelfDeaf)
	c.selfMu.Lock()
	c.wantMute, c.wantDeaf = self.SelfMute, self.SelfDeaf
	c.selfMu.Unlock()

	s.relock(c) // a channel the user locked earlier in this run
	if path := s.bookmark.Channel; len(path) > 0 {
		c.start(func() { s.joinBookmarkChannel(c, path) })
	}
	c.start(func() { s.fetchDescriptions(c) })
	c.wantDescriptions()
	return s.serve(c, events)
}

// voiceSink is where received voice goes: the connection's room (which
// decrypts a member's packet) and call, and its conn (whisper and shout
// marks).
type voiceSink struct {
	conn *conn
	room *roomCrypto
	call *voice.Call
}

// setVoiceSink makes v (nil: none) the receiver of voice packets; once it
// returns, the previous sink gets no more packets.
func (s *session) setVoiceSink(v *voiceSink) {
	s.voiceMu.Lock()
	s.voiceTo = v
	s.voiceMu.Unlock()
}

// handleVoice is the connection's voice handler (mumble.Config.OnVoice),
// on its read goroutine: it hands the packet to the call, whose jitter
// buffer copies it, and never blocks. Packets before the call exists and
// after it ends are dropped.
func (s *session) handleVoice(p *mumble.VoicePacket) {
	s.voiceMu.Lock()
	v := s.voiceTo
	if v == nil || !v.room.open(p) {
		s.voiceMu.Unlock()
		return // a member's packet that does not open: counted
	}
	// A packet the receiver refuses (not Opus, too long) is dropped; the
	// call counts it.
	_ = v.call.HandlePacket(p.Session, p.Sequence, p.Opus, p.Terminator, time.Now())
	s.voiceMu.Unlock()
	s.setTalkKind(v.conn, p.Session, talkKindOf(p.Target))
}

// serve handles the connection's events and the call's events until the
// connection ends.
func (s *session) serve(c *conn, events <-chan mumble.Event) error {
	callEvents := c.call.Events()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return connectionEnd(c.client.Err())
			}
			if d, ok := ev.(*mumble.DisconnectedEvent); ok {
				return connectionEnd(d.Err)
			}
			s.handleEvent(c, ev)
		case ev, ok := <-callEvents:
			if !ok {
				callEvents = nil
				continue
			}
			s.handleCallEvent(c, ev)
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
}

// handleCallEvent applies one event of the voice call.
func (s *session) handleCallEvent(c *conn, ev voice.CallEvent) {
	switch ev.Kind {
	case voice.DeviceStopped:
		notice := callNotice(ev)
		s.update(func(st *State) {
			st.Audio = notice
			addChat(st, ChatLine{Time: time.Now(), Text: notice, System: true})
		})
	case voice.TransmitStart, voice.TransmitStop:
		s.setTalking(c, 0, ev.Kind == voice.TransmitStart, true)
	case voice.TalkStart, voice.TalkStop:
		s.setTalking(c, ev.Session, ev.Kind == voice.TalkStart, false)
	}
}

// handleEvent applies one event of the connection.
func (s *session) handleEvent(c *conn, ev mumble.Event) {
	if s.handleRoomEvent(c, ev) {
		return
	}
	if n := userNotice(c, ev); n != "" {
		s.systemLine(n)
	}
	switch ev := ev.(type) {
	case *mumble.UserJoinedEvent:
		set := s.owner.currentSettings()
		s.rebuild(c, func() { applyStoredVolumeLocked(c, set, ev.User) })
	case *mumble.UserChangedEvent:
		if ev.User.Session == c.client.Session() {
			c.call.SetSelfMute(ev.User.SelfMute || ev.User.SelfDeaf || ev.User.Mute || ev.User.Suppress)
			c.call.SetSelfDeaf(ev.User.SelfDeaf || ev.User.Deaf)
			s.rebuild(c, nil)
			return
		}
		var set Settings
		if ev.Change&mumble.UserChangedHash != 0 {
			set = s.owner.currentSettings()
		}
		s.rebuild(c, func() {
			if ev.Change&mumble.UserChangedHash != 0 {
				applyStoredVolumeLocked(c, set, ev.User)
			}
		})
	case *mumble.UserLeftEvent:
		c.call.RemoveUser(ev.User.Session)
		s.rebuild(c, func() {
			delete(c.talking, ev.User.Session)
			delete(c.talkKind, ev.User.Session)
			delete(c.local, ev.User.Session)
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
		c.wantDescriptions()
		s.rebuild(c, nil)
	case *mumble.ServerConfigEvent:
		s.applyBitrate(c, s.owner.currentSettings().Input)
	default: // anything new: redraw the tree
		s.rebuild(c, nil)
	}
}

// rebuild runs f (if not nil) and rebuilds the tree, under the session's
// lock, and reports the change.
func (s *session) rebuild(c *conn, f func()) {
	s.mu.Lock()
	if f != nil {
		f()
	}
	s.rebuildLocked(c)
	s.mu.Unlock()
	s.owner.sessionChanged(s)
}

// rebuildLocked rebuilds the channel tree and the self view from the
// client's state. s.mu must be held.
func (s *session) rebuildLocked(c *conn) {
	self := c.client.Self()
	c.tree = buildTree(treeInput{
		channels:     c.client.Channels(),
		users:        c.client.Users(),
		self:         self.Session,
		local:        c.local,
		talking:      c.talking,
		talkKind:     c.talkKind,
		transmitting: c.transmitting,
		description:  c.descriptionLocked,
	})
	for id := range c.descs {
		if !c.tree.hasChannel(id) {
			delete(c.descs, id)
		}
	}
	s.st.Root = &c.tree.root
	in := treeInput{self: self.Session, local: c.local, transmitting: c.transmitting}
	s.st.Self = in.userView(&self)
	s.st.SelfMute = self.SelfMute
	s.st.SelfDeaf = self.SelfDeaf
	s.st.Transmitting = c.transmitting
	s.st.Bitrate = c.bitrate
}

// setTalking records that a speaker (or, self, this client) started or
// stopped being heard. It changes one user's flag, not the tree.
func (s *session) setTalking(c *conn, session uint32, talking, self bool) {
	s.mu.Lock()
	if self {
		c.transmitting = talking
		session = s.st.Self.Session
		s.st.Transmitting = talking
		s.st.Self.Talking = talking
	} else if talking {
		c.talking[session] = true
	} else {
		delete(c.talking, session)
	}
	if c.tree != nil {
		if u := c.tree.users[session]; u != nil {
			u.Talking = talking
			u.Talk = TalkChannel
			if talking && !self {
				u.Talk = c.talkKind[session]
			}
		}
	}
	s.mu.Unlock()
	s.owner.sessionChanged(s)
}

// maxTalkKinds bounds the speakers whose whisper or shout is remembered,
// so that a hostile server's packets from made-up sessions cannot grow
// the map without end.
const maxTalkKinds = 256

// setTalkKind records how a speaker's voice reaches this client, from the
// context of each received packet. When it changes (a whisper after
// talking in the channel, say) it changes that user's entry, not the
// tree.
func (s *session) setTalkKind(c *conn, session uint32, k TalkKind) {
	s.mu.Lock()
	old, known := c.talkKind[session] // missing: TalkChannel
	if old == k || !known && len(c.talkKind) >= maxTalkKinds {
		s.mu.Unlock()
		return
	}
	if k == TalkChannel {
		delete(c.talkKind, session)
	} else {
		c.talkKind[session] = k
	}
	changed := false
	if c.tree != nil {
		if u := c.tree.users[session]; u != nil && u.Talking && u.Talk != k {
			u.Talk = k
			changed = true
		}
	}
	s.mu.Unlock()
	if changed {
		s.owner.sessionChanged(s)
	}
}

// applySettings applies changed settings to the session: turning
// automatic reconnection on or off applies to this session too, and sound
// settings apply to a running connection.
func (s *session) applySettings(set Settings) {
	s.setReconnect(set.Network)
	c := s.current()
	if c == nil {
		return
	}
	if err := applyCallSettings(c.call, set); err != nil {
		s.logf("app: apply sound settings: %v", err)
	}
	s.applyBitrate(c, set.Input)
}

// applyBitrate recomputes the send bit rate from the settings and the
// server's limit and applies it.
func (s *session) applyBitrate(c *conn, in AudioInput) {
	br, limit, warn := effectiveBitrate(in, c.client)
	if err := c.call.SetMaxBitrate(limit); err != nil {
		s.logf("app: bit rate cap %d: %v", limit, err)
	}
	s.update(func(st *State) {
		c.bitrate = br
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
func effectiveBitrate(in AudioInput, client serverClient) (bitrate, limit int, warn string) {
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

// descriptionTimeout bounds the wait for the descriptions asked for in one
// request; over Tor many long descriptions take a while.
const descriptionTimeout = time.Minute

// fetchDescriptions asks the server for the channel descriptions it
// announced by their hash only (long ones), whenever c.wantDescriptions is
// called (on connecting and at every channel change) until the connection
// ends. All that are missing go in one request: one message and one round
// trip however many there are. Asking for every description, not only
// for the channels the user looks at, tells the server nothing about the
// user's interest. A description is asked for once per hash, unless the
// request failed (a channel removed meanwhile, no answer in time): then it
// is asked for again at the next channel change.
func (s *session) fetchDescriptions(c *conn) {
	asked := make(map[uint32][]byte) // channel ID -> hash asked for
	for {
		select {
		case <-c.wantDescs:
		case <-c.ctx.Done():
			return
		}
		var ids []uint32
		for _, ch := range c.client.Channels() {
			if ch.NeedsDescription() && !bytes.Equal(asked[ch.ID], ch.DescriptionHash) {
				asked[ch.ID] = ch.DescriptionHash
				ids = append(ids, ch.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, descriptionTimeout)
		err := c.client.RequestChannelDescriptions(ctx, ids...)
		cancel()
		if err != nil && c.ctx.Err() == nil {
			s.logf("app: %v", err)
			for _, id := range ids {
				delete(asked, id)
			}
		}
	}
}

// joinBookmarkChannel joins the channel the bookmark names, a path of names
// below the root.
func (s *session) joinBookmarkChannel(c *conn, path []string) {
	id := uint32(mumble.RootChannelID)
	for _, name := range path {
		found := false
		for _, ch := range c.client.Children(id) {
			if ch.Name == name {
				id, found = ch.ID, true
				break
			}
		}
		if !found {
			s.systemLine(fmt.Sprintf("The bookmark's channel %q does not exist on this server.", strings.Join(path, "/")))
			return
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := c.client.Join(ctx, id); err != nil && c.ctx.Err() == nil {
		s.systemLine(fmt.Sprintf("Could not join %q: %v", strings.Join(path, "/"), err))
	}
}

// sendChat sends text to the channel this client is in.
func (s *session) sendChat(c *conn, text string) error {
	html, err := FormatChatMessage(text, int(c.client.ServerInfo().MessageLength))
	if err != nil {
		return err
	}
	self := c.client.Self()
	if !c.room.enabled() && c.room.mustEncrypt() {
		return ErrRoomNotReady
	}
	if c.room.enabled() {
		ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
		defer cancel()
		return s.sendRoomChat(ctx, c, self.Name, html)
	}
	if err := s.sendText(c, mumble.TextMessage{Channels: []uint32{self.ChannelID}, Message: html}); err != nil {
		return err
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
func (s *session) setSelfMute(c *conn, mute bool) {
	c.selfMu.Lock()
	c.wantMute = mute
	if !mute {
		c.wantDeaf = false // unmuting undeafens too (the server does so)
	}
	c.selfMu.Unlock()
	if mute {
		c.call.SetSelfMute(true)
	}
	c.selfOps.do(func() { s.sendSelfMute(c, mute) })
}

// sendSelfMute asks the server for the self-mute state and waits for its
// confirmation (the client paces it to the server's rate limit).
func (s *session) sendSelfMute(c *conn, mute bool) {
	ctx, cancel := context.WithTimeout(c.ctx, selfStateTimeout)
	defer cancel()
	if err := c.client.SetSelfMute(ctx, mute); err != nil && c.ctx.Err() == nil {
		s.systemLine(fmt.Sprintf("Could not change self-mute: %v.", err))
	}
}

// setSelfDeaf asks the server to deafen or undeafen this client.
func (s *session) setSelfDeaf(c *conn, deaf bool) {
	c.selfMu.Lock()
	unmute := false
	if deaf {
		if !c.wantDeaf {
			c.unmuteOnUndeaf = !c.wantMute
		}
	} else if c.wantDeaf && c.unmuteOnUndeaf {
		unmute = true
		c.wantMute = false
	}
	c.wantDeaf = deaf
	c.selfMu.Unlock()
	if deaf {
		c.call.SetSelfMute(true)
		c.call.SetSelfDeaf(true)
	}
	c.selfOps.do(func() {
		ctx, cancel := context.WithTimeout(c.ctx, selfStateTimeout)
		defer cancel()
		if err := c.client.SetSelfDeaf(ctx, deaf); err != nil {
			if c.ctx.Err() == nil {
				s.systemLine(fmt.Sprintf("Could not change self-deafen: %v.", err))
			}
			return
		}
		// Unmuting is part of this change: queued behind later ones, it
		// could undo a mute the user asked for since.
		if unmute {
			s.sendSelfMute(c, false)
		}
	})
}

// Local volumes are kept between 0 and 2 (linear).
const maxLocalVolume = 2

// setUserVolume sets a user's local volume. It returns the user's
// certificate hash and the volume in dB to remember, or "" for a user
// without a certificate (nothing to remember it by).
func (s *session) setUserVolume(c *conn, session uint32, v float64) (hash string, db int) {
	if math.IsNaN(v) {
		return "", 0
	}
	v = min(max(v, 0), maxLocalVolume)
	if err := c.call.SetUserVolume(session, v); err != nil {
		s.logf("app: volume of %d: %v", session, err)
	}
	s.changeLocal(c, session, func(la *localAudio, uv *UserView) { la.volume, uv.LocalVolume = v, v })

	u, _ := c.client.User(session)
	if len(u.Hash) != 40 || !isLowerHex(u.Hash) {
		return "", 0
	}
	db = UserVolumeMinDB
	if v > 0 {
		db = int(math.Round(20 * math.Log10(v)))
	}
	return u.Hash, min(max(db, UserVolumeMinDB), UserVolumeMaxDB)
}

// setUserMute mutes or unmutes a user locally.
func (s *session) setUserMute(c *conn, session uint32, muted bool) {
	c.call.SetUserMute(session, muted)
	s.changeLocal(c, session, func(la *localAudio, uv *UserView) { la.muted, uv.LocalMute = muted, muted })
}

// changeLocal applies f to what this client keeps about a user (local
// volume and mute) and to the user's entry in the tree, in place, and
// reports the change. A user not in the tree gets a throwaway entry.
func (s *session) changeLocal(c *conn, session uint32, f func(la *localAudio, uv *UserView)) {
	s.mu.Lock()
	la, ok := c.local[session]
	if !ok {
		la.volume = 1
	}
	var uv *UserView
	if c.tree != nil {
		uv = c.tree.users[session]
	}
	if uv == nil {
		uv = new(UserView)
	}
	f(&la, uv)
	c.local[session] = la
	s.mu.Unlock()
	s.owner.sessionChanged(s)
}

// applyStoredVolumeLocked applies the remembered local volume of u, if
// any. The session's mu must be held.
func applyStoredVolumeLocked(c *conn, set Settings, u mumble.User) {
	if u.Hash == "" || u.Session == c.client.Session() {
		return
	}
	db, ok := set.Output.UserVolumeDB[u.Hash]
	if !ok {
		return
	}
	v := min(math.Pow(10, float64(db)/20), maxLocalVolume)
	la := c.local[u.Session]
	la.volume = v
	c.local[u.Session] = la
	_ = c.call.SetUserVolume(u.Session, v) // v is in range
}
