package app

import (
	"context"
	"sync"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice"
)

// conn is one established connection: the Mumble client, the voice call
// on it and what this client keeps about the server's users. Its fields
// below mu are guarded by the owning session's mu.
type conn struct {
	client serverClient
	call   *voice.Call
	room   *roomCrypto     // the encrypted room; nil if the client cannot carry one
	ctx    context.Context // ends with the connection
	cancel context.CancelFunc

	// The connection's goroutines; see start and close.
	gmu     sync.Mutex
	stopped bool
	wg      sync.WaitGroup

	// wantDescs signals fetchDescriptions to look for descriptions
	// announced by their hash only.
	wantDescs chan struct{}

	// The user's own mute and deafen as last asked for (the server's
	// state follows through selfOps). unmuteOnUndeaf records that the
	// user was not muted when deafening: undeafening then unmutes too, as
	// in Mumble (deafening implies muting; undeafening restores the mute
	// state from before).
	selfMu                             sync.Mutex
	wantMute, wantDeaf, unmuteOnUndeaf bool
	// selfOps runs the changes to this user's own state in the order the
	// user made them, so that the server sees the last one last.
	selfOps opQueue

	// Guarded by session.mu:
	tree    *tree
	talking map[uint32]bool // sessions being heard
	// talkKind is how each speaker's last voice packet reached this
	// client (whisper, shout, ...); a speaker without an entry talks in
	// the channel. Written by the packet goroutine under the session's
	// lock.
	talkKind     map[uint32]TalkKind
	local        map[uint32]localAudio
	transmitting bool
	bitrate      int
	descs        map[uint32]parsedDescription // by channel ID
}

// newConn returns the connection state for client; ctx bounds it.
func newConn(ctx context.Context, client serverClient) *conn {
	ctx, cancel := context.WithCancel(ctx)
	c := &conn{
		client:    client,
		ctx:       ctx,
		cancel:    cancel,
		wantDescs: make(chan struct{}, 1),
		talking:   make(map[uint32]bool),
		talkKind:  make(map[uint32]TalkKind),
		local:     make(map[uint32]localAudio),
		descs:     make(map[uint32]parsedDescription),
	}
	c.selfOps.start = c.start
	return c
}

// start runs f on a goroutine of the connection, which close waits for.
// After close it runs nothing and reports false.
func (c *conn) start(f func()) bool {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	if c.stopped {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// close ends the connection's context and waits for every goroutine it
// started.
func (c *conn) close() {
	c.cancel()
	c.gmu.Lock()
	c.stopped = true
	c.gmu.Unlock()
	c.wg.Wait()
}

// opQueue runs functions one after another, in the order given, on a
// goroutine of the connection while there is work.
type opQueue struct {
	start func(func()) bool // conn.start
	idle  func()            // called when the queue has run dry, if set

	mu      sync.Mutex
	ops     []func()
	running bool
}

// do queues f. Once the connection has ended, f is dropped.
func (q *opQueue) do(f func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ops = append(q.ops, f)
	if !q.running {
		q.running = q.start(q.run)
		if !q.running {
			q.ops = nil
		}
	}
}

func (q *opQueue) run() {
	for {
		q.mu.Lock()
		if len(q.ops) == 0 {
			q.running = false
			q.mu.Unlock()
			if q.idle != nil {
				q.idle()
			}
			return
		}
		f := q.ops[0]
		q.ops = q.ops[1:]
		q.mu.Unlock()
		f()
	}
}

// busy reports whether changes are queued or running.
func (q *opQueue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}

// wantDescriptions has fetchDescriptions look for descriptions to fetch.
func (c *conn) wantDescriptions() {
	select {
	case c.wantDescs <- struct{}{}:
	default: // a look is pending already
	}
}

// descriptionLocked returns the plain text of channel ch's description,
// parsing it only when it changed. session.mu must be held.
func (c *conn) descriptionLocked(ch *mumble.Channel) ChatMessage {
	if d, ok := c.descs[ch.ID]; ok && d.html == ch.Description {
		return d.msg
	}
	m := ParseChatHTML(ch.Description)
	c.descs[ch.ID] = parsedDescription{html: ch.Description, msg: m}
	return m
}

// parsedDescription is a channel description and its plain text, kept
// so that the tree is not rebuilt from HTML at every change.
type parsedDescription struct {
	html string
	msg  ChatMessage
}

// localAudio is a user's local volume and mute.
type localAudio struct {
	volume float64 // linear 0-2
	muted  bool
}
