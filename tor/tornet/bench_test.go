package tornet

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// BenchmarkLaunchToOnionReachable measures, per operation, a whole network
// from nothing: authority keys, every tor, an onion service in front of an
// echo server and an echo round trip through the client tor. It reports the
// median time to that round trip, the tors' resident memory and the CPU they
// use while idle. Run it with -benchtime=3x for a median of three.
func BenchmarkLaunchToOnionReachable(b *testing.B) {
	if err := Available(Options{}); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			b.Fatal(err)
		}
		b.Skip(err)
	}
	echo := startEcho(b)
	var times []time.Duration
	var rss int64
	var idle float64
	for b.Loop() {
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(b.Context(), startTimeout)
		n, err := Start(ctx, b.TempDir(), Options{})
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		s, err := n.AddOnionService(ctx, echo, mumblePort, false)
		if err == nil {
			err = echoVia(ctx, n.SOCKSAddr(), "bench", s)
		}
		cancel()
		if err != nil {
			n.Close()
			b.Fatalf("%v\n%s", err, n.Logs())
		}
		times = append(times, time.Since(t0))

		b.StopTimer()
		if r, err := n.rss(); err == nil {
			rss = max(rss, r)
		}
		if c, err := n.idleCPU(3 * time.Second); err == nil {
			idle = max(idle, c)
		}
		b.Logf("launch to onion reachable: %v\n%s", times[len(times)-1].Round(time.Millisecond), n.progressLog())
		if err := n.Close(); err != nil {
			b.Error(err)
		}
		b.StartTimer()
	}
	slices.Sort(times)
	b.ReportMetric(times[len(times)/2].Seconds(), "s-median")
	b.ReportMetric(float64(rss)/(1<<20), "MB-rss")
	b.ReportMetric(idle*100, "%core-idle")
}
