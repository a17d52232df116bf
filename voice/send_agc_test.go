//go:build cgo

package voice

import (
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/internal/speechtest"
	"github.com/tumble-voip/tumble/voice/vad"
)

// agcTrace is the Sender's state after each frame.
type agcTrace struct {
	gain    []int
	talking []bool
}

// runAGC feeds pcm through a Sender with Mumble's processing (noise
// suppression, AGC up to 29 dB) in the given transmission mode.
func runAGC(t *testing.T, mode vad.Mode, pcm []int16) agcTrace {
	t.Helper()
	cfg := DefaultSendConfig()
	cfg.Transmit = mode
	cfg.Hold = 250 * time.Millisecond
	cfg.EchoCancel = EchoOff
	s, r := newSender(t, cfg)
	var tr agcTrace
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		if err := s.Process(pcm[off : off+FrameSamples]); err != nil {
			t.Fatal(err)
		}
		r.frame++
		st := s.Stats()
		tr.gain = append(tr.gain, st.GainDB)
		tr.talking = append(tr.talking, st.Talking)
	}
	return tr
}

func maxOf(v []int) int {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

// TestSenderAGCFrozenInSilence: a quiet talker, then 16 s of a distant
// conversation below the voice activation threshold, then the talker
// again, quieter. As in Mumble, the AGC gain must not rise while voice
// activation keeps the microphone closed, and must rise again when speech
// resumes; with continuous transmission Mumble never freezes it, and the
// same background lifts the gain.
func TestSenderAGCFrozenInSilence(t *testing.T) {
	talk := speechtest.Speech(t, speechtest.NearVoice, speechtest.NearText, -35)
	background := speechtest.Speech(t, speechtest.FarVoice, speechtest.FarText, -75)
	again := speechtest.Speech(t, speechtest.NearVoice, "The boy was there when the sun rose. A rod is used to catch pink salmon.", -45)
	var pcm []int16
	pcm = append(pcm, talk...)
	pcm = append(pcm, background...)
	pcm = append(pcm, again...)
	pcm = speechtest.Mix(pcm, speechtest.Noise(len(pcm), -85, false, 4))
	bgStart, bgEnd := len(talk)/FrameSamples, (len(talk)+len(background))/FrameSamples

	va := runAGC(t, vad.VoiceActivity, pcm)
	// The talker's last transmission ends within the hold after the
	// speech; from the second frame without transmission the gain is
	// frozen.
	last := -1
	for i := 0; i < bgStart+30; i++ {
		if va.talking[i] {
			last = i
		}
	}
	if last < 0 || last >= bgStart+29 {
		t.Fatalf("the talker's transmission does not end before the background (last talking frame %d, background from %d)", last, bgStart)
	}
	frozenFrom := last + 2
	for i := frozenFrom; i < bgEnd; i++ {
		if va.talking[i] {
			t.Fatalf("the background opened voice activation at %.2f s: the test signal is too loud", float64(i)/100)
		}
	}
	atEnd := va.gain[frozenFrom-1]
	inSilence := maxOf(va.gain[frozenFrom:bgEnd])
	resumed := maxOf(va.gain[bgEnd:])

	co := runAGC(t, vad.Continuous, pcm)
	coStart, coEnd := co.gain[frozenFrom-1], maxOf(co.gain[frozenFrom:bgEnd])

	t.Logf("voice activation: gain %d dB when the talker stops, at most %d dB over %.1f s of background, up to %d dB when speech resumes",
		atEnd, inSilence, float64(bgEnd-frozenFrom)/100, resumed)
	t.Logf("continuous transmission: gain %d dB -> up to %d dB over the same background", coStart, coEnd)
	if inSilence > atEnd {
		t.Errorf("voice activation: the AGC gain rose from %d to %d dB while not transmitting", atEnd, inSilence)
	}
	if resumed < inSilence+3 {
		t.Errorf("voice activation: the AGC gain did not rise when quieter speech resumed (%d dB, %d before)", resumed, inSilence)
	}
	if coEnd < coStart+5 {
		t.Errorf("continuous transmission: the gain went from %d to only %d dB over the background, want a rise as in Mumble (the test signal no longer provokes one?)", coStart, coEnd)
	}
}

// TestSenderEndTransmission: ending the capture mid-packet sends the
// collected audio, padded, as the terminator; ending on a packet boundary
// sends a packet of silence as the terminator; nothing is sent when not
// transmitting.
func TestSenderEndTransmission(t *testing.T) {
	cfg := DefaultSendConfig()
	cfg.Transmit = vad.Continuous
	cfg.FrameMs = 40
	cfg.EchoCancel = EchoOff
	s, r := newSender(t, cfg)
	tone := make([]int16, 7*FrameSamples) // 70 ms: one packet and 3 frames
	for i := range tone {
		tone[i] = int16(8000 * ((i/24)%2*2 - 1))
	}
	feed(t, s, r, tone)
	if len(r.packets) != 1 || r.packets[0].Terminator {
		t.Fatalf("70 ms in 40 ms packets: %d packets before the end", len(r.packets))
	}
	if err := s.EndTransmission(); err != nil {
		t.Fatal(err)
	}
	if len(r.packets) != 2 || !r.packets[1].Terminator || r.packets[1].Frames10ms != 4 {
		t.Fatalf("after EndTransmission: %+v", r.packets)
	}
	if len(r.talking) != 2 || !r.talking[0] || r.talking[1] || s.Stats().Talking {
		t.Errorf("talking events %v, stats talking %v", r.talking, s.Stats().Talking)
	}
	out := decode(t, r.packets)
	if len(out) != 8*FrameSamples {
		t.Fatalf("decoded %d samples, want 80 ms", len(out))
	}
	if err := s.EndTransmission(); err != nil || len(r.packets) != 2 {
		t.Errorf("second EndTransmission: %v, %d packets", err, len(r.packets))
	}

	// A new transmission starts with the next frame; ending it on a
	// packet boundary sends a silent terminator.
	feed(t, s, r, tone[:4*FrameSamples])
	if len(r.packets) != 3 || r.packets[2].Terminator {
		t.Fatalf("new transmission: %d packets", len(r.packets))
	}
	s.EndTransmission()
	if len(r.packets) != 4 || !r.packets[3].Terminator || r.packets[3].Frames10ms != 4 {
		t.Fatalf("terminator on a packet boundary: %+v", r.packets[3:])
	}
	// Decoded in sequence, the terminator is silence once the codec's
	// and the preprocessor's delay and the codec's decay have passed.
	got := decode(t, r.packets[2:])
	tail, level := analysis.DBFS(got[len(got)-2*FrameSamples:]), analysis.DBFS(got[:4*FrameSamples])
	if tail > level-20 {
		t.Errorf("terminator on a packet boundary: its last 20 ms at %.1f dBFS, the tone at %.1f, want silence", tail, level)
	}
	if len(r.talking) != 4 {
		t.Errorf("talking events %v", r.talking)
	}
	s.Close()
	if err := s.EndTransmission(); err == nil {
		t.Error("EndTransmission after Close succeeded")
	}
}
