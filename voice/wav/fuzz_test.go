package wav

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to NewReader and ReadSamples: they must
// return errors, never panic, never loop, and never yield more samples than
// the input could hold.
func FuzzReader(f *testing.F) {
	f.Add(build(0, "fmt ", fmtChunk(formatPCM, 1, 48000, 16), "data", samplesBytes(tone(64))))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := NewReader(bytes.NewReader(b))
		if err != nil {
			if rd != nil {
				t.Fatal("reader and error")
			}
			return
		}
		buf := make([]int16, 97)
		total := 0
		for i := 0; ; i++ {
			n, err := rd.ReadSamples(buf)
			total += n
			if n < 0 || n > len(buf) {
				t.Fatalf("ReadSamples returned %d", n)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if i > len(b) {
				t.Fatal("ReadSamples does not reach the end")
			}
		}
		if 2*total > len(b) {
			t.Fatalf("read %d samples from %d bytes", total, len(b))
		}
	})
}
