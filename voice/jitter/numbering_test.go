package jitter

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// perPacket returns the packets of one spurt of n packets of pf frames,
// numbered +1 per packet from first, sent back to back from start and
// arriving latency later.
func perPacket(first uint64, n, pf int, start, latency time.Duration) []Packet {
	var pkts []Packet
	for i := range n {
		sent := start + time.Duration(pf*(i+1))*FrameDuration
		pkts = append(pkts, Packet{Seq: first + uint64(i), Frames: pf, Size: 16 * pf,
			Terminator: i == n-1, Sent: sent, At: sent + latency})
	}
	return pkts
}

func TestPacketNumberingPlaysInFull(t *testing.T) {
	// Every packet length a Mumble client sends, every way of numbering
	// spurts, each with both numbering styles: everything is played, in
	// time, with nothing concealed.
	for _, pf := range []int{1, 2, 4, 6} {
		for _, n := range []Numbering{Continuous, Restart, Jump} {
			for _, per := range []bool{false, true} {
				name := fmt.Sprintf("%d ms numbering %d per-packet %v", 10*pf, n, per)
				talk := Talk{Duration: 2 * time.Minute, PacketFrames: pf, Spurt: 2 * time.Second,
					Pause: 700 * time.Millisecond, Numbering: n, PerPacket: per}
				tr := mustTrace(t, name, talk, Fixed{Latency: 100 * time.Millisecond}, 5)
				r := mustReplay(t, tr, Config{})
				if r.Played != r.Frames || r.Stats.Concealed != 0 || r.Stats.Late != 0 {
					t.Errorf("%s: played %d of %d frames, concealed %d, late %d",
						name, r.Played, r.Frames, r.Stats.Concealed, r.Stats.Late)
				}
				want := 1
				if per {
					want = pf
				}
				if r.Stats.FramesPerSeq != want {
					t.Errorf("%s: FramesPerSeq %d, want %d", name, r.Stats.FramesPerSeq, want)
				}
				if r.AddedDelayMaxMs > 20 {
					t.Errorf("%s: added delay up to %.1f ms on a jitter-free path", name, r.AddedDelayMaxMs)
				}
			}
		}
	}
}

func TestPacketNumberingOnJitteryPaths(t *testing.T) {
	// The same trace numbered both ways loses the same frames: the
	// numbering makes no difference once learnt.
	nets := []Network{
		Gaussian{Latency: 80 * time.Millisecond, Sigma: 15 * time.Millisecond},
		Reorder{Latency: 50 * time.Millisecond, Share: 0.2, Delay: 30 * time.Millisecond, DupShare: 0.05},
		Tor{},
	}
	for _, net := range nets {
		for _, pf := range []int{2, 4, 6} {
			var loss [2]float64
			for i, per := range []bool{false, true} {
				talk := Conversation(5 * time.Minute)
				talk.PacketFrames, talk.PerPacket = pf, per
				r := mustReplay(t, mustTrace(t, fmt.Sprintf("%v %d ms per-packet %v", net, 10*pf, per), talk, net, 21), Config{})
				loss[i] = r.LateLossPct
				if r.LateLossPct > 2 {
					t.Errorf("%v %d ms per-packet %v: late loss %.2f%%", net, 10*pf, per, r.LateLossPct)
				}
				if r.MaxDelayMs > ms(DefaultMaxDelay+FrameDuration) {
					t.Errorf("%v %d ms per-packet %v: delay reached %.0f ms", net, 10*pf, per, r.MaxDelayMs)
				}
			}
			if math.Abs(loss[0]-loss[1]) > 0.5 {
				t.Errorf("%v %d ms: late loss %.2f%% numbered by frames, %.2f%% by packets", net, 10*pf, loss[0], loss[1])
			}
		}
	}
}

func TestPacketNumberingLossAndReordering(t *testing.T) {
	// A packet-counting sender; some packets never arrive, others are
	// overtaken: exactly the lost frames are concealed, nothing is late,
	// and what arrives plays in sending order. The minimum delay holds two
	// packets, so that a loss is seen as one (the next packet is queued)
	// rather than as a stall to wait out. Frames dropped to bring the
	// delay back to target after the wait for an overtaken packet are
	// counted as dropped, not concealed.
	for _, pf := range []int{2, 4, 6} {
		t.Run(fmt.Sprintf("%dms", 10*pf), func(t *testing.T) {
			pkts := perPacket(1000, 100, pf, 0, 50*time.Millisecond)
			lost := map[int]bool{10: true, 40: true, 70: true}
			if 2*pf <= gapEnd {
				lost[11] = true // two in a row, still short of a pause
			}
			var in []Packet
			for i, p := range pkts {
				if !lost[i] {
					in = append(in, p)
				}
			}
			// Overtaken by the next packet (swap neighbours).
			for _, i := range []int{20, 50, 80} {
				in[i].At, in[i+1].At = in[i+1].At, in[i].At
				in[i], in[i+1] = in[i+1], in[i]
			}
			b := mustNew(t, Config{MinDelay: 20*time.Millisecond + time.Duration(2*pf)*FrameDuration})
			ticks := play(t, b, in, pkts[len(pkts)-1].At+time.Second)
			last := -1
			for _, tk := range ticks {
				if tk.frame.Kind != Decode {
					continue
				}
				if id := int(tk.frame.Payload[0]) | int(tk.frame.Payload[1])<<8; id <= last {
					t.Fatalf("packet %d played after %d", id, last)
				} else {
					last = id
				}
			}
			st := b.Stats()
			want := uint64(len(lost) * pf)
			if st.Concealed != want || st.Late != 0 || st.Played+st.Dropped != uint64((100-len(lost))*pf) {
				t.Errorf("concealed %d (want %d), late %d, dropped %d, played %d of %d",
					st.Concealed, want, st.Late, st.Dropped, st.Played, (100-len(lost))*pf)
			}
			if st.FramesPerSeq != pf {
				t.Errorf("FramesPerSeq %d, want %d", st.FramesPerSeq, pf)
			}
		})
	}
}

func TestPacketNumberingRelearnt(t *testing.T) {
	// One speaker id, three senders in turn (a client restarting with
	// other settings): frame numbering at 20 ms, packet numbering at
	// 20 ms, then packet numbering at 40 ms, each starting from 0 half a
	// second after the last. All of it plays, none concealed.
	a := steady(0, 50, 0, 30*time.Millisecond)
	b := perPacket(0, 50, 2, a[len(a)-1].Sent+500*time.Millisecond, 30*time.Millisecond)
	c := perPacket(0, 25, 4, b[len(b)-1].Sent+500*time.Millisecond, 30*time.Millisecond)
	buf := mustNew(t, Config{})
	pkts := append(append(a, b...), c...)
	play(t, buf, pkts, c[len(c)-1].At+time.Second)
	st := buf.Stats()
	if st.Played != 300 || st.Concealed != 0 || st.Late != 0 {
		t.Errorf("played %d of 300 frames, concealed %d, late %d", st.Played, st.Concealed, st.Late)
	}
	if st.FramesPerSeq != 4 || st.Renumbered != 2 {
		t.Errorf("FramesPerSeq %d (want 4), renumbered %d times (want 2)", st.FramesPerSeq, st.Renumbered)
	}
}

func TestFrameNumberingWithLossStaysFrames(t *testing.T) {
	// A frame-counting sender at 20 ms losing every other packet steps
	// by 4, never 1: it is never taken for a packet counter.
	var in []Packet
	for i, p := range steady(0, 200, 0, 40*time.Millisecond) {
		if i%2 == 1 && i < 199 {
			continue
		}
		in = append(in, p)
	}
	b := mustNew(t, Config{})
	play(t, b, in, 5*time.Second)
	if st := b.Stats(); st.FramesPerSeq != 1 || st.Renumbered != 0 {
		t.Errorf("FramesPerSeq %d, renumbered %d", st.FramesPerSeq, st.Renumbered)
	}
}

func TestNumberingWithoutTerminators(t *testing.T) {
	// Senders whose terminators never arrive: spurts are told apart by
	// the pauses alone. Numbering is still read right, and everything is
	// played but, from a sender that numbers on across pauses without
	// counting them, the first packet of each spurt: only the second,
	// arriving as late at the sender's pace, tells a pause from a stall.
	for _, pf := range []int{2, 4} {
		for _, n := range []Numbering{Continuous, Restart, Jump} {
			for _, per := range []bool{false, true} {
				name := fmt.Sprintf("%d ms numbering %d per-packet %v", 10*pf, n, per)
				talk := Talk{Duration: time.Minute, PacketFrames: pf, Spurt: time.Second,
					Pause: 700 * time.Millisecond, Numbering: n, PerPacket: per}
				tr := mustTrace(t, name, talk, Fixed{Latency: 80 * time.Millisecond}, 8)
				spurts := 0
				for i := range tr.Packets {
					if tr.Packets[i].Terminator {
						spurts++
					}
					tr.Packets[i].Terminator = false
				}
				r := mustReplay(t, tr, Config{})
				want, lost := 1, 0
				if per {
					want = pf
				}
				if per && n == Continuous {
					lost = (spurts - 1) * pf
				}
				if r.Stats.FramesPerSeq != want {
					t.Errorf("%s: FramesPerSeq %d, want %d", name, r.Stats.FramesPerSeq, want)
				}
				if r.Frames-r.Played > lost {
					t.Errorf("%s: %d of %d frames not played, want at most %d", name, r.Frames-r.Played, r.Frames, lost)
				}
			}
		}
	}
}

func TestTimedSenderPathSlows(t *testing.T) {
	// A sender that counts 10 ms frames in time (Tumble, the official
	// client): its second spurt's numbers skip the pause, so the buffer
	// learns that they count time. Mid-spurt the path gets 700 ms slower
	// and stays so: packets arrive late at the sender's pace. That is the
	// network, not a renumbering: no remap, and the audio is played late
	// rather than skipped.
	var tr Trace
	add := func(from, to int, latency func(i int) time.Duration) {
		for i := from; i < to; i++ {
			sent := time.Duration(2*(i+1)) * FrameDuration
			tr.Packets = append(tr.Packets, Packet{Seq: uint64(2 * i), Frames: 2, Size: 40,
				Terminator: i == to-1, Sent: sent, At: sent + latency(i)})
		}
	}
	fixed := func(int) time.Duration { return 100 * time.Millisecond }
	add(0, 100, fixed)   // 2 s
	add(150, 250, fixed) // 1 s pause, counted by the numbers
	add(300, 800, func(i int) time.Duration {
		if i < 400 {
			return 100 * time.Millisecond
		}
		return 800 * time.Millisecond
	})
	tr.Name = "path slows"
	r := mustReplay(t, tr, Config{})
	if r.Stats.Remaps != 0 || r.Stats.Late != 0 {
		t.Errorf("%d remaps, %d frames late, want none", r.Stats.Remaps, r.Stats.Late)
	}
	// Played up to 700 ms late rather than cut at MaxDelay.
	if r.MaxDelayMs < 600 || r.MaxDelayMs > ms(DefaultLateStart) {
		t.Errorf("delay reached %.0f ms, want about 700", r.MaxDelayMs)
	}
	if r.LateLossPct > 10 {
		t.Errorf("late loss %.1f%%", r.LateLossPct)
	}
}

func TestPausedPacketCounterWithoutTerminator(t *testing.T) {
	// A sender that numbers packets +1 stops for 800 ms without a
	// terminator and goes on with the next number: its late-looking
	// packets come at its pace from the first on, so the buffer takes it
	// for a pause and plays the second spurt on time.
	a := perPacket(0, 150, 2, 0, 100*time.Millisecond)
	a[len(a)-1].Terminator = false
	b := perPacket(150, 150, 2, 3800*time.Millisecond, 100*time.Millisecond)
	buf := mustNew(t, Config{})
	ticks := play(t, buf, append(a, b...), 8*time.Second)
	var worst time.Duration
	for _, tk := range ticks {
		if tk.frame.Kind == Decode && tk.frame.Seq >= 155 {
			worst = max(worst, epoch.Add(tk.at).Sub(tk.frame.Arrival))
		}
	}
	if worst > 100*time.Millisecond {
		t.Errorf("the second spurt waited up to %v after arrival: the pause was taken for a slower path", worst)
	}
	if st := buf.Stats(); st.Remaps == 0 {
		t.Errorf("no remap: %+v", st)
	}
}

func TestSlowerPathKeepsOpenSpurt(t *testing.T) {
	// Continuous talk (no terminator, so the buffer never learns that the
	// sender's numbers count time) on a path that stalls and then stays
	// slower, as a congested Tor circuit does: the packets held up arrive
	// in a burst, those after it at the sender's pace, all over 300 ms
	// late. That is the path, not a restarted sender: nothing is
	// renumbered or thrown away as late.
	pkts := steady(0, 1500, 0, 100*time.Millisecond)
	pkts[len(pkts)-1].Terminator = false
	for i := range pkts {
		switch sent := pkts[i].Sent; {
		case sent >= 10*time.Second && sent < 10100*time.Millisecond:
			pkts[i].At = 10500 * time.Millisecond
		case sent >= 10100*time.Millisecond:
			pkts[i].At = sent + 420*time.Millisecond
		}
	}
	b := mustNew(t, Config{})
	play(t, b, pkts, 32*time.Second)
	if st := b.Stats(); st.Remaps != 0 || st.Late != 0 {
		t.Errorf("remaps %d, late %d frames: a slower path was taken for a restarted sender", st.Remaps, st.Late)
	}
}
