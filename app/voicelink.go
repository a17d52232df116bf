package app

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/mumble"
)

// AudioBackend selects the sound devices a Controller uses.
type AudioBackend int

// Audio backends.
const (
	// AudioDevices uses the system's sound devices (the default): the
	// settings' capture and playback devices, or the system defaults.
	AudioDevices AudioBackend = iota
	// AudioNull uses stand-in devices driven by a timer: silence is
	// captured and the playback is discarded. Everything else runs as
	// with real devices (tests, machines without sound).
	AudioNull
	// AudioFile captures from ControllerConfig.AudioInputFile and plays
	// into ControllerConfig.AudioOutputFile (WAV, 48 kHz mono 16-bit), in
	// real time.
	AudioFile
	// AudioNone opens no device: received voice is decoded for the
	// talking indicators but not played, and nothing is sent.
	AudioNone
)

// String returns the backend's name.
func (b AudioBackend) String() string {
	switch b {
	case AudioDevices:
		return "devices"
	case AudioNull:
		return "null"
	case AudioFile:
		return "file"
	case AudioNone:
		return "none"
	}
	return fmt.Sprintf("AudioBackend(%d)", int(b))
}

func (b AudioBackend) validate() error {
	if b < AudioDevices || b > AudioNone {
		return fmt.Errorf("app: unknown audio backend %d", int(b))
	}
	return nil
}

// describe says in a sentence how sound will be handled before a
// connection opens the devices.
func (b AudioBackend) describe(cfg ControllerConfig) string {
	switch b {
	case AudioNull:
		return "Null sound devices: silence is sent, voice is not played."
	case AudioFile:
		return fmt.Sprintf("Sound from the file %q, played into %q.", cfg.AudioInputFile, cfg.AudioOutputFile)
	case AudioNone:
		return "No sound devices: voice is received but not played, and nothing is sent."
	}
	return "System sound devices."
}

// talkChange reports that a speaker started or stopped being heard, or
// (self) that this client started or stopped transmitting.
type talkChange struct {
	session uint32
	talking bool
	self    bool
	// notice, if set, is news about the sound devices instead (one
	// stopped): the session shows it.
	notice string
}

// audioLink is the voice pipeline of one connection: received packets in,
// sound out, microphone in, packets out through audioParams.send.
// Implementations are safe for concurrent use.
type audioLink interface {
	// handlePacket takes a voice packet from the server, arrived at at.
	handlePacket(p *mumble.VoicePacket, at time.Time)
	// talk delivers talking changes; it is closed by close.
	talk() <-chan talkChange
	// setUserVolume sets a speaker's local volume (linear 0-2).
	setUserVolume(session uint32, v float64)
	// setUserMute mutes or unmutes a speaker locally.
	setUserMute(session uint32, muted bool)
	// removeUser forgets a speaker who left.
	removeUser(session uint32)
	// pushToTalk presses or releases push-to-talk.
	pushToTalk(pressed bool)
	// setSelfMute stops (true) or allows sending.
	setSelfMute(muted bool)
	// setSelfDeaf stops (true) or allows playing.
	setSelfDeaf(deaf bool)
	// setBitrateCap caps the Opus bit rate at the server's budget.
	setBitrateCap(limit int)
	// applySettings applies changed settings.
	applySettings(s Settings)
	// close stops the devices and frees everything.
	close() error
}

// audioParams is what openAudio needs.
type audioParams struct {
	cfg      ControllerConfig
	settings Settings
	// bitrateCap is the highest bit rate the server's bandwidth limit
	// allows for the settings' packet length.
	bitrateCap int
	// send queues an outgoing voice packet; it never blocks.
	send func(v mumble.OutgoingVoice)
}

// voiceSender carries outgoing voice packets from the audio goroutine to
// the connection through a bounded queue, so that a slow network never
// stalls the sound device. Packets that do not fit in the queue (more than
// about a second of voice behind) are dropped and counted.
type voiceSender struct {
	client  voiceClient
	ctx     context.Context
	cancel  context.CancelFunc
	q       chan mumble.OutgoingVoice
	done    chan struct{}
	dropped atomic.Uint64
	sent    atomic.Uint64
	once    sync.Once
}

// voiceQueueLen is the outgoing queue length in packets.
const voiceQueueLen = 64

// voiceClient sends voice packets: a *mumble.Client.
type voiceClient interface {
	SendVoice(ctx context.Context, v mumble.OutgoingVoice) error
}

func newVoiceSender(ctx context.Context, client voiceClient) *voiceSender {
	ctx, cancel := context.WithCancel(ctx)
	v := &voiceSender{
		client: client,
		ctx:    ctx,
		cancel: cancel,
		q:      make(chan mumble.OutgoingVoice, voiceQueueLen),
		done:   make(chan struct{}),
	}
	go v.run()
	return v
}

// send queues p (its Opus data is copied); it never blocks.
func (v *voiceSender) send(p mumble.OutgoingVoice) {
	if v.ctx.Err() != nil {
		return
	}
	p.Opus = bytes.Clone(p.Opus)
	select {
	case v.q <- p:
	default:
		v.dropped.Add(1)
	}
}

func (v *voiceSender) run() {
	defer close(v.done)
	for {
		select {
		case p := <-v.q:
			if err := v.client.SendVoice(v.ctx, p); err != nil {
				if v.ctx.Err() != nil {
					return
				}
				v.dropped.Add(1)
				continue
			}
			v.sent.Add(1)
		case <-v.ctx.Done():
			return
		}
	}
}

// close stops sending and waits for the sending goroutine.
func (v *voiceSender) close() {
	v.once.Do(func() {
		v.cancel()
		<-v.done
	})
}

// packetTalk tells who is talking from the packets alone: a speaker talks
// from a packet until a terminator or a gap. It stands in for the voice
// receiver's playback-based events when no audio runs.
type packetTalk struct {
	ch   chan talkChange
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu     sync.Mutex
	last   map[uint32]time.Time
	closed bool
}

// talkGap is the silence after which a speaker without a terminator is
// taken to have stopped.
const talkGap = 250 * time.Millisecond

func newPacketTalk() *packetTalk {
	t := &packetTalk{
		ch:   make(chan talkChange, 1024),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		last: make(map[uint32]time.Time),
	}
	go t.run()
	return t
}

// emit sends c unless the channel is full or closed. t.mu must be held.
func (t *packetTalk) emit(c talkChange) {
	if t.closed {
		return
	}
	select {
	case t.ch <- c:
	default:
	}
}

func (t *packetTalk) packet(session uint32, terminator bool, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, was := t.last[session]
	if terminator {
		if was {
			delete(t.last, session)
			t.emit(talkChange{session: session})
		}
		return
	}
	t.last[session] = at
	if !was {
		t.emit(talkChange{session: session, talking: true})
	}
}

func (t *packetTalk) remove(session uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.last, session)
}

func (t *packetTalk) run() {
	defer close(t.done)
	tick := time.NewTicker(talkGap / 5)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.C:
			t.mu.Lock()
			for s, at := range t.last {
				if now.Sub(at) > talkGap {
					delete(t.last, s)
					t.emit(talkChange{session: s})
				}
			}
			t.mu.Unlock()
		}
	}
}

func (t *packetTalk) close() {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		t.mu.Lock()
		t.closed = true
		close(t.ch)
		t.mu.Unlock()
	})
}

// silentAudio is the audio link when no sound can be played: it shows who
// is talking from the packets and sends nothing.
type silentAudio struct{ t *packetTalk }

func newSilentAudio() *silentAudio { return &silentAudio{t: newPacketTalk()} }

func (a *silentAudio) handlePacket(p *mumble.VoicePacket, at time.Time) {
	a.t.packet(p.Session, p.Terminator, at)
}
func (a *silentAudio) talk() <-chan talkChange       { return a.t.ch }
func (a *silentAudio) setUserVolume(uint32, float64) {}
func (a *silentAudio) setUserMute(uint32, bool)      {}
func (a *silentAudio) removeUser(session uint32)     { a.t.remove(session) }
func (a *silentAudio) pushToTalk(bool)               {}
func (a *silentAudio) setSelfMute(bool)              {}
func (a *silentAudio) setSelfDeaf(bool)              {}
func (a *silentAudio) setBitrateCap(int)             {}
func (a *silentAudio) applySettings(Settings)        {}
func (a *silentAudio) close() error                  { a.t.close(); return nil }
