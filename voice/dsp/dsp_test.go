//go:build cgo

package dsp

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/internal/speechtest"
)

const frame = 480

// echoPath returns the impulse response of the synthetic room: the direct
// echo 40 ms late at -6 dB, then a 60 ms reverberation tail decaying by
// 60 dB.
func echoPath() []float64 {
	const delay, tail = 40 * 48, 60 * 48
	h := make([]float64, delay+tail)
	h[delay] = 0.5
	r := rand.New(rand.NewPCG(7, 7))
	for k := 1; k < tail; k++ {
		h[delay+k] = 0.5 * 0.25 * r.NormFloat64() * math.Exp(-6.9*float64(k)/tail)
	}
	return h
}

// convolve returns x filtered by h, as long as x.
func convolve(x []int16, h []float64) []int16 {
	first := 0
	for first < len(h) && h[first] == 0 {
		first++
	}
	out := make([]int16, len(x))
	for i := range out {
		var acc float64
		for k := first; k < len(h) && k <= i; k++ {
			acc += h[k] * float64(x[i-k])
		}
		out[i] = analysis.Clip(acc)
	}
	return out
}

type echoRun struct {
	out, aecOut []int16
	probs       []float64
}

// runEcho passes mic through echo cancellation against far and then the
// preprocessor, 10 ms at a time, feeding the reference just before the
// microphone frame as the Engine does.
func runEcho(t testing.TB, far, mic []int16, pcfg PreprocessConfig) echoRun {
	ec, err := NewEchoCanceller(EchoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	pp, err := NewPreprocessor(frame, 48000, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	if err := pp.SetEchoCanceller(ec); err != nil {
		t.Fatal(err)
	}
	var run echoRun
	out := make([]int16, frame)
	for off := 0; off+frame <= len(mic); off += frame {
		ec.Playback(far[off : off+frame])
		if err := ec.Cancel(mic[off:off+frame], out); err != nil {
			t.Fatal(err)
		}
		run.aecOut = append(run.aecOut, out...)
		res, err := pp.Process(out)
		if err != nil {
			t.Fatal(err)
		}
		run.out = append(run.out, out...)
		run.probs = append(run.probs, res.SpeechProb)
	}
	if st := ec.Stats(); st.Underruns != 0 || st.DroppedSamples != 0 {
		t.Errorf("reference queue: %+v", st)
	}
	return run
}

func energy(pcm []int16, from, to int) float64 {
	to = min(to, len(pcm))
	return analysis.Energy(pcm[from:to])
}

// siSDR returns the scale-invariant signal-to-distortion ratio of test
// against ref in dB: how much of test is ref, at any gain.
func siSDR(ref, test []int16) float64 {
	n := min(len(ref), len(test))
	var rt, rr float64
	for i := 0; i < n; i++ {
		rt += float64(ref[i]) * float64(test[i])
		rr += float64(ref[i]) * float64(ref[i])
	}
	a := rt / rr
	var s, e float64
	for i := 0; i < n; i++ {
		v := a * float64(ref[i])
		d := float64(test[i]) - v
		s += v * v
		e += d * d
	}
	return 10 * math.Log10(s/e)
}

// TestEchoCancellation plays far-end speech through a synthetic room into
// the microphone, with a near-end talker joining later, and measures the
// echo return loss enhancement and what is left of the near-end talker.
func TestEchoCancellation(t *testing.T) {
	far := speechtest.Speech(t, speechtest.FarVoice, speechtest.FarText, -20)
	near := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -26)
	const converge, dtStart = 3 * 48000, 10 * 48000
	if len(far) < dtStart+4*48000 {
		t.Fatalf("far-end speech only %.1f s", float64(len(far))/48000)
	}
	far = far[:dtStart+min(len(near), len(far)-dtStart)]
	echo := convolve(far, echoPath())
	nearPart := speechtest.Delay(near[:len(far)-dtStart], dtStart)
	floor := speechtest.Noise(len(far), -70, false, 1)
	mic := speechtest.Mix(speechtest.Mix(echo, nearPart), floor)

	run := runEcho(t, far, mic, PreprocessConfig{NoiseSuppressionDB: -30})

	// ERLE over the far-end-only part after convergence.
	erle := 10 * math.Log10(energy(echo, converge, dtStart)/energy(run.out, converge, dtStart))
	aecOnly := 10 * math.Log10(energy(echo, converge, dtStart)/energy(run.aecOut, converge, dtStart))
	// Near-end talker in double talk: how much of the output is the
	// near-end speech, and at what level compared with the input.
	lag, _ := analysis.Delay(nearPart[dtStart:dtStart+96000], run.out[dtStart:], 2*frame)
	outDT := run.out[dtStart+lag:]
	refDT := nearPart[dtStart : len(nearPart)-lag]
	sdrIn := siSDR(refDT, mic[dtStart:len(mic)-lag])
	sdrOut := siSDR(refDT, outDT)
	levelIn := speechtest.ActiveDBFS(refDT)
	levelOut := speechtest.ActiveDBFS(outDT)
	t.Logf("BENCH aec_erle_db=%.1f dB", erle)
	t.Logf("echo canceller alone: ERLE %.1f dB; double talk: near-end SDR %.1f dB in mic, %.1f dB out (lag %d), near-end level %.1f -> %.1f dBFS",
		aecOnly, sdrIn, sdrOut, lag, levelIn, levelOut)
	if erle < 20 {
		t.Errorf("ERLE %.1f dB, want >= 20", erle)
	}
	if sdrOut < sdrIn+6 || sdrOut < 5 {
		t.Errorf("near-end SDR %.1f dB in double talk (mic %.1f dB), want >= 5 and 6 dB better than the mic", sdrOut, sdrIn)
	}
	if levelOut < levelIn-6 {
		t.Errorf("near-end talker lost %.1f dB in double talk, want <= 6", levelIn-levelOut)
	}
}

// TestNoiseSuppression measures how far a -45 dBFS noise floor drops.
func TestNoiseSuppression(t *testing.T) {
	for _, tc := range []struct {
		name string
		pink bool
		db   int
		hp   float64
	}{
		{"white -30 dB", false, -30, 0},
		{"white -30 dB, 80 Hz high-pass", false, -30, 80},
		{"pink -30 dB, 80 Hz high-pass", true, -30, 80},
		{"white -60 dB", false, -60, 0},
		{"pink -60 dB, 80 Hz high-pass", true, -60, 80},
	} {
		noise := speechtest.Noise(6*48000, -45, tc.pink, 2)
		pp, err := NewPreprocessor(frame, 48000, PreprocessConfig{NoiseSuppressionDB: tc.db, HighPassHz: tc.hp})
		if err != nil {
			t.Fatal(err)
		}
		out := append([]int16(nil), noise...)
		for off := 0; off+frame <= len(out); off += frame {
			if _, err := pp.Process(out[off : off+frame]); err != nil {
				t.Fatal(err)
			}
		}
		pp.Close()
		// After two seconds of adaptation.
		in, got := analysis.DBFS(noise[2*48000:]), analysis.DBFS(out[2*48000:])
		red := in - got
		if tc.name == "white -30 dB" {
			t.Logf("BENCH ns_reduction_db=%.1f dB", red)
		}
		t.Logf("%s: noise %.1f dBFS -> %.1f dBFS (%.1f dB)", tc.name, in, got, red)
		if red < 15 {
			t.Errorf("%s: noise reduced by %.1f dB, want >= 15", tc.name, red)
		}
	}
}

// TestNoiseSuppressionKeepsSpeech checks that speech in the noise stays.
func TestNoiseSuppressionKeepsSpeech(t *testing.T) {
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -25)
	noise := speechtest.Noise(len(speech), -45, false, 3)
	in := speechtest.Mix(speech, noise)
	pp, err := NewPreprocessor(frame, 48000, PreprocessConfig{NoiseSuppressionDB: -30})
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	out := append([]int16(nil), in...)
	for off := 0; off+frame <= len(out); off += frame {
		pp.Process(out[off : off+frame])
	}
	lag, _ := analysis.Delay(speech[48000:96000], out[48000:], 2*frame)
	before := siSDR(speech[48000:len(speech)-lag], in[48000:len(in)-lag])
	after := siSDR(speech[48000:len(speech)-lag], out[48000+lag:])
	lin, lout := speechtest.ActiveDBFS(speech), speechtest.ActiveDBFS(out)
	t.Logf("speech in noise: SDR %.1f -> %.1f dB, speech level %.1f -> %.1f dBFS", before, after, lin, lout)
	if after < before {
		t.Errorf("noise suppression made SDR worse: %.1f -> %.1f dB", before, after)
	}
	if lout < lin-3 {
		t.Errorf("speech level dropped %.1f dB", lin-lout)
	}
}

// TestAGC raises a quiet talker towards the target, never beyond the
// maximum gain, and leaves a loud one about where it is.
func TestAGC(t *testing.T) {
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -20)
	for _, tc := range []struct {
		inDBFS  float64
		maxGain int
	}{
		{-45, MaxGainDB(20)}, // 29 dB allowed: should reach near the target
		{-45, MaxGainDB(4)},  // 15 dB allowed: limited
		{-40, MaxGainDB(1)},  // 3 dB allowed
		{-20, MaxGainDB(20)}, // already at the target
	} {
		in := speechtest.Scale(speech, tc.inDBFS)
		pp, err := NewPreprocessor(frame, 48000, PreprocessConfig{AGC: true, AGCTargetDBFS: -20, AGCMaxGainDB: tc.maxGain})
		if err != nil {
			t.Fatal(err)
		}
		out := append([]int16(nil), in...)
		maxSeen := 0
		for off := 0; off+frame <= len(out); off += frame {
			res, err := pp.Process(out[off : off+frame])
			if err != nil {
				t.Fatal(err)
			}
			maxSeen = max(maxSeen, res.GainDB)
		}
		pp.Close()
		// Level over the second half, after the AGC has settled.
		half := len(in) / 2
		lin, lout := speechtest.ActiveDBFS(in[half:]), speechtest.ActiveDBFS(out[half:])
		gain := lout - lin
		t.Logf("speech %.1f dBFS, max gain %d dB: out %.1f dBFS (gain %.1f dB, reported max %d dB)", lin, tc.maxGain, lout, gain, maxSeen)
		if gain > float64(tc.maxGain)+1 || maxSeen > tc.maxGain {
			t.Errorf("gain %.1f dB (reported %d) exceeds max %d dB", gain, maxSeen, tc.maxGain)
		}
		want := math.Min(-20, lin+float64(tc.maxGain))
		if math.Abs(lout-want) > 4 {
			t.Errorf("speech at %.1f dBFS with max gain %d: out %.1f dBFS, want about %.1f", lin, tc.maxGain, lout, want)
		}
	}
}

// TestAGCIncrement: with the increment at 0 the gain of a quiet talker
// does not rise but may fall; at AGCIncrementDB it rises no faster than
// that many dB per second.
func TestAGCIncrement(t *testing.T) {
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -20)
	quiet, loud := speechtest.Scale(speech, -45), speechtest.Scale(speech, -15)
	pp, err := NewPreprocessor(frame, 48000, PreprocessConfig{AGC: true, AGCMaxGainDB: MaxGainDB(20)})
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	if pp.AGCIncrement() != AGCIncrementDB {
		t.Fatalf("initial increment %d, want %d", pp.AGCIncrement(), AGCIncrementDB)
	}
	run := func(pcm []int16) []int {
		var gains []int
		buf := make([]int16, frame)
		for off := 0; off+frame <= len(pcm); off += frame {
			copy(buf, pcm[off:off+frame])
			res, err := pp.Process(buf)
			if err != nil {
				t.Fatal(err)
			}
			gains = append(gains, res.GainDB)
		}
		return gains
	}

	// Frozen from the start: the quiet talker gets no gain.
	if err := pp.SetAGCIncrement(0); err != nil {
		t.Fatal(err)
	}
	frozen := run(quiet)
	// Released: the gain rises, at most 12 dB in any second (plus the
	// rounding of the reported gain).
	pp.SetAGCIncrement(AGCIncrementDB)
	rising := run(quiet)
	fastest := 0
	for i := 100; i < len(rising); i++ {
		fastest = max(fastest, rising[i]-rising[i-100])
	}
	// Frozen again, a loud talker: the gain may fall, never rise.
	pp.SetAGCIncrement(0)
	falling := run(loud)
	top := slices.Max(rising)
	t.Logf("frozen: gain up to %d dB; released: up to %d dB, fastest rise %d dB/s; frozen with a loud talker: %d -> %d dB (max %d)",
		slices.Max(frozen), top, fastest, rising[len(rising)-1], falling[len(falling)-1], slices.Max(falling))
	if slices.Max(frozen) > 0 {
		t.Errorf("frozen AGC raised the gain to %d dB", slices.Max(frozen))
	}
	if top < 15 {
		t.Errorf("released AGC raised a -45 dBFS talker by only %d dB", top)
	}
	if fastest > AGCIncrementDB+1 {
		t.Errorf("gain rose %d dB within one second, want <= %d", fastest, AGCIncrementDB)
	}
	if slices.Max(falling) > rising[len(rising)-1] || falling[len(falling)-1] > rising[len(rising)-1]-10 {
		t.Errorf("frozen AGC with a loud talker: gain %d -> %d dB (max %d), want a fall and no rise",
			rising[len(rising)-1], falling[len(falling)-1], slices.Max(falling))
	}
}

// TestPassThrough: with no speexdsp stage on, a frame comes out as it went
// in, undelayed (only the high-pass filter touches it), and speexdsp does
// not run (no speech probability, -1); with a stage on, speexdsp's
// one-frame delay applies and the speech probability is measured.
func TestPassThrough(t *testing.T) {
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -25)[:3*48000]
	pcm := speechtest.Mix(speech, speechtest.Noise(len(speech), -70, false, 8))
	for _, tc := range []struct {
		cfg   PreprocessConfig
		delay int
		exact bool
	}{
		{PreprocessConfig{}, 0, true},
		{PreprocessConfig{HighPassHz: 80}, 0, false},
		{PreprocessConfig{NoiseSuppressionDB: -30}, frame, false},
		{PreprocessConfig{AGC: true}, frame, false},
		{PreprocessConfig{Dereverb: true}, frame, false},
	} {
		pp, err := NewPreprocessor(frame, 48000, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := append([]int16(nil), pcm...)
		var probs []float64
		for off := 0; off+frame <= len(out); off += frame {
			res, err := pp.Process(out[off : off+frame])
			if err != nil {
				t.Fatal(err)
			}
			probs = append(probs, res.SpeechProb)
		}
		pp.Close()
		lag, corr := analysis.Delay(pcm[48000:96000], out[48000:], 2*frame)
		voiced := 0
		for _, p := range probs {
			if p > 0.5 {
				voiced++
			}
		}
		t.Logf("%+v: delay %d samples (correlation %.3f), %d of %d frames speech", tc.cfg, lag, corr, voiced, len(probs))
		if lag != tc.delay {
			t.Errorf("%+v: output delayed by %d samples, want %d", tc.cfg, lag, tc.delay)
		}
		if tc.exact && !slices.Equal(out, pcm) {
			t.Errorf("%+v: output differs from the input", tc.cfg)
		}
		if tc.delay == 0 {
			if slices.ContainsFunc(probs, func(p float64) bool { return p != -1 }) {
				t.Errorf("%+v: speech probability measured in pass-through, want -1", tc.cfg)
			}
			continue
		}
		if voiced < len(probs)/4 {
			t.Errorf("%+v: speech probability above 0.5 in only %d of %d frames of speech", tc.cfg, voiced, len(probs))
		}
	}
}
