package jitter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// A Packet is one voice packet of a Trace.
type Packet struct {
	// Seq is the sequence number as sent: in 10 ms frames, or in packets
	// for a Talk with PerPacket.
	Seq uint64
	// Frames is the number of 10 ms frames in the packet.
	Frames int
	// Terminator marks the last packet of a talk spurt.
	Terminator bool
	// Size is the payload size in bytes.
	Size int
	// Sent is when the sender emitted the packet, from the trace start.
	Sent time.Duration
	// At is when the packet arrived, from the trace start.
	At time.Duration
}

// A Trace is a synthetic recording of one speaker's packets.
type Trace struct {
	// Name describes the trace in test output.
	Name string
	// Packets are in arrival order (ties keep sending order).
	Packets []Packet
}

// Frames returns the number of frames sent.
func (t Trace) Frames() int {
	n := 0
	seen := make(map[Packet]bool, len(t.Packets))
	for _, p := range t.Packets {
		k := p
		k.At = 0
		if !seen[k] {
			seen[k] = true
			n += p.Frames
		}
	}
	return n
}

// Numbering is how a sender numbers its talk spurts.
type Numbering uint8

// Numbering schemes.
const (
	// Continuous: one frame counter that runs through pauses, as the
	// Mumble client does.
	Continuous Numbering = iota
	// Restart: every spurt starts again at 0.
	Restart
	// Jump: every spurt starts at an unrelated random number.
	Jump
)

// Talk describes what a sender transmits.
type Talk struct {
	// Duration is the length of the sender's timeline.
	Duration time.Duration
	// PacketFrames is the number of 10 ms frames per packet. If zero, 2.
	PacketFrames int
	// Spurt and Pause are the mean lengths of talk spurts and of the
	// pauses between them, both exponentially distributed (at least
	// 500 ms and 300 ms). If Spurt is zero the sender talks for the whole
	// Duration.
	Spurt, Pause time.Duration
	// Numbering is how spurts are numbered.
	Numbering Numbering
	// PerPacket numbers packets +1 per packet, as gumble-based bots and
	// some web clients do, instead of +PacketFrames. With Continuous
	// numbering the count then runs on across pauses without counting
	// them.
	PerPacket bool
	// QuietShare is the share of packets inside spurts that are quiet
	// (a breath between words: a few bytes instead of a full frame),
	// placed in runs of about 100 ms.
	QuietShare float64
}

// Conversation returns the talk pattern of one participant in a
// conversation, as the Tor trace benchmark uses it: 20 ms packets, talk
// spurts of 4 s and pauses of 1.5 s on average (a Mumble client with voice
// activation and a short voice hold), numbered continuously as Mumble does.
func Conversation(d time.Duration) Talk {
	return Talk{Duration: d, Spurt: 4 * time.Second, Pause: 1500 * time.Millisecond}
}

// A Network decides when packets arrive.
type Network interface {
	// Deliver returns pkts (sorted by Sent) with At set. It may add
	// duplicates.
	Deliver(pkts []Packet, rng *rand.Rand) []Packet
	// String describes the model.
	String() string
}

// NewTrace generates the packets of talk, delivers them through net and
// sorts them by arrival. The same seed gives the same trace.
func NewTrace(name string, talk Talk, net Network, seed uint64) (Trace, error) {
	if talk.PacketFrames == 0 {
		talk.PacketFrames = 2
	}
	if talk.PacketFrames < 1 || talk.PacketFrames > MaxPacketFrames {
		return Trace{}, fmt.Errorf("jitter: trace %q: PacketFrames %d outside 1..%d", name, talk.PacketFrames, MaxPacketFrames)
	}
	if talk.Duration <= 0 || talk.Duration > 24*time.Hour {
		return Trace{}, fmt.Errorf("jitter: trace %q: Duration %v outside (0, 24h]", name, talk.Duration)
	}
	if talk.QuietShare < 0 || talk.QuietShare >= 1 {
		return Trace{}, fmt.Errorf("jitter: trace %q: QuietShare %v outside [0, 1)", name, talk.QuietShare)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pkts := talk.packets(rng)
	pkts = net.Deliver(pkts, rng)
	slices.SortStableFunc(pkts, func(a, b Packet) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return Trace{Name: name, Packets: pkts}, nil
}

func expDur(rng *rand.Rand, mean, least time.Duration) time.Duration {
	return max(least, time.Duration(rng.ExpFloat64()*float64(mean)))
}

func (t Talk) packets(rng *rand.Rand) []Packet {
	total := int64(t.Duration / FrameDuration)
	pf := int64(t.PacketFrames)
	var pkts []Packet
	frame := int64(0)
	sent := uint64(0) // packets sent so far
	for frame < total {
		n := total - frame
		if t.Spurt > 0 {
			n = min(n, int64(expDur(rng, t.Spurt, 500*time.Millisecond)/FrameDuration))
		}
		n = max(pf, n/pf*pf)
		var first uint64
		switch t.Numbering {
		case Continuous:
			first = uint64(frame)
			if t.PerPacket {
				first = sent
			}
		case Restart:
			first = 0
		case Jump:
			first = rng.Uint64N(1 << 40)
		}
		quiet := 0
		for i := int64(0); i < n; i += pf {
			size := int(pf) * (14 + rng.IntN(5)) // about 13 kb/s
			if quiet > 0 {
				quiet--
				size = int(pf) * 3
			} else if t.QuietShare > 0 && rng.Float64() < t.QuietShare/(5*(1-t.QuietShare)) {
				quiet = 4 // 5 packets of 20 ms
				size = int(pf) * 3
			}
			seq := first + uint64(i)
			if t.PerPacket {
				seq = first + uint64(i/pf)
			}
			sent++
			pkts = append(pkts, Packet{
				Seq:        seq,
				Frames:     int(pf),
				Terminator: i+pf >= n,
				Size:       size,
				Sent:       time.Duration(frame+i+pf) * FrameDuration,
			})
		}
		frame += n
		if t.Spurt > 0 {
			frame += int64(expDur(rng, t.Pause, 300*time.Millisecond) / FrameDuration)
		}
	}
	return pkts
}

// Fixed delivers every packet after the same latency.
type Fixed struct {
	// Latency is the one-way delay.
	Latency time.Duration
}

// Deliver implements Network.
func (f Fixed) Deliver(pkts []Packet, _ *rand.Rand) []Packet {
	for i := range pkts {
		pkts[i].At = pkts[i].Sent + f.Latency
	}
	return pkts
}

// String describes the model.
func (f Fixed) String() string { return fmt.Sprintf("fixed %v", f.Latency) }

// Gaussian adds independent normally distributed jitter to a latency.
type Gaussian struct {
	// Latency is the mean one-way delay.
	Latency time.Duration
	// Sigma is the standard deviation of the jitter.
	Sigma time.Duration
	// InOrder keeps the sending order, as a TCP stream does: a packet
	// never arrives before the one sent ahead of it. Without it packets
	// overtake each other, as UDP allows.
	InOrder bool
}

// Deliver implements Network.
func (g Gaussian) Deliver(pkts []Packet, rng *rand.Rand) []Packet {
	var prev time.Duration
	for i := range pkts {
		at := pkts[i].Sent + g.Latency + time.Duration(rng.NormFloat64()*float64(g.Sigma))
		at = max(at, pkts[i].Sent)
		if g.InOrder {
			at = max(at, prev)
			prev = at
		}
		pkts[i].At = at
	}
	return pkts
}

// String describes the model.
func (g Gaussian) String() string {
	order := "reordering"
	if g.InOrder {
		order = "in order"
	}
	return fmt.Sprintf("gaussian %v±%v %s", g.Latency, g.Sigma, order)
}

// Reorder delays a share of packets so that later ones overtake them and
// duplicates another share, as UDP paths can.
type Reorder struct {
	// Latency is the one-way delay of packets that are not disturbed.
	Latency time.Duration
	// Share is the probability that a packet is held back by a uniform
	// extra delay in (0, Delay].
	Share float64
	// Delay is the largest extra delay.
	Delay time.Duration
	// DupShare is the probability that a packet arrives twice, the copy
	// up to Delay later.
	DupShare float64
}

// Deliver implements Network.
func (r Reorder) Deliver(pkts []Packet, rng *rand.Rand) []Packet {
	n := len(pkts)
	for i := 0; i < n; i++ {
		pkts[i].At = pkts[i].Sent + r.Latency
		if rng.Float64() < r.Share {
			pkts[i].At += r.extra(rng)
		}
		if rng.Float64() < r.DupShare {
			d := pkts[i]
			d.At += r.extra(rng)
			pkts = append(pkts, d)
		}
	}
	return pkts
}

func (r Reorder) extra(rng *rand.Rand) time.Duration {
	if r.Delay <= 0 {
		return 0
	}
	return 1 + time.Duration(rng.Int64N(int64(r.Delay)))
}

// String describes the model.
func (r Reorder) String() string {
	return fmt.Sprintf("reorder %.0f%% by up to %v, %.0f%% duplicated", 100*r.Share, r.Delay, 100*r.DupShare)
}

// Tor models voice carried inside one TCP stream through a Tor circuit,
// as Tumble's forced-TCP voice is: packets are never lost or reordered,
// only delayed, and they arrive in bunches. The model is an assumption
// built from how Tor relays forward cells, not a measurement:
//
//   - Latency: the circuit's fixed one-way delay (it does not affect the
//     jitter buffer, which only sees variation).
//   - Congestion: queueing at relays that changes slowly, an
//     Ornstein-Uhlenbeck process with standard deviation Congestion and
//     correlation time CongestionTime.
//   - CellJitter: per-packet scheduling noise at the relays, exponential
//     with mean CellJitter; order is kept.
//   - Flush: the last hop hands data to the client in flushes (cells
//     coalesced in relay queues, TLS records and TCP segments). Flush
//     intervals are uniform in [1 ms, 2*Flush]; everything that reached
//     the last hop since the previous flush arrives at once, the packets
//     0.2 ms apart, so several packets land within 1 ms.
//   - Stalls: a Poisson process with mean interval StallEvery stops all
//     delivery for Stall (head-of-line blocking behind a retransmission
//     or a congested relay); when it ends, everything held arrives in
//     one catch-up burst.
//
// The zero value means the defaults: Latency 250 ms, Congestion 10 ms
// over 5 s, CellJitter 3 ms, Flush 40 ms (bunches of 1 to 5 packets of
// 20 ms), a 300 ms stall every 20 s.
type Tor struct {
	// Latency is the fixed one-way delay. If zero, 250 ms.
	Latency time.Duration
	// Congestion is the standard deviation of the slowly varying
	// queueing delay. If zero, 10 ms.
	Congestion time.Duration
	// CongestionTime is its correlation time. If zero, 5 s.
	CongestionTime time.Duration
	// CellJitter is the mean per-packet scheduling delay. If zero, 3 ms.
	CellJitter time.Duration
	// Flush is the mean interval between deliveries. If zero, 40 ms.
	Flush time.Duration
	// StallEvery is the mean interval between stalls. If zero, 20 s.
	StallEvery time.Duration
	// Stall is the length of a stall. If zero, 300 ms.
	Stall time.Duration
}

func (t Tor) withDefaults() Tor {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.Latency, 250*time.Millisecond)
	def(&t.Congestion, 10*time.Millisecond)
	def(&t.CongestionTime, 5*time.Second)
	def(&t.CellJitter, 3*time.Millisecond)
	def(&t.Flush, 40*time.Millisecond)
	def(&t.StallEvery, 20*time.Second)
	def(&t.Stall, 300*time.Millisecond)
	t.Flush = max(t.Flush, time.Millisecond)
	t.CongestionTime = max(t.CongestionTime, time.Millisecond)
	t.StallEvery = max(t.StallEvery, time.Millisecond)
	t.Stall = max(t.Stall, 0)
	t.CellJitter = max(t.CellJitter, 0)
	return t
}

// Deliver implements Network.
func (t Tor) Deliver(pkts []Packet, rng *rand.Rand) []Packet {
	t = t.withDefaults()
	if len(pkts) == 0 {
		return pkts
	}
	// When each packet reaches the last hop, in order.
	ready := make([]time.Duration, len(pkts))
	var cong float64 // ns
	var prevSent, prev time.Duration
	for i, p := range pkts {
		dt := float64(p.Sent - prevSent)
		prevSent = p.Sent
		tau := float64(t.CongestionTime)
		a := math.Exp(-dt / tau)
		cong = cong*a + float64(t.Congestion)*math.Sqrt(1-a*a)*rng.NormFloat64()
		r := p.Sent + t.Latency + time.Duration(cong) + time.Duration(rng.ExpFloat64()*float64(t.CellJitter))
		r = max(r, p.Sent, prev)
		ready[i], prev = r, r
	}
	// Flush times, with stalls cut out of them.
	end := ready[len(ready)-1] + 2*t.Flush + t.Stall
	var stalls [][2]time.Duration
	for at := expDur(rng, t.StallEvery, time.Millisecond); at < end; at += t.Stall + expDur(rng, t.StallEvery, time.Millisecond) {
		stalls = append(stalls, [2]time.Duration{at, at + t.Stall})
	}
	var flushes []time.Duration
	si := 0
	for at := time.Duration(0); at < end; {
		at += time.Millisecond + time.Duration(rng.Int64N(int64(2*t.Flush-time.Millisecond)))
		for si < len(stalls) && stalls[si][0] <= at {
			// Nothing is delivered during a stall; what is held
			// arrives when it ends.
			at = max(at, stalls[si][1])
			si++
		}
		flushes = append(flushes, at)
	}
	fi := 0
	prevAt := time.Duration(-1)
	for i := range pkts {
		for fi < len(flushes)-1 && flushes[fi] < ready[i] {
			fi++
		}
		at := flushes[fi]
		if prevAt >= 0 {
			at = max(at, prevAt+200*time.Microsecond)
		}
		pkts[i].At, prevAt = at, at
	}
	return pkts
}

// String describes the model with its defaults filled in.
func (t Tor) String() string {
	t = t.withDefaults()
	return fmt.Sprintf("tor latency %v, congestion %v/%v, cell jitter %v, flush mean %v, %v stall every %v",
		t.Latency, t.Congestion, t.CongestionTime, t.CellJitter, t.Flush, t.Stall, t.StallEvery)
}
