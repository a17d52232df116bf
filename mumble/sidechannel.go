package mumble

import (
	"bytes"
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// Side channels for data that official clients must not show (the e2e
// package carries its signalling on them; TestServerSideChannels records
// what real servers relay):
//
//   - plugin data: Mumble 1.4+ servers relay it to the listed sessions
//     only, and clients hand it to their plugins; 1.3 servers drop it.
//   - the avatar (UserState.texture): every server relays a short one
//     inline to every user, and keeps it for users who connect later;
//     clients drop an avatar that is not an image.
//
// (A UserState carrying only an unknown field is not relayed by either
// server, and unknown fields are stripped from the ones that are.)

// MaxPluginData is the largest plugin data payload SendPluginData sends.
const MaxPluginData = 1000

// A PluginData is a plugin data message (PluginDataTransmission).
type PluginData struct {
	// Sender is the sending session in received messages; ignored when
	// sending.
	Sender uint32
	// Receivers are the sessions it is sent to.
	Receivers []uint32
	// DataID names the data's kind (the plugin it is for).
	DataID string
	Data   []byte
}

// A PluginDataEvent reports plugin data sent to this client.
type PluginDataEvent struct {
	PluginData
}

func (*PluginDataEvent) event() {}

// SendPluginData sends plugin data to the listed sessions. Servers before
// 1.4 drop it silently: check ServerInfo.Version.
func (c *Client) SendPluginData(ctx context.Context, p PluginData) error {
	const op = "send plugin data"
	if len(p.Receivers) == 0 {
		return opError(op, errors.New("no receivers"))
	}
	if len(p.Data) > MaxPluginData {
		return opError(op, errors.New("plugin data too large"))
	}
	return opError(op, c.send(ctx, &mumbleproto.PluginDataTransmission{
		ReceiverSessions: p.Receivers,
		DataID:           proto.String(p.DataID),
		Data:             p.Data,
	}))
}

// SetTexture sets this client's avatar (empty clears it) and waits for
// the server to confirm it. Servers relay avatars under 128 bytes inline,
// longer ones only by hash.
func (c *Client) SetTexture(ctx context.Context, texture []byte) error {
	if texture == nil {
		texture = []byte{}
	}
	return opError("set avatar", c.setSelf(ctx, &mumbleproto.UserState{Texture: texture},
		func(u *User) bool { return bytes.Equal(u.Texture, texture) }))
}

func (c *Client) handlePluginData(m *mumbleproto.PluginDataTransmission) {
	if !c.wantEvents() {
		return
	}
	c.publish(&PluginDataEvent{PluginData{
		Sender:    m.GetSenderSession(),
		Receivers: m.ReceiverSessions,
		DataID:    m.GetDataID(),
		Data:      m.Data,
	}})
}
