package app

import (
	"context"
	"testing"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/e2e"
)

// lockClient is an e2e.Client in one channel that sends nothing.
type lockClient struct{ channel uint32 }

func (c *lockClient) Session() uint32                          { return 1 }
func (c *lockClient) Self() mumble.User                        { return mumble.User{Session: 1, ChannelID: c.channel} }
func (c *lockClient) User(uint32) (mumble.User, bool)          { return mumble.User{}, false }
func (c *lockClient) UsersIn(uint32) []mumble.User             { return nil }
func (c *lockClient) ServerInfo() mumble.ServerInfo            { return mumble.ServerInfo{} }
func (c *lockClient) SetTexture(context.Context, []byte) error { return nil }
func (c *lockClient) SendPluginData(context.Context, mumble.PluginData) error {
	return nil
}
func (c *lockClient) SendText(context.Context, mumble.TextMessage) error { return nil }
func (c *lockClient) SetVoiceTarget(context.Context, uint32, mumble.VoiceTarget) error {
	return nil
}

// TestRoomLockNothingInClear: while the room is off (before it is entered
// again after a reconnect), voice in a channel the user locked for the
// bookmark is dropped, never sent in clear; in other channels, or for
// another bookmark, or with the lock turned off, it goes as before.
func TestRoomLockNothingInClear(t *testing.T) {
	id, err := e2e.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	client := &lockClient{channel: 5}
	link, err := e2e.NewLink(client, e2e.LinkConfig{Identity: id, Trust: e2e.NewTrust()})
	if err != nil {
		t.Fatal(err)
	}
	locks := &roomLocks{}
	locks.set("bm", 5, true)
	locks.set("other", 6, true)
	r := &roomCrypto{link: link, client: client, locks: locks, bookmark: "bm"}
	var sent []mumble.OutgoingVoice
	send := r.wrapSend(func(v mumble.OutgoingVoice) { sent = append(sent, v) })
	opus := []byte{0xf8, 1, 2, 3}

	send(mumble.OutgoingVoice{Opus: opus})
	if len(sent) != 0 {
		t.Fatalf("voice in a locked channel went out in clear: %+v", sent)
	}
	client.channel = 6 // locked for another bookmark only
	send(mumble.OutgoingVoice{Opus: opus})
	if len(sent) != 1 || sent[0].Target != mumble.TargetNormal {
		t.Fatalf("voice in an unlocked channel: %+v", sent)
	}
	client.channel = 5
	locks.set("bm", 5, false)
	send(mumble.OutgoingVoice{Opus: opus})
	if len(sent) != 2 {
		t.Fatalf("voice after the lock was turned off: %+v", sent)
	}
	// A nil set of locks (no Controller) locks nothing.
	r.locks = nil
	if r.mustEncrypt() {
		t.Error("nil locks lock a channel")
	}
}

func TestEncryptedRoomKeyStatus(t *testing.T) {
	bob, carol := RoomMember{Name: "bob"}, RoomMember{Name: "carol"}
	for _, c := range []struct {
		r    EncryptedRoom
		want string
	}{
		{EncryptedRoom{}, ""},
		{EncryptedRoom{On: true}, ""},
		{EncryptedRoom{On: true, Members: []RoomMember{bob}}, "keys delivered"},
		{EncryptedRoom{On: true, Members: []RoomMember{bob, carol}, Waiting: 1}, "waiting for 1 member"},
		{EncryptedRoom{On: true, Members: []RoomMember{bob, carol}, Waiting: 2}, "waiting for 2 members"},
	} {
		if got := c.r.KeyStatus(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
