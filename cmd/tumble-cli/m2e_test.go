package main

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
)

// The side-by-side measurement: a click train with uneven gaps (so the
// cross-correlation of the sent and heard envelopes has one peak, even when
// the latency is longer than a gap) goes mouth -> onion Mumble server ->
// ear, once between two tumble-cli and once between two official Mumble
// 1.3.4 clients (Debian's mumble, headless under Xvfb, sound through a
// private PulseAudio server, reaching the onion through torsocks and the
// private network's client tor).
const (
	m2eClicks   = 24
	m2eClickLen = 40 * time.Millisecond
	m2eLead     = 500 * time.Millisecond
	m2eMaxDelay = 5 * time.Second // longest mouth-to-ear delay searched
)

// m2eGap is the silence after click i: 300 to 540 ms, in an order that
// does not repeat within the train.
func m2eGap(i int) time.Duration {
	return time.Duration(300+60*((i*7+3)%5)) * time.Millisecond
}

// m2eTrain returns the click train (1 kHz bursts) as 48 kHz samples.
func m2eTrain() []int16 {
	var pcm []int16
	pcm = append(pcm, make([]int16, int(m2eLead.Seconds()*48000))...)
	for i := range m2eClicks {
		for j := range int(m2eClickLen.Seconds() * 48000) {
			pcm = append(pcm, int16(0.4*32767*math.Sin(2*math.Pi*1000*float64(j)/48000)))
		}
		pcm = append(pcm, make([]int16, int(m2eGap(i).Seconds()*48000))...)
	}
	return pcm
}

// envelope marks each 1 ms block of pcm that holds sound (above -30 dBFS).
func envelope(pcm []int16) []bool {
	const block = 48
	env := make([]bool, len(pcm)/block)
	for i := range env {
		env[i] = analysis.DBFS(pcm[i*block:(i+1)*block]) > -30
	}
	return env
}

// onsetsMs returns the onsets of pcm in ms, plus offset.
func onsetsMs(pcm []int16, offset int) []int {
	var ms []int
	for _, o := range findOnsets(pcm) {
		ms = append(ms, o/48+offset)
	}
	return ms
}

// m2eResult is one mouth-to-ear measurement.
type m2eResult struct {
	delay       time.Duration   // mouth to ear: the median over the clicks heard
	delays      []time.Duration // per click heard
	lostPct     float64         // clicks of the train the ear did not play
	heardOnsets []int           // ms on the mouth's clock
}

// m2eWindow is how far a click may be heard from the train's overall
// delay and still count as that click.
const m2eWindow = 150 * time.Millisecond

// crossCorrelate finds the mouth-to-ear delay of a recording: sent is the
// sound captured at the mouth, starting at sentAt; heard is what the ear
// played, starting at heardAt (both on the test's clock). The train's
// overall delay is the one in [0, m2eMaxDelay) at which the 1 ms envelopes
// overlap most (the heard one widened by m2eWindow/2 each way, so that
// jitter does not split the peak); each sent click is then matched to the
// heard onset nearest to it plus that delay, within m2eWindow.
func crossCorrelate(sent []int16, sentAt time.Time, heard []int16, heardAt time.Time) (m2eResult, error) {
	s, h := envelope(sent), envelope(heard)
	offset := int(heardAt.Sub(sentAt) / time.Millisecond) // heard block j is at sent-clock ms j+offset
	wide := make([]bool, len(h))
	spread := int(m2eWindow/time.Millisecond) / 2
	for j, b := range h {
		if b {
			for k := max(0, j-spread); k < min(len(h), j+spread+1); k++ {
				wide[k] = true
			}
		}
	}
	on := 0
	for _, b := range s {
		if b {
			on++
		}
	}
	if on == 0 {
		return m2eResult{}, fmt.Errorf("the mouth captured no sound")
	}
	best, bestScore := -1, 0
	for d := range int(m2eMaxDelay / time.Millisecond) {
		score := 0
		for i, b := range s {
			// Sent ms i is heard at block i + d - offset.
			if j := i + d - offset; b && j >= 0 && j < len(wide) && wide[j] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	sentOn, heardOn := onsetsMs(sent, 0), onsetsMs(heard, offset)
	if best < 0 || bestScore < on/10 {
		return m2eResult{}, fmt.Errorf("the ear heard %d of %d sounding ms of the train at any delay (sent onsets %v ms, heard onsets %v ms on the sent clock)",
			bestScore, on, sentOn, heardOn)
	}
	r := m2eResult{heardOnsets: heardOn}
	used := make([]bool, len(heardOn))
	for _, so := range sentOn {
		k := -1
		for j, ho := range heardOn {
			dist := ho - so - best
			if !used[j] && abs(dist) <= int(m2eWindow/time.Millisecond) && (k < 0 || abs(dist) < abs(heardOn[k]-so-best)) {
				k = j
			}
		}
		if k >= 0 {
			used[k] = true
			r.delays = append(r.delays, time.Duration(heardOn[k]-so)*time.Millisecond)
		}
	}
	if len(r.delays) == 0 {
		return m2eResult{}, fmt.Errorf("no click heard within %v of the delay %d ms (sent onsets %v, heard %v)", m2eWindow, best, sentOn, heardOn)
	}
	r.delay = median(r.delays)
	r.lostPct = 100 * float64(len(sentOn)-len(r.delays)) / float64(len(sentOn))
	return r, nil
}

func abs(x int) int { return max(x, -x) }

// TestCrossCorrelate checks the mouth-to-ear analysis on a synthetic
// recording: the train delayed by 900 ms (longer than any gap), each click
// jittered by up to 40 ms, two clicks missing, and the recording's clock
// starting 300 ms after the mouth's.
func TestCrossCorrelate(t *testing.T) {
	train := m2eTrain()
	sentAt := time.Unix(1000, 0)
	heardAt := sentAt.Add(300 * time.Millisecond)
	heard := make([]int16, len(train)+3*48000)
	onsets := findOnsets(train)
	if len(onsets) != m2eClicks {
		t.Fatalf("train has %d onsets, want %d", len(onsets), m2eClicks)
	}
	click := int(m2eClickLen.Seconds() * 48000)
	for i, o := range onsets {
		if i == 5 || i == 17 {
			continue
		}
		jit := (i%5 - 2) * 20 * 48 // -40 to +40 ms
		at := o + 900*48 - 300*48 + jit
		copy(heard[at:at+click], train[o:o+click])
	}
	r, err := crossCorrelate(train, sentAt, heard, heardAt)
	if err != nil {
		t.Fatal(err)
	}
	if r.delay < 880*time.Millisecond || r.delay > 920*time.Millisecond {
		t.Errorf("delay %v, want 900 ms +- 20 (per click %v)", r.delay, r.delays)
	}
	if want := 100 * 2.0 / m2eClicks; math.Abs(r.lostPct-want) > 0.01 {
		t.Errorf("lost %.2f%% of the clicks, want %.2f%%", r.lostPct, want)
	}
	if _, err := crossCorrelate(train, sentAt, make([]int16, len(heard)), heardAt); err == nil {
		t.Error("silence at the ear: no error")
	}
}
