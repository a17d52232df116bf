//go:build cgo

package voice

import (
	"testing"
	"time"
)

// FuzzReceiverHandlePacket feeds arbitrary voice payloads, sequence
// numbers and terminators from a few speakers into a Receiver while it
// mixes, as a hostile server could. It must refuse or conceal, never
// panic, and keep its output a valid period.
//
// Each record is: flags (bits 0-1 speaker, bit 2 terminator, bit 3 mix a
// period after it), seq delta, payload length, payload.
func FuzzReceiverHandlePacket(f *testing.F) {
	good := rxEncode(f, rxTone(440, 0.2, 0, 4800), 0, 0)
	var seed []byte
	for i, p := range good {
		seed = append(seed, byte(8|i%2), 2, byte(len(p.data)))
		seed = append(seed, p.data...)
	}
	f.Add(seed)
	f.Add([]byte{0x0c, 0, 0, 0x08, 2, 3, 0xfc, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReceiver(ReceiverConfig{MaxSpeakers: 3})
		if err != nil {
			t.Fatal(err)
		}
		now := rxEpoch
		seqs := map[uint32]uint64{}
		out := make([]int16, 960)
		for len(data) >= 3 {
			flags, delta, n := data[0], data[1], int(data[2])
			data = data[3:]
			n = min(n, len(data))
			payload := data[:n]
			data = data[n:]
			id := uint32(flags & 3)
			seqs[id] += uint64(delta)
			_ = r.HandlePacket(id, seqs[id], payload, flags&4 != 0, now)
			if flags&8 != 0 {
				now = now.Add(20 * time.Millisecond)
				if err := r.MixAt(now, out); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range 50 {
			now = now.Add(20 * time.Millisecond)
			if err := r.MixAt(now, out); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
