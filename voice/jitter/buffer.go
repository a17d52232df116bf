package jitter

import (
	"bytes"
	"fmt"
	"math"
	"time"
)

// FrameDuration is one step of a Mumble sequence number: voice is numbered
// in 10 ms frames and a packet carries a whole number of them.
const FrameDuration = 10 * time.Millisecond

// MaxPacketFrames is the largest number of frames a packet may carry:
// 120 ms, Opus's longest packet.
const MaxPacketFrames = 12

// MaxPayload is the largest payload, in bytes, that Push accepts. Mumble
// voice packets are at most 1020 bytes with their header.
const MaxPayload = 4096

// Defaults for the zero fields of Config.
const (
	DefaultMinDelay   = 10 * time.Millisecond
	DefaultMaxDelay   = 400 * time.Millisecond
	DefaultLateStart  = 1500 * time.Millisecond
	DefaultPercentile = 0.92

	DefaultWindow     = 500
	DefaultBaseWindow = 10 * time.Second
)

const (
	// jumpSlack: a packet that would have arrived this much earlier than
	// the fastest recent path carries a sequence number that jumped.
	jumpSlack = 250 * time.Millisecond
	// lateSlack: a packet older than the playout position that would be
	// later than MaxDelay+lateSlack belongs to a restarted sequence.
	lateSlack = 200 * time.Millisecond
	// gapEnd: a hole in the sequence longer than this, met while the delay
	// is at or above target, ends the talk spurt (the sender paused).
	gapEnd = 10
	// dropSpacing: the least time between two catch-up drops of packets
	// that are not quiet.
	dropSpacing = 100 * time.Millisecond
	// loudAfter: packets that are not quiet are dropped only once the
	// delay has stayed a packet or more above target this long, giving a
	// pause in the speech the chance to absorb the excess first.
	loudAfter = time.Second
	// keepAfter and keepPercentile: once a talk spurt has played
	// keepAfter without a pause (an open microphone, a monologue, the
	// click train of the side-by-side measurement), packets that are not
	// quiet are dropped only for delay above the keepPercentile of the
	// recent jitter (Window packets), not above the target. Stalls on a
	// Tor path come every few seconds; shedding the delay one leaves only
	// to need it again at the next costs audio at every stall, where the
	// held delay absorbs the next one unheard. Replayed on the recorded
	// trace of continuous talk on "typical"
	// (testdata/tor_typical_continuous.trace), late loss fell from 2.55 %
	// to 0.65 % for 45 ms more delay (147 ms added; 0.58 % at 153 ms with
	// the renumbering rule of place); Mumble's speex buffer loses 0.67 %
	// at 192 ms. A spurt's first seconds still shed down to
	// the target: a pause is likely to come and absorb the excess.
	keepAfter      = 2 * time.Second
	keepPercentile = 0.995
	// quietShare: a packet is quiet when it has at most this share of the
	// bytes per frame of the speaker's loud packets (loudBytes): a breath,
	// a pause between words, the silence between clicks. Opus at 13 kb/s
	// codes near-silence in about 18-20 bytes per 20 ms and speech in 35-50.
	quietShare = 0.6
	// quantileBin is the resolution of the jitter percentile.
	quantileBin = 2 * time.Millisecond
	// baseRing bounds the sliding-minimum deque.
	baseRing = 1024
	// slotBytes is the least payload room a slot gets.
	slotBytes = 256
)

// Config tunes a Buffer. The zero value selects the defaults.
type Config struct {
	// MinDelay is the least delay the buffer adds beyond the fastest
	// recent path: the "default jitter buffer" setting. If zero, 10 ms.
	MinDelay time.Duration
	// MaxDelay is the upper bound on that delay while a talk spurt plays:
	// the delay never grows above it, nor above the delay the spurt
	// started with (see LateStart). If zero, 400 ms.
	MaxDelay time.Duration
	// LateStart is the hard upper bound on the delay of the first frame
	// of a talk spurt, which after a network stall may be due long before
	// it arrives. Such a spurt is played late rather than cut, keeps no
	// more than its starting delay, sheds the excess by catch-up drops and
	// at the next pause. If zero, 1.5 s; it is raised to MaxDelay if
	// below.
	LateStart time.Duration
	// Percentile is the share of recent packets whose jitter the target
	// delay covers, in (0, 1). If zero, 0.92: a spurt starts with little
	// delay, and one that goes on keeps what stalls need (keepPercentile).
	Percentile float64
	// Window is the number of recent packets whose jitter sets the
	// target. If zero, 500 (10 s of 20 ms packets).
	Window int
	// BaseWindow is how far back the fastest path is looked for. If zero,
	// 10 s.
	BaseWindow time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.MinDelay == 0 {
		c.MinDelay = DefaultMinDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.Percentile == 0 {
		c.Percentile = DefaultPercentile
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.BaseWindow == 0 {
		c.BaseWindow = DefaultBaseWindow
	}
	if c.LateStart == 0 {
		c.LateStart = DefaultLateStart
	}
	switch {
	case c.MinDelay < 0:
		return c, fmt.Errorf("jitter: MinDelay %v is negative", c.MinDelay)
	case c.MaxDelay < c.MinDelay:
		return c, fmt.Errorf("jitter: MaxDelay %v is below MinDelay %v", c.MaxDelay, c.MinDelay)
	case c.MaxDelay > 5*time.Second:
		return c, fmt.Errorf("jitter: MaxDelay %v is above 5s", c.MaxDelay)
	case c.LateStart < 0 || c.LateStart > 5*time.Second:
		return c, fmt.Errorf("jitter: LateStart %v is outside 0..5s", c.LateStart)
	case !(c.Percentile > 0 && c.Percentile < 1):
		return c, fmt.Errorf("jitter: Percentile %v is outside (0, 1)", c.Percentile)
	case c.Window < 1 || c.Window > 100000:
		return c, fmt.Errorf("jitter: Window %d is outside 1..100000", c.Window)
	case c.BaseWindow < time.Second || c.BaseWindow > time.Hour:
		return c, fmt.Errorf("jitter: BaseWindow %v is outside 1s..1h", c.BaseWindow)
	}
	c.LateStart = max(c.LateStart, c.MaxDelay)
	return c, nil
}

// Kind says what to play for one 10 ms tick.
type Kind uint8

// The kinds of Frame.
const (
	// Silence: the speaker is not talking; play nothing.
	Silence Kind = iota
	// Decode: decode Frame.Payload (Frame.Frames frames) and play its
	// first frame now; the following ticks return Continue for the rest.
	Decode
	// Continue: play the next frame of the packet last returned by Decode.
	Continue
	// Conceal: a frame is due but missing; play the decoder's loss
	// concealment for one frame.
	Conceal
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Silence:
		return "silence"
	case Decode:
		return "decode"
	case Continue:
		return "continue"
	case Conceal:
		return "conceal"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Frame is what Next tells the audio thread to play for one tick.
type Frame struct {
	// Kind is what to play.
	Kind Kind
	// Payload is the packet to decode (Kind Decode). It belongs to the
	// Buffer and stays valid until the next call to Next.
	Payload []byte
	// Frames is the number of 10 ms frames in Payload (Kind Decode).
	Frames int
	// Seq is the packet's sequence number as sent (Kind Decode).
	Seq uint64
	// Arrival is when the packet was pushed (Kind Decode).
	Arrival time.Time
	// Last reports that this frame is the last of a talk spurt (the
	// sender's terminator). On a Silence frame it reports that the spurt
	// ended without one: a stall outlasted the spurt's bound (MaxDelay,
	// or its late start) or the sender paused.
	Last bool
}

type slot struct {
	seq     int64 // internal frame index of the first frame; math.MinInt64 when never used
	wire    uint64
	frames  int
	term    bool
	used    bool // buffered and not yet played or discarded
	arrival time.Time
	rel     time.Duration
	payload []byte
}

// A Buffer is the jitter buffer of one speaker. It is not safe for
// concurrent use; the caller serialises Push (network side) and Next
// (audio side), for example with a mutex.
type Buffer struct {
	cfg   Config
	slots []slot
	mask  int64
	count int // used slots

	originSet bool
	origin    time.Time
	shift     int64 // internal frame index = int64(wire seq)*num.scale + shift
	num       numbering

	mins    minWindow
	base    time.Duration
	jit     quantile
	target  time.Duration
	jitterP time.Duration
	dirty   bool
	// loudBytes follows the upper envelope of the bytes per frame of
	// received packets: up quickly, down slowly.
	loudBytes float64

	rxEnd  int64 // one past the newest received frame
	rxOpen bool  // the newest spurt has not sent its terminator yet

	active bool
	ending bool // the packet being played ends the spurt
	play   int64
	remain int
	// bound is the most delay the spurt being played may have: MaxDelay,
	// or less than LateStart for one that started late, lowered as its
	// delay falls.
	bound    time.Duration
	lastDrop time.Duration
	dropped  bool
	// excessSince is when the delay last rose a packet or more above
	// target, or -1 while it is not.
	excessSince time.Duration
	// spurtStart is when the spurt being played started.
	spurtStart time.Duration

	out   []byte
	stats Stats
}

// New returns an empty Buffer configured by cfg.
func New(cfg Config) (*Buffer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// Room for a stall of LateStart while playout waits, and for the
	// MaxDelay of audio queued before it.
	frames := int((cfg.LateStart + cfg.MaxDelay) / FrameDuration)
	size := 1
	for size < frames+2*MaxPacketFrames+16 {
		size <<= 1
	}
	b := &Buffer{
		cfg:         cfg,
		slots:       make([]slot, size),
		mask:        int64(size - 1),
		mins:        newMinWindow(cfg.BaseWindow, baseRing),
		jit:         newQuantile(quantileBin, cfg.MaxDelay, cfg.Window),
		target:      cfg.MinDelay,
		excessSince: -1,
		num:         numbering{scale: 1},
	}
	for i := range b.slots {
		b.slots[i].seq = math.MinInt64
	}
	return b, nil
}

// Config returns the configuration in use, defaults filled in.
func (b *Buffer) Config() Config { return b.cfg }

// Stats returns the counters and current delays.
func (b *Buffer) Stats() Stats {
	b.updateTarget()
	s := b.stats
	s.Target = b.target
	s.Jitter = b.jitterP
	s.FramesPerSeq = int(b.num.scale)
	return s
}

// Active reports whether a talk spurt is being played (including frames
// being concealed while waiting for late packets).
func (b *Buffer) Active() bool { return b.active }

// Buffered returns the number of packets waiting to be played.
func (b *Buffer) Buffered() int { return b.count }

func (b *Buffer) offset(s int64, rel time.Duration) time.Duration {
	return rel - time.Duration(s)*FrameDuration
}

// seqAt returns the frame whose fastest-path arrival is at rel.
func (b *Buffer) seqAt(rel time.Duration) int64 {
	d := rel - b.base
	s := int64(d / FrameDuration)
	if d < 0 && d%FrameDuration != 0 {
		s--
	}
	return s
}

// Push hands the buffer a packet that arrived at arrival: sequence number
// seq as sent (counting 10 ms frames or packets: the buffer learns which),
// frames frames of payload (copied), and whether it is the sender's last
// packet of a transmission. A terminator may carry no frames. Push returns
// an error only for malformed input; late and duplicate packets are counted
// in Stats and otherwise ignored.
func (b *Buffer) Push(seq uint64, frames int, payload []byte, terminator bool, arrival time.Time) error {
	switch {
	case frames < 0 || frames > MaxPacketFrames:
		b.stats.Rejected++
		return fmt.Errorf("jitter: packet %d has %d frames, want 0..%d", seq, frames, MaxPacketFrames)
	case frames == 0 && !terminator:
		b.stats.Rejected++
		return fmt.Errorf("jitter: packet %d has no frames and is not a terminator", seq)
	case len(payload) > MaxPayload:
		b.stats.Rejected++
		return fmt.Errorf("jitter: packet %d payload is %d bytes, limit %d", seq, len(payload), MaxPayload)
	}
	if !b.originSet {
		b.originSet = true
		b.origin = arrival
		b.shift = -int64(seq) * b.num.scale
	}
	rel := arrival.Sub(b.origin)
	b.learn(seq, frames, rel)
	remaps := b.stats.Remaps
	s := b.place(seq, payload, rel)
	b.noteNewest(seq, frames, terminator, s, rel, b.stats.Remaps != remaps)
	sl := &b.slots[s&b.mask]
	if sl.seq == s && (sl.used || bytes.Equal(sl.payload, payload)) {
		b.stats.Duplicates++
		return nil
	}

	// Timing statistics, late packets included: they are the ones that
	// say the target is too small.
	o := b.offset(s, rel)
	b.mins.push(rel, o)
	b.base, _ = b.mins.min()
	b.jit.add(o - b.base)
	b.dirty = true

	if s+int64(frames) > b.rxEnd {
		b.rxEnd = s + int64(frames)
		b.rxOpen = !terminator
	}
	if s < b.play {
		if frames > 0 {
			b.stats.Late += uint64(frames)
		}
		if !sl.used {
			sl.seq, sl.used = s, false
			sl.payload = append(sl.payload[:0], payload...)
		}
		if terminator && b.active && b.count == 0 {
			b.ending = true
		}
		return nil
	}
	if !b.active && b.count == 0 && s-b.play > int64(len(b.slots)/4) {
		// Idle: move the horizon up to the new spurt, leaving room for
		// packets of it that were overtaken.
		b.play = s - int64(len(b.slots)/4)
	}
	if s-b.play >= int64(len(b.slots)-MaxPacketFrames) {
		b.stats.Rejected++
		return nil
	}
	if sl.used {
		// Only reachable with overlapping packets from a confused sender:
		// keep the one already queued.
		b.stats.Rejected++
		return nil
	}
	sl.seq, sl.wire, sl.frames, sl.term = s, seq, frames, terminator
	sl.used, sl.arrival, sl.rel = true, arrival, rel
	if cap(sl.payload) < len(payload) {
		// Room for typical voice packets at once, so that slots stop
		// growing after the first lap.
		sl.payload = make([]byte, 0, max(len(payload), slotBytes))
	}
	sl.payload = append(sl.payload[:0], payload...)
	b.count++
	b.stats.Packets++
	if frames > 0 {
		per := float64(len(payload)) / float64(frames)
		switch {
		case b.loudBytes == 0:
			b.loudBytes = per
		case per > b.loudBytes:
			b.loudBytes += (per - b.loudBytes) / 8
		default:
			b.loudBytes += (per - b.loudBytes) / 512
		}
	}
	return nil
}

// place maps a wire sequence number onto the internal frame counter,
// remapping when the sender restarted or jumped.
func (b *Buffer) place(seq uint64, payload []byte, rel time.Duration) int64 {
	s := b.internal(seq)
	const far = 1 << 24 // 46 hours of frames
	diff := s - b.rxEnd
	if diff >= far || diff <= -far {
		return b.remap(seq, rel)
	}
	d := b.offset(s, rel) - b.base
	b.num.beyond = false
	if diff >= 0 {
		if d < -jumpSlack && b.stats.Packets > 0 {
			return b.remap(seq, rel)
		}
		if !b.rxOpen && b.num.lastSet {
			b.num.learnTimed(diff, rel)
		}
		if d > jumpSlack && !b.rxOpen && (diff <= MaxPacketFrames || d > b.cfg.LateStart) {
			// The first packet of a new spurt, numbered on from the
			// last one as if the pause had not happened (senders that
			// count packets do so): start it on time. A sender whose
			// numbers counted the pause (Tumble, and the official
			// client, count 10 ms frames in time) says this spurt is
			// late: a stall held it up, and it is placed where it
			// belongs unless that is beyond LateStart.
			return b.remap(seq, rel)
		}
		if d > jumpSlack {
			if b.num.pacedBeyond(s, rel) && (d > b.cfg.LateStart || !b.num.timed && b.num.runPaced) {
				// The same without the terminator: two packets in a
				// row that late, arriving at the sender's pace, not in
				// the burst that ends a stall. Unless later than
				// LateStart, only a sender not known to count time
				// (see learnTimed) whose late packets came at its pace
				// from the first of them on (runPaced) is renumbered:
				// otherwise the path got slower (a Tor circuit's delay
				// rises by hundreds of ms for seconds on a bad
				// network), and renumbering would throw away the queued
				// audio. Continuous talk sends no terminator to learn
				// the numbering from.
				return b.remap(seq, rel)
			}
			b.num.beyond = true
		}
		return s
	}
	// Older than something already received: a reordered, late or
	// duplicate packet, or the first of a restarted sequence.
	sl := &b.slots[s&b.mask]
	if sl.seq == s && !bytes.Equal(sl.payload, payload) && !b.rxOpen {
		// That frame was received and the spurt it belonged to has
		// ended: the sender started numbering again.
		return b.remap(seq, rel)
	}
	if d > b.cfg.MaxDelay+lateSlack {
		return b.remap(seq, rel)
	}
	return s
}

func (b *Buffer) remap(seq uint64, rel time.Duration) int64 {
	s := max(b.rxEnd, b.play, b.seqAt(rel))
	b.shift = s - int64(seq)*b.num.scale
	b.stats.Remaps++
	return s
}

func (b *Buffer) updateTarget() {
	if !b.dirty {
		return
	}
	b.dirty = false
	b.jitterP = b.jit.value(b.cfg.Percentile)
	b.target = min(max(b.jitterP, b.cfg.MinDelay), b.cfg.MaxDelay)
}

// lowest returns the first buffered packet at or after the playout
// position.
func (b *Buffer) lowest() (*slot, bool) {
	if b.count == 0 {
		return nil, false
	}
	for i := int64(0); i < int64(len(b.slots)); i++ {
		sl := &b.slots[(b.play+i)&b.mask]
		if sl.used && sl.seq == b.play+i {
			return sl, true
		}
	}
	return nil, false
}

func (b *Buffer) free(sl *slot) {
	sl.used = false
	b.count--
}

func (b *Buffer) endSpurt() {
	b.active = false
	b.ending = false
	b.remain = 0
}

// Next returns what to play for the 10 ms tick starting at now. Call it
// exactly once per tick, with now advancing by 10 ms per call on average.
func (b *Buffer) Next(now time.Time) Frame {
	if !b.originSet {
		return Frame{}
	}
	rel := now.Sub(b.origin)
	b.updateTarget()
	if b.remain > 0 {
		b.remain--
		b.stats.Played++
		b.stats.Delay = b.offset(b.play-int64(b.remain)-1, rel) - b.base
		return Frame{Kind: Continue, Last: b.remain == 0 && b.ending}
	}
	if b.ending {
		b.endSpurt()
	}
	b.dropped = false
	for range 8 {
		if !b.active {
			first, ok := b.lowest()
			if !ok || b.offset(first.seq, rel)-b.base < b.target {
				return Frame{}
			}
			b.active = true
			b.play = first.seq
			b.excessSince = -1
			b.stats.Spurts++
			b.spurtStart = rel
			// A spurt due long ago (its start was held up by a stall)
			// is played late rather than cut, up to LateStart.
			b.bound = min(max(b.offset(first.seq, rel)-b.base, b.cfg.MaxDelay), b.cfg.LateStart)
		}
		delay := b.offset(b.play, rel) - b.base
		b.stats.Delay = delay
		// The bound follows the delay down, never back up beyond
		// MaxDelay.
		b.bound = min(b.bound, max(delay, b.cfg.MaxDelay))
		if delay > b.bound && b.count > 0 {
			b.skip(delay)
			continue
		}
		sl := &b.slots[b.play&b.mask]
		if sl.used && sl.seq == b.play {
			if sl.frames == 0 { // a terminator without audio
				b.free(sl)
				b.endSpurt()
				continue
			}
			if drop, quiet := b.shouldDrop(delay, sl, rel); drop {
				b.stats.Dropped += uint64(sl.frames)
				if quiet {
					b.stats.DroppedQuiet += uint64(sl.frames)
				}
				b.play += int64(sl.frames)
				b.free(sl)
				b.lastDrop = rel
				b.dropped = true
				continue
			}
			return b.decode(sl, rel)
		}
		// The frame due is missing.
		next, ok := b.lowest()
		if !ok {
			// Nothing queued: a stall. Wait for the frame while the
			// delay allows, concealing meanwhile.
			if delay+FrameDuration <= b.bound {
				b.stats.Concealed++
				return Frame{Kind: Conceal}
			}
			b.endSpurt()
			return Frame{Last: true}
		}
		if delay < b.target {
			// Early enough to wait for an overtaken packet.
			b.stats.Concealed++
			return Frame{Kind: Conceal}
		}
		if next.seq-b.play > gapEnd {
			// The sender paused without a terminator reaching us: end
			// the spurt; the next one starts when it is due.
			b.endSpurt()
			if b.offset(next.seq, rel)-b.base < b.target {
				return Frame{Last: true}
			}
			continue
		}
		b.play++
		b.stats.Concealed++
		return Frame{Kind: Conceal}
	}
	return Frame{}
}

func (b *Buffer) decode(sl *slot, rel time.Duration) Frame {
	b.free(sl)
	b.out = append(b.out[:0], sl.payload...)
	b.stats.Added.Add(rel - sl.rel)
	b.stats.Played++
	b.play += int64(sl.frames)
	b.remain = sl.frames - 1
	if sl.term {
		b.ending = true
	}
	return Frame{
		Kind:    Decode,
		Payload: b.out,
		Frames:  sl.frames,
		Seq:     sl.wire,
		Arrival: sl.arrival,
		Last:    sl.term && sl.frames == 1,
	}
}

// skip moves the playout position forward so that the delay comes back
// under the spurt's bound, to the first queued packet at or after that
// point. Packets passed over are late.
func (b *Buffer) skip(delay time.Duration) {
	n := int64((delay - b.bound + FrameDuration - 1) / FrameDuration)
	n = min(n, int64(len(b.slots)))
	to := b.play + n
	ended := false
	for s := b.play; s < to && b.count > 0; s++ {
		sl := &b.slots[s&b.mask]
		if sl.used && sl.seq == s {
			b.stats.Late += uint64(sl.frames)
			b.free(sl)
			ended = ended || sl.term
		}
	}
	b.play = to
	if ended {
		// The spurt's end was skipped: whatever is queued belongs to the
		// next one, which starts on its own schedule.
		b.endSpurt()
		return
	}
	if next, ok := b.lowest(); ok {
		b.play = next.seq
	}
}

// shouldDrop decides whether to discard the packet due now to reduce the
// delay: only when the delay stays at or above target without it, more
// audio follows directly, and either the packet is quiet or the delay has
// been above target for loudAfter (above the keep level in a long spurt,
// see keepAfter) and no other packet was dropped in the last dropSpacing.
// quiet reports that the packet to drop is quiet.
func (b *Buffer) shouldDrop(delay time.Duration, sl *slot, rel time.Duration) (drop, quiet bool) {
	if b.dropped || sl.term {
		return false, false
	}
	dur := time.Duration(sl.frames) * FrameDuration
	if delay-b.target < dur {
		b.excessSince = -1
		return false, false
	}
	after := b.play + int64(sl.frames)
	nx := &b.slots[after&b.mask]
	if !nx.used || nx.seq != after {
		return false, false
	}
	if float64(len(sl.payload)) <= quietShare*b.loudBytes*float64(sl.frames) {
		return true, true
	}
	if rel-b.spurtStart >= keepAfter {
		keep := min(max(b.jit.value(keepPercentile), b.target), b.cfg.MaxDelay)
		if delay-keep < dur {
			b.excessSince = -1
			return false, false
		}
	}
	if b.excessSince < 0 {
		b.excessSince = rel
	}
	return rel-b.excessSince >= loudAfter && rel-b.lastDrop >= dropSpacing, false
}
