package jitter

import (
	"testing"
	"time"
)

// benchTrace is the trace behind the tor_trace_* figures: 30 minutes of one
// participant in a conversation (Conversation), delivered by the Tor
// model with its defaults (bunches of up to 5 packets, a 300 ms stall
// every 20 s on average), seed 1.
func benchTrace(b *testing.B, talk Talk) Trace {
	tr, err := NewTrace("tor", talk, Tor{}, 1)
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

func reportReplay(b *testing.B, tr Trace, prefix string) {
	var r Result
	var err error
	for b.Loop() {
		r, err = Replay(tr, Config{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.LateLossPct, prefix+"_late_loss_pct")
	b.ReportMetric(r.AddedDelayMeanMs, prefix+"_added_delay_ms")
	b.ReportMetric(r.AddedDelayP95Ms, prefix+"_added_delay_p95_ms")
	b.ReportMetric(r.ConcealedPct, prefix+"_concealed_pct")
	b.ReportMetric(r.NetworkJitterP95Ms, prefix+"_network_jitter_p95_ms")
	b.Logf("%v", r)
}

// BenchmarkTorTrace reports tor_trace_late_loss_pct (sent frames never
// played: late, dropped to catch up, or beyond MaxDelay) and
// tor_trace_added_delay_ms (mean of playout minus arrival time over played
// packets) for the conversation trace over the Tor model. Targets (an
// earlier issue's): <= 2% and <= 80 ms. Since a long spurt keeps the delay
// recent stalls needed (keepAfter), which on the recorded Tor traces cut
// loss at no more delay than Mumble's buffer, this model's 300 ms stalls
// cost 84 ms here for 0.37% loss (66 ms for 1.05% before).
func BenchmarkTorTrace(b *testing.B) {
	reportReplay(b, benchTrace(b, Conversation(30*time.Minute)), "tor_trace")
}

// BenchmarkTorTraceContinuous is the same network with 30 minutes of
// uninterrupted talk: no pauses to absorb delay, so every stall must be
// paid for by dropping audio.
func BenchmarkTorTraceContinuous(b *testing.B) {
	reportReplay(b, benchTrace(b, Talk{Duration: 30 * time.Minute}), "tor_trace_continuous")
}

// BenchmarkTorTracePerPacket is the conversation trace of BenchmarkTorTrace
// from a sender that numbers packets +1 per packet (gumble-based bots, some
// web clients) instead of +2 per 20 ms packet: its figures should match
// the frame-numbered trace's.
func BenchmarkTorTracePerPacket(b *testing.B) {
	talk := Conversation(30 * time.Minute)
	talk.PerPacket = true
	reportReplay(b, benchTrace(b, talk), "tor_trace_per_packet")
}

// BenchmarkPushNext measures one 20 ms packet through the buffer: a Push
// and the two Next calls that play it.
func BenchmarkPushNext(b *testing.B) {
	buf, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 32)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at := epoch.Add(time.Duration(i) * 2 * FrameDuration)
		if err := buf.Push(uint64(2*i), 2, payload, false, at); err != nil {
			b.Fatal(err)
		}
		buf.Next(at.Add(15 * time.Millisecond))
		buf.Next(at.Add(25 * time.Millisecond))
		i++
	}
	if buf.Stats().Played == 0 {
		b.Fatal("nothing played")
	}
}
