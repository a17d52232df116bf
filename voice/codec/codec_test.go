//go:build cgo

package codec

import (
	"math"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/voice/analysis"
)

// roundTrip encodes pcm with cfg, checks each packet's TOC duration, and
// decodes it again.
func roundTrip(t *testing.T, cfg EncoderConfig, pcm []int16) (out []int16, bytes int) {
	t.Helper()
	enc, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	n := enc.FrameSamples()
	if n != cfg.FrameMs*48 {
		t.Fatalf("FrameSamples %d, want %d", n, cfg.FrameMs*48)
	}
	pkt := make([]byte, MaxPacketBytes)
	buf := make([]int16, MaxPacketSamples)
	for off := 0; off+n <= len(pcm); off += n {
		size, err := enc.Encode(pcm[off:off+n], pkt)
		if err != nil {
			t.Fatal(err)
		}
		bytes += size
		if f, err := PacketFrames(pkt[:size]); err != nil || f != cfg.FrameMs/10 {
			t.Fatalf("packet TOC says %d frames (%v), want %d", f, err, cfg.FrameMs/10)
		}
		m, err := dec.Decode(pkt[:size], buf)
		if err != nil {
			t.Fatal(err)
		}
		if m != n {
			t.Fatalf("decoded %d samples, want %d", m, n)
		}
		out = append(out, buf[:m]...)
	}
	return out, bytes
}

func TestToneRoundTrip(t *testing.T) {
	tone := analysis.Sine(2*SampleRate, SampleRate, 440, 0.3)
	for _, cfg := range []EncoderConfig{
		{Bitrate: 13000, FrameMs: 10, Complexity: 10},
		{Bitrate: 13000, FrameMs: 20, Complexity: 10},
		{Bitrate: 24000, FrameMs: 40, Complexity: 5},
		{Bitrate: 40000, FrameMs: 60, Complexity: 10},
		{Bitrate: 72000, FrameMs: 20, Complexity: 0},
	} {
		out, size := roundTrip(t, cfg, tone)
		// Skip the first 100 ms (encoder start-up), find the codec delay.
		ref := tone[4800:]
		lag, corr := analysis.Delay(ref[:9600], out[4800:], 1000)
		aligned := out[4800+lag:]
		snr := analysis.SNR(ref[:len(aligned)-960], aligned[:len(aligned)-960])
		freq := analysis.DominantFrequency(out[4800:], SampleRate)
		level := analysis.DBFS(out[4800:]) - analysis.DBFS(ref)
		kbps := float64(size*8) / (float64(len(out)) / SampleRate) / 1000
		t.Logf("%+v: %.1f Hz, delay %d samples (corr %.3f), SNR %.1f dB, level %+.2f dB, %.1f kb/s",
			cfg, freq, lag, corr, snr, level, kbps)
		if math.Abs(freq-440) > 2 {
			t.Errorf("%+v: decoded tone at %.1f Hz, want 440", cfg, freq)
		}
		if snr < 10 {
			t.Errorf("%+v: SNR %.1f dB, want >= 10", cfg, snr)
		}
		if math.Abs(level) > 1.5 {
			t.Errorf("%+v: level changed by %.2f dB", cfg, level)
		}
		if kbps > float64(cfg.Bitrate)/1000*1.3 {
			t.Errorf("%+v: %.1f kb/s exceeds the bitrate", cfg, kbps)
		}
	}
}

func TestApplication(t *testing.T) {
	enc, err := NewEncoder(EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !enc.VOIP() {
		t.Error("13 kb/s encoder is not VOIP")
	}
	if err := enc.SetBitrate(64000); err != nil {
		t.Fatal(err)
	}
	if enc.VOIP() || enc.Config().Bitrate != 64000 {
		t.Error("64 kb/s encoder is VOIP")
	}
	if err := enc.SetBitrate(31999); err != nil || !enc.VOIP() {
		t.Errorf("31999 bit/s: VOIP %v, err %v", enc.VOIP(), err)
	}
	if err := enc.SetBitrate(100); err == nil || enc.Config().Bitrate != 31999 {
		t.Error("bad bitrate accepted or changed the config")
	}
	if err := enc.SetComplexity(11); err == nil {
		t.Error("complexity 11 accepted")
	}
	if err := enc.SetFrameMs(60); err != nil || enc.FrameSamples() != 2880 {
		t.Errorf("SetFrameMs(60): %v, FrameSamples %d", err, enc.FrameSamples())
	}
	if err := enc.SetFrameMs(15); err == nil {
		t.Error("15 ms accepted")
	}
	// Still encodes after the changes.
	out := make([]byte, MaxPacketBytes)
	if _, err := enc.Encode(analysis.Sine(2880, SampleRate, 440, 0.3), out); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEncoder(EncoderConfig{Bitrate: 13000, FrameMs: 25}); err == nil {
		t.Error("NewEncoder accepted 25 ms")
	}
}

func TestBadSizes(t *testing.T) {
	enc, err := NewEncoder(EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 5})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, MaxPacketBytes)
	for _, n := range []int{0, 480, 959, 961, 1920} {
		if _, err := enc.Encode(make([]int16, n), out); err == nil || !strings.Contains(err.Error(), "want 960") {
			t.Errorf("Encode(%d samples): %v", n, err)
		}
	}
	if _, err := enc.Encode(make([]int16, 960), nil); err == nil {
		t.Error("Encode into nil buffer succeeded")
	}
	size, err := enc.Encode(analysis.Sine(960, SampleRate, 440, 0.3), out)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Decode(out[:size], make([]int16, 959)); err == nil || !strings.Contains(err.Error(), "holds 959 samples") {
		t.Errorf("Decode into short buffer: %v", err)
	}
	if _, err := dec.Decode(nil, make([]int16, 960)); err == nil {
		t.Error("Decode of empty packet succeeded")
	}
	if n, err := dec.Decode(out[:size], make([]int16, 5760)); err != nil || n != 960 {
		t.Errorf("Decode into large buffer: %d, %v", n, err)
	}
	// A corrupt packet: valid TOC, code 3 with inconsistent padding.
	if _, err := dec.Decode([]byte{0xfb, 0x41, 0xff, 0xff}, make([]int16, 960)); err == nil {
		t.Error("Decode of a corrupt packet succeeded")
	}
	for _, n := range []int{0, 100, 479, 6240} {
		if _, err := dec.DecodeLost(make([]int16, n)); err == nil {
			t.Errorf("DecodeLost(%d) succeeded", n)
		}
	}
}

func TestDecodeLost(t *testing.T) {
	tone := analysis.Sine(SampleRate, SampleRate, 440, 0.3)
	enc, _ := NewEncoder(EncoderConfig{Bitrate: 24000, FrameMs: 20, Complexity: 10})
	dec, _ := NewDecoder()
	pkt := make([]byte, MaxPacketBytes)
	pcm := make([]int16, 960)
	for off := 0; off+960 <= 24000; off += 960 {
		size, err := enc.Encode(tone[off:off+960], pkt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dec.Decode(pkt[:size], pcm); err != nil {
			t.Fatal(err)
		}
	}
	// 40 ms lost: concealment continues the tone instead of silence.
	lost := make([]int16, 1920)
	n, err := dec.DecodeLost(lost)
	if err != nil || n != 1920 {
		t.Fatalf("DecodeLost: %d, %v", n, err)
	}
	first := lost[:960]
	level := analysis.DBFS(first)
	freq := analysis.DominantFrequency(first, SampleRate)
	t.Logf("concealment: %.1f dBFS at %.1f Hz (tone -13.5 dBFS)", level, freq)
	if level < -25 || math.Abs(freq-440) > 20 {
		t.Errorf("concealment %.1f dBFS at %.1f Hz, want the 440 Hz tone continued", level, freq)
	}
}

func BenchmarkEncode20ms13k(b *testing.B) {
	enc, err := NewEncoder(EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 10})
	if err != nil {
		b.Fatal(err)
	}
	pcm := analysis.Sine(960, SampleRate, 440, 0.3)
	out := make([]byte, MaxPacketBytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc.Encode(pcm, out); err != nil {
			b.Fatal(err)
		}
	}
}
