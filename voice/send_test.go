//go:build cgo

package voice

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/internal/speechtest"
	"github.com/tumble-voip/tumble/voice/vad"
)

type sentPacket struct {
	frame int // capture frame index at which it was emitted
	Packet
}

type recorder struct {
	t       *testing.T
	frame   int
	packets []sentPacket
	talking []bool
}

func (r *recorder) emit(p Packet) {
	p.Opus = append([]byte(nil), p.Opus...)
	if f, err := codec.PacketFrames(p.Opus); err != nil || f != p.Frames10ms {
		r.t.Errorf("packet says %d frames (%v), Frames10ms %d", f, err, p.Frames10ms)
	}
	r.packets = append(r.packets, sentPacket{r.frame, p})
}

func newSender(t *testing.T, cfg SendConfig) (*Sender, *recorder) {
	t.Helper()
	r := &recorder{t: t}
	s, err := NewSender(cfg, r.emit, func(on bool) { r.talking = append(r.talking, on) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, r
}

func feed(t *testing.T, s *Sender, r *recorder, pcm []int16) {
	t.Helper()
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		if err := s.Process(pcm[off : off+FrameSamples]); err != nil {
			t.Fatal(err)
		}
		r.frame++
	}
}

// decode decodes the packets in order.
func decode(t *testing.T, pkts []sentPacket) []int16 {
	t.Helper()
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, codec.MaxPacketSamples)
	for _, p := range pkts {
		n, err := dec.Decode(p.Opus, buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

// TestSenderVoiceActivity sends speech between silences: one transmission
// that starts with the speech, ends with one terminator after the hold,
// and decodes to the speech.
func TestSenderVoiceActivity(t *testing.T) {
	speech := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -25)
	lead := 100 * FrameSamples
	pcm := speechtest.Mix(speechtest.Delay(speech, lead), speechtest.Noise(lead+len(speech)+2*48000, -75, false, 1))
	for _, frameMs := range []int{10, 20, 60} {
		cfg := DefaultSendConfig()
		cfg.FrameMs = frameMs
		cfg.Hold = 300 * time.Millisecond
		s, r := newSender(t, cfg)
		feed(t, s, r, pcm)
		if len(r.packets) == 0 {
			t.Fatalf("%d ms: no packets", frameMs)
		}
		var terms, spurts int
		for i, p := range r.packets {
			if p.Frames10ms != frameMs/10 {
				t.Errorf("%d ms: packet of %d frames", frameMs, p.Frames10ms)
			}
			if p.Terminator {
				terms++
			}
			if i == 0 || r.packets[i-1].Terminator {
				spurts++
			}
		}
		last := r.packets[len(r.packets)-1]
		if !last.Terminator || terms != spurts {
			t.Errorf("%d ms: %d terminators for %d transmissions, last terminator %v", frameMs, terms, spurts, last.Terminator)
		}
		first := r.packets[0].frame - frameMs/10 + 1
		if first < 95 || first > 110 {
			t.Errorf("%d ms: transmission starts at frame %d, speech at 100", frameMs, first)
		}
		if len(r.talking) != 2*spurts || !r.talking[0] || r.talking[len(r.talking)-1] {
			t.Errorf("%d ms: talking events %v for %d transmissions", frameMs, r.talking, spurts)
		}
		out := decode(t, r.packets)
		speechLevel := speechtest.ActiveDBFS(speech)
		got := speechtest.ActiveDBFS(out)
		st := s.Stats()
		t.Logf("%d ms packets: %d packets in %d transmissions, %.1f s sent of %.1f s speech, level %.1f -> %.1f dBFS (AGC), %.1f kb/s",
			frameMs, len(r.packets), spurts, float64(len(out))/48000, float64(len(speech))/48000, speechLevel, got,
			float64(st.Bytes*8)/(float64(len(out))/48000)/1000)
		if spurts > 6 { // four sentences, pauses longer than the hold
			t.Errorf("%d ms: speech split into %d transmissions", frameMs, spurts)
		}
		if math.Abs(got-(-20)) > 4 {
			t.Errorf("%d ms: sent speech at %.1f dBFS, want about -20 (AGC target)", frameMs, got)
		}
	}
}

// TestSenderSettings: continuous mode sends silence; switching to voice
// activity ends with a terminator; the bitrate cap and frame size apply
// live; push-to-talk sends while pressed.
func TestSenderSettings(t *testing.T) {
	cfg := DefaultSendConfig()
	cfg.Transmit = vad.Continuous
	cfg.Bitrate = 40000
	s, r := newSender(t, cfg)
	tone := analysis.Sine(48000, 48000, 440, 0.2)
	feed(t, s, r, tone)
	if len(r.packets) != 50 {
		t.Fatalf("continuous: %d packets for 1 s, want 50", len(r.packets))
	}
	bytes := func(from int) int {
		n := 0
		for _, p := range r.packets[from:] {
			n += len(p.Opus)
		}
		return n
	}
	full := bytes(25) * 8 * 2
	if err := s.SetMaxBitrate(8000); err != nil {
		t.Fatal(err)
	}
	n := len(r.packets)
	feed(t, s, r, tone)
	capped := bytes(n+25) * 8 * 2
	t.Logf("40 kb/s config: %d bit/s; capped at 8000: %d bit/s", full, capped)
	if capped > 9000 || full < 30000 || s.Stats().Bitrate != 8000 {
		t.Errorf("bitrate %d uncapped, %d capped at 8000 (stats %d)", full, capped, s.Stats().Bitrate)
	}
	s.SetMaxBitrate(0)
	if s.Stats().Bitrate != 40000 {
		t.Errorf("cap removed: bitrate %d", s.Stats().Bitrate)
	}

	cfg.FrameMs = 40
	if err := s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	n = len(r.packets)
	feed(t, s, r, tone)
	for _, p := range r.packets[n+1:] {
		if p.Frames10ms != 4 {
			t.Fatalf("after switching to 40 ms: packet of %d frames", p.Frames10ms)
		}
	}

	cfg.Transmit = vad.PushToTalk
	s.SetConfig(cfg)
	n = len(r.packets)
	feed(t, s, r, tone[:4*FrameSamples])
	if got := r.packets[len(r.packets)-1]; !got.Terminator || len(r.packets)-n != 1 {
		t.Fatalf("switching to push-to-talk: %d packets, last terminator %v", len(r.packets)-n, got.Terminator)
	}
	n = len(r.packets)
	feed(t, s, r, tone)
	if len(r.packets) != n {
		t.Fatal("push-to-talk sends without the key")
	}
	s.SetPushToTalk(true)
	feed(t, s, r, tone[:40*FrameSamples])
	s.SetPushToTalk(false)
	feed(t, s, r, tone[:40*FrameSamples])
	if got := len(r.packets) - n; got != 11 || !r.packets[len(r.packets)-1].Terminator {
		t.Errorf("push-to-talk for 400 ms: %d packets of 40 ms (want 10 + terminator)", got)
	}

	bad := cfg
	bad.MaxAmplification = 50
	if err := s.SetConfig(bad); err == nil || !strings.Contains(err.Error(), "max amplification") {
		t.Errorf("bad config: %v", err)
	}
	bad = cfg
	bad.FrameMs = 30
	if _, err := NewSender(bad, func(Packet) {}, nil); err == nil {
		t.Error("NewSender accepted 30 ms")
	}
	if err := s.Process(make([]int16, 960)); err == nil {
		t.Error("Process accepted 960 samples")
	}
	if err := s.SetMaxBitrate(-1); err == nil {
		t.Error("negative cap accepted")
	}
}

// TestSenderEchoMixed plays far-end speech and captures only its echo:
// with mixed echo cancellation the echo hardly opens voice activation,
// without it the echo is sent.
func TestSenderEchoMixed(t *testing.T) {
	far := speechtest.Speech(t, speechtest.FarVoice, speechtest.FarText, -20)
	// Echo: 30 ms late at -6 dB plus a little reverberation.
	echo := make([]int16, len(far))
	for i := range echo {
		var v float64
		if j := i - 1440; j >= 0 {
			v += 0.5 * float64(far[j])
		}
		if j := i - 1900; j >= 0 {
			v += 0.15 * float64(far[j])
		}
		echo[i] = analysis.Clip(v)
	}
	mic := speechtest.Mix(echo, speechtest.Noise(len(echo), -75, false, 9))
	sent := map[EchoMode]int{}
	for _, mode := range []EchoMode{EchoOff, EchoMixed} {
		cfg := DefaultSendConfig()
		cfg.EchoCancel = mode
		cfg.Hold = 100 * time.Millisecond
		s, r := newSender(t, cfg)
		for off := 0; off+FrameSamples <= len(mic); off += FrameSamples {
			s.Reference(far[off : off+FrameSamples])
			if err := s.Process(mic[off : off+FrameSamples]); err != nil {
				t.Fatal(err)
			}
			r.frame++
		}
		// Count frames sent after 3 s of convergence.
		for _, p := range r.packets {
			if p.frame >= 300 {
				sent[mode] += p.Frames10ms
			}
		}
		if mode == EchoMixed {
			if st := s.Stats().Echo; st.Underruns != 0 || st.DroppedSamples != 0 {
				t.Errorf("reference queue: %+v", st)
			}
		}
	}
	total := len(mic)/FrameSamples - 300
	t.Logf("echo only, after 3 s: %d of %d frames sent without echo cancellation, %d with", sent[EchoOff], total, sent[EchoMixed])
	if sent[EchoOff] < total/3 {
		t.Fatalf("without echo cancellation only %d of %d frames sent: the test's echo is too weak", sent[EchoOff], total)
	}
	if sent[EchoMixed] > sent[EchoOff]/10 {
		t.Errorf("with echo cancellation %d frames of echo sent, want < 10%% of %d", sent[EchoMixed], sent[EchoOff])
	}
}
