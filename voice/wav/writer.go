package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// flushBytes is how many bytes of samples a Writer gathers before writing
// them: 1/3 s, so that a recorder writing 10 ms at a time costs one
// system call in 33.
const flushBytes = 32 << 10

// maxDataBytes is the largest data chunk a RIFF file can describe.
const maxDataBytes = math.MaxUint32 - (headerSize - 8)

// Writer writes 48 kHz mono 16-bit PCM samples as a WAV stream.
//
// It writes a header with provisional sizes first and patches them on
// Close. Samples are written to the underlying stream in blocks of about
// flushBytes (a third of a second), not one write per call; Close writes
// the rest. A Writer from Create owns a temporary file that Close renames to
// the requested path.
type Writer struct {
	w    io.WriteSeeker
	data int64  // bytes of sample data written (buffered included)
	buf  []byte // samples not yet written to w

	err     error // first write error; sticky
	closed  bool
	file    *os.File // set by Create
	tmpPath string
	path    string
}

// NewWriter writes a WAV header to w and returns a Writer that appends
// samples after it. Close patches the sizes in the header; it does not
// close w.
func NewWriter(w io.WriteSeeker) (*Writer, error) {
	wr := &Writer{w: w}
	if _, err := w.Write(header(0)); err != nil {
		return nil, fmt.Errorf("wav: writing header: %w", err)
	}
	return wr, nil
}

// Create starts a WAV file at path. The samples go to a temporary file in
// the same directory, which Close renames to path, so that path holds
// either its old content or a complete new file. Abort discards the file.
func Create(path string) (*Writer, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("wav: create %s: %w", path, err)
	}
	w, err := NewWriter(f)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("wav: create %s: %w", path, err)
	}
	w.file, w.tmpPath, w.path = f, f.Name(), path
	return w, nil
}

// header returns a canonical 44-byte header for dataBytes of samples.
func header(dataBytes uint32) []byte {
	h := make([]byte, headerSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], dataBytes+headerSize-8)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], Channels)
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], SampleRate*Channels*BitsPerSample/8)
	binary.LittleEndian.PutUint16(h[32:], Channels*BitsPerSample/8)
	binary.LittleEndian.PutUint16(h[34:], BitsPerSample)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataBytes)
	return h
}

// WriteSamples appends pcm to the data chunk.
func (w *Writer) WriteSamples(pcm []int16) error {
	if w.closed {
		return errors.New("wav: write after close")
	}
	if w.err != nil {
		return w.err
	}
	n := int64(len(pcm)) * 2
	if w.data+n > maxDataBytes {
		w.err = fmt.Errorf("wav: file would exceed %d bytes of samples", int64(maxDataBytes))
		return w.err
	}
	start := len(w.buf)
	w.buf = slices.Grow(w.buf, int(n))[:start+int(n)]
	b := w.buf[start:]
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	w.data += n
	if len(w.buf) >= flushBytes {
		return w.flush()
	}
	return nil
}

// Skip appends n samples of silence without writing them: it seeks past
// them, so a file on disk gets a hole (no disk space on file systems with
// sparse files) that reads as zeros. A Writer from NewWriter needs a
// WriteSeeker that allows seeking past the end, as *os.File does.
func (w *Writer) Skip(n int64) error {
	if w.closed {
		return errors.New("wav: write after close")
	}
	if w.err != nil {
		return w.err
	}
	if n <= 0 {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	if w.data+2*n > maxDataBytes {
		w.err = fmt.Errorf("wav: file would exceed %d bytes of samples", int64(maxDataBytes))
		return w.err
	}
	if _, err := w.w.Seek(2*n, io.SeekCurrent); err != nil {
		w.err = fmt.Errorf("wav: skipping samples: %w", err)
		return w.err
	}
	w.data += 2 * n
	return nil
}

// flush writes the buffered samples.
func (w *Writer) flush() error {
	if len(w.buf) == 0 || w.err != nil {
		return w.err
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = fmt.Errorf("wav: writing samples: %w", err)
	}
	return w.err
}

// Samples returns the number of samples written so far.
func (w *Writer) Samples() int64 { return w.data / 2 }

// Close patches the header sizes. For a Writer from Create it also syncs and
// closes the temporary file and renames it into place; if any write failed,
// it removes the temporary file and returns the error instead.
func (w *Writer) Close() error {
	if w.closed {
		return errors.New("wav: already closed")
	}
	w.closed = true
	err := w.flush()
	if err == nil && w.file != nil {
		// A trailing Skip only moved the offset: extend the file.
		if e := w.file.Truncate(headerSize + w.data); e != nil {
			err = fmt.Errorf("wav: %w", e)
		}
	}
	if err == nil {
		err = w.patch()
	}
	if w.file == nil {
		return err
	}
	if err == nil {
		if e := w.file.Sync(); e != nil {
			err = fmt.Errorf("wav: sync %s: %w", w.path, e)
		}
	}
	if e := w.file.Close(); e != nil && err == nil {
		err = fmt.Errorf("wav: close %s: %w", w.path, e)
	}
	if err == nil {
		if e := os.Rename(w.tmpPath, w.path); e != nil {
			err = fmt.Errorf("wav: %w", e)
		}
	}
	if err != nil {
		os.Remove(w.tmpPath)
	}
	return err
}

// Abort discards a Writer from Create without touching its path. For a
// Writer from NewWriter it only marks the Writer closed.
func (w *Writer) Abort() error {
	if w.closed {
		return errors.New("wav: already closed")
	}
	w.closed = true
	if w.file == nil {
		return nil
	}
	w.file.Close()
	if err := os.Remove(w.tmpPath); err != nil {
		return fmt.Errorf("wav: %w", err)
	}
	return nil
}

// patch rewrites the header with the final sizes and returns to the end.
func (w *Writer) patch() error {
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wav: seeking to header: %w", err)
	}
	if _, err := w.w.Write(header(uint32(w.data))); err != nil {
		return fmt.Errorf("wav: patching header: %w", err)
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("wav: seeking to end: %w", err)
	}
	return nil
}
