package speechtest

import (
	"math"
	"math/rand/v2"

	"github.com/tumble-voip/tumble/voice/analysis"
)

// Noise returns n samples of Gaussian noise at an RMS level of levelDBFS,
// white or pink (-3 dB per octave, Paul Kellett's filter), from seed.
func Noise(n int, levelDBFS float64, pink bool, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]float64, n)
	var b0, b1, b2, b3, b4, b5, b6 float64
	for i := range x {
		w := r.NormFloat64()
		if !pink {
			x[i] = w
			continue
		}
		b0 = 0.99886*b0 + w*0.0555179
		b1 = 0.99332*b1 + w*0.0750759
		b2 = 0.96900*b2 + w*0.1538520
		b3 = 0.86650*b3 + w*0.3104856
		b4 = 0.55000*b4 + w*0.5329522
		b5 = -0.7616*b5 - w*0.0168980
		x[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362
		b6 = w * 0.115926
	}
	var sum float64
	for _, v := range x {
		sum += v * v
	}
	g := math.Pow(10, levelDBFS/20) * analysis.FullScale / math.Sqrt(sum/float64(n))
	out := make([]int16, n)
	for i, v := range x {
		out[i] = analysis.Clip(v * g)
	}
	return out
}

// Mix returns a + b sample by sample, saturating, as long as the longer.
func Mix(a, b []int16) []int16 {
	out := make([]int16, max(len(a), len(b)))
	for i := range out {
		var v int32
		if i < len(a) {
			v += int32(a[i])
		}
		if i < len(b) {
			v += int32(b[i])
		}
		out[i] = analysis.Clip(float64(v))
	}
	return out
}

// Delay returns pcm preceded by n samples of silence.
func Delay(pcm []int16, n int) []int16 {
	return append(make([]int16, n), pcm...)
}
