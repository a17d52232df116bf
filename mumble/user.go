package mumble

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// unregisteredUserID is the user_id servers send when a user's registration
// is removed (-1 as uint32).
const unregisteredUserID = 0xFFFFFFFF

// A User is a connected user's state as last announced by the server.
type User struct {
	// Session identifies the user on this connection. Servers reuse the
	// sessions of users who left.
	Session uint32
	Name    string
	// UserID is the registered account's ID, if Registered.
	UserID     uint32
	Registered bool
	ChannelID  uint32

	Mute            bool // muted by an administrator
	Deaf            bool // deafened by an administrator
	Suppress        bool // muted by the server (for example no Speak permission)
	SelfMute        bool
	SelfDeaf        bool
	PrioritySpeaker bool
	Recording       bool

	// Comment is the user's comment (HTML if the server allows it). Long
	// comments are not sent with the user: then only CommentHash is set.
	Comment     string
	CommentHash []byte
	// Texture is the user's avatar image, if sent; TextureHash its SHA-1.
	Texture     []byte
	TextureHash []byte
	// Hash is the hex SHA-1 of the user's client certificate, if any.
	Hash string
}

// A UserChange is a set of User fields that changed.
type UserChange uint32

// User fields reported by UserChangedEvent.
const (
	UserChangedName UserChange = 1 << iota
	UserChangedRegistration
	UserChangedChannel
	UserChangedMute
	UserChangedDeaf
	UserChangedSuppress
	UserChangedSelfMute
	UserChangedSelfDeaf
	UserChangedPrioritySpeaker
	UserChangedRecording
	UserChangedComment
	UserChangedTexture
	UserChangedHash
)

func (u *User) clone() User {
	out := *u
	out.CommentHash = bytes.Clone(u.CommentHash)
	out.Texture = bytes.Clone(u.Texture)
	out.TextureHash = bytes.Clone(u.TextureHash)
	return out
}

// diff returns the fields in which u differs from o.
func (u *User) diff(o *User) UserChange {
	var c UserChange
	flag := func(differ bool, f UserChange) {
		if differ {
			c |= f
		}
	}
	flag(u.Name != o.Name, UserChangedName)
	flag(u.UserID != o.UserID || u.Registered != o.Registered, UserChangedRegistration)
	flag(u.ChannelID != o.ChannelID, UserChangedChannel)
	flag(u.Mute != o.Mute, UserChangedMute)
	flag(u.Deaf != o.Deaf, UserChangedDeaf)
	flag(u.Suppress != o.Suppress, UserChangedSuppress)
	flag(u.SelfMute != o.SelfMute, UserChangedSelfMute)
	flag(u.SelfDeaf != o.SelfDeaf, UserChangedSelfDeaf)
	flag(u.PrioritySpeaker != o.PrioritySpeaker, UserChangedPrioritySpeaker)
	flag(u.Recording != o.Recording, UserChangedRecording)
	flag(u.Comment != o.Comment || !bytes.Equal(u.CommentHash, o.CommentHash), UserChangedComment)
	flag(!bytes.Equal(u.Texture, o.Texture) || !bytes.Equal(u.TextureHash, o.TextureHash), UserChangedTexture)
	flag(u.Hash != o.Hash, UserChangedHash)
	return c
}

// Users returns every connected user, including this client, ordered by
// session.
func (c *Client) Users() []User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.userList(func(*User) bool { return true })
}

// User returns the user with the given session.
func (c *Client) User(session uint32) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.st.users[session]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// UserByName returns the connected user with the given name.
func (c *Client) UserByName(name string) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.st.users {
		if u.Name == name {
			return u.clone(), true
		}
	}
	return User{}, false
}

// UsersIn returns the users in channel id, ordered by session.
func (c *Client) UsersIn(id uint32) []User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.userList(func(u *User) bool { return u.ChannelID == id })
}

// Self returns this client's own user.
func (c *Client) Self() User {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.st.users[c.st.session]; u != nil {
		return u.clone()
	}
	return User{Session: c.st.session}
}

// Session returns this client's session, as given by the server in
// ServerSync.
func (c *Client) Session() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.session
}

func (s *state) userList(keep func(*User) bool) []User {
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		if keep(u) {
			out = append(out, u.clone())
		}
	}
	slices.SortFunc(out, func(a, b User) int { return cmp.Compare(a.Session, b.Session) })
	return out
}

// applyUserState merges a UserState into the state. It returns the user and
// whether it is new; ok is false if the message was ignored. A message going
// over the Limits returns a *LimitError.
func (s *state) applyUserState(m *mumbleproto.UserState) (u *User, added, ok bool, err error) {
	if m.Session == nil {
		return nil, false, false, nil
	}
	if err := cmp.Or(s.checkText("user name", m.Name), s.checkText("comment", m.Comment),
		s.checkText("certificate hash", m.Hash), checkHash(m.CommentHash), checkHash(m.TextureHash)); err != nil {
		return nil, false, false, err
	}
	if len(m.Texture) > s.lim.MaxTextureSize {
		return nil, false, false, &LimitError{What: "bytes in an avatar", Limit: s.lim.MaxTextureSize}
	}
	u = s.users[*m.Session]
	if u == nil {
		if m.Name == nil {
			return nil, false, false, nil // a partial update for a user we never saw
		}
		if len(s.users) >= s.lim.MaxUsers {
			return nil, false, false, &LimitError{What: "users", Limit: s.lim.MaxUsers}
		}
		u = &User{Session: *m.Session}
		s.users[u.Session] = u
		added = true
	}
	if m.Name != nil {
		u.Name = cleanLine(*m.Name)
	}
	if m.UserId != nil {
		u.UserID = *m.UserId
		u.Registered = *m.UserId != unregisteredUserID
		if !u.Registered {
			u.UserID = 0
		}
	}
	if m.ChannelId != nil {
		u.ChannelID = *m.ChannelId
	}
	setBool(&u.Mute, m.Mute)
	setBool(&u.Deaf, m.Deaf)
	setBool(&u.Suppress, m.Suppress)
	setBool(&u.SelfMute, m.SelfMute)
	setBool(&u.SelfDeaf, m.SelfDeaf)
	setBool(&u.PrioritySpeaker, m.PrioritySpeaker)
	setBool(&u.Recording, m.Recording)
	if m.CommentHash != nil {
		if !bytes.Equal(m.CommentHash, u.CommentHash) {
			s.stored -= len(u.Comment)
			u.Comment = ""
		}
		u.CommentHash = bytes.Clone(m.CommentHash)
	}
	if m.Comment != nil {
		if err := s.store(len(u.Comment), len(*m.Comment)); err != nil {
			return u, added, true, err
		}
		u.Comment = *m.Comment
		u.CommentHash = textHash(u.Comment)
	}
	if m.TextureHash != nil {
		if !bytes.Equal(m.TextureHash, u.TextureHash) {
			s.stored -= len(u.Texture)
			u.Texture = nil
		}
		u.TextureHash = bytes.Clone(m.TextureHash)
	}
	if m.Texture != nil {
		if err := s.store(len(u.Texture), len(m.Texture)); err != nil {
			return u, added, true, err
		}
		u.Texture = nil
		if len(m.Texture) > 0 {
			u.Texture = bytes.Clone(m.Texture)
		}
		u.TextureHash = textHash(string(m.Texture))
	}
	if m.Hash != nil {
		u.Hash = *m.Hash
	}
	return u, added, true, nil
}

// removeUser deletes the user with the given session and returns it, or
// nil.
func (s *state) removeUser(session uint32) *User {
	u := s.users[session]
	if u != nil {
		s.stored -= len(u.Texture) + len(u.Comment)
		delete(s.users, session)
	}
	return u
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// SetSelfMute mutes or unmutes this client (the server stops relaying its
// voice) and waits until the server confirms. Unmuting also undeafens.
func (c *Client) SetSelfMute(ctx context.Context, mute bool) error {
	op := "self-mute"
	if !mute {
		op = "self-unmute"
	}
	return opError(op, c.setSelf(ctx, &mumbleproto.UserState{SelfMute: proto.Bool(mute)},
		func(u *User) bool { return u.SelfMute == mute }))
}

// SetSelfDeaf deafens or undeafens this client (the server stops sending
// it voice) and waits until the server confirms. Deafening also mutes.
func (c *Client) SetSelfDeaf(ctx context.Context, deaf bool) error {
	op := "self-deafen"
	if !deaf {
		op = "self-undeafen"
	}
	return opError(op, c.setSelf(ctx, &mumbleproto.UserState{SelfDeaf: proto.Bool(deaf)},
		func(u *User) bool { return u.SelfDeaf == deaf }))
}

// setSelf sends a UserState about ourselves unless reached already holds,
// and waits for the server's UserState making it hold.
func (c *Client) setSelf(ctx context.Context, m *mumbleproto.UserState, reached func(*User) bool) error {
	c.mu.Lock()
	session := c.st.session
	self := c.st.users[session]
	done := self != nil && reached(self)
	c.mu.Unlock()
	if done {
		return nil
	}
	m.Session = proto.Uint32(session)
	w := c.addWaiter(func(v any) (bool, error) {
		if ev, ok := v.(*UserChangedEvent); ok && ev.User.Session == session && reached(&ev.User) {
			return true, nil
		}
		return false, nil
	})
	if err := c.send(ctx, m); err != nil {
		c.removeWaiter(w)
		return err
	}
	return c.wait(ctx, w)
}
