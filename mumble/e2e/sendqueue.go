package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"

	"github.com/tumble-voip/tumble/mumble"
)

// errLinkClosed reports a message sent after Link.Close.
var errLinkClosed = errors.New("e2e: link closed")

// A pending is one signalling message waiting for the link's sender.
type pending struct {
	ctx  context.Context
	to   []uint32
	data []byte
	typ  MessageType
	done chan error // nil: nobody waits; the error is kept for HandleEvent
}

// enqueue queues data for the sessions to, ahead of none: the link's
// sender goroutine sends in order, off the caller's goroutine (the
// client's paced sends can take a second each on 1.3.4, and the caller is
// usually the session's event loop). If wait is true it returns once the
// message was sent (or dropped as obsolete), else at once.
func (l *Link) enqueue(ctx context.Context, to []uint32, data []byte, wait bool) error {
	q := &pending{ctx: ctx, to: to, data: data}
	if IsMessage(data) {
		q.typ = MessageType(data[3])
	}
	if wait {
		q.done = make(chan error, 1)
	}
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return errLinkClosed
	}
	var dropped []*pending
	l.queue, dropped = coalesce(l.queue, q)
	l.coalesced += uint64(len(dropped))
	if !l.sending {
		l.sending = true
		l.wg.Add(1)
		go l.sendLoop()
	}
	l.qmu.Unlock()
	for _, d := range dropped {
		if d.done != nil {
			d.done <- nil // superseded: what it carried goes with the newer one
		}
	}
	if !wait {
		return nil
	}
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// coalesce appends n to the queue q after dropping what n makes obsolete,
// and returns the queue and the messages dropped entirely:
//   - a Keys message (a newer sender key) replaces, for each of its
//     recipients, an older queued Keys message, unless a Chat message
//     sealed with the older key is queued between them for that
//     recipient (it needs the older key to open);
//   - an Ack to a member replaces an older queued Ack to that member
//     (a member only uses the acknowledgement of its newest key).
//
// Messages are never reordered.
func coalesce(q []*pending, n *pending) ([]*pending, []*pending) {
	switch n.typ {
	case TypeKeys:
		var chatTo []uint32 // recipients of chat queued after the message looked at
		for i := len(q) - 1; i >= 0; i-- {
			o := q[i]
			switch o.typ {
			case TypeChat:
				chatTo = append(chatTo, o.to...)
			case TypeKeys:
				o.to = slices.DeleteFunc(slices.Clone(o.to), func(s uint32) bool {
					return slices.Contains(n.to, s) && !slices.Contains(chatTo, s)
				})
			}
		}
	case TypeAck:
		for _, o := range q {
			if o.typ == TypeAck && slices.Equal(o.to, n.to) {
				o.to = nil
			}
		}
	}
	var dropped []*pending
	kept := q[:0]
	for _, o := range q {
		if len(o.to) == 0 {
			dropped = append(dropped, o)
		} else {
			kept = append(kept, o)
		}
	}
	clear(q[len(kept):])
	return append(kept, n), dropped
}

// sendLoop sends the queued messages in order until the queue is empty.
func (l *Link) sendLoop() {
	defer l.wg.Done()
	for {
		l.qmu.Lock()
		if len(l.queue) == 0 || l.closed {
			l.sending = false
			for _, ch := range l.flushed {
				close(ch)
			}
			l.flushed = nil
			l.qmu.Unlock()
			return
		}
		q := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.qmu.Unlock()
		err := l.transmit(q)
		if q.done != nil {
			q.done <- err
		} else if err != nil && q.ctx.Err() == nil {
			l.qmu.Lock()
			if l.sendErr == nil {
				l.sendErr = err
			}
			l.qmu.Unlock()
		}
	}
}

// transmit sends one message: as plugin data on servers that relay it,
// else as a private text message. Close aborts it.
func (l *Link) transmit(q *pending) error {
	ctx, cancel := context.WithCancel(q.ctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	if l.plugs {
		return l.c.SendPluginData(ctx, mumble.PluginData{Receivers: q.to, DataID: DataID, Data: q.data})
	}
	return l.c.SendText(ctx, mumble.TextMessage{Users: q.to, Message: TextPrefix + base64.RawStdEncoding.EncodeToString(q.data)})
}

// takeSendErr returns and clears the first error of a message nobody
// waited for.
func (l *Link) takeSendErr() error {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	err := l.sendErr
	l.sendErr = nil
	return err
}

// Coalesced returns how many queued signalling messages were dropped as
// obsolete (a newer key for the same recipients, a newer
// acknowledgement).
func (l *Link) Coalesced() uint64 {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return l.coalesced
}

// Flush waits until every queued signalling message was sent (or the
// link closed).
func (l *Link) Flush(ctx context.Context) error {
	l.qmu.Lock()
	if !l.sending {
		l.qmu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.flushed = append(l.flushed, ch)
	l.qmu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the link's sender: messages still queued are dropped, one
// being sent is abandoned. It waits for the sender goroutine to end. The
// link sends nothing more; call it when the connection ends.
func (l *Link) Close() error {
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return errLinkClosed
	}
	l.closed = true
	q := l.queue
	l.queue = nil
	l.qmu.Unlock()
	l.stop()
	for _, o := range q {
		if o.done != nil {
			o.done <- errLinkClosed
		}
	}
	l.wg.Wait()
	return nil
}
