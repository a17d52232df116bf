// Package apkres reads and writes the compiled resources of an Android
// package (APK): binary XML (AndroidManifest.xml, res/xml/*.xml) and the
// resource table (resources.arsc), in the format of Android's
// frameworks/base/libs/androidfw/ResourceTypes.h. It exists so that Tumble's
// packaging can add what `fyne package` (fyne.io/tools v1.7.4) cannot
// express: an app resource of type xml and a manifest attribute that refers
// to it (see AddDataExtractionRules).
package apkres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// Chunk types of ResourceTypes.h.
const (
	resStringPool        = 0x0001
	resTable             = 0x0002
	resXML               = 0x0003
	resXMLStartNamespace = 0x0100
	resXMLEndNamespace   = 0x0101
	resXMLStartElement   = 0x0102
	resXMLEndElement     = 0x0103
	resXMLCData          = 0x0104
	resXMLResourceMap    = 0x0180
	resTablePackage      = 0x0200
	resTableType         = 0x0201
	resTableTypeSpec     = 0x0202
)

// poolUTF8 is the string pool flag for UTF-8 strings (else UTF-16). The
// "sorted" flag is dropped on encoding: an unsorted pool is always valid.
const poolUTF8 = 1 << 8

// NoIndex is the "none" value of a string reference (0xFFFFFFFF).
const NoIndex = 0xFFFFFFFF

var le = binary.LittleEndian

var errShort = errors.New("apkres: truncated data")

// chunk is one ResChunk_header and the bytes it covers.
type chunk struct {
	typ        uint16
	headerSize uint16
	data       []byte // the whole chunk, header included
}

// readChunk reads the chunk at the start of b.
func readChunk(b []byte) (chunk, error) {
	if len(b) < 8 {
		return chunk{}, errShort
	}
	c := chunk{typ: le.Uint16(b), headerSize: le.Uint16(b[2:])}
	size := le.Uint32(b[4:])
	if size < 8 || uint64(size) > uint64(len(b)) || uint32(c.headerSize) > size || c.headerSize < 8 {
		return chunk{}, fmt.Errorf("apkres: chunk of type %#04x: bad sizes (header %d, size %d, %d bytes left)", c.typ, c.headerSize, size, len(b))
	}
	c.data = b[:size]
	return c, nil
}

// pool is a ResStringPool without styles.
type pool struct {
	strings []string
	utf8    bool
}

// index returns the index of s, appending it if absent.
func (p *pool) index(s string) uint32 {
	for i, x := range p.strings {
		if x == s {
			return uint32(i)
		}
	}
	p.strings = append(p.strings, s)
	return uint32(len(p.strings) - 1)
}

// get returns string i, or an error if i is out of range.
func (p *pool) get(i uint32) (string, error) {
	if uint64(i) >= uint64(len(p.strings)) {
		return "", fmt.Errorf("apkres: string index %d out of range (%d strings)", i, len(p.strings))
	}
	return p.strings[i], nil
}

// decodePool decodes a string pool chunk. Styled pools are refused: the
// resources this package handles have none.
func decodePool(c chunk) (*pool, error) {
	b := c.data
	if c.typ != resStringPool || c.headerSize < 28 {
		return nil, fmt.Errorf("apkres: not a string pool (type %#04x, header %d)", c.typ, c.headerSize)
	}
	count := le.Uint32(b[8:])
	styles := le.Uint32(b[12:])
	flags := le.Uint32(b[16:])
	start := le.Uint32(b[20:])
	if styles != 0 {
		return nil, errors.New("apkres: string pool with styles is not supported")
	}
	if uint64(c.headerSize)+4*uint64(count) > uint64(len(b)) || uint64(start) > uint64(len(b)) {
		return nil, errShort
	}
	p := &pool{utf8: flags&poolUTF8 != 0, strings: make([]string, count)}
	for i := range p.strings {
		off := uint64(start) + uint64(le.Uint32(b[int(c.headerSize)+4*i:]))
		if off >= uint64(len(b)) {
			return nil, errShort
		}
		s, err := decodeString(b[off:], p.utf8)
		if err != nil {
			return nil, fmt.Errorf("apkres: string %d: %w", i, err)
		}
		p.strings[i] = s
	}
	return p, nil
}

// decodeString decodes one pool string at the start of b.
func decodeString(b []byte, utf8 bool) (string, error) {
	if utf8 {
		// UTF-16 length, then UTF-8 length, each 1 or 2 bytes.
		_, n, err := len8(b)
		if err != nil {
			return "", err
		}
		b = b[n:]
		l, n, err := len8(b)
		if err != nil {
			return "", err
		}
		b = b[n:]
		if l > len(b) {
			return "", errShort
		}
		return string(b[:l]), nil
	}
	if len(b) < 2 {
		return "", errShort
	}
	l := int(le.Uint16(b))
	b = b[2:]
	if l&0x8000 != 0 {
		if len(b) < 2 {
			return "", errShort
		}
		l = (l&0x7fff)<<16 | int(le.Uint16(b))
		b = b[2:]
	}
	if 2*l > len(b) {
		return "", errShort
	}
	u := make([]uint16, l)
	for i := range u {
		u[i] = le.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

func len8(b []byte) (int, int, error) {
	if len(b) < 1 {
		return 0, 0, errShort
	}
	if b[0]&0x80 == 0 {
		return int(b[0]), 1, nil
	}
	if len(b) < 2 {
		return 0, 0, errShort
	}
	return int(b[0]&0x7f)<<8 | int(b[1]), 2, nil
}

// encode returns the pool as a chunk, in the encoding it was read in
// (UTF-16 for a new pool).
func (p *pool) encode() ([]byte, error) {
	var data []byte
	offsets := make([]uint32, len(p.strings))
	for i, s := range p.strings {
		offsets[i] = uint32(len(data))
		if p.utf8 {
			n16 := len(utf16.Encode([]rune(s)))
			if n16 > 0x7fff || len(s) > 0x7fff {
				return nil, fmt.Errorf("apkres: string %d too long", i)
			}
			data = appendLen8(data, n16)
			data = appendLen8(data, len(s))
			data = append(data, s...)
			data = append(data, 0)
			continue
		}
		u := utf16.Encode([]rune(s))
		if len(u) > 0x7fff {
			return nil, fmt.Errorf("apkres: string %d too long", i)
		}
		data = le.AppendUint16(data, uint16(len(u)))
		for _, x := range u {
			data = le.AppendUint16(data, x)
		}
		data = le.AppendUint16(data, 0)
	}
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	const header = 28
	start := header + 4*len(p.strings)
	b := make([]byte, start, start+len(data))
	le.PutUint16(b, resStringPool)
	le.PutUint16(b[2:], header)
	le.PutUint32(b[4:], uint32(start+len(data)))
	le.PutUint32(b[8:], uint32(len(p.strings)))
	le.PutUint32(b[12:], 0)
	var flags uint32
	if p.utf8 {
		flags |= poolUTF8
	}
	le.PutUint32(b[16:], flags)
	le.PutUint32(b[20:], uint32(start))
	le.PutUint32(b[24:], 0)
	for i, o := range offsets {
		le.PutUint32(b[header+4*i:], o)
	}
	return append(b, data...), nil
}

func appendLen8(b []byte, n int) []byte {
	if n > 0x7f {
		return append(b, byte(n>>8)|0x80, byte(n))
	}
	return append(b, byte(n))
}
