package ui

import (
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/app"
)

func TestRoomMark(t *testing.T) {
	root := &app.ChannelView{ID: 0, Children: []app.ChannelView{
		{ID: 3, Users: []app.UserView{{Session: 1, Name: "me", Self: true}}},
		{ID: 4},
	}}
	if !selfIn(root, 3) || selfIn(root, 4) || selfIn(root, 0) {
		t.Error("selfIn wrong")
	}
	st := app.State{Root: root, Room: app.EncryptedRoom{Available: true, On: true, Channel: 3,
		Members: []app.RoomMember{{Name: "bob", Trust: "unverified"}}}}
	if got := roomMark(st.Room, 3); !strings.Contains(got, "🔒 2") {
		t.Errorf("mark %q, want the lock and 2 members", got)
	}
	if roomMark(st.Room, 4) != "" {
		t.Error("lock on another channel")
	}
	st.Room.Members[0].Changed = true
	if got := roomMark(st.Room, 3); !strings.Contains(got, "key changed") {
		t.Errorf("mark %q, want the key change warning", got)
	}
}

func TestChatLineSaysEncrypted(t *testing.T) {
	for _, c := range []struct {
		l    app.ChatLine
		want string
	}{
		{app.ChatLine{From: "alice", Text: "hi", Encrypted: true}, "🔒 alice: hi"},
		{app.ChatLine{From: "alice", Text: "hi"}, "alice: hi"},
		{app.ChatLine{From: "me", Text: "hi", Own: true, Private: true, To: "bob", Encrypted: true}, "🔒 me (private, encrypted, to bob): hi"},
		{app.ChatLine{From: "bob", Text: "hi", Private: true, Encrypted: true}, "🔒 bob (private, encrypted, to you): hi"},
		{app.ChatLine{From: "bob", Text: "hi", Private: true}, "bob (private, to you): hi"},
		{app.ChatLine{Text: "bob joined", System: true, Encrypted: true}, "bob joined"},
	} {
		if got := chatLineText(c.l); got != c.want {
			t.Errorf("%+v: %q, want %q", c.l, got, c.want)
		}
	}
}

// TestRoomKeyDelivery: the channel marker and the members dialog say
// whether this client's key reached every member.
func TestRoomKeyDelivery(t *testing.T) {
	root := app.ChannelView{Name: "Root", Users: []app.UserView{
		{Session: 1, Name: "alice", Self: true}, {Session: 2, Name: "bob"}, {Session: 3, Name: "carol"},
	}}
	b := app.Bookmark{ID: "lab", Label: "Lab", Address: "127.0.0.1", Username: "alice"}
	st := app.State{Phase: app.PhaseConnected, Bookmark: &b, Root: &root, Self: root.Users[0], Tor: app.TorStatus{Mode: "off"},
		Room: app.EncryptedRoom{Available: true, On: true, Members: []app.RoomMember{
			{Session: 2, Name: "bob", Trust: "unverified", Keyed: true, Acked: true},
			{Session: 3, Name: "carol", Trust: "unverified", Keyed: true},
		}, Waiting: 1}}
	ctrl := newFakeController(st, b)
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	waitFor(t, u, "the room", func(st app.State) bool { return st.Room.On })
	layoutAll(u) // the tree's rows are filled when laid out
	if got := treeRowFor(t, u, channelUID(0)).name.Text; !strings.Contains(got, "🔒 3, waiting for 1 member") {
		t.Errorf("channel row %q, want the lock, 3 members and the wait", got)
	}
	u.showRoomMembers()
	if !hasText(topOverlay(u), "Your key: waiting for 1 member") || !hasText(topOverlay(u), "carol (unverified, has not acknowledged your key yet)") {
		t.Errorf("members dialog: %q", texts(topOverlay(u)))
	}
	if hasText(topOverlay(u), "bob (unverified, has not") {
		t.Errorf("bob shown without the acknowledgement: %q", texts(topOverlay(u)))
	}

	st.Room.Waiting, st.Room.Members[1].Acked = 0, true
	ctrl.setState(st)
	waitFor(t, u, "all acknowledged", func(st app.State) bool { return st.Room.Waiting == 0 })
	layoutAll(u)
	if got := treeRowFor(t, u, channelUID(0)).name.Text; !strings.HasSuffix(got, "🔒 3") {
		t.Errorf("channel row %q, want the lock and 3 members only", got)
	}
	u.showRoomMembers()
	if !hasText(topOverlay(u), "Your key: keys delivered") {
		t.Errorf("members dialog: %q", texts(topOverlay(u)))
	}
}
