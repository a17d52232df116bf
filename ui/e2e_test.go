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
	if got := roomMark(st, 3); !strings.Contains(got, "🔒 2") {
		t.Errorf("mark %q, want the lock and 2 members", got)
	}
	if roomMark(st, 4) != "" {
		t.Error("lock on another channel")
	}
	st.Room.Members[0].Changed = true
	if got := roomMark(st, 3); !strings.Contains(got, "key changed") {
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
