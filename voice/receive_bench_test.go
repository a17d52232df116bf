//go:build cgo && unix

package voice

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// rxCPUTime returns the user and system CPU time the process has used.
func rxCPUTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rxSpeech returns n samples of a deterministic speech-like signal: a
// voiced source whose pitch glides between 100 and 200 Hz, shaped by two
// moving formants, with syllables about 4 per second and short unvoiced
// noise bursts, peaking around -10 dBFS. It makes Opus at 13 kb/s work
// as it does on speech (SILK, voiced and unvoiced frames) without a
// recording in the repository.
func rxSpeech(n int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]int16, n)
	var phase float64
	// Two-pole resonators for the formants.
	type reso struct{ y1, y2 float64 }
	var f1, f2 reso
	step := func(r *reso, x, freq, bw float64) float64 {
		rad := math.Exp(-math.Pi * bw / 48000)
		a1 := 2 * rad * math.Cos(2*math.Pi*freq/48000)
		a2 := -rad * rad
		y := (1-rad)*x + a1*r.y1 + a2*r.y2
		r.y2, r.y1 = r.y1, y
		return y
	}
	for i := range out {
		t := float64(i) / 48000
		f0 := 150 + 50*math.Sin(2*math.Pi*0.7*t+float64(seed))
		phase += f0 / 48000
		if phase >= 1 {
			phase--
		}
		// Sawtooth-like glottal source, noise during "consonants".
		syll := math.Sin(2 * math.Pi * 4.1 * t)
		var src float64
		if syll > -0.7 {
			src = 2*phase - 1
		} else {
			src = 0.5 * rng.NormFloat64()
		}
		env := math.Max(0, 0.3+0.7*syll)
		x := step(&f1, src, 600+200*math.Sin(2*math.Pi*1.3*t), 90) +
			0.5*step(&f2, src, 1700+500*math.Sin(2*math.Pi*0.9*t), 120)
		out[i] = int16(math.Max(-32767, math.Min(32767, 5000*env*x)))
	}
	return out
}

// BenchmarkReceiveMix50Speakers runs the receive path for 50 speakers
// talking at once, each sending 20 ms Opus packets encoded beforehand at
// 13 kb/s: per 10 ms tick the packets due arrive (HandlePacket) and one
// tick is mixed (jitter buffer, Opus decode, mixer). One operation is one
// simulated second. receive_mix_50_speakers_pct_core is the CPU time the
// process used per simulated second as a share of one core (target
// < 10%); receive_mix_50_speakers_pct_core_wall is the same from wall
// time, which also counts time the benchmark waited for a core on a busy
// machine.
func BenchmarkReceiveMix50Speakers(b *testing.B) {
	const speakers = 50
	pkts := rxEncode(b, rxSpeech(4*48000, 1), 0, 0) // 200 packets
	var bytes int
	for _, p := range pkts {
		bytes += len(p.data)
	}
	kbps := float64(bytes*8) / 4 / 1000
	if kbps < 9 || kbps > 15 {
		b.Fatalf("test audio encodes at %.1f kb/s, want about 13", kbps)
	}
	r := newTestReceiver(b, ReceiverConfig{})
	out := make([]int16, receiveFrame)
	tick := 0
	second := func() {
		for range 100 {
			now := rxEpoch.Add(time.Duration(tick) * 10 * time.Millisecond)
			if tick%2 == 0 {
				k := tick / 2
				for id := range speakers {
					p := pkts[(k+id*4)%len(pkts)]
					// Arrivals spread over the tick, as from many senders.
					at := now.Add(-time.Duration(id%9) * time.Millisecond)
					if err := r.HandlePacket(uint32(id+1), uint64(2*k), p.data, false, at); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := r.MixAt(now, out); err != nil {
				b.Fatal(err)
			}
			tick++
		}
	}
	// Fill the buffers and every slot of their rings (256 frames with
	// the default MaxDelay and LateStart).
	for range 3 {
		second()
	}
	b.ReportAllocs()
	cpu0 := rxCPUTime(b)
	for b.Loop() {
		second()
	}
	cpu := rxCPUTime(b) - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1e7, "receive_mix_50_speakers_pct_core")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e7, "receive_mix_50_speakers_pct_core_wall")
	b.ReportMetric(kbps, "test_audio_kbps")

	var played, concealed uint64
	talking := 0
	for _, st := range r.Speakers() {
		played += st.Jitter.Played
		concealed += st.Jitter.Concealed
		if st.Talking {
			talking++
		}
	}
	if talking != speakers || concealed > played/100 {
		b.Fatalf("%d of %d speakers talking, %d of %d frames concealed", talking, speakers, concealed, played)
	}
}
