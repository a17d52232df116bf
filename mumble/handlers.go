package mumble

import (
	"slices"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// handle processes one frame from the server. It runs on the reader
// goroutine; payload is only valid during the call.
func (c *Client) handle(t MessageType, payload []byte) {
	if t == MessageUDPTunnel {
		c.handleVoice(payload)
		return
	}
	// Garbage in some fields must not cost us the rest: use what decodes.
	msg, _ := UnmarshalMessage(t, payload)
	if msg == nil {
		return // unknown message type
	}

	var closeReason error
	c.mu.Lock()
	if c.stage == stageConfig && t != MessageServerConfig {
		// A server that sends no ServerConfig after ServerSync.
		c.markSynced()
	}
	switch m := msg.(type) {
	case *mumbleproto.Version:
		c.st.applyVersion(m)
	case *mumbleproto.Ping:
		c.handlePing(m)
	case *mumbleproto.Reject:
		cleanLinePtr(m.Reason)
		closeReason = &RejectError{Type: RejectType(m.GetType()), Reason: m.GetReason()}
	case *mumbleproto.ServerSync:
		c.handleServerSync(m)
	case *mumbleproto.ServerConfig:
		c.st.applyServerConfig(m)
		switch c.stage {
		case stageConfig:
			c.markSynced()
		case stageSynced:
			c.publish(&ServerConfigEvent{Server: c.st.server})
		}
	case *mumbleproto.ChannelState:
		closeReason = c.handleChannelState(m)
	case *mumbleproto.ChannelRemove:
		c.handleChannelRemove(m)
	case *mumbleproto.UserState:
		closeReason = c.handleUserState(m)
	case *mumbleproto.UserRemove:
		cleanLinePtr(m.Reason)
		closeReason = c.handleUserRemove(m)
	case *mumbleproto.TextMessage:
		c.handleTextMessage(m)
	case *mumbleproto.PermissionDenied:
		c.handlePermissionDenied(m)
	case *mumbleproto.PermissionQuery:
		if m.GetFlush() {
			clear(c.st.perms)
		}
		if m.ChannelId != nil && m.Permissions != nil {
			c.st.perms[*m.ChannelId] = Permission(*m.Permissions)
		}
	case *mumbleproto.UserStats:
		c.notify(userStatsFromProto(m))
	case *mumbleproto.PluginDataTransmission:
		c.handlePluginData(m)
	default:
		// CryptSetup (UDP keys: TCP only here), CodecVersion (CELT),
		// SuggestConfig, ACL, BanList, ... are not used.
	}
	if closeReason == nil {
		closeReason = c.overflow
	}
	c.mu.Unlock()
	if closeReason != nil {
		c.shutdown(closeReason)
	}
}

// markSynced ends the initial state transfer. c.mu must be held.
func (c *Client) markSynced() {
	if c.stage != stageSynced {
		c.stage = stageSynced
		close(c.synced)
	}
}

func (c *Client) handleServerSync(m *mumbleproto.ServerSync) {
	if m.Session != nil {
		c.st.session = *m.Session
	}
	if m.MaxBandwidth != nil {
		c.st.server.MaxBandwidth = *m.MaxBandwidth
	}
	if m.WelcomeText != nil {
		c.st.server.WelcomeText = *m.WelcomeText
	}
	if m.Permissions != nil {
		c.st.server.Permissions = Permission(*m.Permissions)
		c.st.perms[RootChannelID] = Permission(*m.Permissions)
	}
	if c.stage == stageAuthenticating {
		c.stage = stageConfig
	}
}

// snapshotChannels returns copies of the channels with the given IDs that
// exist. c.mu must be held.
func (c *Client) snapshotChannels(ids ...[]uint32) map[uint32]Channel {
	snap := make(map[uint32]Channel)
	for _, list := range ids {
		for _, id := range list {
			if ch := c.st.channels[id]; ch != nil {
				if _, ok := snap[id]; !ok {
					snap[id] = ch.clone()
				}
			}
		}
	}
	return snap
}

// publishLinkChanges reports channels other than skip whose state differs
// from their snapshot. c.mu must be held.
func (c *Client) publishLinkChanges(snap map[uint32]Channel, skip uint32) {
	ids := make([]uint32, 0, len(snap))
	for id := range snap {
		if id != skip {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		prev := snap[id]
		if ch := c.st.channels[id]; ch != nil && !ch.equal(&prev) {
			c.publish(&ChannelChangedEvent{Channel: ch.clone(), Prev: prev})
		}
	}
}

func (c *Client) handleChannelState(m *mumbleproto.ChannelState) error {
	if !c.wantEvents() {
		_, _, _, err := c.st.applyChannelState(m)
		return err
	}
	var snap map[uint32]Channel
	if m.ChannelId != nil {
		var cur []uint32
		if ch := c.st.channels[*m.ChannelId]; ch != nil {
			cur = ch.Links
		}
		snap = c.snapshotChannels([]uint32{*m.ChannelId}, cur, m.Links, m.LinksAdd, m.LinksRemove)
	}
	ch, added, ok, err := c.st.applyChannelState(m)
	if err != nil || !ok {
		return err
	}
	if added {
		c.publish(&ChannelAddedEvent{Channel: ch.clone()})
	} else if prev := snap[ch.ID]; !ch.equal(&prev) {
		c.publish(&ChannelChangedEvent{Channel: ch.clone(), Prev: prev})
	}
	c.publishLinkChanges(snap, ch.ID)
	return nil
}

func (c *Client) handleChannelRemove(m *mumbleproto.ChannelRemove) {
	if m.ChannelId == nil {
		return
	}
	if !c.wantEvents() {
		c.st.removeChannel(*m.ChannelId)
		return
	}
	// Snapshot the channels linked to the subtree that goes.
	var linked [][]uint32
	order := []uint32{*m.ChannelId}
	for i := 0; i < len(order) && c.st.channels[order[i]] != nil; i++ {
		linked = append(linked, c.st.channels[order[i]].Links)
		for k := range c.st.kids[order[i]] {
			order = append(order, k)
		}
	}
	snap := c.snapshotChannels(linked...)
	removed := c.st.removeChannel(*m.ChannelId)
	for _, ch := range removed {
		delete(snap, ch.ID)
		c.publish(&ChannelRemovedEvent{Channel: ch.clone()})
	}
	c.publishLinkChanges(snap, *m.ChannelId)
}

func (c *Client) handleUserState(m *mumbleproto.UserState) error {
	want := c.wantEvents()
	// Events share the user's byte slices with the state: the state
	// replaces them on change and never writes into them, and events are
	// read-only. So an event costs no copy of the avatar.
	var prev User
	if want && m.Session != nil {
		if u := c.st.users[*m.Session]; u != nil {
			prev = *u
		}
	}
	u, added, ok, err := c.st.applyUserState(m)
	if err != nil || !ok || !want {
		return err
	}
	if added {
		c.publish(&UserJoinedEvent{User: *u})
		return nil
	}
	if change := u.diff(&prev); change != 0 {
		c.publish(&UserChangedEvent{User: *u, Prev: prev, Change: change, Actor: m.GetActor()})
	}
	return nil
}

// handleUserRemove removes a user. If the user is this client, it returns
// the reason to disconnect.
func (c *Client) handleUserRemove(m *mumbleproto.UserRemove) error {
	if m.Session == nil {
		return nil
	}
	u := c.st.removeUser(*m.Session)
	if u == nil {
		return nil
	}
	if c.stage != stageAuthenticating && u.Session == c.st.session {
		kick := &KickedError{Actor: m.GetActor(), Reason: m.GetReason(), Ban: m.GetBan()}
		if a := c.st.users[kick.Actor]; a != nil && m.Actor != nil {
			kick.By = a.Name
		}
		return &OpError{Op: "disconnected", Err: kick}
	}
	if c.wantEvents() {
		c.publish(&UserLeftEvent{User: *u, Actor: m.GetActor(), Reason: m.GetReason(), Ban: m.GetBan()})
	}
	return nil
}

func (c *Client) handleTextMessage(m *mumbleproto.TextMessage) {
	if !c.wantEvents() {
		return
	}
	ev := &TextMessageEvent{TextMessage: TextMessage{
		Sender:   m.GetActor(),
		Users:    m.Session,
		Channels: m.ChannelId,
		Trees:    m.TreeId,
		Message:  m.GetMessage(),
	}}
	if u := c.st.users[ev.Sender]; u != nil && m.Actor != nil {
		ev.SenderName = u.Name
	}
	c.publish(ev)
}

func (c *Client) handlePermissionDenied(m *mumbleproto.PermissionDenied) {
	if c.stage != stageSynced {
		return
	}
	c.publish(&PermissionDeniedEvent{Err: &PermissionDeniedError{
		Type:       DenyType(m.GetType()),
		Permission: Permission(m.GetPermission()),
		ChannelID:  m.GetChannelId(),
		HasChannel: m.ChannelId != nil,
		Session:    m.GetSession(),
		Reason:     cleanLine(m.GetReason()),
		Name:       cleanLine(m.GetName()),
	}})
}
