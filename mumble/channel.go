package mumble

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// RootChannelID is the ID of every server's root channel.
const RootChannelID = 0

// A Channel is a channel's state as last announced by the server.
type Channel struct {
	ID uint32
	// Parent is the parent channel's ID; meaningless for the root.
	Parent uint32
	Name   string
	// Description is the channel description (HTML if the server allows
	// it). Long descriptions (Murmur: 128 UTF-16 code units or more) are
	// not sent with the channel: then only DescriptionHash is set,
	// Description is empty until fetched with RequestChannelDescriptions
	// (see NeedsDescription).
	Description string
	// DescriptionHash is the SHA-1 of the description, if any.
	DescriptionHash []byte
	// Links are the IDs of the linked channels, in increasing order.
	Links []uint32
	// Temporary channels disappear when their last user leaves.
	Temporary bool
	// Position orders siblings (lower first, then by name).
	Position int32
	// MaxUsers limits the users in the channel; 0 means the server's
	// default.
	MaxUsers uint32
}

// IsRoot reports whether ch is the root channel.
func (ch *Channel) IsRoot() bool { return ch.ID == RootChannelID }

// clone returns a copy of ch sharing no memory with it.
func (ch *Channel) clone() Channel {
	out := *ch
	out.DescriptionHash = bytes.Clone(ch.DescriptionHash)
	out.Links = slices.Clone(ch.Links)
	return out
}

func (ch *Channel) equal(o *Channel) bool {
	return ch.ID == o.ID && ch.Parent == o.Parent && ch.Name == o.Name && ch.Description == o.Description &&
		bytes.Equal(ch.DescriptionHash, o.DescriptionHash) && slices.Equal(ch.Links, o.Links) &&
		ch.Temporary == o.Temporary && ch.Position == o.Position && ch.MaxUsers == o.MaxUsers
}

// Channels returns every channel, ordered by ID.
func (c *Client) Channels() []Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.channelList()
}

// Channel returns the channel with the given ID.
func (c *Client) Channel(id uint32) (Channel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.st.channels[id]
	if !ok {
		return Channel{}, false
	}
	return ch.clone(), true
}

// Children returns the channels whose parent is id, in display order
// (Position, then name, then ID).
func (c *Client) Children(id uint32) []Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Channel
	for _, ch := range c.st.children(id) {
		out = append(out, ch.clone())
	}
	return out
}

// ChannelByPath finds a channel by its path of names separated by "/", for
// example "Root/Lab/Bench". The first element stands for the root channel
// whatever its name (servers name it differently), so "Root" alone is the
// root channel and "X/Lab" is the root's child Lab. Names are compared
// exactly.
func (c *Client) ChannelByPath(path string) (Channel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := c.st.channelByPath(path)
	if ch == nil {
		return Channel{}, false
	}
	return ch.clone(), true
}

// ChannelPath returns the path of channel id in the form ChannelByPath
// accepts, starting with the root channel's actual name.
func (c *Client) ChannelPath(id uint32) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.channelPath(id)
}

func (s *state) channelList() []Channel {
	out := make([]Channel, 0, len(s.channels))
	for _, ch := range s.channels {
		out = append(out, ch.clone())
	}
	slices.SortFunc(out, func(a, b Channel) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (s *state) children(id uint32) []*Channel {
	out := make([]*Channel, 0, len(s.kids[id]))
	for k := range s.kids[id] {
		out = append(out, s.channels[k])
	}
	slices.SortFunc(out, compareChannels)
	return out
}

// compareChannels orders siblings for display: Position, then name, then
// ID.
func compareChannels(a, b *Channel) int {
	return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// A TreeChannel is a channel with its nesting level, as ChannelTree lists
// them.
type TreeChannel struct {
	Channel
	Depth int // 0 for the root channel
}

// ChannelTree orders channels as a tree is displayed: the root channel,
// then depth first each channel followed by its children in display order
// (Position, then name, then ID). It uses no recursion, so a deep tree
// costs no stack, and O(n log n) time. Channels not below the root (a
// missing parent, a cycle) are left out; a Client's channels are always
// below the root, at most Limits.MaxDepth deep.
func ChannelTree(channels []Channel) []TreeChannel {
	kids := make(map[uint32][]*Channel)
	var root *Channel
	for i := range channels {
		ch := &channels[i]
		if ch.IsRoot() {
			root = ch
			continue
		}
		kids[ch.Parent] = append(kids[ch.Parent], ch)
	}
	if root == nil {
		return nil
	}
	for _, k := range kids {
		slices.SortFunc(k, compareChannels)
	}
	out := make([]TreeChannel, 0, len(channels))
	type item struct {
		ch    *Channel
		depth int
	}
	stack := []item{{root, 0}}
	seen := make(map[uint32]bool, len(channels))
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[it.ch.ID] {
			continue // a duplicate ID in the list
		}
		seen[it.ch.ID] = true
		out = append(out, TreeChannel{Channel: it.ch.clone(), Depth: it.depth})
		k := kids[it.ch.ID]
		for i := len(k) - 1; i >= 0; i-- {
			stack = append(stack, item{k[i], it.depth + 1})
		}
	}
	return out
}

func (s *state) channelByPath(path string) *Channel {
	if path == "" {
		return nil
	}
	ch := s.channels[RootChannelID]
	if ch == nil {
		return nil
	}
	names := strings.Split(path, "/")
	for _, name := range names[1:] {
		var next *Channel
		for k := range s.kids[ch.ID] {
			if kc := s.channels[k]; kc.Name == name && (next == nil || k < next.ID) {
				next = kc
			}
		}
		if next == nil {
			return nil
		}
		ch = next
	}
	return ch
}

func (s *state) channelPath(id uint32) (string, bool) {
	var names []string
	for range s.lim.MaxDepth + 1 {
		ch := s.channels[id]
		if ch == nil {
			return "", false
		}
		names = append(names, ch.Name)
		if ch.ID == RootChannelID {
			slices.Reverse(names)
			return strings.Join(names, "/"), true
		}
		id = ch.Parent
	}
	return "", false // a parent that does not exist
}

// depth returns the number of ancestors of channel id up to the root (or
// to a channel whose parent is missing), stopping early once it exceeds
// the depth limit.
func (s *state) depth(id uint32) int {
	d := 0
	for d <= s.lim.MaxDepth {
		ch := s.channels[id]
		if ch == nil || ch.ID == RootChannelID {
			return d
		}
		if s.channels[ch.Parent] == nil {
			return d
		}
		id = ch.Parent
		d++
	}
	return d
}

// height returns the number of levels below channel id, stopping early
// once it exceeds limit. It costs the size of the subtree, walked without
// recursion.
func (s *state) height(id uint32, limit int) int {
	type item struct {
		id uint32
		h  int
	}
	stack := []item{{id, 0}}
	best := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		best = max(best, it.h)
		if best > limit {
			return best
		}
		for k := range s.kids[it.id] {
			stack = append(stack, item{k, it.h + 1})
		}
	}
	return best
}

// canReparent reports whether making parent the parent of channel id keeps
// the tree a tree: parent exists and is not id or below it.
func (s *state) canReparent(id, parent uint32) bool {
	if id == RootChannelID || s.channels[parent] == nil {
		return false
	}
	for range s.lim.MaxDepth + 2 {
		if parent == id {
			return false
		}
		p := s.channels[parent]
		if p == nil || p.ID == RootChannelID {
			return true
		}
		parent = p.Parent
	}
	return false // deeper than the limit: refused below anyway
}

// setParent moves channel ch below parent in the index.
func (s *state) setParent(ch *Channel, parent uint32) {
	if old := s.kids[ch.Parent]; old != nil {
		delete(old, ch.ID)
		if len(old) == 0 {
			delete(s.kids, ch.Parent)
		}
	}
	ch.Parent = parent
	k := s.kids[parent]
	if k == nil {
		k = make(map[uint32]struct{})
		s.kids[parent] = k
	}
	k[ch.ID] = struct{}{}
}

// store accounts for replacing old bytes of stored text or data by n.
func (s *state) store(old, n int) error {
	if n > s.lim.MaxStoredBytes || s.stored-old+n > s.lim.MaxStoredBytes {
		return &LimitError{What: "bytes of avatars, comments and descriptions", Limit: s.lim.MaxStoredBytes}
	}
	s.stored += n - old
	return nil
}

func (s *state) checkText(what string, v *string) error {
	if v != nil && len(*v) > s.lim.MaxTextSize {
		return &LimitError{What: "bytes in a " + what, Limit: s.lim.MaxTextSize}
	}
	return nil
}

// maxHashSize bounds the hashes a server sends (SHA-1 in practice).
const maxHashSize = 64

func checkHash(h []byte) error {
	if len(h) > maxHashSize {
		return &LimitError{What: "bytes in a hash", Limit: maxHashSize}
	}
	return nil
}

// applyChannelState merges a ChannelState into the state. It returns the
// changed channel and whether it is new; ok is false if the message was
// ignored. Links are kept symmetric, so other channels may change too. A
// message going over the Limits returns a *LimitError and changes nothing
// that would break the state's invariants.
func (s *state) applyChannelState(m *mumbleproto.ChannelState) (ch *Channel, added, ok bool, err error) {
	if m.ChannelId == nil {
		return nil, false, false, nil
	}
	if err := cmp.Or(s.checkText("channel name", m.Name), s.checkText("channel description", m.Description),
		checkHash(m.DescriptionHash)); err != nil {
		return nil, false, false, err
	}
	id := *m.ChannelId
	ch = s.channels[id]
	if ch == nil {
		if id != RootChannelID {
			if m.Name == nil {
				return nil, false, false, nil // a partial update for a channel we never saw
			}
			// Servers announce parents before their children; like the
			// official client, ignore a channel whose parent is unknown,
			// so that every channel hangs below the root.
			if s.channels[m.GetParent()] == nil {
				return nil, false, false, nil
			}
			if s.depth(m.GetParent())+1 > s.lim.MaxDepth {
				return nil, false, false, &LimitError{What: "levels of channels", Limit: s.lim.MaxDepth}
			}
		}
		if len(s.channels) >= s.lim.MaxChannels {
			return nil, false, false, &LimitError{What: "channels", Limit: s.lim.MaxChannels}
		}
		ch = &Channel{ID: id}
		s.channels[id] = ch
		if id != RootChannelID {
			s.setParent(ch, m.GetParent())
		}
		added = true
	} else if m.Parent != nil && *m.Parent != ch.Parent && s.canReparent(id, *m.Parent) {
		room := s.lim.MaxDepth - s.depth(*m.Parent) - 1
		if room < 0 || s.height(id, room) > room {
			return nil, false, false, &LimitError{What: "levels of channels", Limit: s.lim.MaxDepth}
		}
		s.setParent(ch, *m.Parent)
	}
	if m.Name != nil {
		ch.Name = cleanLine(*m.Name)
	}
	if m.DescriptionHash != nil {
		if !bytes.Equal(m.DescriptionHash, ch.DescriptionHash) {
			s.stored -= len(ch.Description)
			ch.Description = "" // stale; the client may ask for the new one
		}
		ch.DescriptionHash = bytes.Clone(m.DescriptionHash)
	}
	if m.Description != nil {
		if err := s.store(len(ch.Description), len(*m.Description)); err != nil {
			return ch, added, true, err
		}
		ch.Description = *m.Description
		ch.DescriptionHash = textHash(ch.Description)
	}
	if m.Temporary != nil {
		ch.Temporary = *m.Temporary
	}
	if m.Position != nil {
		ch.Position = *m.Position
	}
	if m.MaxUsers != nil {
		ch.MaxUsers = *m.MaxUsers
	}
	if len(m.Links) > 0 {
		if err := s.setLinks(ch, m.Links); err != nil {
			return ch, added, true, err
		}
	}
	for _, l := range m.LinksRemove {
		s.unlink(ch, l)
	}
	for _, l := range m.LinksAdd {
		if err := s.link(ch, l); err != nil {
			return ch, added, true, err
		}
	}
	return ch, added, true, nil
}

// setLinks makes ids (those that exist) the links of ch. It costs
// O((n + len(ch.Links)) log n) plus the changed channels' own links, where
// a pairwise comparison would be quadratic.
func (s *state) setLinks(ch *Channel, ids []uint32) error {
	want := make([]uint32, 0, min(len(ids), s.lim.MaxLinks+1))
	for _, l := range ids {
		if l != ch.ID && s.channels[l] != nil {
			want = append(want, l)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) > s.lim.MaxLinks {
		return &LimitError{What: "links of a channel", Limit: s.lim.MaxLinks}
	}
	old := ch.Links
	var gone, added []uint32
	i, j := 0, 0
	for i < len(old) || j < len(want) {
		switch {
		case j == len(want) || (i < len(old) && old[i] < want[j]):
			gone = append(gone, old[i])
			i++
		case i == len(old) || want[j] < old[i]:
			if len(s.channels[want[j]].Links) >= s.lim.MaxLinks {
				return &LimitError{What: "links of a channel", Limit: s.lim.MaxLinks}
			}
			added = append(added, want[j])
			j++
		default:
			i++
			j++
		}
	}
	for _, l := range gone {
		if o := s.channels[l]; o != nil {
			o.Links = removeSorted(o.Links, ch.ID)
		}
	}
	for _, l := range added {
		o := s.channels[l]
		o.Links = insertSorted(o.Links, ch.ID)
	}
	ch.Links = want
	return nil
}

// link links ch and channel id both ways, as links are symmetric.
func (s *state) link(ch *Channel, id uint32) error {
	o := s.channels[id]
	if o == nil || o == ch {
		return nil
	}
	if _, found := slices.BinarySearch(ch.Links, id); found {
		return nil
	}
	if len(ch.Links) >= s.lim.MaxLinks || len(o.Links) >= s.lim.MaxLinks {
		return &LimitError{What: "links of a channel", Limit: s.lim.MaxLinks}
	}
	ch.Links = insertSorted(ch.Links, id)
	o.Links = insertSorted(o.Links, ch.ID)
	return nil
}

func (s *state) unlink(ch *Channel, id uint32) {
	ch.Links = removeSorted(ch.Links, id)
	if o := s.channels[id]; o != nil {
		o.Links = removeSorted(o.Links, ch.ID)
	}
}

// removeChannel deletes channel id with the channels below it and their
// links, as servers do. It returns the removed channels, children before
// their parents, or nil.
func (s *state) removeChannel(id uint32) []*Channel {
	ch := s.channels[id]
	if ch == nil || id == RootChannelID {
		return nil
	}
	// Collect the subtree without recursion, parents first.
	order := []*Channel{ch}
	for i := 0; i < len(order); i++ {
		for k := range s.kids[order[i].ID] {
			order = append(order, s.channels[k])
		}
	}
	slices.Reverse(order)
	for _, c := range order {
		for _, l := range slices.Clone(c.Links) {
			s.unlink(c, l)
		}
		if p := s.kids[c.Parent]; p != nil {
			delete(p, c.ID)
			if len(p) == 0 {
				delete(s.kids, c.Parent)
			}
		}
		delete(s.kids, c.ID)
		s.stored -= len(c.Description)
		delete(s.channels, c.ID)
		delete(s.perms, c.ID)
	}
	return order
}

func insertSorted(s []uint32, v uint32) []uint32 {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func removeSorted(s []uint32, v uint32) []uint32 {
	i, found := slices.BinarySearch(s, v)
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

// textHash returns the SHA-1 Mumble uses to identify a comment or
// description, or nil for empty text.
func textHash(text string) []byte {
	if text == "" {
		return nil
	}
	h := sha1.Sum([]byte(text))
	return h[:]
}

// Join moves this client into channel id and waits until the server
// confirms the move. A refusal is returned as a *PermissionDeniedError
// (wrapped; use errors.As).
func (c *Client) Join(ctx context.Context, id uint32) error {
	return c.move(ctx, fmt.Sprintf("join channel %d", id), c.Session(), id)
}

// Move moves the user with the given session into channel id (which needs
// the Move permission) and waits until the server confirms it.
func (c *Client) Move(ctx context.Context, session, id uint32) error {
	return c.move(ctx, fmt.Sprintf("move user %d to channel %d", session, id), session, id)
}

func (c *Client) move(ctx context.Context, op string, session, id uint32) error {
	c.mu.Lock()
	_, known := c.st.channels[id]
	u := c.st.users[session]
	c.mu.Unlock()
	if !known {
		return opError(op, fmt.Errorf("no channel with ID %d", id))
	}
	if u == nil {
		return opError(op, fmt.Errorf("no user with session %d", session))
	}
	if u.ChannelID == id {
		return nil
	}
	from := u.ChannelID
	w := c.addWaiter(func(v any) (bool, error) {
		switch ev := v.(type) {
		case *UserChangedEvent:
			if ev.User.Session == session && ev.Change&UserChangedChannel != 0 {
				if ev.User.ChannelID == id {
					return true, nil
				}
				return true, fmt.Errorf("the server moved the user to channel %d instead", ev.User.ChannelID)
			}
		case *UserLeftEvent:
			if ev.User.Session == session {
				return true, errors.New("the user left")
			}
		case *ChannelRemovedEvent:
			if ev.Channel.ID == id {
				return true, errors.New("the channel was removed")
			}
		case *PermissionDeniedEvent:
			if refusesMove(ev.Err, from, id) {
				return true, ev.Err
			}
		}
		return false, nil
	})
	if err := c.send(ctx, &mumbleproto.UserState{Session: proto.Uint32(session), ChannelId: proto.Uint32(id)}); err != nil {
		c.removeWaiter(w)
		return opError(op, err)
	}
	return opError(op, c.wait(ctx, w))
}

// refusesMove reports whether a PermissionDenied may answer a move from
// channel from to channel to: servers name the target channel for a missing
// Enter permission and the user's current channel for a missing Move
// permission. Mumble's messages carry no request IDs, so refusals of other
// kinds (text too long, invalid names) are left to their own requests.
func refusesMove(e *PermissionDeniedError, from, to uint32) bool {
	switch e.Type {
	case DenyPermission:
		return !e.HasChannel || e.ChannelID == to || e.ChannelID == from
	case DenyChannelFull, DenyTemporaryChannel, DenyMissingCertificate, DenyText, DenyH9K:
		return true
	}
	return false
}

// CreateChannel creates a channel named name in channel parent and returns
// it once the server announces it. A temporary channel disappears when its
// last user leaves; servers move its creator into it. A refusal is returned
// as a *PermissionDeniedError (wrapped; use errors.As).
func (c *Client) CreateChannel(ctx context.Context, parent uint32, name string, temporary bool) (Channel, error) {
	op := fmt.Sprintf("create channel %q in channel %d", name, parent)
	if name == "" {
		return Channel{}, opError(op, errors.New("empty channel name"))
	}
	c.mu.Lock()
	_, known := c.st.channels[parent]
	var existing *Channel
	for _, ch := range c.st.children(parent) {
		if ch.Name == name {
			existing = ch
		}
	}
	c.mu.Unlock()
	if !known {
		return Channel{}, opError(op, fmt.Errorf("no channel with ID %d", parent))
	}
	if existing != nil {
		return Channel{}, opError(op, fmt.Errorf("channel %d has that name already", existing.ID))
	}
	var created Channel
	w := c.addWaiter(func(v any) (bool, error) {
		switch ev := v.(type) {
		case *ChannelAddedEvent:
			if ev.Channel.Parent == parent && ev.Channel.Name == name {
				created = ev.Channel
				return true, nil
			}
		case *ChannelRemovedEvent:
			if ev.Channel.ID == parent {
				return true, errors.New("the parent channel was removed")
			}
		case *PermissionDeniedEvent:
			if refusesCreate(ev.Err, parent) {
				return true, ev.Err
			}
		}
		return false, nil
	})
	err := c.send(ctx, &mumbleproto.ChannelState{
		Parent:    proto.Uint32(parent),
		Name:      proto.String(name),
		Temporary: proto.Bool(temporary),
		Position:  proto.Int32(0), // always set: some servers mishandle its absence
	})
	if err != nil {
		c.removeWaiter(w)
		return Channel{}, opError(op, err)
	}
	if err := c.wait(ctx, w); err != nil {
		return Channel{}, opError(op, err)
	}
	return created, nil
}

// refusesCreate reports whether a PermissionDenied may answer the creation
// of a channel in parent.
func refusesCreate(e *PermissionDeniedError, parent uint32) bool {
	switch e.Type {
	case DenyPermission:
		return !e.HasChannel || e.ChannelID == parent
	case DenyChannelName, DenyTemporaryChannel, DenyNestingLimit, DenyChannelCountLimit,
		DenyMissingCertificate, DenyText, DenyH9K:
		return true
	}
	return false
}
