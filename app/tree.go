package app

import (
	"cmp"
	"slices"

	"github.com/tumble-voip/tumble/mumble"
)

// treeInput is what the channel tree is built from: a snapshot of the
// server's channels and users plus what this client keeps about them.
type treeInput struct {
	channels []mumble.Channel
	users    []mumble.User
	self     uint32 // this client's session

	// local holds the users' local volume and mute; a user without an
	// entry has volume 1 and is not muted.
	local map[uint32]localAudio
	// talking holds the sessions being heard.
	talking map[uint32]bool
	// talkKind holds how each speaker's voice reaches this client;
	// missing means TalkChannel.
	talkKind map[uint32]TalkKind
	// transmitting is this client's own talking flag.
	transmitting bool
	// description returns the plain text of a channel's description.
	description func(ch *mumble.Channel) ChatMessage
}

// tree is a built channel tree with an index of its users, so that a
// change of one user's flags touches one entry instead of rebuilding the
// tree.
type tree struct {
	root ChannelView
	// users points at each user's entry in root; valid until the tree is
	// rebuilt.
	users map[uint32]*UserView
	// channels holds the IDs of the channels in the tree.
	channels map[uint32]bool
}

// hasChannel reports whether the channel with the given ID is in the tree.
func (t *tree) hasChannel(id uint32) bool { return t.channels[id] }

// buildTree builds the channel tree from in: channels in the server's
// display order (position, then name, then ID), users in each channel by
// name. It is a pure function of its input. The walk is iterative, so a
// hostile server's deep chain of channels cannot exhaust the stack, and a
// channel reached twice (a cycle) is shown once.
func buildTree(in treeInput) *tree {
	byID := make(map[uint32]int, len(in.channels)) // index into in.channels
	for i := range in.channels {
		byID[in.channels[i].ID] = i
	}
	kids := make(map[uint32][]uint32)
	for i := range in.channels {
		ch := &in.channels[i]
		if ch.ID != mumble.RootChannelID {
			kids[ch.Parent] = append(kids[ch.Parent], ch.ID)
		}
	}
	for _, list := range kids {
		slices.SortFunc(list, func(a, b uint32) int {
			x, y := &in.channels[byID[a]], &in.channels[byID[b]]
			return cmp.Or(cmp.Compare(x.Position, y.Position), cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID))
		})
	}

	views := make(map[uint32]*ChannelView, len(in.channels))
	for i := range in.channels {
		ch := &in.channels[i]
		desc := in.description(ch)
		views[ch.ID] = &ChannelView{
			ID:                 ch.ID,
			Name:               ch.Name,
			Description:        desc.Text,
			DescriptionLinks:   desc.Links,
			DescriptionPending: ch.NeedsDescription(),
			Temporary:          ch.Temporary,
		}
	}
	for i := range in.users {
		u := &in.users[i]
		if v := views[u.ChannelID]; v != nil {
			v.Users = append(v.Users, in.userView(u))
		}
	}
	for _, v := range views {
		slices.SortFunc(v.Users, func(a, b UserView) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Session, b.Session))
		})
	}

	t := &tree{users: make(map[uint32]*UserView, len(in.users))}
	if views[mumble.RootChannelID] == nil {
		t.root = ChannelView{ID: mumble.RootChannelID, Name: "Root"}
		t.channels = map[uint32]bool{}
		return t
	}
	// Pre-order walk from the root; each channel is reached once.
	order := []uint32{mumble.RootChannelID}
	reached := map[uint32]bool{mumble.RootChannelID: true}
	for i := 0; i < len(order); i++ {
		for _, k := range kids[order[i]] {
			if !reached[k] {
				reached[k] = true
				order = append(order, k)
			}
		}
	}
	// Children come after their parent in pre-order: assembling in
	// reverse order completes every child before its parent copies it.
	for i := len(order) - 1; i >= 0; i-- {
		v := views[order[i]]
		for _, k := range kids[order[i]] {
			if reached[k] && views[k] != nil {
				v.Children = append(v.Children, *views[k])
				views[k] = nil // copied into its parent, once
			}
		}
	}
	t.root = *views[mumble.RootChannelID]
	t.channels = reached
	t.index()
	return t
}

// index records where each user's entry is.
func (t *tree) index() {
	stack := []*ChannelView{&t.root}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i := range v.Users {
			t.users[v.Users[i].Session] = &v.Users[i]
		}
		for i := range v.Children {
			stack = append(stack, &v.Children[i])
		}
	}
}

// userView returns the view of user u.
func (in *treeInput) userView(u *mumble.User) UserView {
	la, ok := in.local[u.Session]
	if !ok {
		la.volume = 1
	}
	self := u.Session == in.self
	talking := in.talking[u.Session]
	var kind TalkKind
	if self {
		talking = in.transmitting
	} else if talking {
		kind = in.talkKind[u.Session]
	}
	return UserView{
		Session:         u.Session,
		Name:            u.Name,
		Self:            self,
		Talking:         talking,
		Talk:            kind,
		Muted:           u.Mute,
		Deafened:        u.Deaf,
		SelfMuted:       u.SelfMute,
		SelfDeafened:    u.SelfDeaf,
		Suppressed:      u.Suppress,
		PrioritySpeaker: u.PrioritySpeaker,
		Recording:       u.Recording,
		Registered:      u.Registered,
		LocalVolume:     la.volume,
		LocalMute:       la.muted,
	}
}
