//go:build libtor

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkHost measures hosting a room on the private Tor network: from
// the click (the room's start, with Tor already up) until a guest is
// connected through the onion, split into the Mumble server's start, the
// onion publication and the time until the descriptor is reachable (the
// guest's connection, through the network's client tor). It also reports
// the resident memory of the host process and its murmurd, idle with no
// guest.
func BenchmarkHost(b *testing.B) {
	w := setupTorWorld(b)
	var total, server, publish, reach, rss float64
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		inv := b.TempDir()
		host := startHostProc(ctx, b, "host", "--tor", "embedded", "--torrc", w.torrc, "--amnesic", "--guest", "g", "--invite-dir", inv)
		phases := map[string]float64{}
		for {
			ev := host.wait(b, "room")
			phases[ev["phase"].(string)] = ev["seconds"].(float64)
			if ev["phase"] == "ready" {
				break
			}
		}
		ready := host.wait(b, "room-ready")
		host.wait(b, "invite")
		readyAt := time.Now()
		// Idle memory before any guest arrives.
		rss += (rssMB(host.cmd.Process.Pid) + rssMB(int(ready["server_pid"].(float64)))) / float64(b.N)
		guest := startHostProc(ctx, b, "--link-file", filepath.Join(inv, "g.link"), "--tor", "socks="+w.net.SOCKSAddr())
		guest.wait(b, "connected")
		r := time.Since(readyAt).Seconds()
		guest.finish()
		fmt.Fprintln(host.stdin, "stop")
		host.finish()
		cancel()
		s := phases["waiting for Tor"]
		p := phases["publishing the onion service"] + phases["ready"]
		server += s * 1000 / float64(b.N)
		publish += p * 1000 / float64(b.N)
		reach += r * 1000 / float64(b.N)
		total += (s + p + r) * 1000 / float64(b.N)
	}
	b.ReportMetric(total, "click_to_reachable_ms")
	b.ReportMetric(server, "murmurd_start_ms")
	b.ReportMetric(publish, "onion_publish_ms")
	b.ReportMetric(reach, "descriptor_reachable_ms")
	b.ReportMetric(rss, "idle_rss_mb")
}

// rssMB returns a process's resident memory in MB (VmRSS), or 0.
func rssMB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
