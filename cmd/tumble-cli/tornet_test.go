//go:build libtor

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/tornet"
	"github.com/tumble-voip/tumble/voice/jitter"
)

// startDelayedWorld starts a Tor world whose links follow the named
// profile (tornet.Options.Profile), with a Mumble 1.5 server behind an
// onion, for one test.
func startDelayedWorld(t testing.TB, profile string) *torWorld {
	t.Helper()
	if err := tornet.Available(tornet.Options{}); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatalf("private Tor network: %v", err)
		}
		t.Skipf("private Tor network: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	w, err := newTorWorld(ctx, t.TempDir(), tornet.Options{Profile: profile}, murmurtest.V15, false)
	if w != nil {
		w.net.LogOnFailure(t) // registered first: runs after close
		t.Cleanup(func() {
			if err := w.close(); err != nil {
				t.Error(err)
			}
		})
	}
	if err != nil {
		t.Fatalf("tor world %q: %v", profile, err)
	}
	return w
}

// TestEmbeddedTorDelayedNetworkVoice is the smoke test of the emulated
// network: the same voice and text check as over plain loopback, but every
// Tor link crosses a delay proxy with the "typical" profile (delays,
// jitter, a bandwidth cap and stalls). It checks that voice crosses: how
// much of it the stalls cost is measured by the trace benchmarks, not here.
func TestEmbeddedTorDelayedNetworkVoice(t *testing.T) {
	w := startDelayedWorld(t, "typical")
	voiceAndTextOverTor(t, w, time.Second)
	n := 0
	for _, d := range w.net.LinkDelays() {
		n += len(d)
	}
	if n == 0 {
		t.Error("no link crossed a delay proxy")
	}
}

// traceDir is where TestRecordTorTraces writes the recorded traces.
const traceDir = "../../voice/jitter/testdata"

// traceLength is how long each recorded trace is.
const traceLength = 2 * time.Minute

// TestRecordTorTraces records, for each network profile, the arrival
// times of a Tumble speaker's voice packets at a listener, both connected
// to the onion Mumble server through the emulated network, into
// voice/jitter/testdata/tor_PROFILE.trace (a conversation: talk spurts and
// pauses) and tor_PROFILE_continuous.trace (one talk spurt without end, as
// an open microphone or the side-by-side's click train sends). It runs only
// when TUMBLE_RECORD_TRACES is set: "1" records all six, or a comma-separated
// list of trace names (tor_typical_continuous,...) records those (a private
// network per trace and two minutes of talk each).
func TestRecordTorTraces(t *testing.T) {
	want := os.Getenv("TUMBLE_RECORD_TRACES")
	if want == "" {
		t.Skip("set TUMBLE_RECORD_TRACES=1 to record voice/jitter/testdata/tor_*.trace")
	}
	for _, name := range recordedTraceNames() {
		if want != "1" && !slices.Contains(strings.Split(want, ","), name) {
			continue
		}
		profile, continuous := strings.CutSuffix(strings.TrimPrefix(name, "tor_"), "_continuous")
		t.Run(name, func(t *testing.T) {
			w := startDelayedWorld(t, profile)
			tr := recordTrace(t, w, traceLength, 1, continuous)
			tr.Name = name
			talk := "talk: spurts of 4 s and pauses of 1.5 s on average, 20 ms packets, times in us on one clock"
			if continuous {
				talk = "talk: one spurt without a pause for the whole trace, 20 ms packets, times in us on one clock"
			}
			p, _ := w.net.Profile()
			load, _ := os.ReadFile("/proc/loadavg") // the machine's load shapes the delays too
			path := filepath.Join(traceDir, tr.Name+".trace")
			f, err := os.CreateTemp(traceDir, ".trace-*")
			if err != nil {
				t.Fatal(err)
			}
			defer os.Remove(f.Name())
			if err := f.Chmod(0o644); err != nil { // committed to the repository
				t.Fatal(err)
			}
			err = jitter.WriteTrace(f, tr,
				fmt.Sprintf("recorded by cmd/tumble-cli TestRecordTorTraces on %s", time.Now().UTC().Format(time.DateOnly)),
				fmt.Sprintf("network profile %q: %+v", p.Name, p),
				"sender and listener: Tumble's mumble client through the private Tor network's client tor to an onion Mumble 1.5 server",
				talk,
				fmt.Sprintf("load average at the end (/proc/loadavg): %s", strings.TrimSpace(string(load))))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(f.Name(), path)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d packets written to %s", tr.Name, len(tr.Packets), path)
		})
	}
}

// recordedTraceNames are the traces TestRecordTorTraces can record.
func recordedTraceNames() []string {
	var names []string
	for _, profile := range []string{"fast", "typical", "bad"} {
		names = append(names, "tor_"+profile, "tor_"+profile+"_continuous")
	}
	return names
}

// recordTrace has a speaker talk for d through w's onion server and
// returns the packets as the listener received them, with send and
// arrival times on the test's clock. Talk spurts and pauses follow
// jitter.Conversation's means, drawn with seed; continuous talk is one
// spurt for the whole of d.
func recordTrace(t *testing.T, w *torWorld, d time.Duration, seed uint64, continuous bool) jitter.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d+3*time.Minute)
	defer cancel()
	ear := dialOnionClient(ctx, t, w, "ear")
	sub := ear.SubscribeVoice()
	defer sub.Close()
	mouth := dialOnionClient(ctx, t, w, "mouth")

	type sent struct {
		at   time.Duration
		size int
	}
	talk := jitter.Conversation(d)
	rng := rand.New(rand.NewPCG(seed, seed))
	var mu sync.Mutex // guards sends
	var sends []sent
	t0 := time.Now()
	done := make(chan error, 1)
	go func() { // joined through done
		tick := time.NewTicker(2 * jitter.FrameDuration)
		defer tick.Stop()
		spurtEnd := t0.Add(max(500*time.Millisecond, time.Duration(rng.ExpFloat64()*float64(talk.Spurt))))
		if continuous {
			spurtEnd = t0.Add(d + time.Hour) // never: the trace ends first
		}
		payload := make([]byte, 64)
		for now := range tick.C {
			if now.Sub(t0) >= d {
				done <- nil
				return
			}
			// The last packet of a spurt: the next tick would be past its
			// end (or this one already is, if ticks were dropped).
			last := now.Add(2 * jitter.FrameDuration).After(spurtEnd)
			size := 28 + rng.IntN(10) // 13 kb/s Opus: about 33 bytes per 20 ms
			mu.Lock()
			binary.BigEndian.PutUint32(payload, uint32(len(sends)))
			sends = append(sends, sent{time.Since(t0), size})
			mu.Unlock()
			if err := mouth.SendVoice(ctx, mumble.OutgoingVoice{Opus: payload[:size], Frames: 2, Last: last}); err != nil {
				done <- err
				return
			}
			if last {
				pause := max(300*time.Millisecond, time.Duration(rng.ExpFloat64()*float64(talk.Pause)))
				spurt := max(500*time.Millisecond, time.Duration(rng.ExpFloat64()*float64(talk.Spurt)))
				spurtEnd = now.Add(pause + spurt)
				// Skip the pause: nothing is sent until spurtEnd-spurt.
				resume := now.Add(pause)
				for n := range tick.C {
					if !n.Before(resume) || n.Sub(t0) >= d {
						break
					}
				}
			}
		}
	}()

	var tr jitter.Trace
	var senderErr error
	finished := false
	var quiet <-chan time.Time
	for {
		select {
		case p, ok := <-sub.C:
			if !ok {
				t.Fatal("voice subscription closed")
			}
			at := time.Since(t0)
			if len(p.Opus) < 4 {
				t.Fatalf("voice packet of %d bytes", len(p.Opus))
			}
			i := int(binary.BigEndian.Uint32(p.Opus))
			mu.Lock()
			if i >= len(sends) { // sends is appended before SendVoice
				mu.Unlock()
				t.Fatalf("packet %d arrived before it was sent", i)
			}
			s := sends[i]
			mu.Unlock()
			tr.Packets = append(tr.Packets, jitter.Packet{Seq: p.Sequence, Frames: 2, Terminator: p.Terminator,
				Size: s.size, Sent: s.at, At: at})
		case senderErr = <-done:
			if senderErr != nil {
				t.Fatalf("sender: %v", senderErr)
			}
			finished = true
			// Everything sent arrives within seconds; the stream is TCP.
			quiet = time.After(10 * time.Second)
		case <-quiet:
			if len(tr.Packets) != len(sends) { // final: the sender has returned
				t.Fatalf("received %d of %d packets", len(tr.Packets), len(sends))
			}
			return tr
		case <-ctx.Done():
			t.Fatalf("recording: %v (finished %v, %d of %d packets)", ctx.Err(), finished, len(tr.Packets), len(sends))
		}
		if finished && len(tr.Packets) == len(sends) { // sends is final once done was received
			return tr
		}
	}
}

// cellPreset is the packetisation of a settings preset (app.Presets): how
// often a speaker sends and how big each Opus packet is at its bitrate.
type cellPreset struct {
	name   string
	frames int // 10 ms frames per packet
	bytes  int // Opus bytes per packet at the preset's bitrate
}

// cellPresets: "Tor recommended" (20 ms at 13 kb/s: 33 bytes) and "Tor low
// bandwidth" (60 ms at 10 kb/s: 75 bytes).
var cellPresets = []cellPreset{
	{"tor_recommended", 2, 13000 * 20 / 1000 / 8},
	{"low_bandwidth", 6, 10000 * 60 / 1000 / 8},
}

// BenchmarkTorCells reports the Tor cells one speaker causes per second in
// each direction at each preset, through the private network's onion
// Mumble server with one listener: metrics tor_cells_per_s_PRESET_up (relay
// cells the speaker's client tor sent on the speaker's circuit) and
// cells_down_per_s (relay cells the onion service's tor sent on the
// listener's rendezvous circuit: the voice forwarded to one listener),
// next to the Opus bytes per second. Split out: cells_to_speaker_per_s
// (what the onion service sent back on the speaker's circuit meanwhile:
// replies to its pings and Tor's flow-control SENDMEs for its upstream)
// and cells_down_all_per_s (everything the onion service sent).
func BenchmarkTorCells(b *testing.B) {
	w := setupTorWorld(b)
	const window = 30 * time.Second
	for _, p := range cellPresets {
		b.Run(p.name, func(b *testing.B) {
			var up, down, all float64
			for i := range b.N {
				u, d, a := measureCells(b, w, p, i, window)
				up += u
				down += d
				all += a
			}
			n := float64(b.N)
			opus := float64(p.bytes) * 100 / float64(p.frames)
			b.ReportMetric(up/n, "cells_up_per_s")
			b.ReportMetric(down/n, "cells_down_per_s")
			b.ReportMetric(all/n, "cells_down_all_per_s")
			b.ReportMetric((all-down)/n, "cells_to_speaker_per_s")
			b.ReportMetric(opus, "opus_bytes_per_s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// measureCells has a speaker talk without pause for window at preset p to
// one listener and returns the relay cells per second the speaker's circuit
// sent, the onion service sent on the listener's circuit, and the onion
// service sent in all. tor reports a circuit's cells once a second, and
// its first report after counting starts holds every cell since the
// circuit was built (the TLS handshake and the server's state for both
// clients), so counting starts from the counts once they have settled, and
// ends when tor has reported the last cells of the talk: the counts are
// read when they have stopped growing for two reporting periods. The
// listener's circuit is the onion service's circuit that sent the most
// cells during the talk (it carries the voice; the speaker's carries only
// replies and flow control back, and earlier clients' circuits are idle).
func measureCells(b *testing.B, w *torWorld, p cellPreset, i int, window time.Duration) (up, down, all float64) {
	ctx, cancel := context.WithTimeout(b.Context(), 3*time.Minute)
	defer cancel()
	ear := dialOnionClient(ctx, b, w, fmt.Sprintf("cellear%s%d", p.name, i))
	defer ear.Close()
	sub := ear.SubscribeVoice()
	defer sub.Close()
	mouthName := fmt.Sprintf("cellmouth%s%d", p.name, i)
	mouth := dialOnionClient(ctx, b, w, mouthName)
	defer mouth.Close()
	cc, err := w.net.CountCells(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	up0, onion0 := settledCells(ctx, b, cc, mouthName)
	payload := make([]byte, p.bytes)
	for j := range payload {
		payload[j] = byte(j + 1)
	}
	received, sent := 0, 0
	tick := time.NewTicker(time.Duration(p.frames) * jitter.FrameDuration)
	t0 := time.Now()
	for now := range tick.C {
		if now.Sub(t0) >= window {
			break
		}
		if err := mouth.SendVoice(ctx, mumble.OutgoingVoice{Opus: payload, Frames: p.frames}); err != nil {
			b.Fatal(err)
		}
		sent++
	drain:
		for {
			select {
			case <-sub.C:
				received++
			default:
				break drain
			}
		}
	}
	talked := time.Since(t0)
	tick.Stop()
	up1, onion1 := settledCells(ctx, b, cc, mouthName)
	if cc.Events() == 0 {
		b.Fatal("no CELL_STATS event: tor did not report cell statistics")
	}
	if received == 0 {
		b.Fatal("the listener received no voice")
	}
	listener, total := 0, 0
	var circuits []string
	for id, n := range onion1 {
		d := n - onion0[id]
		total += d
		listener = max(listener, d)
		if d > 0 {
			circuits = append(circuits, fmt.Sprintf("%s:%d", id, d))
		}
	}
	b.Logf("%s: cells the onion service sent by circuit %v", p.name, circuits)
	sec := talked.Seconds()
	b.Logf("%s: %d packets sent (%.2f/s); cells: speaker %d, onion service to the listener %d, to others %d, over %.1f s",
		p.name, sent, float64(sent)/sec, up1-up0, listener, total-listener, sec)
	return float64(up1-up0) / sec, float64(listener) / sec, float64(total) / sec
}

// settledCells waits until cc's counts of the relay cells user's circuits
// and the onion service sent have not grown for two of tor's reporting
// periods (one second each) and returns them, the onion service's by
// circuit. The pings both clients send every 5 s can be counted on either
// side of a reading, a cell or two.
func settledCells(ctx context.Context, b *testing.B, cc *tornet.CellCounter, user string) (up int, onion map[string]int) {
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	last, stable := -1, 0
	for stable < 2 {
		select {
		case <-sec.C:
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
		c, err := cc.ClientSent(ctx, user)
		if err != nil {
			b.Fatal(err)
		}
		up, onion = c, cc.OnionSentByCircuit()
		n := up
		for _, v := range onion {
			n += v
		}
		if n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	return up, onion
}

// dialOnionClient connects user to w's onion server through the network's
// client tor (its own circuit: the SOCKS username is user).
func dialOnionClient(ctx context.Context, tb testing.TB, w *torWorld, user string) *mumble.Client {
	tb.Helper()
	c, err := mumble.Dial(ctx, fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port), &mumble.Config{
		Username:       user,
		ConnectTimeout: 2 * time.Minute,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return w.net.DialOnion(ctx, user, w.onion)
		},
	})
	if err != nil {
		tb.Fatalf("%s: %v", user, err)
	}
	tb.Cleanup(func() { c.Close() })
	ch, ok := c.ChannelByPath("Root/Lab")
	if !ok {
		tb.Fatal("no channel Root/Lab")
	}
	if err := c.Join(ctx, ch.ID); err != nil {
		tb.Fatalf("%s: join: %v", user, err)
	}
	return c
}
