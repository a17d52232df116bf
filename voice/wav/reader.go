package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Reader reads samples from a 48 kHz mono 16-bit PCM WAV stream.
type Reader struct {
	r         io.Reader
	remaining int64 // bytes left in the data chunk; -1 if unknown (read to EOF)
	declared  int64 // samples declared by the data chunk header; -1 if unknown
	buf       []byte
	odd       bool // a dangling byte of a half sample is held in pending
	pending   byte
}

// NewReader parses the RIFF/WAVE header of r up to the start of the sample
// data. It returns an error naming the format if the stream is not 48 kHz
// mono 16-bit PCM.
func NewReader(r io.Reader) (*Reader, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav: reading RIFF header: %w", eofToUnexpected(err))
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: not a RIFF/WAVE file (starts with %q)", printable(hdr[:]))
	}
	sawFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) && sawFmt {
				return nil, errors.New("wav: no data chunk")
			}
			if errors.Is(err, io.EOF) {
				return nil, errors.New("wav: no fmt chunk")
			}
			return nil, fmt.Errorf("wav: reading chunk header: %w", eofToUnexpected(err))
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if sawFmt {
				return nil, errors.New("wav: two fmt chunks")
			}
			if err := readFmt(r, size); err != nil {
				return nil, err
			}
			sawFmt = true
		case "data":
			if !sawFmt {
				return nil, errors.New("wav: data chunk before fmt chunk")
			}
			rd := &Reader{r: r, remaining: size, declared: size / 2}
			// Streaming writers that cannot seek back leave 0 or
			// 0xFFFFFFFF: read to the end of the stream instead.
			if size == 0 || size == 0xFFFFFFFF {
				rd.remaining, rd.declared = -1, -1
			}
			return rd, nil
		default:
			if err := skip(r, size+size&1); err != nil {
				return nil, fmt.Errorf("wav: skipping %q chunk: %w", printable(ch[0:4]), eofToUnexpected(err))
			}
		}
	}
}

// readFmt reads a fmt chunk of the given size and checks the format.
func readFmt(r io.Reader, size int64) error {
	if size < 16 {
		return fmt.Errorf("wav: fmt chunk of %d bytes, want at least 16", size)
	}
	if size > 1<<16 {
		return fmt.Errorf("wav: fmt chunk of %d bytes is too large", size)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("wav: reading fmt chunk: %w", eofToUnexpected(err))
	}
	tag := binary.LittleEndian.Uint16(b[0:2])
	channels := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	blockAlign := binary.LittleEndian.Uint16(b[12:14])
	bits := binary.LittleEndian.Uint16(b[14:16])
	if tag == formatExtensible {
		// WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4)
		// subFormat GUID(16), whose first two bytes are the format tag.
		if size < 40 {
			return fmt.Errorf("wav: extensible fmt chunk of %d bytes, want 40", size)
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	encoding := ""
	switch tag {
	case formatPCM:
	case formatFloat:
		encoding = " float"
	case formatALaw:
		encoding = " A-law"
	case formatMuLaw:
		encoding = " mu-law"
	default:
		encoding = fmt.Sprintf(" (encoding 0x%04x)", tag)
	}
	if tag != formatPCM || rate != SampleRate || channels != Channels || bits != BitsPerSample {
		return fmt.Errorf("wav: %d Hz %s %d-bit%s; want %d Hz mono %d-bit PCM",
			rate, channelName(channels), bits, encoding, SampleRate, BitsPerSample)
	}
	if blockAlign != 2 {
		return fmt.Errorf("wav: block align %d for mono 16-bit, want 2", blockAlign)
	}
	return nil
}

func channelName(n uint16) string {
	switch n {
	case 1:
		return "mono"
	case 2:
		return "stereo"
	default:
		return fmt.Sprintf("%d-channel", n)
	}
}

// Samples returns the number of samples the data chunk header declares, or
// -1 if the writer left it unknown. A truncated file holds fewer.
func (r *Reader) Samples() int64 { return r.declared }

// ReadSamples reads up to len(pcm) samples into pcm and returns how many it
// read. At the end of the data it returns 0, io.EOF. A data chunk cut short
// by the end of the stream ends the data early without an error; a dangling
// half sample at the end is dropped.
func (r *Reader) ReadSamples(pcm []int16) (int, error) {
	for len(pcm) > 0 {
		held := 0
		if r.odd {
			held = 1
		}
		n := int64(len(pcm))*2 - int64(held)
		if r.remaining >= 0 && n > r.remaining {
			n = r.remaining
		}
		if n == 0 {
			r.odd = false
			return 0, io.EOF
		}
		if need := int64(held) + n; int64(cap(r.buf)) < need {
			r.buf = make([]byte, need)
		}
		b := r.buf[:int64(held)+n]
		if r.odd {
			b[0] = r.pending
			r.odd = false
		}
		got, err := io.ReadAtLeast(r.r, b[held:], 1)
		if r.remaining >= 0 {
			r.remaining -= int64(got)
		}
		total := held + got
		samples := total / 2
		if total%2 == 1 {
			r.odd, r.pending = true, b[total-1]
		}
		for i := 0; i < samples; i++ {
			pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return samples, fmt.Errorf("wav: reading samples: %w", err)
			}
			// End of stream: a truncated data chunk simply ends here.
			r.remaining, r.odd = 0, false
			if samples == 0 {
				return 0, io.EOF
			}
		}
		if samples > 0 {
			return samples, nil
		}
		// Only half a sample arrived: read on.
	}
	return 0, nil
}

// skip discards n bytes of r.
func skip(r io.Reader, n int64) error {
	m, err := io.CopyN(io.Discard, r, n)
	if err == nil && m < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func eofToUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// printable renders b for an error message, replacing control bytes.
func printable(b []byte) string {
	return string(bytes.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, b))
}
