package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tumble-voip/tumble/mumble"
)

// chatHistory keeps the chat of every bookmark connected to in this
// process, in memory only (never written to disk), so that "Connect
// again", Cancel and switching servers do not wipe the conversation. It is
// guarded by the Controller's mu.
type chatHistory map[string][]ChatLine

// keepLocked stores the chat of session s under its bookmark. c.mu must
// be held (the session's lock is taken after it; a session never calls
// the Controller while holding its own lock).
func (c *Controller) keepChatLocked(s *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Bookmark == nil || s.st.Bookmark.ID == "" {
		return
	}
	if c.chats == nil {
		c.chats = make(chatHistory)
	}
	c.chats[s.st.Bookmark.ID] = cloneChat(s.st.Chat)
}

// cloneChat returns a deep copy of lines.
func cloneChat(lines []ChatLine) []ChatLine {
	if lines == nil {
		return nil
	}
	out := make([]ChatLine, len(lines))
	for i, l := range lines {
		l.Links = slices.Clone(l.Links)
		out[i] = l
	}
	return out
}

// userNotice returns the system line for a user joining, leaving or moving
// between channels, or "" when the event is none of those. A move is told
// when it concerns this client's channel or this client.
func userNotice(c *conn, ev mumble.Event) string {
	self := c.client.Self()
	switch ev := ev.(type) {
	case *mumble.UserJoinedEvent:
		return fmt.Sprintf("%s connected.", ev.User.Name)
	case *mumble.UserLeftEvent:
		switch {
		case ev.Ban:
			return fmt.Sprintf("%s was banned%s.", ev.User.Name, reasonSuffix(ev.Reason))
		case ev.Actor != 0:
			return fmt.Sprintf("%s was kicked%s.", ev.User.Name, reasonSuffix(ev.Reason))
		}
		return fmt.Sprintf("%s disconnected.", ev.User.Name)
	case *mumble.UserChangedEvent:
		if ev.Change&mumble.UserChangedChannel == 0 {
			return ""
		}
		to := channelName(c, ev.User.ChannelID)
		switch {
		case ev.User.Session == self.Session:
			return fmt.Sprintf("You are now in %s.", to)
		case ev.User.ChannelID == self.ChannelID:
			return fmt.Sprintf("%s joined your channel.", ev.User.Name)
		case ev.Prev.ChannelID == self.ChannelID:
			return fmt.Sprintf("%s left your channel for %s.", ev.User.Name, to)
		}
	}
	return ""
}

// reasonSuffix formats a kick or ban reason after the sentence.
func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + ParseChatHTML(reason).Text + ")"
}

// channelName returns a channel's name, or "the root channel".
func channelName(c *conn, id uint32) string {
	for _, ch := range c.client.Channels() {
		if ch.ID == id && ch.Name != "" && id != mumble.RootChannelID {
			return ch.Name
		}
	}
	return "the root channel"
}

// sendPrivate sends text to one user and adds it to the chat, marked with
// whom it went to.
func (s *session) sendPrivate(c *conn, session uint32, text string) error {
	to, ok := c.client.User(session)
	if !ok {
		return fmt.Errorf("app: user %d is no longer connected", session)
	}
	html, err := FormatChatMessage(text, int(c.client.ServerInfo().MessageLength))
	if err != nil {
		return err
	}
	// To a member of this client's encrypted room: encrypted, else clear.
	encrypted := false
	if r := c.room; r.enabled() {
		if room := r.link.Room(); room != nil && room.IsMember(session) {
			ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
			err := r.link.SendPrivate(ctx, session, html)
			cancel()
			if err != nil {
				return fmt.Errorf("app: %w", err)
			}
			encrypted = true
		}
	}
	if !encrypted {
		if err := s.sendText(c, mumble.TextMessage{Users: []uint32{session}, Message: html}); err != nil {
			return err
		}
	}
	s.update(func(st *State) {
		line := chatLine(c.client.Self().Name, html, false)
		line.Own, line.Private, line.To, line.Encrypted = true, true, to.Name, encrypted
		addChat(st, line)
	})
	return nil
}

// sendText sends a text message, bounded in time.
func (s *session) sendText(c *conn, m mumble.TextMessage) error {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := c.client.SendText(ctx, m); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// Register registers this client's user on the server under the
// bookmark's user name and certificate (servers that allow
// self-registration), and waits (at most 30 s) for the server to confirm;
// call it off the user interface's event loop. The account then follows
// the bookmark's certificate: export the bookmark (ExportBookmark) to keep
// it beyond this machine.
func (c *Controller) Register() error {
	_, cn, err := c.connected()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cn.ctx, 30*time.Second)
	defer cancel()
	if err := cn.client.Register(ctx); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}
