package dsp

import "math"

// MaxGainDB returns the AGC gain limit in dB for Mumble's "max
// amplification" setting x (1 to 20; the slider shows 20000/minLoudness and
// Mumble uses floor(20*log10(30000/minLoudness))). x below 1 counts as 1.
func MaxGainDB(maxAmplification float64) int {
	if maxAmplification < 1 || math.IsNaN(maxAmplification) {
		maxAmplification = 1
	}
	return int(math.Floor(20 * math.Log10(1.5*maxAmplification)))
}

// agcOffsetDB is speexdsp's AGC calibration, measured on speech with 10 ms
// frames at 48 kHz: with level L the output speech sits at about
// 20*log10(L) - agcOffsetDB dBFS (RMS over active speech).
const agcOffsetDB = 109

// AGCLevel returns the speexdsp AGC level that makes speech come out at
// about targetDBFS (RMS over active speech).
func AGCLevel(targetDBFS float64) float64 {
	return math.Pow(10, (targetDBFS+agcOffsetDB)/20)
}
