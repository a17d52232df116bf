package mumble

import "sync"

// An Event is something that happened on the connection, delivered to a
// Subscription. It is one of *ConnectedEvent, *ChannelAddedEvent,
// *ChannelChangedEvent, *ChannelRemovedEvent, *UserJoinedEvent,
// *UserChangedEvent, *UserLeftEvent, *TextMessageEvent,
// *PermissionDeniedEvent, *ServerConfigEvent and *DisconnectedEvent.
//
// Events are shared between subscriptions: do not modify them or the slices
// they hold.
type Event interface {
	event()
}

// A ConnectedEvent is the first event of every subscription made while
// connected: the complete state at the time of Subscribe. Every later event
// of the subscription is a change to it.
type ConnectedEvent struct {
	Self     User      // this client's user
	Channels []Channel // every channel, ordered by ID
	Users    []User    // every user, including Self, ordered by session
	Server   ServerInfo
}

// A ChannelAddedEvent reports a new channel.
type ChannelAddedEvent struct {
	Channel Channel
}

// A ChannelChangedEvent reports a change to a channel; Prev is the channel
// before it.
type ChannelChangedEvent struct {
	Channel, Prev Channel
}

// A ChannelRemovedEvent reports a removed channel.
type ChannelRemovedEvent struct {
	Channel Channel
}

// A UserJoinedEvent reports a user who connected to the server.
type UserJoinedEvent struct {
	User User
}

// A UserChangedEvent reports a change to a user; Prev is the user before it
// and Change says which fields differ.
type UserChangedEvent struct {
	User, Prev User
	Change     UserChange
	Actor      uint32 // session of the user who made the change; 0 if not given
}

// A UserLeftEvent reports a user who disconnected, was kicked or banned.
type UserLeftEvent struct {
	User   User
	Actor  uint32 // session of the user who kicked or banned; 0 if none
	Reason string
	Ban    bool
}

// A TextMessageEvent reports a text message sent to this client, its channel
// or a channel tree containing it.
type TextMessageEvent struct {
	TextMessage
	// SenderName is the sender's name, or empty for messages from the
	// server itself (Sender 0).
	SenderName string
}

// A PermissionDeniedEvent reports an action the server refused.
type PermissionDeniedEvent struct {
	Err *PermissionDeniedError
}

// A ServerConfigEvent reports a change of the server's settings after the
// initial sync.
type ServerConfigEvent struct {
	Server ServerInfo
}

// A DisconnectedEvent is the last event of every subscription: the
// connection ended for the reason Err (ErrClosed after Client.Close).
type DisconnectedEvent struct {
	Err error
}

func (*ConnectedEvent) event()        {}
func (*ChannelAddedEvent) event()     {}
func (*ChannelChangedEvent) event()   {}
func (*ChannelRemovedEvent) event()   {}
func (*UserJoinedEvent) event()       {}
func (*UserChangedEvent) event()      {}
func (*UserLeftEvent) event()         {}
func (*TextMessageEvent) event()      {}
func (*PermissionDeniedEvent) event() {}
func (*ServerConfigEvent) event()     {}
func (*DisconnectedEvent) event()     {}

// A Subscription delivers a client's events in order on C. A slow
// subscriber never blocks the connection: events wait in a queue of up to
// Limits.MaxQueuedEvents, and a server that sends more than that before the
// subscriber takes them is disconnected with a *LimitError (a hostile server
// could otherwise fill memory). After the DisconnectedEvent, C is closed. A
// subscriber that stops reading before that must call Close.
type Subscription struct {
	C <-chan Event

	q *queue[Event]
	c *Client
}

// Close ends the subscription: C is closed and undelivered events are
// dropped. It is safe to call more than once and concurrently with
// receiving from C.
func (s *Subscription) Close() {
	s.c.mu.Lock()
	delete(s.c.subs, s)
	s.c.mu.Unlock()
	s.q.stop()
}

// A VoiceSubscription delivers every voice packet the client receives, in
// order, on C; each packet's Opus data is its own copy. At most
// DefaultMaxQueuedVoice packets wait for the subscriber; beyond that the
// oldest are dropped, as late voice is worth nothing. C is closed when the connection ends;
// a subscriber that stops reading before that must call Close.
type VoiceSubscription struct {
	C <-chan VoicePacket

	q *queue[VoicePacket]
	c *Client
}

// Close ends the subscription: C is closed and undelivered packets are
// dropped.
func (s *VoiceSubscription) Close() {
	s.c.mu.Lock()
	delete(s.c.voiceSubs, s)
	s.c.mu.Unlock()
	s.q.stop()
}

// A queue is a FIFO feeding a channel from its own goroutine, so that
// pushing never blocks. It holds at most max items (see push).
type queue[T any] struct {
	max        int
	dropOldest bool

	out  chan T
	wake chan struct{} // one slot: items were pushed or the queue was finished
	quit chan struct{} // closed by stop
	done chan struct{} // closed when the pump goroutine has exited

	mu       sync.Mutex
	items    []T
	head     int
	finished bool // no more pushes; close out once drained
	stopOnce sync.Once
}

func newQueue[T any](limit int, dropOldest bool) *queue[T] {
	q := &queue[T]{
		max:        limit,
		dropOldest: dropOldest,
		out:        make(chan T),
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go q.pump()
	return q
}

// push appends v; it never blocks. If the queue is full it drops the
// oldest item (dropOldest) or v, and returns false.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	if q.finished {
		q.mu.Unlock()
		return true
	}
	ok := len(q.items)-q.head < q.max
	switch {
	case ok:
		q.items = append(q.items, v)
	case q.dropOldest:
		var zero T
		q.items[q.head] = zero
		q.head++
		q.compact()
		q.items = append(q.items, v)
	}
	q.mu.Unlock()
	q.signal()
	return ok
}

// pushLast appends v and finishes the queue, whatever its length: the last
// event always arrives.
func (q *queue[T]) pushLast(v T) {
	q.mu.Lock()
	if !q.finished {
		q.items = append(q.items, v)
		q.finished = true
	}
	q.mu.Unlock()
	q.signal()
}

// finish marks the end of the stream: out is closed once the items pushed
// so far have been delivered.
func (q *queue[T]) finish() {
	q.mu.Lock()
	q.finished = true
	q.mu.Unlock()
	q.signal()
}

// stop ends delivery at once and waits for the pump goroutine to exit.
func (q *queue[T]) stop() {
	q.stopOnce.Do(func() { close(q.quit) })
	<-q.done
}

// compact reclaims the space of delivered or dropped items. q.mu must be
// held.
func (q *queue[T]) compact() {
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 256 && q.head*2 >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

func (q *queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue[T]) pump() {
	defer close(q.done)
	defer close(q.out)
	var zero T
	for {
		q.mu.Lock()
		for q.head == len(q.items) {
			if q.finished {
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			select {
			case <-q.wake:
			case <-q.quit:
				return
			}
			q.mu.Lock()
		}
		v := q.items[q.head]
		q.items[q.head] = zero
		q.head++
		q.compact()
		q.mu.Unlock()
		select {
		case q.out <- v:
		case <-q.quit:
			return
		}
	}
}
