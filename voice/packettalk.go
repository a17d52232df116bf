package voice

import (
	"sync"
	"time"
)

// TalkGap is the silence after which a speaker whose packets stopped
// without a terminator is taken to have stopped talking, when a Call
// tells who is talking from the packets alone (no sound).
const TalkGap = 250 * time.Millisecond

// packetTalk tells who is talking from the packets alone: a speaker talks
// from a packet until a terminator or a gap of TalkGap. It stands in for
// the Receiver's playback-based events when no sound runs.
type packetTalk struct {
	q    *eventQueue
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	last map[uint32]time.Time // arrival of each talking speaker's last packet
}

func newPacketTalk(q *eventQueue) *packetTalk {
	t := &packetTalk{
		q:    q,
		stop: make(chan struct{}),
		done: make(chan struct{}),
		last: make(map[uint32]time.Time),
	}
	go t.run()
	return t
}

// packet takes a packet of speaker that arrived at at.
func (t *packetTalk) packet(speaker uint32, terminator bool, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, was := t.last[speaker]
	if terminator {
		if was {
			delete(t.last, speaker)
			t.q.talk(speaker, false)
		}
		return
	}
	t.last[speaker] = at
	if !was {
		t.q.talk(speaker, true)
	}
}

// remove forgets speaker.
func (t *packetTalk) remove(speaker uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.last, speaker)
}

func (t *packetTalk) run() {
	defer close(t.done)
	tick := time.NewTicker(TalkGap / 5)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.C:
			t.mu.Lock()
			for s, at := range t.last {
				if now.Sub(at) > TalkGap {
					delete(t.last, s)
					t.q.talk(s, false)
				}
			}
			t.mu.Unlock()
		}
	}
}

// close stops the gap timer and waits for its goroutine. Only one call.
func (t *packetTalk) close() {
	close(t.stop)
	<-t.done
}
