//go:build cgo

package voice

import (
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/dsp"
	"github.com/tumble-voip/tumble/voice/internal/speechtest"
	"github.com/tumble-voip/tumble/voice/vad"
)

// benchAudio returns 10 s of speech-like input (espeak-ng speech over
// noise if available, else noise) and a far-end reference.
func benchAudio(b *testing.B) (mic, far []int16) {
	n := 10 * 48000
	noise := speechtest.Noise(n, -60, false, 11)
	mic = speechtest.Mix(speechtest.Noise(n, -25, true, 12), noise)
	far = speechtest.Noise(n, -25, true, 13)
	return mic, far
}

// BenchmarkSendPath is the whole send path per 20 ms packet at 13 kb/s:
// echo cancellation, preprocessing (high-pass, noise suppression, AGC),
// voice activity and Opus encoding (continuous, so every frame is
// encoded). Reported as send_path_us_per_frame.
func BenchmarkSendPath(b *testing.B) {
	mic, far := benchAudio(b)
	cfg := DefaultSendConfig()
	cfg.Transmit = vad.Continuous
	s, err := NewSender(cfg, func(Packet) {}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	frames := len(mic) / FrameSamples
	i := 0
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		for k := 0; k < 2; k++ { // one 20 ms packet
			off := (i % frames) * FrameSamples
			s.Reference(far[off : off+FrameSamples])
			if err := s.Process(mic[off : off+FrameSamples]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "send_path_us/frame")
}

// BenchmarkOpusFloor is bare libopus encoding of the same 20 ms frames at
// 13 kb/s, complexity 10. Reported as opus_floor_us_per_frame.
func BenchmarkOpusFloor(b *testing.B) {
	mic, _ := benchAudio(b)
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 10})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, codec.MaxPacketBytes)
	packets := len(mic) / 960
	i := 0
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		off := (i % packets) * 960
		if _, err := enc.Encode(mic[off:off+960], out); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "opus_floor_us/frame")
}

// BenchmarkSpeexFloor is bare speexdsp echo cancellation and
// preprocessing (noise suppression, AGC, residual echo) of the same
// 20 ms (two 10 ms frames). Reported as speex_floor_us_per_frame.
func BenchmarkSpeexFloor(b *testing.B) {
	mic, far := benchAudio(b)
	ec, err := dsp.NewEchoCanceller(dsp.EchoConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer ec.Close()
	pp, err := dsp.NewPreprocessor(FrameSamples, 48000, dsp.PreprocessConfig{NoiseSuppressionDB: -30, AGC: true, AGCMaxGainDB: 29})
	if err != nil {
		b.Fatal(err)
	}
	defer pp.Close()
	pp.SetEchoCanceller(ec)
	buf := make([]int16, FrameSamples)
	frames := len(mic) / FrameSamples
	i := 0
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		for k := 0; k < 2; k++ {
			off := (i % frames) * FrameSamples
			ec.Playback(far[off : off+FrameSamples])
			ec.Cancel(mic[off:off+FrameSamples], buf)
			pp.Process(buf)
			i++
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "speex_floor_us/frame")
}

// BenchmarkSendPathRatio measures the send path and its libopus+speexdsp
// floor in the same run, interleaved so that machine noise hits both, and
// reports send_path_ratio (target <= 1.3).
func BenchmarkSendPathRatio(b *testing.B) {
	mic, far := benchAudio(b)
	cfg := DefaultSendConfig()
	cfg.Transmit = vad.Continuous
	s, err := NewSender(cfg, func(Packet) {}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	enc, _ := codec.NewEncoder(codec.EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 10})
	ec, _ := dsp.NewEchoCanceller(dsp.EchoConfig{})
	defer ec.Close()
	pp, _ := dsp.NewPreprocessor(FrameSamples, 48000, dsp.PreprocessConfig{NoiseSuppressionDB: -30, AGC: true, AGCMaxGainDB: 29})
	defer pp.Close()
	pp.SetEchoCanceller(ec)
	buf := make([]int16, 960)
	out := make([]byte, codec.MaxPacketBytes)
	packets := len(mic) / 960
	var sendT, floorT time.Duration
	i := 0
	for b.Loop() {
		off := (i % packets) * 960
		i++
		t0 := time.Now()
		for k := 0; k < 2; k++ {
			o := off + k*FrameSamples
			s.Reference(far[o : o+FrameSamples])
			s.Process(mic[o : o+FrameSamples])
		}
		t1 := time.Now()
		for k := 0; k < 2; k++ {
			o := off + k*FrameSamples
			ec.Playback(far[o : o+FrameSamples])
			ec.Cancel(mic[o:o+FrameSamples], buf[k*FrameSamples:(k+1)*FrameSamples])
			pp.Process(buf[k*FrameSamples : (k+1)*FrameSamples])
		}
		enc.Encode(buf, out)
		t2 := time.Now()
		sendT += t1.Sub(t0)
		floorT += t2.Sub(t1)
	}
	b.ReportMetric(float64(sendT.Microseconds())/float64(b.N), "send_path_us/frame")
	b.ReportMetric(float64(floorT.Microseconds())/float64(b.N), "floor_us/frame")
	b.ReportMetric(float64(sendT)/float64(floorT), "send_path_ratio")
}
