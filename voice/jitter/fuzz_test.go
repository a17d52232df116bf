package jitter

import (
	"testing"
	"time"
)

// FuzzBuffer drives a Buffer with arbitrary packets, as a hostile or
// broken sender could, and checks that it never panics, stays within its
// memory bound and hands out well-formed frames.
//
// Each operation takes 5 bytes: op, seq delta (2 bytes, signed), size,
// time step in ms. op bit 0 selects Push (1) or Next (0); for Push, bits
// 1-4 give frames-1 (so 0..15, invalid above 12) and bit 5 the terminator.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0x03, 0, 2, 32, 20, 0x00, 0, 0, 0, 10, 0x03, 0, 2, 32, 20, 0x00, 0, 0, 0, 10})
	f.Add([]byte{0x23, 0xff, 0xf0, 5, 0, 0x01, 0x80, 0, 0, 200, 0x00, 0, 0, 0, 255})
	// 40 ms packets numbered +1 each, one overtaken.
	f.Add([]byte{0x07, 0, 1, 32, 40, 0x00, 0, 0, 0, 10, 0x07, 0, 2, 32, 40, 0x07, 0xff, 0xff, 32, 1, 0x00, 0, 0, 0, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := New(Config{MaxDelay: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		now := epoch
		var seq uint64
		remain := 0
		payload := make([]byte, 256)
		for len(data) >= 5 {
			op, d, size, step := data[0], int16(uint16(data[1])<<8|uint16(data[2])), data[3], data[4]
			data = data[5:]
			now = now.Add(time.Duration(step) * time.Millisecond)
			if op&1 == 1 {
				seq += uint64(int64(d))
				frames := int(op>>1&15) + 1
				_ = b.Push(seq, frames, payload[:size], op&0x20 != 0, now)
			} else {
				fr := b.Next(now)
				switch fr.Kind {
				case Decode:
					if fr.Frames < 1 || fr.Frames > MaxPacketFrames || len(fr.Payload) > MaxPayload {
						t.Fatalf("bad decode frame: %d frames, %d bytes", fr.Frames, len(fr.Payload))
					}
					remain = fr.Frames - 1
				case Continue:
					if remain == 0 {
						t.Fatal("continue without a decoded frame left")
					}
					remain--
				case Silence, Conceal:
					if remain != 0 {
						t.Fatalf("%v with %d decoded frames left", fr.Kind, remain)
					}
				default:
					t.Fatalf("kind %v", fr.Kind)
				}
			}
			if b.Buffered() > len(b.slots) || b.count < 0 {
				t.Fatalf("%d packets buffered in %d slots", b.Buffered(), len(b.slots))
			}
		}
	})
}
