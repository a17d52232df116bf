package dsp

import (
	"math"
	"testing"

	"github.com/tumble-voip/tumble/voice/analysis"
)

func TestHighPass(t *testing.T) {
	for _, tc := range []struct {
		freq, wantDB, tol float64
	}{
		{20, -48, 2}, {40, -24, 1.5}, {80, -3, 0.5}, {200, 0, 0.2}, {1000, 0, 0.1}, {15000, 0, 0.1},
	} {
		h, err := NewHighPass(80, 48000)
		if err != nil {
			t.Fatal(err)
		}
		in := analysis.Sine(48000, 48000, tc.freq, 0.5)
		out := append([]int16(nil), in...)
		for off := 0; off < len(out); off += 480 {
			h.Process(out[off : off+480])
		}
		got := analysis.DBFS(out[24000:]) - analysis.DBFS(in[24000:])
		if math.Abs(got-tc.wantDB) > tc.tol {
			t.Errorf("%.0f Hz: %.2f dB, want %.1f", tc.freq, got, tc.wantDB)
		}
	}
	if _, err := NewHighPass(0, 48000); err == nil {
		t.Error("cutoff 0 accepted")
	}
	if _, err := NewHighPass(30000, 48000); err == nil {
		t.Error("cutoff above Nyquist accepted")
	}
	var zero HighPass
	pcm := []int16{1, 2, 3}
	zero.Process(pcm)
	if pcm[0] != 1 || pcm[2] != 3 {
		t.Error("zero HighPass changed audio")
	}
}
