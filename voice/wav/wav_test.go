package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	m.off = off
	return off, nil
}

func tone(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(20000 * math.Sin(2*math.Pi*440*float64(i)/SampleRate))
	}
	if n >= 2 {
		pcm[0], pcm[1] = math.MaxInt16, math.MinInt16
	}
	return pcm
}

func encode(t *testing.T, pcm []int16) []byte {
	t.Helper()
	var m memFile
	w, err := NewWriter(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return m.b
}

func readAll(t *testing.T, r io.Reader, chunk int) []int16 {
	t.Helper()
	rd, err := NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, chunk)
	for {
		n, err := rd.ReadSamples(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			if n != 0 {
				t.Fatalf("io.EOF with %d samples", n)
			}
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("ReadSamples returned 0, nil")
		}
	}
}

func TestRoundTrip(t *testing.T) {
	pcm := tone(48000 + 17)
	b := encode(t, pcm)
	if len(b) != headerSize+2*len(pcm) {
		t.Fatalf("file is %d bytes, want %d", len(b), headerSize+2*len(pcm))
	}
	if got := binary.LittleEndian.Uint32(b[4:]); got != uint32(len(b)-8) {
		t.Errorf("RIFF size %d, want %d", got, len(b)-8)
	}
	if got := binary.LittleEndian.Uint32(b[40:]); got != uint32(2*len(pcm)) {
		t.Errorf("data size %d, want %d", got, 2*len(pcm))
	}
	for _, chunk := range []int{1, 7, 480, 100000} {
		got := readAll(t, bytes.NewReader(b), chunk)
		if !equal(got, pcm) {
			t.Fatalf("chunk %d: samples differ after round trip", chunk)
		}
	}
	// A reader that hands out one byte at a time splits samples.
	if got := readAll(t, iotest.OneByteReader(bytes.NewReader(b)), 480); !equal(got, pcm) {
		t.Fatal("one-byte reader: samples differ")
	}
	rd, _ := NewReader(bytes.NewReader(b))
	if rd.Samples() != int64(len(pcm)) {
		t.Errorf("Samples() = %d, want %d", rd.Samples(), len(pcm))
	}
}

// TestSoxReadsOurFiles checks our files against an independent reader.
func TestSoxReadsOurFiles(t *testing.T) {
	if _, err := os.Stat("/usr/bin/soxi"); err != nil {
		t.Skip("soxi not installed")
	}
	path := filepath.Join(t.TempDir(), "t.wav")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(tone(4800))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := execOutput("soxi", path)
	if err != nil {
		t.Fatalf("soxi: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 1", "Sample Rate    : 48000", "Precision      : 16-bit", "4800 samples"} {
		if !strings.Contains(out, want) {
			t.Errorf("soxi output lacks %q:\n%s", want, out)
		}
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// build assembles a RIFF file from chunks given as id, payload pairs.
func build(riffSize uint32, chunks ...any) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, riffSize)
	b.WriteString("WAVE")
	for i := 0; i < len(chunks); i += 2 {
		id := chunks[i].(string)
		payload := chunks[i+1].([]byte)
		size := uint32(len(payload))
		if id == "data?" { // data chunk with a size given in the first 4 payload bytes
			id = "data"
			size = binary.LittleEndian.Uint32(payload)
			payload = payload[4:]
		}
		b.WriteString(id)
		binary.Write(&b, binary.LittleEndian, size)
		b.Write(payload)
		if id != "data" && len(payload)%2 == 1 {
			b.WriteByte(0)
		}
	}
	return b.Bytes()
}

func fmtChunk(tag, channels uint16, rate uint32, bits uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], tag)
	binary.LittleEndian.PutUint16(b[2:], channels)
	binary.LittleEndian.PutUint32(b[4:], rate)
	align := channels * bits / 8
	binary.LittleEndian.PutUint32(b[8:], rate*uint32(align))
	binary.LittleEndian.PutUint16(b[12:], align)
	binary.LittleEndian.PutUint16(b[14:], bits)
	return b
}

func extensible(channels uint16, rate uint32, bits, subTag uint16) []byte {
	b := fmtChunk(formatExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)
	binary.LittleEndian.PutUint16(ext[2:], bits)
	binary.LittleEndian.PutUint32(ext[4:], 4)
	binary.LittleEndian.PutUint16(ext[8:], subTag)
	copy(ext[10:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
	return append(b, ext...)
}

func samplesBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

func withSize(size uint32, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, size)
	return append(b, payload...)
}

func TestFormats(t *testing.T) {
	pcm := tone(1000)
	data := samplesBytes(pcm)
	good := fmtChunk(formatPCM, 1, 48000, 16)
	tests := []struct {
		name    string
		file    []byte
		want    []int16 // nil: expect an error containing errText
		errText string
	}{
		{"canonical", build(0, "fmt ", good, "data", data), pcm, ""},
		{"unknown chunks skipped", build(0, "JUNK", []byte("abc"), "fmt ", good, "LIST", make([]byte, 30), "data", data), pcm, ""},
		{"fmt with cbSize", build(0, "fmt ", append(good, 0, 0), "data", data), pcm, ""},
		{"extensible PCM", build(0, "fmt ", extensible(1, 48000, 16, formatPCM), "data", data), pcm, ""},
		{"streaming size 0", build(0, "fmt ", good, "data?", withSize(0, data)), pcm, ""},
		{"streaming size ffffffff", build(0xFFFFFFFF, "fmt ", good, "data?", withSize(0xFFFFFFFF, data)), pcm, ""},
		{"truncated data chunk", build(0, "fmt ", good, "data?", withSize(1<<20, data)), pcm, ""},
		{"truncated half sample", build(0, "fmt ", good, "data?", withSize(1<<20, data[:len(data)-1])), pcm[:len(pcm)-1], ""},
		{"trailing chunk ignored", build(0, "fmt ", good, "data?", withSize(uint32(len(data)-4), append(data, "LIST\x04\x00\x00\x00abcd"...))), pcm[:len(pcm)-2], ""},
		{"empty data", build(0, "fmt ", good, "data?", withSize(0, nil)), []int16{}, ""},

		{"44.1 kHz stereo", build(0, "fmt ", fmtChunk(formatPCM, 2, 44100, 16), "data", data), nil, "wav: 44100 Hz stereo 16-bit; want 48000 Hz mono 16-bit PCM"},
		{"float", build(0, "fmt ", fmtChunk(formatFloat, 1, 48000, 32), "data", data), nil, "wav: 48000 Hz mono 32-bit float; want 48000 Hz mono 16-bit PCM"},
		{"8-bit", build(0, "fmt ", fmtChunk(formatPCM, 1, 48000, 8), "data", data), nil, "48000 Hz mono 8-bit;"},
		{"16 kHz", build(0, "fmt ", fmtChunk(formatPCM, 1, 16000, 16), "data", data), nil, "16000 Hz mono 16-bit;"},
		{"mu-law", build(0, "fmt ", fmtChunk(formatMuLaw, 1, 8000, 8), "data", data), nil, "8000 Hz mono 8-bit mu-law;"},
		{"ADPCM", build(0, "fmt ", fmtChunk(0x11, 1, 48000, 4), "data", data), nil, "(encoding 0x0011)"},
		{"6 channels extensible", build(0, "fmt ", extensible(6, 48000, 24, formatPCM), "data", data), nil, "48000 Hz 6-channel 24-bit;"},
		{"extensible float", build(0, "fmt ", extensible(1, 48000, 32, formatFloat), "data", data), nil, "32-bit float;"},
		{"short extensible", build(0, "fmt ", fmtChunk(formatExtensible, 1, 48000, 16), "data", data), nil, "extensible fmt chunk"},
		{"short fmt", build(0, "fmt ", good[:14], "data", data), nil, "fmt chunk of 14 bytes"},
		{"bad block align", build(0, "fmt ", func() []byte { b := fmtChunk(formatPCM, 1, 48000, 16); b[12] = 4; return b }(), "data", data), nil, "block align 4"},
		{"no fmt", build(0, "data", data), nil, "data chunk before fmt"},
		{"no data", build(0, "fmt ", good), nil, "no data chunk"},
		{"empty", nil, nil, "reading RIFF header"},
		{"not riff", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00mp3"), nil, "not a RIFF/WAVE file"},
		{"RIFF AVI", []byte("RIFF\x00\x00\x00\x00AVI LIST"), nil, "not a RIFF/WAVE file (starts with \"RIFF....AVI \")"},
		{"cut in chunk header", build(0, "fmt ", good)[:40], nil, "reading chunk header"},
		{"cut in unknown chunk", build(0, "fmt ", good, "LIST", make([]byte, 30))[:60], nil, "skipping \"LIST\" chunk"},
		{"two fmt", build(0, "fmt ", good, "fmt ", good, "data", data), nil, "two fmt chunks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader(bytes.NewReader(tc.file))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("no error, want one containing %q", tc.errText)
				}
				if !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("error %q, want it to contain %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int16
			buf := make([]int16, 333)
			for {
				n, err := rd.ReadSamples(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !equal(got, tc.want) {
				t.Fatalf("read %d samples, want %d (or content differs)", len(got), len(tc.want))
			}
		})
	}
}

// errReader fails after its content.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestReadError(t *testing.T) {
	b := encode(t, tone(100))
	boom := errors.New("boom")
	rd, err := NewReader(&errReader{bytes.NewReader(b[:100]), boom})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 1000)
	var rerr error
	for rerr == nil {
		_, rerr = rd.ReadSamples(buf)
	}
	if !errors.Is(rerr, boom) {
		t.Fatalf("error %v, want wrapped boom", rerr)
	}
}

func TestCreateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.wav")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(tone(480)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatal("path changed before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := readAll(t, f, 100); !equal(got, tone(480)) {
		t.Fatal("content differs")
	}
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if err := w.WriteSamples(tone(1)); err == nil {
		t.Error("write after Close succeeded")
	}

	// Abort leaves the old file and no temporary file.
	w, err = Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(tone(10))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, mustOpen(t, path), 100); !equal(got, tone(480)) {
		t.Fatal("Abort changed the file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries after Abort, want 1", len(entries))
	}
}

func TestCreateErrors(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "missing", "x.wav")); err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestWriterBuffers: 10 ms at a time, the Writer writes to its stream in
// blocks of flushBytes, not once per call.
func TestWriterBuffers(t *testing.T) {
	var f failWriter
	f.writes = -1000 // count only
	w, err := NewWriter(&f)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 { // 1 s
		if err := w.WriteSamples(tone(480)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.writes+1000, 1+100*960/flushBytes; got != want {
		t.Errorf("%d writes for 1 s in 10 ms calls, want %d (header and full blocks)", got, want)
	}
	if w.Samples() != 48000 {
		t.Errorf("Samples %d with some buffered, want 48000", w.Samples())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// failWriter fails every write after the header.
type failWriter struct {
	memFile
	writes int
}

func (f *failWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > 1 {
		return 0, errors.New("disk full")
	}
	return f.memFile.Write(p)
}

func TestWriterError(t *testing.T) {
	// Samples are buffered: a short write's error comes from Close.
	var short failWriter
	w, err := NewWriter(&short)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(tone(10)); err != nil {
		t.Fatalf("buffered WriteSamples: %v", err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Close error %v, want disk full", err)
	}

	var f failWriter
	w, err = NewWriter(&f)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(tone(flushBytes / 2)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("WriteSamples error %v, want disk full", err)
	}
	if err := w.WriteSamples(tone(10)); err == nil {
		t.Fatal("error not sticky")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close hid the write error")
	}
}

func TestReadWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.wav")
	want := make([]int16, 10007)
	for i := range want {
		want[i] = int16(i*7 - 30000)
	}
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir.wav"), want); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read %d samples, want the %d written", len(got), len(want))
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.wav")
	if err := os.WriteFile(bad, []byte("RIFF....WAVEjunk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want an error naming it", err)
	}
}
