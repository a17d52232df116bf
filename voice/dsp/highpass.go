package dsp

import (
	"fmt"
	"math"
)

// HighPass is a 4th-order Butterworth high-pass filter for 16-bit audio.
// Voice has nothing below about 80 Hz, while rumble, hum, handling noise
// and pink noise carry much of their energy there, where speexdsp's noise
// suppression does little. The zero value passes audio unchanged.
type HighPass struct {
	stages [2]biquad
	on     bool
}

type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

// NewHighPass returns a filter with the given cutoff at sampleRate Hz.
func NewHighPass(cutoffHz float64, sampleRate int) (*HighPass, error) {
	if !(cutoffHz > 0) || cutoffHz >= float64(sampleRate)/2 {
		return nil, fmt.Errorf("dsp: high-pass cutoff %.1f Hz, want 0 to %d", cutoffHz, sampleRate/2)
	}
	h := &HighPass{on: true}
	// A 4th-order Butterworth is two biquads with these Qs.
	for i, q := range []float64{0.54119610, 1.3065630} {
		w := 2 * math.Pi * cutoffHz / float64(sampleRate)
		cos, alpha := math.Cos(w), math.Sin(w)/(2*q)
		a0 := 1 + alpha
		h.stages[i] = biquad{
			b0: (1 + cos) / 2 / a0,
			b1: -(1 + cos) / a0,
			b2: (1 + cos) / 2 / a0,
			a1: -2 * cos / a0,
			a2: (1 - alpha) / a0,
		}
	}
	return h, nil
}

// Process filters pcm in place.
func (h *HighPass) Process(pcm []int16) {
	if h == nil || !h.on {
		return
	}
	s0, s1 := &h.stages[0], &h.stages[1]
	for i, v := range pcm {
		x := float64(v)
		y := s0.b0*x + s0.b1*s0.x1 + s0.b2*s0.x2 - s0.a1*s0.y1 - s0.a2*s0.y2
		s0.x2, s0.x1, s0.y2, s0.y1 = s0.x1, x, s0.y1, y
		z := s1.b0*y + s1.b1*s1.x1 + s1.b2*s1.x2 - s1.a1*s1.y1 - s1.a2*s1.y2
		s1.x2, s1.x1, s1.y2, s1.y1 = s1.x1, y, s1.y1, z
		switch {
		case z > math.MaxInt16:
			pcm[i] = math.MaxInt16
		case z < math.MinInt16:
			pcm[i] = math.MinInt16
		default:
			pcm[i] = int16(math.Round(z))
		}
	}
	// Flush denormals after long silence.
	for _, s := range []*biquad{s0, s1} {
		if math.Abs(s.y1) < 1e-20 && math.Abs(s.y2) < 1e-20 {
			s.y1, s.y2 = 0, 0
		}
	}
}

// Reset clears the filter's memory.
func (h *HighPass) Reset() {
	for i := range h.stages {
		s := &h.stages[i]
		s.x1, s.x2, s.y1, s.y2 = 0, 0, 0, 0
	}
}
