// Package mix sums speaker streams into one playback signal: 16-bit PCM in,
// 32-bit accumulation, per-stream gain, a master gain and a soft limiter
// so that loud overlaps bend instead of wrapping or clipping hard.
//
// A Mixer is used once per playback period: Begin, then Add for every
// stream that should be heard, then End to write the result. It allocates
// only when a period is longer than any before it.
package mix

import (
	"errors"
	"fmt"
	"math"
)

// Gains are applied in Q12 fixed point: 4096 is unity.
const (
	gainShift = 12
	unity     = 1 << gainShift
)

// MaxGain is the largest gain accepted, per stream and for the master
// (+18 dB). A full-scale stream at MaxGain adds 2^18 to the 32-bit
// accumulator, so thousands of streams cannot overflow it.
const MaxGain = 8.0

// Limiter knee: samples below it pass unchanged; above it they are bent
// smoothly towards full scale, which they never reach.
const (
	knee     = 24576 // 0.75 of full scale, -2.5 dBFS
	headroom = math.MaxInt16 - knee
)

// ErrLength reports a stream whose length is not the period's.
var ErrLength = errors.New("mix: stream length differs from the period")

// DB converts decibels to a linear gain (0 dB is 1.0).
func DB(db float64) float64 { return math.Pow(10, db/20) }

// ToDB converts a linear gain to decibels; 0 gives -Inf.
func ToDB(g float64) float64 { return 20 * math.Log10(g) }

// q12 converts a linear gain to Q12, clamped to [0, MaxGain]; NaN is 0.
func q12(g float64) int32 {
	if !(g > 0) {
		return 0
	}
	return int32(math.Round(min(g, MaxGain) * unity))
}

// A Mixer sums streams of int16 samples. The zero value is ready to use
// with unity master gain. It is not safe for concurrent use.
type Mixer struct {
	acc     []int32
	n       int
	master  int32
	set     bool
	streams int
	limited uint64
}

// New returns a Mixer with room for periods of up to samples samples.
func New(samples int) *Mixer {
	return &Mixer{acc: make([]int32, max(samples, 0))}
}

// SetMaster sets the gain applied to the sum (linear, 0..MaxGain; values
// outside are clamped, NaN is 0). The zero Mixer starts at 1.
func (m *Mixer) SetMaster(g float64) {
	m.master = q12(g)
	m.set = true
}

// Master returns the master gain.
func (m *Mixer) Master() float64 {
	if !m.set {
		return 1
	}
	return float64(m.master) / unity
}

// Limited returns how many output samples so far were above the limiter's
// knee and bent towards full scale.
func (m *Mixer) Limited() uint64 { return m.limited }

// Begin starts a period of n samples with silence.
func (m *Mixer) Begin(n int) {
	n = max(n, 0)
	if cap(m.acc) < n {
		m.acc = make([]int32, n)
	}
	m.acc = m.acc[:n]
	clear(m.acc)
	m.n = n
	m.streams = 0
}

// Add adds one stream at gain g (linear; 0 or less skips the stream, above
// MaxGain is clamped). The stream must be exactly one period long.
func (m *Mixer) Add(pcm []int16, g float64) error {
	if len(pcm) != m.n {
		return fmt.Errorf("%w: %d samples, period %d", ErrLength, len(pcm), m.n)
	}
	q := q12(g)
	if q == 0 {
		return nil
	}
	m.streams++
	acc := m.acc[:len(pcm)]
	if q == unity {
		for i, s := range pcm {
			acc[i] += int32(s)
		}
		return nil
	}
	for i, s := range pcm {
		acc[i] += (int32(s)*q + unity/2) >> gainShift
	}
	return nil
}

// Streams returns the number of streams added since Begin.
func (m *Mixer) Streams() int { return m.streams }

// End applies the master gain and the limiter and writes the period to
// out, which must be exactly one period long.
func (m *Mixer) End(out []int16) error {
	if len(out) != m.n {
		return fmt.Errorf("%w: output of %d samples, period %d", ErrLength, len(out), m.n)
	}
	master := int64(unity)
	if m.set {
		master = int64(m.master)
	}
	acc := m.acc[:len(out)]
	for i, a := range acc {
		v := (int64(a)*master + unity/2) >> gainShift
		out[i] = m.limit(v)
	}
	return nil
}

// limit passes |v| <= knee unchanged and maps larger magnitudes d above
// the knee to knee + headroom*d/(d+headroom): continuous, with slope 1 at
// the knee, approaching but never reaching full scale.
func (m *Mixer) limit(v int64) int16 {
	switch {
	case v > knee:
		m.limited++
		d := v - knee
		return int16(knee + headroom*d/(d+headroom))
	case v < -knee:
		m.limited++
		d := -v - knee
		return int16(-knee - headroom*d/(d+headroom))
	}
	return int16(v)
}
