//go:build cgo

package app

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice/wav"
)

// writeVoiceLikeWAV writes d of a 48 kHz mono test signal: a 220 Hz tone
// with harmonics, switched on and off four times a second like syllables.
func writeVoiceLikeWAV(t *testing.T, path string, d time.Duration) {
	t.Helper()
	n := int(d.Seconds() * 48000)
	pcm := make([]int16, n)
	for i := range pcm {
		x := float64(i) / 48000
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*x)
		v := math.Sin(2*math.Pi*220*x) + 0.5*math.Sin(2*math.Pi*440*x) + 0.25*math.Sin(2*math.Pi*660*x)
		pcm[i] = int16(6000 * env * v)
	}
	if err := wav.WriteFile(path, pcm); err != nil {
		t.Fatal(err)
	}
}

// wavRMS returns the RMS of a WAV file's samples.
func wavRMS(t *testing.T, path string) (rms float64, samples int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 4800)
	var sum float64
	for {
		m, err := r.ReadSamples(buf)
		for _, v := range buf[:m] {
			sum += float64(v) * float64(v)
		}
		samples += m
		if err != nil || m == 0 {
			break
		}
	}
	if samples == 0 {
		return 0, 0
	}
	return math.Sqrt(sum / float64(samples)), samples
}

func TestControllerVoiceBetweenTwoClients(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			srv := murmurtest.Start(t, murmurtest.Options{Version: v})
			out := filepath.Join(t.TempDir(), "out.wav")
			a := newPushToTalkSpeaker(t)
			b := newTestController(t, ControllerConfig{AudioBackend: AudioFile, AudioOutputFile: out})
			sb := b.Settings()
			sb.Output.VolumePercent = 100
			if err := b.SetSettings(sb); err != nil {
				t.Fatal(err)
			}
			connect(t, a, addServerBookmark(t, a, srv.Addr, "alice", ""))
			connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))

			// Push-to-talk: nothing is sent until the key is pressed.
			time.Sleep(300 * time.Millisecond)
			if st := a.State(); st.Transmitting {
				t.Fatalf("transmitting in push-to-talk mode without the key")
			}
			a.PushToTalk(true)
			waitFor(t, a, "alice transmitting", func(st State) bool { return st.Transmitting && st.Self.Talking })
			waitFor(t, b, "bob hears alice", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.Talking
			})
			a.PushToTalk(false)
			waitFor(t, a, "alice stops transmitting", func(st State) bool { return !st.Transmitting })
			waitFor(t, b, "alice no longer heard", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && !u.Talking
			})

			// Self-muted, push-to-talk sends nothing.
			a.SetSelfMute(true)
			waitFor(t, a, "muted", func(st State) bool { return st.SelfMute })
			a.PushToTalk(true)
			time.Sleep(500 * time.Millisecond)
			if st := a.State(); st.Transmitting {
				t.Errorf("transmitting while self-muted")
			}
			if st := b.State(); func() bool { u, _ := userNamed(st.Root, "alice"); return u.Talking }() {
				t.Errorf("bob hears alice while she is self-muted")
			}
			a.PushToTalk(false)

			b.Close() // finishes the output file
			rms, n := wavRMS(t, out)
			if n == 0 || rms < 30 {
				t.Errorf("bob's playback: %d samples, RMS %.1f; want alice's voice in it", n, rms)
			}
			t.Logf("bob's playback: %.1f s, RMS %.1f", float64(n)/48000, rms)
		})
	}
}
