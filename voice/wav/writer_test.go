package wav

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSkipWritesAHole: skipped samples read back as zeros and take no disk
// space (a sparse file), even an hour of them.
func TestSkipWritesAHole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gap.wav")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	hour := int64(3600 * 48000)
	if err := w.WriteSamples([]int16{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Skip(hour); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples([]int16{3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Skip(5); err != nil { // a trailing gap
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(headerSize + 2*(hour+8)); fi.Size() != want {
		t.Errorf("size %d, want %d", fi.Size(), want)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 1<<20 {
		t.Errorf("an hour of skipped silence uses %d bytes on disk", st.Blocks*512)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sample := func(i int64) int16 {
		var b [2]byte
		if _, err := f.ReadAt(b[:], headerSize+2*i); err != nil {
			t.Fatal(err)
		}
		return int16(binary.LittleEndian.Uint16(b[:]))
	}
	for i, want := range map[int64]int16{0: 1, 1: 2, 2: 0, hour + 1: 0, hour + 2: 3, hour + 7: 0} {
		if got := sample(i); got != want {
			t.Errorf("sample %d = %d, want %d", i, got, want)
		}
	}
}
