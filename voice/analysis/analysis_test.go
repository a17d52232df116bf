package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLevels(t *testing.T) {
	if got := DBFS(Sine(48000, 48000, 1000, 1)); math.Abs(got+3.01) > 0.05 {
		t.Errorf("full-scale sine %.2f dBFS, want -3.01", got)
	}
	if got := DBFS(Sine(48000, 48000, 1000, 0.01)); math.Abs(got+43.01) > 0.05 {
		t.Errorf("-40 dB sine %.2f dBFS, want -43.01", got)
	}
	if got := PeakDBFS(Sine(48000, 48000, 1000, 0.5)); math.Abs(got+6.02) > 0.05 {
		t.Errorf("half-scale sine peak %.2f dBFS, want -6.02", got)
	}
	if got := DBFS(make([]int16, 10)); got != SilenceDBFS {
		t.Errorf("silence %.1f dBFS, want %v", got, SilenceDBFS)
	}
	if RMS(nil) != 0 || Energy(nil) != 0 {
		t.Error("empty signal has energy")
	}
	if p := GoertzelPower(Sine(4800, 48000, 440, 1), 48000, 440); math.Abs(p-0.5) > 0.01 {
		t.Errorf("Goertzel power of full-scale sine %.3f, want 0.5", p)
	}
	if p := GoertzelPower(Sine(4800, 48000, 440, 1), 48000, 1000); p > 0.001 {
		t.Errorf("Goertzel power at wrong frequency %.4f, want ~0", p)
	}
}

func TestDominantFrequency(t *testing.T) {
	for _, f := range []float64{100, 440, 1000, 1234.5, 3000, 15000} {
		got := DominantFrequency(Sine(48000, 48000, f, 0.3), 48000)
		if math.Abs(got-f) > 0.5 {
			t.Errorf("%.1f Hz tone measured %.2f Hz", f, got)
		}
	}
	// A tone in noise.
	r := rand.New(rand.NewPCG(1, 2))
	pcm := Sine(9600, 48000, 700, 0.1)
	for i := range pcm {
		pcm[i] += int16(r.NormFloat64() * 1000)
	}
	if got := DominantFrequency(pcm, 48000); math.Abs(got-700) > 2 {
		t.Errorf("700 Hz tone in noise measured %.2f Hz", got)
	}
	if DominantFrequency(make([]int16, 1000), 48000) != 0 || DominantFrequency(make([]int16, 10), 48000) != 0 {
		t.Error("silence or short input has a frequency")
	}
}

func TestDelayAndSNR(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ref := make([]int16, 4800)
	for i := range ref {
		ref[i] = int16(r.NormFloat64() * 3000)
	}
	test := append(make([]int16, 123), ref...)
	lag, corr := Delay(ref, test, 500)
	if lag != 123 || corr < 0.999 {
		t.Fatalf("Delay = %d (corr %.3f), want 123", lag, corr)
	}
	noisy := make([]int16, len(ref))
	for i := range noisy {
		noisy[i] = ref[i] + int16(r.NormFloat64()*30)
	}
	if snr := SNR(ref, noisy); math.Abs(snr-40) > 0.5 {
		t.Errorf("SNR %.2f dB, want 40", snr)
	}
	if !math.IsInf(SNR(ref, ref), 1) {
		t.Error("identical signals do not have infinite SNR")
	}
	if Clip(1e6) != math.MaxInt16 || Clip(-1e6) != math.MinInt16 || Clip(1.6) != 2 {
		t.Error("Clip")
	}
}
