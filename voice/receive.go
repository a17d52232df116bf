package voice

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/jitter"
	"github.com/tumble-voip/tumble/voice/mix"
)

// receiveFrame is one 10 ms frame at 48 kHz mono, the unit of playback.
const receiveFrame = 480

// receiveMaxConceal is how many consecutive frames of Opus loss
// concealment are played before falling back to silence: past 100 ms
// concealment only buzzes.
const receiveMaxConceal = 10

// ErrReceiverClosed is returned by a Receiver's methods after Close.
var ErrReceiverClosed = errors.New("voice: receiver closed")

// ReceiverConfig configures a Receiver. The zero value selects the
// defaults.
type ReceiverConfig struct {
	// JitterBuffer is the least delay held against network jitter, the
	// "default jitter buffer" setting. If zero, 10 ms.
	JitterBuffer time.Duration
	// OutputDelay is the "output delay" setting, 20 to 40 ms in the
	// settings. It is added to JitterBuffer to form the minimum playout
	// offset: no packet is played sooner than JitterBuffer+OutputDelay
	// after the fastest recent path would have delivered it, which leaves
	// room for the sound card's irregular callbacks. If zero, 30 ms.
	OutputDelay time.Duration
	// MaxDelay bounds a speaker's jitter buffer delay within a talk
	// spurt; a spurt held up by a network stall may start later, up to
	// jitter.DefaultLateStart, and sheds the excess (see jitter.Config).
	// If zero, 400 ms.
	MaxDelay time.Duration
	// IdleTimeout is how long a speaker may send nothing before its
	// buffer and decoder are freed (local volume and mute are kept). If
	// zero, 30 s.
	IdleTimeout time.Duration
	// MaxSpeakers bounds the number of speakers held at once; packets
	// from further speakers are refused until idle ones are freed. If
	// zero, 256.
	MaxSpeakers int
	// Volume is the initial master output volume, linear from 0 to
	// mix.MaxGain. The settings start it low (0.1); the caller decides.
	// If zero, 1.
	Volume float64
	// Record, if set, is called during Mix for every known speaker with
	// that speaker's decoded audio for the period, before local volume
	// and mute, silence where the speaker was not talking. at is the
	// position of pcm[0] in samples on the playback timeline that starts
	// at 0 with the first Mix; calls for one speaker are contiguous except
	// across an idle timeout or periods passed over with Skip, so a
	// recorder fills a jump in at with silence. Record runs on the audio goroutine and must not block;
	// pcm is only valid during the call.
	Record func(speaker uint32, at int64, pcm []int16)
}

// TalkEvent reports that a speaker started or stopped being heard.
type TalkEvent struct {
	// Speaker is the speaker's session id.
	Speaker uint32
	// Talking is true when playback of the speaker started, false when
	// it ended.
	Talking bool
	// At is the playback time of the period in which it happened.
	At time.Time
}

// SpeakerStats describes one speaker's receive path.
type SpeakerStats struct {
	// Speaker is the speaker's session id.
	Speaker uint32
	// Talking reports whether the speaker is being heard.
	Talking bool
	// Volume is the local volume (linear) and Muted the local mute.
	Volume float64
	Muted  bool
	// Jitter is the jitter buffer's account: frames played, concealed,
	// late and dropped, current and target delay, added delay
	// distribution.
	Jitter jitter.Stats
	// LossPct is the share of received frames that were not played
	// (late or dropped to catch up), in percent.
	LossPct float64
	// Refused counts packets refused as malformed.
	Refused uint64
	// DecodeErrors counts packets Opus could not decode; they were
	// concealed.
	DecodeErrors uint64
}

type speakerSetting struct {
	volume float64
	muted  bool
}

// rxSpeaker is one speaker's receive state. mu guards buf, last and
// removed (network side against audio side); the remaining fields belong
// to the goroutine running Mix (Receiver.mixMu).
type rxSpeaker struct {
	id uint32

	mu      sync.Mutex
	buf     *jitter.Buffer
	last    time.Time
	removed bool

	refused   atomic.Uint64
	decodeErr atomic.Uint64
	talking   atomic.Bool

	dec        *codec.Decoder
	pkt        []byte
	pcm        []int16 // the packet being played, decoded
	pcmOff     int
	pcmLen     int
	period     []int16
	concealRun int
	volume     float64
	muted      bool
}

// A Receiver is the receive path for all speakers: per speaker an
// adaptive jitter buffer (package jitter) and an Opus decoder with loss
// concealment, local volume and mute; then a mixer (package mix) with a
// master volume. HandlePacket is called from the network goroutine, Mix
// from the playback device's callback; both, and the setters, are safe to
// call concurrently.
type Receiver struct {
	cfg  ReceiverConfig
	jcfg jitter.Config

	mu       sync.Mutex // guards speakers, settings, closed
	speakers map[uint32]*rxSpeaker
	settings map[uint32]speakerSetting
	closed   bool

	mixMu  sync.Mutex // serialises Mix; guards the fields below
	list   []*rxSpeaker
	mixer  *mix.Mixer
	pos    int64
	period atomic.Int64 // last period length, to size new speakers' buffers

	volume        atomic.Uint64 // float64 bits
	events        chan TalkEvent
	droppedEvents atomic.Uint64
}

// NewReceiver returns a Receiver configured by cfg.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.JitterBuffer == 0 {
		cfg.JitterBuffer = jitter.DefaultMinDelay
	}
	if cfg.OutputDelay == 0 {
		cfg.OutputDelay = 30 * time.Millisecond
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = jitter.DefaultMaxDelay
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.MaxSpeakers == 0 {
		cfg.MaxSpeakers = 256
	}
	if cfg.Volume == 0 {
		cfg.Volume = 1
	}
	switch {
	case cfg.JitterBuffer < 0 || cfg.JitterBuffer > time.Second:
		return nil, fmt.Errorf("voice: receiver: JitterBuffer %v outside 0..1s", cfg.JitterBuffer)
	case cfg.OutputDelay < 0 || cfg.OutputDelay > time.Second:
		return nil, fmt.Errorf("voice: receiver: OutputDelay %v outside 0..1s", cfg.OutputDelay)
	case cfg.IdleTimeout < 0:
		return nil, fmt.Errorf("voice: receiver: IdleTimeout %v is negative", cfg.IdleTimeout)
	case cfg.MaxSpeakers < 1:
		return nil, fmt.Errorf("voice: receiver: MaxSpeakers %d below 1", cfg.MaxSpeakers)
	case !(cfg.Volume >= 0 && cfg.Volume <= mix.MaxGain):
		return nil, fmt.Errorf("voice: receiver: Volume %v outside 0..%v", cfg.Volume, mix.MaxGain)
	}
	jcfg := jitter.Config{MinDelay: cfg.JitterBuffer + cfg.OutputDelay, MaxDelay: cfg.MaxDelay}
	if _, err := jitter.New(jcfg); err != nil {
		return nil, fmt.Errorf("voice: receiver: %w", err)
	}
	r := &Receiver{
		cfg:      cfg,
		jcfg:     jcfg,
		speakers: make(map[uint32]*rxSpeaker),
		settings: make(map[uint32]speakerSetting),
		mixer:    mix.New(2 * receiveFrame),
		events:   make(chan TalkEvent, 256),
	}
	r.volume.Store(math.Float64bits(cfg.Volume))
	r.period.Store(2 * receiveFrame)
	return r, nil
}

// Events returns the channel of talking/silent events. Mix never blocks on
// it: when the channel's buffer (256 events) is full, events are dropped
// and counted (DroppedEvents); Talking gives the current state. The
// channel is closed by Close.
func (r *Receiver) Events() <-chan TalkEvent { return r.events }

// DroppedEvents returns how many events were dropped because nobody read
// them in time.
func (r *Receiver) DroppedEvents() uint64 { return r.droppedEvents.Load() }

// HandlePacket takes one Opus voice packet of speaker, as it arrived from
// the network at arrival: seq is the Mumble sequence number as sent (in
// 10 ms frames, or in packets for senders that count those: the speaker's
// jitter buffer learns which from the Opus packets' durations), terminator
// marks the sender's last packet of a transmission (it may be empty). The payload is copied. Malformed packets are refused
// with an error and counted.
func (r *Receiver) HandlePacket(speaker uint32, seq uint64, opus []byte, terminator bool, arrival time.Time) error {
	frames := 0
	var err error
	if len(opus) > 0 {
		frames, err = codec.PacketFrames(opus)
	} else if !terminator {
		err = errors.New("empty packet without terminator")
	}
	if err != nil {
		r.mu.Lock()
		if s := r.speakers[speaker]; s != nil {
			s.refused.Add(1)
		}
		r.mu.Unlock()
		return fmt.Errorf("voice: speaker %d packet %d: %w", speaker, seq, err)
	}
	for {
		s, err := r.speaker(speaker)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.removed {
			// Freed as idle between lookup and lock: look again.
			s.mu.Unlock()
			continue
		}
		err = s.buf.Push(seq, frames, opus, terminator, arrival)
		s.last = arrival
		s.mu.Unlock()
		if err != nil {
			s.refused.Add(1)
			return fmt.Errorf("voice: speaker %d: %w", speaker, err)
		}
		return nil
	}
}

// speaker returns the state of id, creating it if needed.
func (r *Receiver) speaker(id uint32) (*rxSpeaker, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrReceiverClosed
	}
	if s := r.speakers[id]; s != nil {
		return s, nil
	}
	if len(r.speakers) >= r.cfg.MaxSpeakers {
		return nil, fmt.Errorf("voice: speaker %d refused: %d speakers already held", id, len(r.speakers))
	}
	buf, err := jitter.New(r.jcfg)
	if err != nil {
		return nil, fmt.Errorf("voice: speaker %d: %w", id, err)
	}
	dec, err := codec.NewDecoder()
	if err != nil {
		return nil, fmt.Errorf("voice: speaker %d: %w", id, err)
	}
	set, ok := r.settings[id]
	if !ok {
		set = speakerSetting{volume: 1}
	}
	s := &rxSpeaker{
		id:     id,
		buf:    buf,
		dec:    dec,
		pkt:    make([]byte, 0, 256),
		pcm:    make([]int16, jitter.MaxPacketFrames*receiveFrame),
		period: make([]int16, 0, r.period.Load()),
		volume: set.volume,
		muted:  set.muted,
	}
	r.speakers[id] = s
	return s, nil
}

// Mix plays one period: it advances every speaker by len(out) samples
// (a multiple of 480, 10 ms at 48 kHz), decodes and conceals as the
// jitter buffers say, and writes the mix to out. It is meant for the
// playback device's callback; the same mix is the echo canceller's
// reference.
func (r *Receiver) Mix(out []int16) error { return r.MixAt(time.Now(), out) }

// MixAt is Mix with an explicit playback time for the start of the
// period, for file devices and simulations on a virtual clock.
func (r *Receiver) MixAt(now time.Time, out []int16) error {
	if len(out) == 0 || len(out)%receiveFrame != 0 {
		return fmt.Errorf("voice: mix period of %d samples is not a positive multiple of %d", len(out), receiveFrame)
	}
	r.mixMu.Lock()
	defer r.mixMu.Unlock()
	if err := r.snapshot(now); err != nil {
		return err
	}
	r.period.Store(int64(len(out)))
	r.mixer.Begin(len(out))
	for _, s := range r.list {
		talking := s.render(r, now, len(out))
		if r.cfg.Record != nil {
			r.cfg.Record(s.id, r.pos, s.period)
		}
		if talking && !s.muted && s.volume > 0 {
			if err := r.mixer.Add(s.period, s.volume); err != nil {
				return fmt.Errorf("voice: mix speaker %d: %w", s.id, err)
			}
		}
		if talking != s.talking.Load() {
			s.talking.Store(talking)
			r.emit(TalkEvent{Speaker: s.id, Talking: talking, At: now})
		}
	}
	r.mixer.SetMaster(math.Float64frombits(r.volume.Load()))
	if err := r.mixer.End(out); err != nil {
		return fmt.Errorf("voice: mix: %w", err)
	}
	r.pos += int64(len(out))
	return nil
}

// Idle reports whether a Mix now would play silence for every speaker and
// change nothing but the timeline: no speaker is being heard, inside a
// transmission or holding packets. A playback clock may then stop calling
// Mix until HandlePacket is next called, and account for the periods it
// did not mix with Skip.
func (r *Receiver) Idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.speakers {
		if s.talking.Load() {
			return false
		}
		s.mu.Lock()
		busy := s.buf.Active() || s.buf.Buffered() > 0
		s.mu.Unlock()
		if busy {
			return false
		}
	}
	return true
}

// Skip advances the playback timeline by n samples (a multiple of 480)
// without mixing, for periods a clock did not mix while the Receiver was
// Idle; now is the playback time after them. Speakers idle for longer
// than IdleTimeout are freed, as Mix frees them. Record is not called for
// the skipped periods.
func (r *Receiver) Skip(now time.Time, n int64) error {
	if n < 0 || n%receiveFrame != 0 {
		return fmt.Errorf("voice: skip of %d samples is not a multiple of %d", n, receiveFrame)
	}
	r.mixMu.Lock()
	defer r.mixMu.Unlock()
	if err := r.snapshot(now); err != nil {
		return err
	}
	r.pos += n
	return nil
}

// snapshot copies the speakers to play into r.list with their volume
// and mute, and frees idle ones.
func (r *Receiver) snapshot(now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrReceiverClosed
	}
	r.list = r.list[:0]
	for id, s := range r.speakers {
		s.mu.Lock()
		idle := !s.buf.Active() && s.buf.Buffered() == 0 && now.Sub(s.last) > r.cfg.IdleTimeout
		if idle && !s.talking.Load() {
			s.removed = true
			s.mu.Unlock()
			delete(r.speakers, id)
			continue
		}
		s.mu.Unlock()
		set, ok := r.settings[id]
		if !ok {
			set = speakerSetting{volume: 1}
		}
		s.volume, s.muted = set.volume, set.muted
		r.list = append(r.list, s)
	}
	// Map order is random; a stable order keeps Record calls and the
	// mix reproducible.
	slices.SortFunc(r.list, func(a, b *rxSpeaker) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return nil
}

func (r *Receiver) emit(ev TalkEvent) {
	select {
	case r.events <- ev:
	default:
		r.droppedEvents.Add(1)
	}
}

// render fills s.period with n samples of the speaker's audio starting at
// now and reports whether anything but silence was played.
func (s *rxSpeaker) render(r *Receiver, now time.Time, n int) bool {
	if cap(s.period) < n {
		s.period = make([]int16, n)
	}
	s.period = s.period[:n]
	talking := false
	for i := 0; i < n; i += receiveFrame {
		frame := s.period[i : i+receiveFrame]
		at := now.Add(time.Duration(i/receiveFrame) * jitter.FrameDuration)
		s.mu.Lock()
		f := s.buf.Next(at)
		if f.Kind == jitter.Decode {
			s.pkt = append(s.pkt[:0], f.Payload...)
		}
		s.mu.Unlock()
		switch f.Kind {
		case jitter.Silence:
			clear(frame)
			s.concealRun = 0
			continue
		case jitter.Decode:
			s.decode(f.Frames)
			s.concealRun = 0
			s.next(frame)
		case jitter.Continue:
			s.next(frame)
		case jitter.Conceal:
			s.conceal(frame)
		}
		talking = true
	}
	return talking
}

// decode decodes s.pkt (frames frames) into s.pcm; a packet Opus rejects
// is replaced by concealment. A packet shorter than its frames (2.5 or
// 5 ms, which Mumble clients do not send) is padded with silence.
func (s *rxSpeaker) decode(frames int) {
	want := frames * receiveFrame
	n, err := s.dec.Decode(s.pkt, s.pcm[:want])
	if err == nil && n > 0 && n < want {
		clear(s.pcm[n:want])
		n = want
	}
	if err != nil || n != want {
		s.decodeErr.Add(1)
		n = 0
		for n < want {
			if m, err := s.dec.DecodeLost(s.pcm[n : n+receiveFrame]); err != nil || m != receiveFrame {
				clear(s.pcm[n:want])
				break
			}
			n += receiveFrame
		}
	}
	s.pcmOff, s.pcmLen = 0, want
}

// next copies the next decoded frame of the current packet.
func (s *rxSpeaker) next(frame []int16) {
	if s.pcmOff+receiveFrame > s.pcmLen {
		clear(frame)
		return
	}
	copy(frame, s.pcm[s.pcmOff:s.pcmOff+receiveFrame])
	s.pcmOff += receiveFrame
}

// conceal plays Opus loss concealment for a missing frame, fading to
// silence after receiveMaxConceal frames in a row.
func (s *rxSpeaker) conceal(frame []int16) {
	s.concealRun++
	if s.concealRun > receiveMaxConceal {
		clear(frame)
		return
	}
	if n, err := s.dec.DecodeLost(frame); err != nil || n != receiveFrame {
		clear(frame)
	}
}

// Talking reports whether speaker is being heard.
func (r *Receiver) Talking(speaker uint32) bool {
	r.mu.Lock()
	s := r.speakers[speaker]
	r.mu.Unlock()
	return s != nil && s.talking.Load()
}

// SetVolume sets speaker's local volume, linear from 0 to mix.MaxGain
// (use mix.DB to convert from decibels). It applies from the next period
// and outlives idle timeouts.
func (r *Receiver) SetVolume(speaker uint32, volume float64) error {
	if !(volume >= 0 && volume <= mix.MaxGain) {
		return fmt.Errorf("voice: speaker %d volume %v outside 0..%v", speaker, volume, mix.MaxGain)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set, ok := r.settings[speaker]
	if !ok {
		set.volume = 1
	}
	set.volume = volume
	r.settings[speaker] = set
	return nil
}

// SetMute sets speaker's local mute. A muted speaker is still decoded
// (recording, statistics and talking events go on) but not mixed.
func (r *Receiver) SetMute(speaker uint32, muted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set, ok := r.settings[speaker]
	if !ok {
		set.volume = 1
	}
	set.muted = muted
	r.settings[speaker] = set
}

// Volume returns speaker's local volume and mute.
func (r *Receiver) Volume(speaker uint32) (volume float64, muted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set, ok := r.settings[speaker]
	if !ok {
		return 1, false
	}
	return set.volume, set.muted
}

// SetOutputVolume sets the master output volume, linear from 0 to
// mix.MaxGain.
func (r *Receiver) SetOutputVolume(volume float64) error {
	if !(volume >= 0 && volume <= mix.MaxGain) {
		return fmt.Errorf("voice: output volume %v outside 0..%v", volume, mix.MaxGain)
	}
	r.volume.Store(math.Float64bits(volume))
	return nil
}

// OutputVolume returns the master output volume.
func (r *Receiver) OutputVolume() float64 { return math.Float64frombits(r.volume.Load()) }

// Remove forgets speaker now (the user left): its buffer, decoder and
// local settings. A later packet from the same id starts afresh.
func (r *Receiver) Remove(speaker uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.speakers[speaker]; s != nil {
		s.mu.Lock()
		s.removed = true
		s.mu.Unlock()
		delete(r.speakers, speaker)
	}
	delete(r.settings, speaker)
}

// SpeakerStats returns the statistics of speaker, if it is held.
func (r *Receiver) SpeakerStats(speaker uint32) (SpeakerStats, bool) {
	r.mu.Lock()
	s := r.speakers[speaker]
	set, ok := r.settings[speaker]
	r.mu.Unlock()
	if s == nil {
		return SpeakerStats{}, false
	}
	if !ok {
		set.volume = 1
	}
	s.mu.Lock()
	js := s.buf.Stats()
	s.mu.Unlock()
	return SpeakerStats{
		Speaker:      speaker,
		Talking:      s.talking.Load(),
		Volume:       set.volume,
		Muted:        set.muted,
		Jitter:       js,
		LossPct:      js.LossPct(),
		Refused:      s.refused.Load(),
		DecodeErrors: s.decodeErr.Load(),
	}, true
}

// Speakers returns the statistics of every speaker held, by id.
func (r *Receiver) Speakers() []SpeakerStats {
	r.mu.Lock()
	ids := make([]uint32, 0, len(r.speakers))
	for id := range r.speakers {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	slices.Sort(ids)
	out := make([]SpeakerStats, 0, len(ids))
	for _, id := range ids {
		if st, ok := r.SpeakerStats(id); ok {
			out = append(out, st)
		}
	}
	return out
}

// Close frees every speaker and closes the Events channel. Later calls
// to HandlePacket and Mix return ErrReceiverClosed; a second Close does
// too.
func (r *Receiver) Close() error {
	r.mixMu.Lock()
	defer r.mixMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrReceiverClosed
	}
	r.closed = true
	for id, s := range r.speakers {
		s.mu.Lock()
		s.removed = true
		s.mu.Unlock()
		delete(r.speakers, id)
	}
	close(r.events)
	return nil
}
