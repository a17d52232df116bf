// Package speechtest makes speech for voice tests: espeak-ng speaks a text,
// sox converts it to 48 kHz mono 16-bit, and the result is scaled to a
// chosen level. Generated clips are cached per process.
package speechtest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/wav"
)

// Texts for a far-end and a near-end talker.
const (
	FarText  = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It is easy to tell the depth of a well. These days a chicken leg is a rare dish. Rice is often served in round bowls. The juice of lemons makes fine punch."
	NearText = "A large size in stockings is hard to sell. The boy was there when the sun rose. A rod is used to catch pink salmon. The source of the huge river is the clear spring."
)

// Voices for the two talkers.
const (
	FarVoice  = "en-us"
	NearVoice = "en-gb+f3"
)

var (
	mu    sync.Mutex
	cache = map[string][]int16{}
)

// Speech returns text spoken by voice as 48 kHz mono samples scaled to an
// RMS level of levelDBFS over the frames that hold speech. Without
// espeak-ng or sox the test is skipped, or fails when
// TUMBLE_REQUIRE_SERVERS=1 (make test) demands every dependency.
func Speech(tb testing.TB, voice, text string, levelDBFS float64) []int16 {
	tb.Helper()
	pcm, err := generate(voice, text)
	if err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			tb.Fatalf("speech: %v", err)
		}
		tb.Skipf("speech: %v (install espeak-ng and sox)", err)
	}
	return Scale(pcm, levelDBFS)
}

func generate(voice, text string) ([]int16, error) {
	mu.Lock()
	defer mu.Unlock()
	key := voice + "\x00" + text
	if pcm, ok := cache[key]; ok {
		return pcm, nil
	}
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "speechtest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	raw, out := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "out.wav")
	if b, err := exec.Command("espeak-ng", "-v", voice, "-s", "150", "-w", raw, text).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("espeak-ng: %w: %s", err, b)
	}
	if b, err := exec.Command("sox", raw, "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", out).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sox: %w: %s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		return nil, err
	}
	var pcm []int16
	buf := make([]int16, 4800)
	for {
		n, err := r.ReadSamples(buf)
		pcm = append(pcm, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(pcm) < 48000 {
		return nil, fmt.Errorf("espeak-ng made only %d samples", len(pcm))
	}
	cache[key] = pcm
	return pcm, nil
}

// ActiveDBFS returns the RMS level of the 10 ms frames of pcm that are no
// more than 30 dB below the loudest frame: the level of the speech itself.
func ActiveDBFS(pcm []int16) float64 {
	const frame = 480
	var levels []float64
	top := analysis.SilenceDBFS
	for off := 0; off+frame <= len(pcm); off += frame {
		l := analysis.DBFS(pcm[off : off+frame])
		levels = append(levels, l)
		top = math.Max(top, l)
	}
	var sum float64
	n := 0
	for i, l := range levels {
		if l > top-30 {
			sum += analysis.Energy(pcm[i*frame : (i+1)*frame])
			n += frame
		}
	}
	if n == 0 {
		return analysis.SilenceDBFS
	}
	return analysis.ToDB(math.Sqrt(sum / float64(n)))
}

// Scale returns a copy of pcm scaled so that ActiveDBFS is levelDBFS.
func Scale(pcm []int16, levelDBFS float64) []int16 {
	g := math.Pow(10, (levelDBFS-ActiveDBFS(pcm))/20)
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = analysis.Clip(float64(s) * g)
	}
	return out
}
