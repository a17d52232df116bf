//go:build cgo && unix

package voice

import (
	"testing"
	"time"
)

// BenchmarkCallIdle measures what a connected, silent call costs the
// process (CPU time over a wall-clock window, in % of a core): with
// NoDevices, as the app runs when no sound device opens, and, for
// comparison in the same run, the process with no call at all. Each
// iteration is a 3 s window.
func BenchmarkCallIdle(b *testing.B) {
	const window = 3 * time.Second
	measure := func(open bool) float64 {
		var c *Call
		if open {
			var err error
			c, err = NewCall(CallConfig{Devices: NoDevices, Send: DefaultSendConfig(), Volume: 1, OnPacket: func(Packet) {}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
		}
		cpu0, t0 := rxCPUTime(b), time.Now()
		time.Sleep(window)
		return 100 * float64(rxCPUTime(b)-cpu0) / float64(time.Since(t0))
	}
	var call, none float64
	for range b.N {
		call += measure(true)
		none += measure(false)
	}
	b.ReportMetric(call/float64(b.N), "call_nodevices_idle_pct_core")
	b.ReportMetric(none/float64(b.N), "process_idle_pct_core")
}
