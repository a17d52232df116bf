package mumble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// FrameHeaderSize is the size of a control protocol frame header: a 16-bit
// message type and a 32-bit payload length, both big-endian.
const FrameHeaderSize = 6

// DefaultMaxFrameSize is the default limit on a frame's payload, 8 MiB - 1
// (0x7FFFFF), the limit upstream Mumble enforces on its peers. The largest
// legitimate messages are those that carry images (avatars in UserState,
// inline images in TextMessage, user certificates in UserStats), bounded by
// the server's image message length, 128 KiB by default; administrators can
// raise that, but not past what upstream clients accept.
const DefaultMaxFrameSize = 0x7FFFFF

// keepBufferSize is the largest read buffer a FrameReader keeps between
// frames; a larger one, needed for a rare big frame, is dropped afterwards.
const keepBufferSize = 64 << 10

// A FrameTooLargeError reports a frame whose declared payload length exceeds
// the reader's limit. The stream cannot be resynchronised after it.
type FrameTooLargeError struct {
	Type MessageType
	Size uint32 // declared payload length
	Max  int    // the reader's limit
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("mumble: %v frame of %d bytes exceeds the %d byte limit", e.Type, e.Size, e.Max)
}

// A FrameReader reads control protocol frames from a stream.
type FrameReader struct {
	// MaxSize is the largest payload accepted, in bytes. Zero means
	// DefaultMaxFrameSize.
	MaxSize int

	r   io.Reader
	hdr [FrameHeaderSize]byte
	buf []byte
}

// NewFrameReader returns a FrameReader reading from r. It does its own
// reading in whole frames; r need not be buffered.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: r}
}

// ReadFrame reads the next frame. The payload is valid until the next call to
// ReadFrame. At the end of the stream it returns io.EOF if no byte of a new
// frame was read, io.ErrUnexpectedEOF if the stream ended inside a frame, and
// a *FrameTooLargeError for a frame over the limit (without reading its
// payload).
func (fr *FrameReader) ReadFrame() (MessageType, []byte, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return 0, nil, err
	}
	t := MessageType(binary.BigEndian.Uint16(fr.hdr[0:2]))
	size := binary.BigEndian.Uint32(fr.hdr[2:6])
	limit := fr.MaxSize
	if limit <= 0 {
		limit = DefaultMaxFrameSize
	}
	if uint64(size) > uint64(limit) {
		return t, nil, &FrameTooLargeError{Type: t, Size: size, Max: limit}
	}
	if cap(fr.buf) > keepBufferSize {
		fr.buf = nil
	}
	n := int(size)
	if n <= keepBufferSize || n <= cap(fr.buf) {
		if cap(fr.buf) < n {
			fr.buf = make([]byte, n, max(n, 512))
		}
		fr.buf = fr.buf[:n]
		if _, err := io.ReadFull(fr.r, fr.buf); err != nil {
			return t, nil, noEOF(err)
		}
		return t, fr.buf, nil
	}
	// A large frame: grow the buffer as data arrives, so that a peer
	// announcing a huge frame does not make us allocate it up front.
	buf := make([]byte, 0, keepBufferSize)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), n-len(buf)))
		}
		chunk := buf[len(buf):min(cap(buf), n)]
		if _, err := io.ReadFull(fr.r, chunk); err != nil {
			return t, nil, noEOF(err)
		}
		buf = buf[:len(buf)+len(chunk)]
	}
	fr.buf = buf
	return t, buf, nil
}

// noEOF turns io.EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// errPayloadTooLarge is returned for a payload whose length does not fit the
// 32-bit length field.
var errPayloadTooLarge = errors.New("mumble: frame payload longer than 4 GiB")

// AppendFrame appends a frame of type t carrying payload to dst and returns
// the extended slice.
func AppendFrame(dst []byte, t MessageType, payload []byte) ([]byte, error) {
	if uint64(len(payload)) > math.MaxUint32 {
		return dst, errPayloadTooLarge
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(t))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...), nil
}

// WriteFrame writes a frame of type t carrying payload to w with a single
// Write call, so that concurrent writers serialised by a lock on w cannot
// interleave partial frames.
func WriteFrame(w io.Writer, t MessageType, payload []byte) error {
	buf, err := AppendFrame(make([]byte, 0, FrameHeaderSize+len(payload)), t, payload)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}
