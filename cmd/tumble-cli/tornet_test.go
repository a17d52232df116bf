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
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("tornet logs:\n%s", w.net.Logs())
			}
			w.close()
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
// jitter, a bandwidth cap and stalls).
func TestEmbeddedTorDelayedNetworkVoice(t *testing.T) {
	w := startDelayedWorld(t, "typical")
	voiceAndTextOverTor(t, w)
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
// voice/jitter/testdata/tor_PROFILE.trace. It runs only when
// TUMBLE_RECORD_TRACES=1 (a private network per profile and two minutes of
// talk each).
func TestRecordTorTraces(t *testing.T) {
	if os.Getenv("TUMBLE_RECORD_TRACES") != "1" {
		t.Skip("set TUMBLE_RECORD_TRACES=1 to record voice/jitter/testdata/tor_*.trace")
	}
	for _, profile := range []string{"fast", "typical", "bad"} {
		t.Run(profile, func(t *testing.T) {
			w := startDelayedWorld(t, profile)
			tr := recordTrace(t, w, traceLength, 1)
			tr.Name = "tor_" + profile
			p, _ := w.net.Profile()
			path := filepath.Join(traceDir, tr.Name+".trace")
			f, err := os.CreateTemp(traceDir, ".trace-*")
			if err != nil {
				t.Fatal(err)
			}
			defer os.Remove(f.Name())
			err = jitter.WriteTrace(f, tr,
				fmt.Sprintf("recorded by cmd/tumble-cli TestRecordTorTraces on %s", time.Now().UTC().Format(time.DateOnly)),
				fmt.Sprintf("network profile %q: %+v", p.Name, p),
				"sender and listener: Tumble's mumble client through the private Tor network's client tor to an onion Mumble 1.5 server",
				"talk: spurts of 4 s and pauses of 1.5 s on average, 20 ms packets, times in us on one clock")
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

// recordTrace has a speaker talk for d through w's onion server and
// returns the packets as the listener received them, with send and
// arrival times on the test's clock. Talk spurts and pauses follow
// jitter.Conversation's means, drawn with seed.
func recordTrace(t *testing.T, w *torWorld, d time.Duration, seed uint64) jitter.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d+3*time.Minute)
	defer cancel()
	dial := func(user string) *mumble.Client {
		c, err := mumble.Dial(ctx, fmt.Sprintf("%s:%d", w.onion.Address, w.onion.Port), &mumble.Config{
			Username:       user,
			ConnectTimeout: 2 * time.Minute,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return w.net.DialOnion(ctx, user, w.onion)
			},
		})
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		t.Cleanup(func() { c.Close() })
		ch, ok := c.ChannelByPath("Root/Lab")
		if !ok {
			t.Fatal("no channel Root/Lab")
		}
		if err := c.Join(ctx, ch.ID); err != nil {
			t.Fatalf("%s: join: %v", user, err)
		}
		return c
	}
	ear := dial("ear")
	sub := ear.SubscribeVoice()
	defer sub.Close()
	mouth := dial("mouth")

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
		payload := make([]byte, 64)
		for now := range tick.C {
			if now.Sub(t0) >= d {
				done <- nil
				return
			}
			if now.After(spurtEnd) {
				continue // in a pause
			}
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
