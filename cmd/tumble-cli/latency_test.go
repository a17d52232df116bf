package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/wav"
)

// Click train used to measure latency: bursts of a 1 kHz tone.
const (
	clickCount  = 16
	clickEvery  = 400 * time.Millisecond
	clickLength = 40 * time.Millisecond
	clickLead   = 200 * time.Millisecond // silence before the first click
)

// writeClickTrain writes the click train and returns the click onsets in
// samples.
func writeClickTrain(tb testing.TB, path string) []int {
	tb.Helper()
	n := int((clickLead + clickCount*clickEvery).Seconds() * 48000)
	pcm := make([]int16, n)
	var onsets []int
	for i := range clickCount {
		start := int((clickLead + time.Duration(i)*clickEvery).Seconds() * 48000)
		onsets = append(onsets, start)
		for j := range int(clickLength.Seconds() * 48000) {
			pcm[start+j] = int16(0.4 * 32767 * math.Sin(2*math.Pi*1000*float64(j)/48000))
		}
	}
	if err := wav.WriteFile(path, pcm); err != nil {
		tb.Fatal(err)
	}
	return onsets
}

// findOnsets returns the sample positions where sound starts after at least
// 100 ms of silence, measured in 1 ms blocks.
func findOnsets(pcm []int16) []int {
	const block = 48
	var onsets []int
	quiet := 100
	for off := 0; off+block <= len(pcm); off += block {
		if analysis.DBFS(pcm[off:off+block]) > -30 {
			if quiet >= 100 {
				onsets = append(onsets, off)
			}
			quiet = 0
		} else {
			quiet++
		}
	}
	return onsets
}

// latencyResult is one click-train run through a real server.
type latencyResult struct {
	latencies []time.Duration // per click: heard at the receiver minus played into the sender
	lossPct   float64         // the receiver's late loss
	added     float64         // mean delay the receiver's jitter buffer added, ms
}

// measureLatency has one tumble-cli send the click train as real-time voice
// and another record it, through a real server on loopback, and compares
// when each click was captured with when it was played out.
func measureLatency(tb testing.TB, v murmurtest.Version, framesPerPacket int) latencyResult {
	tb.Helper()
	srv := murmurtest.Start(tb, murmurtest.Options{Version: v, Channels: []string{"Lab"}})
	dir := tb.TempDir()
	train := filepath.Join(dir, "clicks.wav")
	sent := writeClickTrain(tb, train)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	common := []string{"--server", srv.Addr, "--tor", "off", "--channel", "Root/Lab"}
	total := clickLead + clickCount*clickEvery
	rec := filepath.Join(dir, "rec")
	listener := startCLI(ctx, tb, append(common, "--user", "ear", "--record-dir", rec, "--for", (total+4*time.Second).String())...)
	waitInChannel(ctx, tb, srv, 0, "ear", "Lab")
	sender := startCLI(ctx, tb, append(common, "--user", "mouth", "--send-wav", train,
		"--frames-per-packet", fmt.Sprint(framesPerPacket))...)
	s, l := sender(), listener()
	if s.err != nil || l.err != nil {
		tb.Fatalf("sender: %v %s\nlistener: %v %s", s.err, s.stderr, l.err, l.stderr)
	}
	start := eventTime(tb, s, "voice-send-start", "start")
	origin := eventTime(tb, l, "record-start", "origin")
	heard := findOnsets(readWAV(tb, filepath.Join(rec, "mouth.wav")))
	if len(heard) != len(sent) {
		tb.Fatalf("heard %d clicks, sent %d", len(heard), len(sent))
	}
	var r latencyResult
	for i := range sent {
		captured := start.Add(samplesToDuration(sent[i]))
		played := origin.Add(samplesToDuration(heard[i]))
		r.latencies = append(r.latencies, played.Sub(captured))
	}
	// voice-stats comes after the sender left, when its name is gone:
	// find it by the session of its voice-start.
	var session any
	for _, e := range l.find("voice-start") {
		if e["name"] == "mouth" {
			session = e["session"]
		}
	}
	found := false
	for _, e := range l.find("voice-stats") {
		if session != nil && e["session"] == session {
			r.lossPct, _ = e["late_loss_pct"].(float64)
			r.added, _ = e["added_delay_ms"].(float64)
			found = true
		}
	}
	if !found {
		tb.Fatalf("no voice-stats event for the sender (session %v)", session)
	}
	return r
}

func samplesToDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / 48000
}

// eventTime reads an RFC 3339 time field of the first event of a kind.
func eventTime(tb testing.TB, r *cliRun, kind, key string) time.Time {
	tb.Helper()
	evs := r.find(kind)
	if len(evs) == 0 {
		tb.Fatalf("no %s event", kind)
	}
	s, _ := evs[0][key].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("%s.%s: %v", kind, key, err)
	}
	return t
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestClickTrainThroughServer checks that every click of a real-time voice
// stream arrives, in order, evenly spaced, with a plausible latency. The
// latency figure itself is BenchmarkLoopbackLatency's.
func TestClickTrainThroughServer(t *testing.T) {
	r := measureLatency(t, murmurtest.V15, 2)
	for i, d := range r.latencies {
		if d <= 0 || d > time.Second {
			t.Errorf("click %d: latency %v, want between 0 and 1 s", i, d)
		}
	}
	spread := slices.Max(r.latencies) - slices.Min(r.latencies)
	if spread > 100*time.Millisecond {
		t.Errorf("latency varies by %v over the train (%v): clicks lost or misplaced", spread, r.latencies)
	}
	t.Logf("median latency %v, spread %v, late loss %.2f%%, jitter buffer added %.1f ms",
		median(r.latencies), spread, r.lossPct, r.added)
}

// BenchmarkLoopbackLatency reports the client-added latency of voice through
// a real server on loopback, from the moment a sound is captured (the WAV
// plays in real time; each packet leaves when a microphone would have
// filled it) to the moment it is played out, at 20 ms per packet: metric
// latency_ms (median over the clicks), and the receiver's late loss.
func BenchmarkLoopbackLatency(b *testing.B) {
	if os.Getenv("TUMBLE_CLI") == "" && testing.Short() {
		b.Skip("needs servers")
	}
	var all []time.Duration
	var loss float64
	for range b.N {
		r := measureLatency(b, murmurtest.V15, 2)
		all = append(all, r.latencies...)
		loss += r.lossPct
	}
	b.ReportMetric(float64(median(all))/float64(time.Millisecond), "latency_ms")
	b.ReportMetric(loss/float64(b.N), "late_loss_pct")
	b.ReportMetric(0, "ns/op")
}
