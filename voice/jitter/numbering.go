package jitter

import "time"

// Senders number their packets in one of two ways. The official client
// advances the sequence number by the packet's 10 ms frames (+2 for a 20 ms
// packet); gumble-based bots and some other clients advance it by one per
// packet, whatever its length. The buffer learns which from the packets
// themselves: a packet's duration (read by the caller from the Opus TOC)
// against the step to the next packet's number.
//
// Within a talk spurt a frame-counting sender's packets follow each other
// by their length, so two packets whose numbers are closer than the first
// one's length (in either arrival order) come from a packet counter: one
// such pair switches at once. A step of exactly the length is what a frame
// counter does, but also what a packet counter does after losses, so the
// switch back needs frameVotes such steps in a row. Only packets of one
// spurt are compared: steps across a terminator, or from a packet that
// arrived more than jumpSlack earlier, say nothing (a frame counter may
// count the pause, a sender may restart its numbering).
const frameVotes = 8

// numbering maps wire sequence numbers onto the internal frame counter:
// internal = wire*scale + Buffer.shift.
type numbering struct {
	// scale is the number of 10 ms frames per sequence step: 1 for a
	// sender that counts frames, the packet length for one that counts
	// packets.
	scale int64
	// The newest packet received: its wire number, frames and internal
	// position.
	lastSet    bool
	lastWire   uint64
	lastFrames int
	lastTerm   bool
	lastPos    int64
	lastRel    time.Duration // arrival
	// lastBeyond: the newest packet arrived over jumpSlack later than
	// its number said; beyond: the same for the packet being pushed.
	lastBeyond, beyond bool
	// runPaced: every packet of the run of such late packets that the
	// newest ends arrived at the sender's pace after the one before, from
	// the first of the run on. A sender that resumes numbering after a
	// pause without a terminator sends such a run; the burst that ends a
	// network stall, and the paced packets of a path that stays slower
	// after it, do not start one.
	runPaced bool
	// votes counts the steps in a row that looked like frame counting
	// while packet counting is assumed.
	votes int
	// timed: the sender's numbers were last seen to count the pause
	// before a talk spurt, as Tumble's and the official client's 10 ms
	// frame counters do, so they count time and a packet that arrives
	// later than its number says was held up by the network.
	timed bool
}

// learnTimed looks at the first packet of a talk spurt, diff frames
// after the end of the previous one and arriving at rel: numbers that
// skipped at least half the time since the newest packet arrived count
// time; a step of at most a packet across a pause longer than 2*jumpSlack
// does not.
func (n *numbering) learnTimed(diff int64, rel time.Duration) {
	elapsed := rel - n.lastRel
	switch {
	case diff > MaxPacketFrames && time.Duration(diff)*FrameDuration >= elapsed/2:
		n.timed = true
	case diff <= MaxPacketFrames && elapsed > 2*jumpSlack:
		n.timed = false
	}
}

// learn compares wire with the newest packet's number and adapts the
// scale, keeping the newest packet where it is on the internal counter.
// frames is the length of the packet numbered wire.
func (b *Buffer) learn(wire uint64, frames int, rel time.Duration) {
	n := &b.num
	if !n.lastSet || n.lastTerm || rel-n.lastRel > jumpSlack {
		return
	}
	// The frames of whichever of the two packets comes first.
	step, f := int64(wire-n.lastWire), int64(n.lastFrames)
	if step < 0 {
		step, f = -step, int64(frames)
	}
	if step <= 0 || f < 2 {
		// 10 ms packets read the same in both numberings.
		return
	}
	switch {
	case step < f:
		n.votes = 0
		if n.scale != f {
			b.rescale(f)
		}
	case step == f && n.scale != 1 && wire > n.lastWire:
		n.votes++
		if n.votes >= frameVotes {
			n.votes = 0
			b.rescale(1)
		}
	}
}

// rescale switches to scale frames per sequence step, anchored at the
// newest packet.
func (b *Buffer) rescale(scale int64) {
	n := &b.num
	n.scale = scale
	b.shift = n.lastPos - int64(n.lastWire)*scale
	b.stats.Renumbered++
}

// noteNewest records the packet just placed at pos if it is the newest,
// or if the sender's numbering was remapped to it.
func (b *Buffer) noteNewest(wire uint64, frames int, term bool, pos int64, rel time.Duration, remapped bool) {
	n := &b.num
	if n.lastSet && pos <= n.lastPos && !remapped {
		return
	}
	switch {
	case !n.beyond:
		n.runPaced = false
	case !n.lastBeyond || remapped:
		n.runPaced = true // the first of a run
	default:
		n.runPaced = n.runPaced && n.paced(pos, rel)
	}
	n.lastSet, n.lastWire, n.lastFrames, n.lastTerm, n.lastPos, n.lastRel = true, wire, frames, term, pos, rel
	n.lastBeyond = n.beyond
}

// paced reports whether a packet at internal position pos arriving at rel
// comes after the newest at no less than half the pace the numbering says.
func (n *numbering) paced(pos int64, rel time.Duration) bool {
	return pos > n.lastPos && rel-n.lastRel >= time.Duration(pos-n.lastPos)*FrameDuration/2
}

// pacedBeyond reports whether a packet at internal position pos arriving
// at rel, itself over jumpSlack late by its number, follows a newest packet
// that was as well, at no less than half the pace the numbering says.
func (n *numbering) pacedBeyond(pos int64, rel time.Duration) bool {
	return n.lastSet && n.lastBeyond && n.paced(pos, rel)
}

// internal returns wire's position on the internal frame counter.
func (b *Buffer) internal(wire uint64) int64 {
	return int64(wire)*b.num.scale + b.shift
}
