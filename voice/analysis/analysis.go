// Package analysis measures 16-bit PCM signals: level (RMS, peak, dBFS),
// dominant frequency, tone power, delay between two signals and
// signal-to-noise ratio. Tests and tools use it to check what the voice
// pipeline did to a signal; it has no cgo and no state.
package analysis

import (
	"math"
	"math/cmplx"
)

// FullScale is the amplitude that 0 dBFS refers to.
const FullScale = 32768.0

// SilenceDBFS is the level reported for digital silence.
const SilenceDBFS = -140.0

// RMS returns the root mean square of pcm relative to full scale (1.0 is a
// full-scale square wave). It returns 0 for an empty slice.
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum/float64(len(pcm))) / FullScale
}

// DBFS returns the RMS level of pcm in dB relative to full scale, at least
// SilenceDBFS. A full-scale sine measures -3 dBFS.
func DBFS(pcm []int16) float64 { return ToDB(RMS(pcm)) }

// PeakDBFS returns the level of the largest absolute sample of pcm in dB
// relative to full scale, at least SilenceDBFS.
func PeakDBFS(pcm []int16) float64 {
	peak := 0
	for _, s := range pcm {
		v := int(s)
		if v < 0 {
			v = -v
		}
		if v > peak {
			peak = v
		}
	}
	return ToDB(float64(peak) / FullScale)
}

// ToDB converts an amplitude ratio to dB, at least SilenceDBFS.
func ToDB(ratio float64) float64 {
	if ratio <= 0 {
		return SilenceDBFS
	}
	return math.Max(20*math.Log10(ratio), SilenceDBFS)
}

// Energy returns the sum of squares of pcm, in full-scale units.
func Energy(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		v := float64(s) / FullScale
		sum += v * v
	}
	return sum
}

// GoertzelPower returns the power of pcm at freq Hz (sample rate rate), as
// the mean square amplitude of that component relative to full scale: a
// full-scale sine at freq gives about 0.5.
func GoertzelPower(pcm []int16, rate, freq float64) float64 {
	n := len(pcm)
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / rate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s := float64(x)/FullScale + coeff*s1 - s2
		s2, s1 = s1, s
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	amp := 2 * math.Sqrt(re*re+im*im) / float64(n)
	return amp * amp / 2
}

// DominantFrequency returns the frequency in Hz of the strongest spectral
// peak of pcm sampled at rate Hz, or 0 if pcm is silent or shorter than 64
// samples. It analyses the middle of pcm (up to 16384 samples) with a Hann
// window and interpolates between FFT bins, so a steady tone is measured to
// within a fraction of a hertz.
func DominantFrequency(pcm []int16, rate float64) float64 {
	n := 1
	for n*2 <= len(pcm) && n < 16384 {
		n *= 2
	}
	if n < 64 {
		return 0
	}
	start := (len(pcm) - n) / 2
	x := make([]complex128, n)
	for i := 0; i < n; i++ {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		x[i] = complex(w*float64(pcm[start+i]), 0)
	}
	fft(x)
	best, bestMag := 0, 0.0
	mag := make([]float64, n/2)
	for k := 1; k < n/2; k++ {
		mag[k] = cmplx.Abs(x[k])
		if mag[k] > bestMag {
			best, bestMag = k, mag[k]
		}
	}
	if bestMag == 0 {
		return 0
	}
	delta := 0.0
	if best > 1 && best < n/2-1 {
		// Parabolic interpolation on log magnitudes (Gaussian fit).
		a, b, c := math.Log(mag[best-1]+1e-12), math.Log(mag[best]), math.Log(mag[best+1]+1e-12)
		if d := a - 2*b + c; d != 0 {
			delta = 0.5 * (a - c) / d
		}
	}
	return (float64(best) + delta) * rate / float64(n)
}

// fft computes an in-place radix-2 FFT; len(x) must be a power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u, v := x[start+k], x[start+k+size/2]*w
				x[start+k], x[start+k+size/2] = u+v, u-v
				w *= step
			}
		}
	}
}

// Delay returns the lag in samples, between 0 and maxLag, at which test
// best matches ref (test[i+lag] ~ ref[i]), by normalised cross-correlation,
// and that correlation (1 means identical shape).
func Delay(ref, test []int16, maxLag int) (lag int, corr float64) {
	best, bestCorr := 0, math.Inf(-1)
	for l := 0; l <= maxLag; l++ {
		n := min(len(ref), len(test)-l)
		if n <= 0 {
			break
		}
		var xy, xx, yy float64
		for i := 0; i < n; i++ {
			a, b := float64(ref[i]), float64(test[i+l])
			xy += a * b
			xx += a * a
			yy += b * b
		}
		if xx == 0 || yy == 0 {
			continue
		}
		if c := xy / math.Sqrt(xx*yy); c > bestCorr {
			best, bestCorr = l, c
		}
	}
	if math.IsInf(bestCorr, -1) {
		return 0, 0
	}
	return best, bestCorr
}

// SNR returns the ratio in dB of the energy of ref to the energy of
// test - ref over their common length: how closely test reproduces ref.
// Align the signals first (see Delay).
func SNR(ref, test []int16) float64 {
	n := min(len(ref), len(test))
	var sig, noise float64
	for i := 0; i < n; i++ {
		a := float64(ref[i])
		d := float64(test[i]) - a
		sig += a * a
		noise += d * d
	}
	if noise == 0 {
		return math.Inf(1)
	}
	if sig == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sig/noise)
}

// Sine returns n samples of a sine of freq Hz at rate Hz with the given
// peak amplitude relative to full scale (0..1).
func Sine(n int, rate, freq, amplitude float64) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = Clip(amplitude * 32767 * math.Sin(2*math.Pi*freq*float64(i)/rate))
	}
	return pcm
}

// Clip rounds v to the nearest int16, saturating at the limits.
func Clip(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}
