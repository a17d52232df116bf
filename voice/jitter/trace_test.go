package jitter

import (
	"testing"
	"time"
)

func TestTorTraceShape(t *testing.T) {
	// The Tor model must keep the properties the benchmark figures rely
	// on: TCP order, no loss, bunches of several packets within 1 ms, and
	// about one 300 ms stall every 20 s followed by a catch-up burst.
	const d = 30 * time.Minute
	tr := mustTrace(t, "tor", Talk{Duration: d}, Tor{}, 1)
	if tr.Frames() != int(d/FrameDuration) {
		t.Fatalf("%d frames for %v", tr.Frames(), d)
	}
	within1ms, bigBunches, stalls := 0, 0, 0
	run := 1
	for i := 1; i < len(tr.Packets); i++ {
		p, q := tr.Packets[i-1], tr.Packets[i]
		if q.Seq <= p.Seq || q.At < p.At {
			t.Fatalf("packet %d out of order", i)
		}
		gap := q.At - p.At
		if gap <= time.Millisecond {
			within1ms++
			run++
		} else {
			if run >= 4 {
				bigBunches++
			}
			run = 1
		}
		if gap >= 290*time.Millisecond {
			stalls++
		}
	}
	share := float64(within1ms) / float64(len(tr.Packets))
	t.Logf("%v: %.0f%% of packets within 1 ms of the previous, %d bunches of 4+, %d stalls", Tor{}, 100*share, bigBunches, stalls)
	if share < 0.3 || share > 0.8 {
		t.Errorf("%.0f%% of packets arrive bunched", 100*share)
	}
	if bigBunches < 1000 {
		t.Errorf("only %d bunches of 4 or more packets", bigBunches)
	}
	if want := int(d / (20 * time.Second)); stalls < want/2 || stalls > 2*want {
		t.Errorf("%d stalls in %v, want about %d", stalls, d, want)
	}
	r := mustReplay(t, tr, Config{})
	if r.NetworkJitterP95Ms < 60 {
		t.Errorf("network jitter p95 %.1f ms: the model lost its bursts", r.NetworkJitterP95Ms)
	}
}

func TestNewTraceValidation(t *testing.T) {
	for _, talk := range []Talk{
		{Duration: 0},
		{Duration: time.Second, PacketFrames: 13},
		{Duration: time.Second, QuietShare: 1},
	} {
		if _, err := NewTrace("bad", talk, Fixed{}, 1); err == nil {
			t.Errorf("NewTrace(%+v) accepted", talk)
		}
	}
	a := mustTrace(t, "a", Conversation(time.Minute), Tor{}, 9)
	b := mustTrace(t, "b", Conversation(time.Minute), Tor{}, 9)
	if len(a.Packets) != len(b.Packets) || a.Packets[100] != b.Packets[100] {
		t.Error("same seed, different traces")
	}
}

func TestTorSensitivity(t *testing.T) {
	// The Tor model's parameters are assumptions; this shows how the
	// figures move with them. Bounds are loose: behaviour, not targets.
	if testing.Short() {
		t.Skip("sweep of 10-minute replays")
	}
	for _, net := range []Tor{
		{},
		{StallEvery: 10 * time.Second},
		{StallEvery: 60 * time.Second},
		{Stall: 500 * time.Millisecond},
		{Flush: 20 * time.Millisecond},
		{Flush: 60 * time.Millisecond},
		{Congestion: 30 * time.Millisecond},
	} {
		for _, talk := range []Talk{Conversation(10 * time.Minute), {Duration: 10 * time.Minute}} {
			tr := mustTrace(t, net.String(), talk, net, 4)
			r, err := Replay(tr, Config{})
			if err != nil {
				t.Fatal(err)
			}
			kind := "conversation"
			if talk.Spurt == 0 {
				kind = "continuous"
			}
			t.Logf("%-12s %s: late loss %.2f%%, added delay %.1f ms (p95 %.0f), network jitter p95 %.0f ms",
				kind, net, r.LateLossPct, r.AddedDelayMeanMs, r.AddedDelayP95Ms, r.NetworkJitterP95Ms)
			// Continuous talk keeps the delay recent stalls needed
			// (keepPercentile) instead of dropping speech at each.
			maxAdded := 150.0
			if kind == "continuous" {
				maxAdded = 250
			}
			if r.LateLossPct > 6 || r.MaxDelayMs > ms(DefaultLateStart+FrameDuration) || r.AddedDelayMeanMs > maxAdded {
				t.Errorf("%s %s: %v", kind, net, r)
			}
		}
	}
}
