package mumble

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// NeedsDescription reports whether the server announced a description of
// ch by its hash only (as servers do for long descriptions), so that its
// text must be asked for with RequestChannelDescriptions.
func (ch *Channel) NeedsDescription() bool {
	return len(ch.DescriptionHash) > 0 && ch.Description == ""
}

// RequestChannelDescriptions fetches the descriptions that the server
// announced only by their hash (see Channel.NeedsDescription) for the
// channels with the given IDs, and waits until they have arrived; Channel
// then returns them. Channels whose description is known, or that have
// none, are skipped; the others are asked for in one RequestBlob message, so
// ask for many channels in one call rather than one by one: one message and
// one round trip. (Murmur 1.3 and 1.5 exempt RequestBlob from their
// messageburst limit, measured, but other servers may not.) If nothing is
// missing, nothing is sent.
//
// A description counts as arrived when the server sends its text, or when
// the channel loses its description meanwhile. An unknown channel ID is an
// error (and nothing is sent), so is a channel removed while waiting. Servers
// do not answer for channels without a description, so an answer may never
// come if the client's state is out of date: ctx bounds the wait.
func (c *Client) RequestChannelDescriptions(ctx context.Context, ids ...uint32) error {
	op := "request channel descriptions"
	if len(ids) == 1 {
		op = fmt.Sprintf("request the description of channel %d", ids[0])
	}
	pending := make(map[uint32]bool)
	var want []uint32
	c.mu.Lock()
	for _, id := range ids {
		ch := c.st.channels[id]
		if ch == nil {
			c.mu.Unlock()
			return opError(op, fmt.Errorf("no channel with ID %d", id))
		}
		if ch.NeedsDescription() && !pending[id] {
			pending[id] = true
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		c.mu.Unlock()
		return nil
	}
	// Registered together with the check above: a description arriving
	// in between (for a concurrent request) cannot be missed.
	w := c.addWaiterLocked(func(v any) (bool, error) {
		switch ev := v.(type) {
		case *ChannelChangedEvent:
			if pending[ev.Channel.ID] && !ev.Channel.NeedsDescription() {
				delete(pending, ev.Channel.ID)
			}
		case *ChannelRemovedEvent:
			if pending[ev.Channel.ID] {
				return true, fmt.Errorf("channel %d was removed", ev.Channel.ID)
			}
		}
		return len(pending) == 0, nil
	})
	c.mu.Unlock()
	if err := c.send(ctx, &mumbleproto.RequestBlob{ChannelDescription: want}); err != nil {
		c.removeWaiter(w)
		return opError(op, err)
	}
	return opError(op, c.wait(ctx, w))
}

// SetChannelDescription sets the description of channel id (HTML if the
// server allows it; empty removes it), which needs the Write permission on
// the channel, and waits until the server announces the change. The server
// may rewrite the text (strip markup it does not allow) and announces a long
// description by its hash only, so Channel may afterwards report
// NeedsDescription. The description is checked against the server's length
// limits like a text message (a *TextTooLongError); a refusal is returned as
// a *PermissionDeniedError (wrapped; use errors.As). Setting the description
// the channel has already sends nothing.
func (c *Client) SetChannelDescription(ctx context.Context, id uint32, description string) error {
	op := fmt.Sprintf("set the description of channel %d", id)
	c.mu.Lock()
	ch := c.st.channels[id]
	if ch == nil {
		c.mu.Unlock()
		return opError(op, fmt.Errorf("no channel with ID %d", id))
	}
	if bytes.Equal(ch.DescriptionHash, textHash(description)) {
		c.mu.Unlock()
		return nil
	}
	if err := c.st.server.checkTextLength(description); err != nil {
		c.mu.Unlock()
		return opError(op, err)
	}
	w := c.addWaiterLocked(func(v any) (bool, error) {
		switch ev := v.(type) {
		case *ChannelChangedEvent:
			if ev.Channel.ID == id && (ev.Channel.Description != ev.Prev.Description ||
				!bytes.Equal(ev.Channel.DescriptionHash, ev.Prev.DescriptionHash)) {
				return true, nil
			}
		case *ChannelRemovedEvent:
			if ev.Channel.ID == id {
				return true, errors.New("the channel was removed")
			}
		case *PermissionDeniedEvent:
			if refusesWrite(ev.Err, id) {
				return true, ev.Err
			}
		}
		return false, nil
	})
	c.mu.Unlock()
	err := c.send(ctx, &mumbleproto.ChannelState{ChannelId: proto.Uint32(id), Description: proto.String(description)})
	if err != nil {
		c.removeWaiter(w)
		return opError(op, err)
	}
	return opError(op, c.wait(ctx, w))
}

// refusesWrite reports whether a PermissionDenied may answer a change to
// channel id: servers name the channel for a missing Write permission.
func refusesWrite(e *PermissionDeniedError, id uint32) bool {
	switch e.Type {
	case DenyPermission:
		return !e.HasChannel || e.ChannelID == id
	case DenyTextTooLong, DenyText:
		return true
	}
	return false
}
