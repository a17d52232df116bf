package wav

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadFile reads every sample of the WAV file at path (48 kHz mono 16-bit,
// as NewReader requires).
func ReadFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The header's count sizes the slice, within reason: it is not to be
	// trusted with gigabytes.
	out := make([]int16, 0, min(max(r.Samples(), 0), 1<<22))
	buf := make([]int16, 4800)
	for {
		n, err := r.ReadSamples(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// WriteFile writes pcm as a 48 kHz mono 16-bit WAV file at path,
// atomically as Create does: a failed write leaves no partial file.
func WriteFile(path string, pcm []int16) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	if err := w.WriteSamples(pcm); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
