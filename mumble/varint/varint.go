// Package varint implements Mumble's variable-length integer encoding, used
// by the legacy voice packet format (upstream src/PacketDataStream.h).
//
// The first byte's high bits select the form:
//
//	0xxxxxxx                 7-bit value
//	10xxxxxx + 1 byte        14-bit value
//	110xxxxx + 2 bytes       21-bit value
//	1110xxxx + 3 bytes       28-bit value
//	111100__ + 4 bytes       32-bit value
//	111101__ + 8 bytes       64-bit value
//	111110__ + varint        the bitwise complement (^v) of the varint that follows
//	111111xx                 ^xx, that is -1 to -4
//
// Multi-byte values are big-endian. A value is an int64; its encoding depends
// only on its 64-bit pattern, so unsigned 64-bit values round-trip through a
// conversion to int64 and back.
package varint

import "errors"

// MaxLen is the longest encoding Append produces: a 0xF4 byte and 8 bytes.
const MaxLen = 9

// maxDepth bounds how many 0xF8 (negate) prefixes Decode follows, as upstream
// does: an honest encoder writes at most one.
const maxDepth = 8

// Errors returned by Decode.
var (
	// ErrShort means the input ended inside a varint.
	ErrShort = errors.New("varint: input too short")
	// ErrTooDeep means the input nests more than 8 negation prefixes (0xF8).
	ErrTooDeep = errors.New("varint: too many negation prefixes")
)

// Append appends the encoding of v to dst and returns the extended slice. It
// allocates only if dst lacks capacity for the encoding (at most MaxLen
// bytes).
func Append(dst []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 && v >= -(1<<32) {
		// Negative with a 32-bit complement: the short negative forms.
		n := ^u
		if n <= 3 {
			return append(dst, 0xFC|byte(n))
		}
		dst = append(dst, 0xF8)
		u = n
	}
	switch {
	case u < 1<<7:
		return append(dst, byte(u))
	case u < 1<<14:
		return append(dst, byte(u>>8)|0x80, byte(u))
	case u < 1<<21:
		return append(dst, byte(u>>16)|0xC0, byte(u>>8), byte(u))
	case u < 1<<28:
		return append(dst, byte(u>>24)|0xE0, byte(u>>16), byte(u>>8), byte(u))
	case u < 1<<32:
		return append(dst, 0xF0, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	default:
		return append(dst, 0xF4, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
			byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	}
}

// Len returns the number of bytes Append uses to encode v.
func Len(v int64) int {
	u := uint64(v)
	n := 0
	if v < 0 && v >= -(1<<32) {
		u = ^u
		if u <= 3 {
			return 1
		}
		n = 1
	}
	switch {
	case u < 1<<7:
		return n + 1
	case u < 1<<14:
		return n + 2
	case u < 1<<21:
		return n + 3
	case u < 1<<28:
		return n + 4
	case u < 1<<32:
		return n + 5
	default:
		return n + 9
	}
}

// Decode decodes the varint at the start of src. It returns the value and
// the number of bytes read, or ErrShort or ErrTooDeep. Every encoding upstream
// Mumble accepts is accepted, including non-minimal ones; Decode never
// allocates.
func Decode(src []byte) (v int64, n int, err error) {
	neg := 0
	for {
		if n >= len(src) {
			return 0, 0, ErrShort
		}
		b := src[n]
		var u uint64
		switch {
		case b < 0x80:
			u, n = uint64(b), n+1
		case b < 0xC0:
			if len(src) < n+2 {
				return 0, 0, ErrShort
			}
			u = uint64(b&0x3F)<<8 | uint64(src[n+1])
			n += 2
		case b < 0xE0:
			if len(src) < n+3 {
				return 0, 0, ErrShort
			}
			u = uint64(b&0x1F)<<16 | uint64(src[n+1])<<8 | uint64(src[n+2])
			n += 3
		case b < 0xF0:
			if len(src) < n+4 {
				return 0, 0, ErrShort
			}
			u = uint64(b&0x0F)<<24 | uint64(src[n+1])<<16 | uint64(src[n+2])<<8 | uint64(src[n+3])
			n += 4
		default:
			switch b & 0xFC {
			case 0xF0:
				if len(src) < n+5 {
					return 0, 0, ErrShort
				}
				u = uint64(src[n+1])<<24 | uint64(src[n+2])<<16 | uint64(src[n+3])<<8 | uint64(src[n+4])
				n += 5
			case 0xF4:
				if len(src) < n+9 {
					return 0, 0, ErrShort
				}
				for _, c := range src[n+1 : n+9] {
					u = u<<8 | uint64(c)
				}
				n += 9
			case 0xF8:
				neg++
				if neg > maxDepth {
					return 0, 0, ErrTooDeep
				}
				n++
				continue
			default: // 0xFC
				u, n = ^uint64(b&0x03), n+1
			}
		}
		if neg&1 == 1 {
			u = ^u
		}
		return int64(u), n, nil
	}
}
