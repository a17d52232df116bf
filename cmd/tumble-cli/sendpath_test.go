package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/vad"
	"github.com/tumble-voip/tumble/voice/wav"
)

func TestSendProcessingFlags(t *testing.T) {
	base := []string{"--server", "127.0.0.1:64738", "--user", "u"}
	withWAV := []string{"--server", "127.0.0.1:64738", "--user", "u", "--send-wav", "x.wav"}
	// Each case gets its own slice.
	args := func(a []string, more ...string) []string { return append(append([]string(nil), a...), more...) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{args(withWAV, "--transmit", "ptt"), `--transmit "ptt": want continuous or voice-activity`},
		{args(base, "--transmit", "voice-activity"), "--transmit needs --send-wav"},
		{args(base, "--noise-suppression", "-30"), "--noise-suppression needs --send-wav"},
		{args(withWAV, "--voice-hold", "100ms"), "--voice-hold needs --transmit voice-activity"},
		{args(withWAV, "--vad-speech-above", "60"), "--vad-speech-above needs --transmit voice-activity"},
		{args(withWAV, "--transmit", "voice-activity", "--vad-silence-below", "101"), "--vad-silence-below 101: want a percentage"},
		{args(withWAV, "--transmit", "voice-activity", "--vad-speech-above", "-1"), "--vad-speech-above -1: want a percentage"},
		{args(withWAV, "--transmit", "voice-activity", "--vad-speech-above", "20"), "--vad-speech-above 20 is below --vad-silence-below 30"},
		{args(withWAV, "--transmit", "voice-activity", "--voice-hold", "-1s"), "--voice-hold -1s: want 0 to 1m"},
		{args(withWAV, "--transmit", "voice-activity", "--voice-hold", "2m"), "--voice-hold 2m0s: want 0 to 1m"},
		{args(withWAV, "--noise-suppression", "30"), "--noise-suppression 30: want 0 (off) or -1 to -90 dB"},
		{args(withWAV, "--noise-suppression", "-91"), "--noise-suppression -91"},
		{args(withWAV, "--max-amplification", "0.5"), "--max-amplification 0.5: want 0 (off) or 1 to 20"},
		{args(withWAV, "--max-amplification", "21"), "--max-amplification 21"},
		{args(withWAV, "--max-amplification", "NaN"), "--max-amplification NaN"},
		{args(withWAV, "--input-device", "mic", "--for", "1m"), "--send-wav and --input-device both"},
		{args(base, "--input-device", "mic"), "--input-device needs --for"},
		{args(base, "--output-device", "spk", "--record-dir", "d"), "--output-device and --record-dir both"},
		{args(base, "--whisper", "x"), "--whisper needs --send-wav or --input-device"},
	} {
		_, err := parseOptions(tc.args, io.Discard, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q", tc.args[len(base):], err, tc.want)
		}
	}

	// The defaults leave the signal alone: continuous, no processing.
	o, err := parseOptions(withWAV, io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.sendConfig()
	if cfg.Transmit != vad.Continuous || cfg.NoiseSuppressionDB != 0 || cfg.MaxAmplification != 0 || cfg.EchoCancel != voice.EchoOff ||
		cfg.FrameMs != 20 || cfg.Bitrate != 13000 {
		t.Errorf("default send config %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	o, err = parseOptions(args(withWAV, "--transmit", "voice-activity", "--voice-hold", "400ms", "--vad-silence-below", "20",
		"--vad-speech-above", "40", "--noise-suppression", "-60", "--max-amplification", "2.5", "--frames-per-packet", "4"),
		io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg = o.sendConfig()
	if cfg.Transmit != vad.VoiceActivity || cfg.Hold != 400*time.Millisecond || cfg.SilenceBelow != 0.2 || cfg.SpeechAbove != 0.4 ||
		cfg.NoiseSuppressionDB != -60 || cfg.MaxAmplification != 2.5 || cfg.FrameMs != 40 {
		t.Errorf("send config %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}

// speech returns text spoken by espeak-ng as 48 kHz mono samples (sox
// converts), scaled to levelDBFS over the frames that hold speech. Without
// the tools the test is skipped, or fails when TUMBLE_REQUIRE_SERVERS=1
// demands every dependency.
func speech(t *testing.T, text string, levelDBFS float64) []int16 {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
				t.Fatalf("speech: %v", err)
			}
			t.Skipf("speech: %v (install espeak-ng and sox)", err)
		}
	}
	dir := t.TempDir()
	raw, conv := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "speech.wav")
	if b, err := exec.Command("espeak-ng", "-v", "en-gb", "-s", "150", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, b)
	}
	if b, err := exec.Command("sox", raw, "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", conv).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	pcm := readWAV(t, conv)
	g := math.Pow(10, (levelDBFS-activeDBFS(pcm))/20)
	for i, s := range pcm {
		pcm[i] = analysis.Clip(float64(s) * g)
	}
	return pcm
}

// activeDBFS is the RMS level of the 10 ms frames within 30 dB of the
// loudest: the level of the speech, not of the pauses.
func activeDBFS(pcm []int16) float64 {
	const frame = 480
	top := analysis.SilenceDBFS
	for off := 0; off+frame <= len(pcm); off += frame {
		top = math.Max(top, analysis.DBFS(pcm[off:off+frame]))
	}
	var sum float64
	n := 0
	for off := 0; off+frame <= len(pcm); off += frame {
		if analysis.DBFS(pcm[off:off+frame]) > top-30 {
			sum += analysis.Energy(pcm[off : off+frame])
			n += frame
		}
	}
	if n == 0 {
		return analysis.SilenceDBFS
	}
	return analysis.ToDB(math.Sqrt(sum / float64(n)))
}

// writeWAV writes a 48 kHz mono WAV.
func writeWAV(t *testing.T, path string, pcm []int16) {
	t.Helper()
	if err := wav.WriteFile(path, pcm); err != nil {
		t.Fatal(err)
	}
}

// TestVoiceActivationSendsOnlyTalk sends a WAV of a room's noise floor, a
// sentence and more noise floor with --transmit voice-activity: the
// listener must hear one transmission that covers the sentence and the
// voice hold and nothing else, ended by a terminator.
func TestVoiceActivationSendsOnlyTalk(t *testing.T) {
	talk := speech(t, "The boy was there when the sun rose.", -25)
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Lab"}})
			dir := t.TempDir()
			const lead, tail = 48000, 3 * 48000 // 1 s before, 3 s after
			pcm := make([]int16, lead+len(talk)+tail)
			copy(pcm[lead:], talk)
			r := rand.New(rand.NewPCG(1, 2))
			floor := 32768 * math.Pow(10, -80.0/20) // -80 dBFS: well below the 30% (-67 dBFS) threshold
			for i := range pcm {
				pcm[i] = analysis.Clip(float64(pcm[i]) + floor*r.NormFloat64())
			}
			file := filepath.Join(dir, "talk.wav")
			writeWAV(t, file, pcm)

			// What Mumble's amplitude voice activation should send:
			// from the first 10 ms frame above 50% (-48 dBFS) to the
			// last above 30% (-67 dBFS), then the 250 ms hold.
			first, last := -1, -1
			for i := 0; (i+1)*480 <= len(pcm); i++ {
				l := vad.AmplitudeLevel(analysis.DBFS(pcm[i*480 : (i+1)*480]))
				if first < 0 && l > 0.5 {
					first = i
				}
				if first >= 0 && l > 0.3 {
					last = i
				}
			}
			want := time.Duration(last-first+1)*10*time.Millisecond + 250*time.Millisecond

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			common := []string{"--server", srv.Addr, "--tor", "off", "--channel", "Root/Lab"}
			total := time.Duration(len(pcm)) * time.Second / 48000
			rec := filepath.Join(dir, "rec")
			listener := startCLI(ctx, t, append(common, "--user", "ear", "--record-dir", rec, "--for", (total+4*time.Second).String())...)
			waitInChannel(ctx, t, srv, 0, "ear", "Lab")
			sender := startCLI(ctx, t, append(common, "--user", "mouth", "--send-wav", file, "--transmit", "voice-activity")...)
			s, l := sender(), listener()
			if s.err != nil || l.err != nil {
				t.Fatalf("sender: %v %s\nlistener: %v %s", s.err, s.stderr, l.err, l.stderr)
			}

			// The sender's account: one transmission, starting at the
			// sentence and ending after the hold.
			talking := s.find("voice-send-talking")
			end := s.find("voice-send-end")
			if len(end) != 1 || end[0]["transmissions"] != float64(1) || len(talking) != 2 {
				t.Fatalf("sender: voice-send-talking %v, voice-send-end %v; want one transmission", talking, end)
			}
			on, off := talking[0]["file_ms"].(float64), talking[1]["file_ms"].(float64)
			t.Logf("sentence at %d-%d ms of the file, sender transmitted %v-%v ms (%v packets, %v ms of audio)",
				first*10, (last+1)*10, on, off, end[0]["packets"], end[0]["duration_ms"])
			if math.Abs(on-float64(first*10)) > 20 || math.Abs(off-float64(last*10+260)) > 20 {
				t.Errorf("transmitted %v-%v ms of the file, want about %d-%d ms (speech plus hold)", on, off, first*10, last*10+260)
			}

			// The listener's account: voice only during the talk and
			// the hold, in one spurt that a terminator ended (a
			// transmission that just stops leaves the jitter buffer
			// concealing until it gives up).
			got := readWAV(t, filepath.Join(rec, "mouth.wav"))
			heardFirst, heardLast := -1, -1
			for i := 0; (i+1)*480 <= len(got); i++ {
				if analysis.Energy(got[i*480:(i+1)*480]) > 0 {
					if heardFirst < 0 {
						heardFirst = i
					}
					heardLast = i
				}
			}
			heard := time.Duration(heardLast-heardFirst+1) * 10 * time.Millisecond
			starts, ends := l.find("voice-start"), l.find("voice-end")
			var stats map[string]any
			for _, e := range l.find("voice-stats") {
				// By session: the sender has left, its name is gone.
				if len(starts) > 0 && e["session"] == starts[0]["session"] {
					stats = e
				}
			}
			t.Logf("listener on %s: sound for %v (want %v: speech and hold), %d voice-start, %d voice-end, stats %v",
				v, heard, want, len(starts), len(ends), stats)
			if heardFirst < 0 || heard < want-30*time.Millisecond || heard > want+50*time.Millisecond {
				t.Errorf("listener heard %v of sound, want %v (the sentence and the voice hold, not the %v file)", heard, want, total)
			}
			if len(starts) != 1 || len(ends) != 1 {
				t.Errorf("listener saw %d voice-start and %d voice-end events, want one transmission", len(starts), len(ends))
			}
			if stats == nil || stats["concealed"] != float64(0) {
				t.Errorf("listener concealed frames at the end of the transmission (no terminator?): %v", stats)
			}
		})
	}
}

// TestSendWAVEndsWithTerminator: in continuous mode every file ends with
// one terminator, whether it ends on a packet boundary or mid-packet, and
// all of it is sent; an empty WAV is refused before connecting.
func TestSendWAVEndsWithTerminator(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15, Channels: []string{"Lab"}})
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name    string
		samples int
		fpp     int
	}{
		{"boundary", 48000, 2},         // 1 s = 50 packets of 20 ms, then a silent terminator
		{"mid-packet", 48000 + 700, 4}, // 1.015 s: 25 packets of 40 ms and 2 frames (the last partial)
		{"one-frame-short", 479, 1},    // less than one frame: one padded packet
	} {
		file := filepath.Join(dir, tc.name+".wav")
		writeWAV(t, file, analysis.Sine(tc.samples, 48000, 440, 0.3))
		r := startCLI(ctx, t, "--server", srv.Addr, "--tor", "off", "--user", "u-"+tc.name, "--channel", "Root/Lab",
			"--send-wav", file, "--frames-per-packet", fmt.Sprint(tc.fpp))()
		if r.err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, r.err, r.stderr)
		}
		end := r.find("voice-send-end")
		if len(end) != 1 {
			t.Fatalf("%s: voice-send-end events %v", tc.name, end)
		}
		frames := (tc.samples + 479) / 480
		wantPackets := frames/tc.fpp + 1 // full packets, then the terminator (partial or silent)
		t.Logf("%s: %v", tc.name, end[0])
		if end[0]["transmissions"] != float64(1) || end[0]["packets"] != float64(wantPackets) ||
			end[0]["file_ms"] != float64(frames*10) || end[0]["dropped"] != float64(0) {
			t.Errorf("%s: %v, want %d packets in one transmission, file_ms %d", tc.name, end[0], wantPackets, frames*10)
		}
	}

	empty := filepath.Join(dir, "empty.wav")
	writeWAV(t, empty, nil)
	r := startCLI(ctx, t, "--server", srv.Addr, "--tor", "off", "--user", "empty", "--send-wav", empty)()
	if r.err == nil || !strings.Contains(r.stderr, "no audio") || len(r.find("connected")) != 0 {
		t.Errorf("empty WAV: %v, %q, events %v; want a no-audio error before connecting", r.err, r.stderr, r.events)
	}
	var exit *exec.ExitError
	if !errors.As(r.err, &exit) {
		t.Errorf("empty WAV: %v", r.err)
	}
}

// TestSendProcessingOptions sends a quiet talker in a noisy room twice at
// once: as it is (the defaults), and with --noise-suppression -30
// --max-amplification 20. The listener hears the first at the file's
// level, the second louder and with the noise pushed down.
func TestSendProcessingOptions(t *testing.T) {
	talk := speech(t, "The boy was there when the sun rose. A rod is used to catch pink salmon. The source of the huge river is the clear spring.", -40)
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15, Channels: []string{"Lab"}})
	dir := t.TempDir()
	const lead, tail = 48000, 2 * 48000
	pcm := make([]int16, lead+len(talk)+tail)
	copy(pcm[lead:], talk)
	r := rand.New(rand.NewPCG(3, 4))
	floor := 32768 * math.Pow(10, -65.0/20)
	for i := range pcm {
		pcm[i] = analysis.Clip(float64(pcm[i]) + floor*r.NormFloat64())
	}
	file := filepath.Join(dir, "room.wav")
	writeWAV(t, file, pcm)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	common := []string{"--server", srv.Addr, "--tor", "off", "--channel", "Root/Lab"}
	total := time.Duration(len(pcm)) * time.Second / 48000
	rec := filepath.Join(dir, "rec")
	listener := startCLI(ctx, t, append(common, "--user", "ear", "--record-dir", rec, "--for", (total+4*time.Second).String())...)
	waitInChannel(ctx, t, srv, 0, "ear", "Lab")
	plain := startCLI(ctx, t, append(common, "--user", "plain", "--send-wav", file)...)
	cleaned := startCLI(ctx, t, append(common, "--user", "cleaned", "--send-wav", file, "--noise-suppression", "-30", "--max-amplification", "20")...)
	for name, wait := range map[string]func() *cliRun{"plain": plain, "cleaned": cleaned, "listener": listener} {
		if r := wait(); r.err != nil {
			t.Fatalf("%s: %v\n%s", name, r.err, r.stderr)
		}
	}
	// Speech level over the second half of the talk (the AGC has
	// settled) and the noise level in the last second, after the talk;
	// each recording is cut to its own sound.
	measure := func(name string) (speechDB, noiseDB float64) {
		got := readWAV(t, filepath.Join(rec, name+".wav"))
		first := 0
		for first+480 <= len(got) && analysis.Energy(got[first:first+480]) == 0 {
			first += 480
		}
		got = got[first:]
		if len(got) < len(pcm) {
			t.Fatalf("%s: recorded %d samples of sound, sent %d", name, len(got), len(pcm))
		}
		mid := lead + len(talk)/2
		return activeDBFS(got[mid : lead+len(talk)]), analysis.DBFS(got[len(pcm)-48000 : len(pcm)])
	}
	inSpeech, inNoise := activeDBFS(pcm[lead+len(talk)/2:lead+len(talk)]), analysis.DBFS(pcm[len(pcm)-48000:])
	pSpeech, pNoise := measure("plain")
	cSpeech, cNoise := measure("cleaned")
	t.Logf("file: speech %.1f dBFS, noise %.1f dBFS; plain: %.1f / %.1f; cleaned: %.1f / %.1f",
		inSpeech, inNoise, pSpeech, pNoise, cSpeech, cNoise)
	// (Opus at 13 kb/s keeps the speech level but not the white noise
	// above its 8 kHz band: compare the noise only between the two.)
	if math.Abs(pSpeech-inSpeech) > 2 {
		t.Errorf("defaults changed the speech level: %.1f -> %.1f dBFS", inSpeech, pSpeech)
	}
	if cSpeech < pSpeech+10 {
		t.Errorf("--max-amplification 20: speech at %.1f dBFS, want 10 dB or more above the plain %.1f", cSpeech, pSpeech)
	}
	if (cSpeech - cNoise) < (pSpeech-pNoise)+10 {
		t.Errorf("--noise-suppression -30: speech-to-noise %.1f dB, want 10 dB or more above the plain %.1f", cSpeech-cNoise, pSpeech-pNoise)
	}
}
