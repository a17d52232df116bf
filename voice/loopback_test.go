//go:build cgo

package voice

import (
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/wav"
)

// levelLog records a Call's OnLevel reports and signals when it holds
// want of them.
type levelLog struct {
	mu       sync.Mutex
	levels   []float64
	transmit []bool
	want     int
	full     chan struct{}
}

func (l *levelLog) add(level float64, transmit bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.levels = append(l.levels, level)
	l.transmit = append(l.transmit, transmit)
	if len(l.levels) == l.want {
		close(l.full)
	}
}

// quietLoudWAV writes quiet (low noise at about -80 dBFS) for quiet, a
// 440 Hz tone at -13 dBFS RMS for loud, then quiet again for after, and
// returns the file.
func quietLoudWAV(t *testing.T, quiet, loud, after time.Duration) string {
	t.Helper()
	n := func(d time.Duration) int { return int(d.Seconds() * 48000) }
	pcm := make([]int16, 0, n(quiet)+n(loud)+n(after))
	noise := func(k int) {
		for i := 0; i < k; i++ {
			pcm = append(pcm, int16((i*7919)%7-3)) // about -80 dBFS
		}
	}
	noise(n(quiet))
	pcm = append(pcm, analysis.Sine(n(loud), 48000, 440, 0.3)...)
	noise(n(after))
	path := filepath.Join(t.TempDir(), "quietloud.wav")
	if err := wav.WriteFile(path, pcm); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCallLevelsAndLoopback: a Call in loopback on WAV file devices with
// the default send path reports the input level per frame (low in the
// quiet sections, high in the loud one, Mumble's amplitude scale), the
// gate transmits only in the loud section, and what it would send comes
// back through the Opus decoder, the jitter buffer and the mix into the
// output file as the 440 Hz tone, without any OnPacket.
func TestCallLevelsAndLoopback(t *testing.T) {
	// After the tone: the voice hold, and the echo canceller's tail while
	// the loopback still plays the tone (its reference), longer when a
	// loaded machine makes the jitter buffer deeper.
	const quiet, loud, after = time.Second, 1500 * time.Millisecond, 3 * time.Second
	frames := int((quiet + loud + after) / (10 * time.Millisecond))
	levels := &levelLog{want: frames, full: make(chan struct{})}
	out := filepath.Join(t.TempDir(), "out.wav")
	send := DefaultSendConfig() // the real path: AEC, NS, AGC, VAD 30 %/50 %, Opus
	c, err := NewCall(CallConfig{
		Devices:    FileDevices,
		InputFile:  quietLoudWAV(t, quiet, loud, after),
		OutputFile: out,
		Send:       send,
		Volume:     1,
		Loopback:   true,
		OnLevel:    levels.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("description: %s", c.Description())
	waitEvent(t, c.Events(), TransmitStart, 0)
	waitEvent(t, c.Events(), TalkStart, LoopbackSpeaker)
	select {
	case <-levels.full:
	case <-time.After(30 * time.Second):
		t.Fatalf("the capture device reported %d of %d frames in 30 s", len(levels.levels), frames)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	levels.mu.Lock()
	lv, tx := levels.levels[:frames], levels.transmit[:frames]
	levels.mu.Unlock()
	q, l := int(quiet/(10*time.Millisecond)), int(loud/(10*time.Millisecond))
	for i := 5; i < q; i++ { // the first frames settle the preprocessor
		if lv[i] >= send.SilenceBelow || tx[i] {
			t.Fatalf("quiet frame %d: level %.2f transmit %v, want below %.2f and no transmission", i, lv[i], tx[i], send.SilenceBelow)
		}
	}
	for i := q + 5; i < q+l; i++ {
		if lv[i] <= send.SpeechAbove || !tx[i] {
			t.Fatalf("loud frame %d: level %.2f transmit %v, want above %.2f and transmitting", i, lv[i], tx[i], send.SpeechAbove)
		}
	}
	// After the tone and the voice hold (500 ms) the gate closes again.
	closed := -1
	for i := q + l; i < frames; i++ {
		if !tx[i] {
			closed = i
			break
		}
	}
	if closed < 0 {
		t.Fatalf("still transmitting %d frames after the tone: levels %.2f", frames-q-l, lv[q+l:])
	}
	for i := closed; i < frames; i++ {
		if tx[i] || lv[i] >= send.SilenceBelow {
			t.Fatalf("frame %d, after the gate closed: level %.2f transmit %v", i, lv[i], tx[i])
		}
	}
	t.Logf("gate closed %d ms after the tone", (closed-q-l)*10)
	t.Logf("levels: quiet %.2f, loud %.2f", lv[q/2], lv[q+l/2])

	played, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The loudest 500 ms of the output is the tone.
	win := 24000
	best, bestE := 0, 0.0
	for i := 0; i+win <= len(played); i += 480 {
		if e := analysis.Energy(played[i : i+win]); e > bestE {
			best, bestE = i, e
		}
	}
	seg := played[best : best+min(win, len(played)-best)]
	f := analysis.DominantFrequency(seg, 48000)
	level := analysis.DBFS(seg)
	t.Logf("loopback output: %.1f Hz at %.1f dBFS (at %.2f s of %.2f s)", f, level, float64(best)/48000, float64(len(played))/48000)
	if math.Abs(f-440) > 5 || level < -30 {
		t.Fatalf("loopback output %.1f Hz at %.1f dBFS, want the 440 Hz tone above -30 dBFS", f, level)
	}
	// The first quiet section is not played back: nothing was sent.
	if head := played[:min(len(played), 48000*8/10)]; analysis.DBFS(head) > -60 {
		t.Fatalf("the first 800 ms of the output are at %.1f dBFS, want silence", analysis.DBFS(head))
	}
}
