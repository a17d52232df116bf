package mumble

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// A VoiceTarget is a set of receivers for whispering (to users) and
// shouting (to channels). Register it with Client.SetVoiceTarget and send
// voice to its ID (OutgoingVoice.Target). Receivers hear whispers to them
// with ContextWhisper and shouts to channels with ContextShout.
type VoiceTarget struct {
	// Users are the sessions of users who hear the voice.
	Users []uint32
	// Channels are channels whose users hear the voice.
	Channels []VoiceTargetChannel
}

// A VoiceTargetChannel is a channel in a VoiceTarget.
type VoiceTargetChannel struct {
	ID uint32
	// Links includes the channels linked to ID.
	Links bool
	// Children includes the subchannels of ID, recursively.
	Children bool
	// Group, if set, restricts the receivers to the members of this ACL
	// group.
	Group string
}

// Voice target IDs a client may register.
const (
	MinVoiceTargetID = 1
	MaxVoiceTargetID = 30
)

// SetVoiceTarget registers (or, with an empty VoiceTarget, clears) voice
// target id, 1 to 30. The server does not acknowledge it, but handles it
// before any voice sent afterwards.
func (c *Client) SetVoiceTarget(ctx context.Context, id uint32, t VoiceTarget) error {
	op := fmt.Sprintf("set voice target %d", id)
	if id < MinVoiceTargetID || id > MaxVoiceTargetID {
		return opError(op, fmt.Errorf("voice target IDs are %d to %d", MinVoiceTargetID, MaxVoiceTargetID))
	}
	m := &mumbleproto.VoiceTarget{Id: proto.Uint32(id)}
	if len(t.Users) > 0 {
		m.Targets = append(m.Targets, &mumbleproto.VoiceTarget_Target{Session: t.Users})
	}
	for _, ch := range t.Channels {
		tt := &mumbleproto.VoiceTarget_Target{
			ChannelId: proto.Uint32(ch.ID),
			Links:     proto.Bool(ch.Links),
			Children:  proto.Bool(ch.Children),
		}
		if ch.Group != "" {
			tt.Group = proto.String(ch.Group)
		}
		m.Targets = append(m.Targets, tt)
	}
	return opError(op, c.send(ctx, m))
}
