package dsp

import (
	"math"
	"testing"
)

func TestMaxGainDB(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want int
	}{{20, 29}, {10, 23}, {4, 15}, {1, 3}, {0, 3}, {-5, 3}, {math.NaN(), 3}} {
		if got := MaxGainDB(tc.x); got != tc.want {
			t.Errorf("MaxGainDB(%v) = %d, want %d", tc.x, got, tc.want)
		}
	}
	if l := AGCLevel(-20); math.Abs(20*math.Log10(l)-agcOffsetDB+20) > 1e-9 {
		t.Errorf("AGCLevel(-20) = %v", l)
	}
}
