package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/codec"
)

// TestRecorderLateSpeakerUnknownSessionAndLimit: a speaker first heard
// after an hour costs no disk space for the hour of silence; voice from
// sessions the server never announced is not recorded; the size limit
// stops recording with a clear error.
func TestRecorderLateSpeakerUnknownSessionAndLimit(t *testing.T) {
	dir := t.TempDir()
	names := func(s uint32) string {
		if s == 1 {
			return "alice"
		}
		return "" // unknown
	}
	r, err := newRecorder(dir, names, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	hour := int64(3600 * 48000)
	frame := make([]int16, 480)
	for i := range frame {
		frame[i] = 1000
	}
	r.record(1, hour, frame)
	for s := uint32(2); s < 52; s++ { // 50 fresh session IDs
		r.record(s, hour, frame)
	}
	select {
	case <-r.Failed():
		t.Fatalf("failed early: %v", r.Err())
	default:
	}
	for i := int64(1); i < 1200; i++ { // 960-byte frames past 1 MiB
		r.record(1, hour+480*i, frame)
	}
	select {
	case <-r.Failed():
	default:
		t.Fatal("no error past --record-max")
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "--record-max (1 MB)") {
		t.Errorf("error %v, want one naming --record-max", err)
	}
	if cerr := r.Close(); cerr == nil {
		t.Error("Close returned no error after the limit")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "alice.wav" {
		t.Errorf("files %v, want only alice.wav", entries)
	}
	fi, err := os.Stat(filepath.Join(dir, "alice.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 2*hour {
		t.Errorf("alice.wav is %d bytes, shorter than the hour before her", fi.Size())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 4<<20 {
		t.Errorf("alice.wav uses %d MB on disk for 1 MB of voice", st.Blocks*512>>20)
	}
}

// TestRecorderClockStopsWhenIdle drives the recorder's playback clock with
// a fake ticker: it ticks while a talk spurt plays, stops ticking once the
// receiver is idle, starts again on the next packet, and the recording
// still maps sample positions to wall-clock time across the pause. It runs
// twice: with the clock waiting when the first packet comes, and with the
// packets there before the clock first looks (a race that once placed the
// audio early: the silent periods were mixed instead of skipped).
func TestRecorderClockStopsWhenIdle(t *testing.T) {
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprintf("packets-first=%v", early), func(t *testing.T) { recorderClockStopsWhenIdle(t, early) })
	}
}

func recorderClockStopsWhenIdle(t *testing.T, packetsFirst bool) {
	origin := time.Unix(1000, 0)
	var mu sync.Mutex
	now := origin
	setNow := func(at time.Time) {
		mu.Lock()
		now = at
		mu.Unlock()
	}
	tickers := make(chan chan time.Time)
	stopped := make(chan struct{}, 4)
	newTicker := func(d time.Duration) (<-chan time.Time, func()) {
		if d != playbackPeriod {
			t.Errorf("ticker period %v", d)
		}
		c := make(chan time.Time)
		tickers <- c
		return c, func() { stopped <- struct{}{} }
	}
	dir := t.TempDir()
	r, err := newRecorderClock(dir, func(uint32) string { return "tone" }, 1<<30,
		func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, newTicker)
	if err != nil {
		t.Fatal(err)
	}
	clockStarted := false
	startClock := func() {
		if !clockStarted {
			clockStarted = true
			go r.clock()
		}
	}
	if !packetsFirst {
		startClock()
	}

	// spurt hands a 200 ms tone to the recorder at `at` and plays it:
	// ticks until the clock stops its ticker, which must happen soon
	// after the tone's end.
	spurt := func(at time.Time) {
		t.Helper()
		setNow(at)
		for i, p := range toneTalk(t) {
			if err := r.packet(&mumble.VoicePacket{Session: 7, Sequence: uint64(2 * i), Opus: p, Terminator: i == 9}); err != nil {
				t.Fatal(err)
			}
		}
		startClock()
		c := <-tickers // the packet woke the clock
		for k := 1; ; k++ {
			if k > 50 {
				t.Fatal("clock still ticking 500 ms after the talk started")
			}
			tick := at.Add(time.Duration(k) * playbackPeriod)
			setNow(tick)
			select {
			case c <- tick:
				continue
			case <-stopped:
			}
			break
		}
		if k := len(tickers); k != 0 {
			t.Fatalf("%d tickers started while idle", k)
		}
	}
	spurt(origin.Add(time.Second))
	spurt(origin.Add(5 * time.Second))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	pcm := readWAV(t, filepath.Join(dir, "tone.wav"))
	loud := func(from, to time.Duration) float64 {
		a, b := int(from.Seconds()*48000), min(len(pcm), int(to.Seconds()*48000))
		if a >= b {
			return math.Inf(-1)
		}
		return analysis.DBFS(pcm[a:b])
	}
	// Each tone lasts 200 ms and plays 20-50 ms after its packets came.
	for _, start := range []time.Duration{time.Second, 5 * time.Second} {
		if l := loud(start+60*time.Millisecond, start+200*time.Millisecond); l < -20 {
			t.Errorf("tone at %v: %.1f dBFS, want it played", start, l)
		}
		if l := loud(start-500*time.Millisecond, start); l > -80 {
			t.Errorf("before the tone at %v: %.1f dBFS, want silence", start, l)
		}
	}
	if l := loud(1500*time.Millisecond, 4900*time.Millisecond); l > -80 {
		t.Errorf("between the tones: %.1f dBFS, want silence", l)
	}
}

// toneTalk is a 200 ms 440 Hz tone as ten 20 ms Opus packets.
func toneTalk(t *testing.T) [][]byte {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 5})
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	pcm := make([]int16, 960)
	buf := make([]byte, codec.MaxPacketBytes)
	for i := range 10 {
		for j := range pcm {
			pcm[j] = int16(0.3 * 32767 * math.Sin(2*math.Pi*440*float64(i*960+j)/48000))
		}
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	return pkts
}
