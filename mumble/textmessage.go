package mumble

import (
	"context"
	"errors"
	"strings"
	"unicode/utf16"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// A TextMessage is a chat message. It goes to every listed user, channel
// and channel tree (a channel and all its subchannels).
type TextMessage struct {
	// Sender is the sending user's session in received messages; 0 for
	// messages from the server itself. Ignored when sending.
	Sender uint32
	// Users are the sessions of users it is sent to privately.
	Users []uint32
	// Channels are the channels it is sent to.
	Channels []uint32
	// Trees are the channels it is sent to together with their
	// subchannels.
	Trees []uint32
	// Message is the text, HTML if the server allows it.
	Message string
}

// textLength returns the length of s as the server measures it: in UTF-16
// code units (Qt's QString::length).
func textLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// checkTextLength applies the server's text length rules: the image limit
// for messages with HTML (when allowed), the message limit otherwise. HTML
// messages between the two limits are left to the server, which measures
// them without embedded image data.
func (si *ServerInfo) checkTextLength(msg string) error {
	n := textLength(msg)
	msgMax, imgMax := int(si.MessageLength), int(si.ImageMessageLength)
	if !si.AllowHTML || !strings.Contains(msg, "<") {
		if msgMax > 0 && n > msgMax {
			return &TextTooLongError{Length: n, Max: msgMax}
		}
		return nil
	}
	if imgMax > 0 && n > imgMax {
		return &TextTooLongError{Length: n, Max: imgMax}
	}
	return nil
}

// SendText sends a text message. It checks the message against the
// server's length limits (ServerInfo.MessageLength and ImageMessageLength;
// a *TextTooLongError); the server does not acknowledge messages, and a
// refusal arrives later as a PermissionDeniedEvent.
func (c *Client) SendText(ctx context.Context, m TextMessage) error {
	const op = "send text message"
	if m.Message == "" {
		return opError(op, errors.New("empty message"))
	}
	if len(m.Users)+len(m.Channels)+len(m.Trees) == 0 {
		return opError(op, errors.New("no recipients"))
	}
	c.mu.Lock()
	err := c.st.server.checkTextLength(m.Message)
	c.mu.Unlock()
	if err != nil {
		return opError(op, err)
	}
	return opError(op, c.send(ctx, &mumbleproto.TextMessage{
		Session:   m.Users,
		ChannelId: m.Channels,
		TreeId:    m.Trees,
		Message:   proto.String(m.Message),
	}))
}
