package voice

import (
	"fmt"
	"slices"
	"sync"
)

// CallEventKind tells what a CallEvent reports.
type CallEventKind int

// Kinds of CallEvent.
const (
	// TalkStart: the speaker CallEvent.Session started being heard (or,
	// without sound, started sending voice).
	TalkStart CallEventKind = iota + 1
	// TalkStop: the speaker CallEvent.Session stopped.
	TalkStop
	// TransmitStart: this client started transmitting.
	TransmitStart
	// TransmitStop: this client stopped transmitting.
	TransmitStop
	// DeviceStopped: a sound device went away (unplugged) or stopped
	// delivering sound; CallEvent.Device names it, CallEvent.Err says
	// why. The call goes on without it.
	DeviceStopped
)

// String returns the kind's name.
func (k CallEventKind) String() string {
	switch k {
	case TalkStart:
		return "TalkStart"
	case TalkStop:
		return "TalkStop"
	case TransmitStart:
		return "TransmitStart"
	case TransmitStop:
		return "TransmitStop"
	case DeviceStopped:
		return "DeviceStopped"
	}
	return fmt.Sprintf("CallEventKind(%d)", int(k))
}

// CallEvent is news from a Call (see Call.Events).
type CallEvent struct {
	// Kind says what happened.
	Kind CallEventKind
	// Session is the speaker of TalkStart and TalkStop.
	Session uint32
	// Device names the device of DeviceStopped for the user, for
	// example `the output device "speaker"` or `the default input
	// device`.
	Device string
	// Err is why the device of DeviceStopped stopped.
	Err error
}

// eventQueue delivers a Call's events in order without ever blocking the
// audio goroutines that report them and without losing a state change:
// talk changes not yet delivered are coalesced per speaker (and for this
// client), so the backlog holds at most one talk event per speaker, and a
// change that undoes an undelivered one cancels it. Device events are
// kept (at most one per device).
type eventQueue struct {
	out  chan CallEvent
	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	pending []CallEvent
	talking map[uint32]bool // as delivered (or being delivered)
	sending bool            // as delivered (or being delivered)
	closed  bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{
		out:     make(chan CallEvent),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		talking: make(map[uint32]bool),
	}
	go q.run()
	return q
}

// talk reports that speaker started (on) or stopped being heard.
func (q *eventQueue) talk(speaker uint32, on bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = slices.DeleteFunc(q.pending, func(ev CallEvent) bool {
		return (ev.Kind == TalkStart || ev.Kind == TalkStop) && ev.Session == speaker
	})
	if q.talking[speaker] != on {
		kind := TalkStop
		if on {
			kind = TalkStart
		}
		q.pushLocked(CallEvent{Kind: kind, Session: speaker})
	}
}

// transmit reports that this client started (on) or stopped transmitting.
func (q *eventQueue) transmit(on bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = slices.DeleteFunc(q.pending, func(ev CallEvent) bool {
		return ev.Kind == TransmitStart || ev.Kind == TransmitStop
	})
	if q.sending != on {
		kind := TransmitStop
		if on {
			kind = TransmitStart
		}
		q.pushLocked(CallEvent{Kind: kind})
	}
}

// deviceStopped reports a device that stopped.
func (q *eventQueue) deviceStopped(dev string, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pushLocked(CallEvent{Kind: DeviceStopped, Device: dev, Err: err})
}

// forget drops what is known and pending about speaker, who left.
func (q *eventQueue) forget(speaker uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = slices.DeleteFunc(q.pending, func(ev CallEvent) bool {
		return (ev.Kind == TalkStart || ev.Kind == TalkStop) && ev.Session == speaker
	})
	delete(q.talking, speaker)
}

// pushLocked queues ev and wakes run. q.mu must be held.
func (q *eventQueue) pushLocked(ev CallEvent) {
	if q.closed {
		return
	}
	q.pending = append(q.pending, ev)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest pending event and records its state as
// delivered.
func (q *eventQueue) next() (CallEvent, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return CallEvent{}, false
	}
	ev := q.pending[0]
	q.pending = slices.Delete(q.pending, 0, 1)
	switch ev.Kind {
	case TalkStart:
		q.talking[ev.Session] = true
	case TalkStop:
		delete(q.talking, ev.Session)
	case TransmitStart, TransmitStop:
		q.sending = ev.Kind == TransmitStart
	}
	return ev, true
}

func (q *eventQueue) run() {
	defer close(q.done)
	for {
		ev, ok := q.next()
		if !ok {
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		select {
		case q.out <- ev:
		case <-q.stop:
			return
		}
	}
}

// close stops delivery, waits for run and closes the channel; events
// still pending are dropped. Only one call.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done
	close(q.out)
}
