package mix

import (
	"errors"
	"math"
	"testing"
)

func ramp(n int, step int) []int16 {
	p := make([]int16, n)
	for i := range p {
		p[i] = int16((i*step)%40000 - 20000)
	}
	return p
}

func mixOnce(t *testing.T, m *Mixer, out []int16, streams [][]int16, gains []float64) {
	t.Helper()
	m.Begin(len(out))
	for i, s := range streams {
		if err := m.Add(s, gains[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.End(out); err != nil {
		t.Fatal(err)
	}
}

func TestUnityPassesThrough(t *testing.T) {
	var m Mixer
	in := make([]int16, 960)
	for i := range in {
		in[i] = int16(i*50 - 24000) // within the knee
	}
	out := make([]int16, 960)
	mixOnce(t, &m, out, [][]int16{in}, []float64{1})
	for i := range in {
		if out[i] != in[i] {
			t.Fatalf("sample %d: %d -> %d", i, in[i], out[i])
		}
	}
	if m.Limited() != 0 {
		t.Errorf("limited %d samples below the knee", m.Limited())
	}
	if m.Master() != 1 {
		t.Errorf("zero Mixer master %v", m.Master())
	}
}

func TestSumAndGains(t *testing.T) {
	m := New(480)
	a := make([]int16, 480)
	b := make([]int16, 480)
	for i := range a {
		a[i] = 1000
		b[i] = -300
	}
	out := make([]int16, 480)
	cases := []struct {
		ga, gb float64
		want   int16
	}{
		{1, 1, 700},
		{0.5, 1, 200},
		{2, 0, 2000},  // b muted
		{0, 0, 0},     // both muted
		{-1, 1, -300}, // negative gain counts as mute
		{DB(6), 1, int16(math.Round(1000*DB(6))) - 300},
		{100, 0, 8000}, // clamped to MaxGain
		{math.NaN(), 1, -300},
	}
	for _, c := range cases {
		mixOnce(t, m, out, [][]int16{a, b}, []float64{c.ga, c.gb})
		if d := int(out[0]) - int(c.want); d < -1 || d > 1 {
			t.Errorf("gains %v, %v: %d, want %d", c.ga, c.gb, out[0], c.want)
		}
	}
	m.SetMaster(0.1)
	mixOnce(t, m, out, [][]int16{a, b}, []float64{1, 1})
	if out[0] != 70 {
		t.Errorf("master 0.1: %d, want 70", out[0])
	}
	if m.Master() < 0.0999 || m.Master() > 0.1001 {
		t.Errorf("Master() = %v", m.Master())
	}
	m.SetMaster(0)
	mixOnce(t, m, out, [][]int16{a, b}, []float64{1, 1})
	if out[0] != 0 {
		t.Errorf("master 0: %d", out[0])
	}
	if m.Streams() != 2 {
		t.Errorf("Streams() = %d", m.Streams())
	}
}

func TestLimiter(t *testing.T) {
	var m Mixer
	prev := int16(math.MinInt16)
	for v := int64(-4_000_000); v <= 4_000_000; v += 37 {
		o := m.limit(v)
		if o < prev {
			t.Fatalf("not monotonic at %d: %d after %d", v, o, prev)
		}
		if o == math.MaxInt16 || o == math.MinInt16 {
			t.Fatalf("reached full scale at %d", v)
		}
		if m.limit(-v) != -o {
			t.Fatalf("not symmetric at %d", v)
		}
		prev = o
	}
	// Continuous with slope about 1 at the knee.
	if d := m.limit(knee+100) - m.limit(knee); d < 97 || d > 100 {
		t.Errorf("slope at knee: %d per 100", d)
	}
	if m.limit(knee) != knee {
		t.Errorf("knee moves: %d", m.limit(knee))
	}
}

func TestManyLoudStreamsDoNotWrap(t *testing.T) {
	m := New(960)
	loud := make([]int16, 960)
	quiet := make([]int16, 960)
	for i := range loud {
		loud[i] = math.MaxInt16
		if i%2 == 1 {
			loud[i] = math.MinInt16
		}
		quiet[i] = 1
	}
	out := make([]int16, 960)
	streams := make([][]int16, 0, 1000)
	gains := make([]float64, 0, 1000)
	for range 1000 {
		streams = append(streams, loud)
		gains = append(gains, MaxGain)
	}
	m.SetMaster(MaxGain)
	mixOnce(t, m, out, streams, gains)
	for i, o := range out {
		if (i%2 == 0 && o < knee) || (i%2 == 1 && o > -knee) {
			t.Fatalf("sample %d wrapped: %d", i, o)
		}
	}
}

func TestLengthErrors(t *testing.T) {
	m := New(480)
	m.Begin(480)
	if err := m.Add(make([]int16, 479), 1); !errors.Is(err, ErrLength) {
		t.Errorf("short stream: %v", err)
	}
	if err := m.End(make([]int16, 960)); !errors.Is(err, ErrLength) {
		t.Errorf("long output: %v", err)
	}
	m.Begin(-5) // treated as empty
	if err := m.End(nil); err != nil {
		t.Errorf("empty period: %v", err)
	}
}

func TestZeroAllocs(t *testing.T) {
	m := New(960)
	streams := make([][]int16, 50)
	for i := range streams {
		streams[i] = ramp(960, i+1)
	}
	out := make([]int16, 960)
	allocs := testing.AllocsPerRun(100, func() {
		m.Begin(960)
		for i, s := range streams {
			_ = m.Add(s, 0.02*float64(i))
		}
		_ = m.End(out)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per period", allocs)
	}
}

func TestDB(t *testing.T) {
	if g := DB(0); g != 1 {
		t.Errorf("DB(0) = %v", g)
	}
	if g := DB(-20); math.Abs(g-0.1) > 1e-12 {
		t.Errorf("DB(-20) = %v", g)
	}
	if d := ToDB(2); math.Abs(d-6.0206) > 1e-3 {
		t.Errorf("ToDB(2) = %v", d)
	}
}

// BenchmarkMix50 mixes 50 streams of one 20 ms period.
func BenchmarkMix50(b *testing.B) {
	m := New(960)
	streams := make([][]int16, 50)
	for i := range streams {
		streams[i] = ramp(960, i+1)
	}
	out := make([]int16, 960)
	b.ReportAllocs()
	for b.Loop() {
		m.Begin(960)
		for i, s := range streams {
			_ = m.Add(s, 0.5+0.01*float64(i))
		}
		_ = m.End(out)
	}
}
