//go:build cgo

package codec

import "testing"

// FuzzDecode feeds arbitrary packets, as they may arrive from the network,
// to a Decoder: it must return an error or the packet's TOC duration, and
// never panic or write past the duration.
func FuzzDecode(f *testing.F) {
	enc, err := NewEncoder(EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 5})
	if err != nil {
		f.Fatal(err)
	}
	pkt := make([]byte, MaxPacketBytes)
	pcm := make([]int16, 960)
	for i := range pcm {
		pcm[i] = int16(i * 37)
	}
	n, err := enc.Encode(pcm, pkt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pkt[:n])
	f.Fuzz(func(t *testing.T, pkt []byte) {
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int16, MaxPacketSamples+16)
		const guard = 0x5a5a
		for i := range out {
			out[i] = guard
		}
		want, perr := PacketSamples(pkt)
		n, err := dec.Decode(pkt, out[:MaxPacketSamples])
		if err != nil {
			return
		}
		if perr != nil || n != want {
			t.Fatalf("decoded %d samples, TOC says %d (%v)", n, want, perr)
		}
		for i := MaxPacketSamples; i < len(out); i++ {
			if out[i] != guard {
				t.Fatal("decoder wrote past the buffer")
			}
		}
		if _, err := dec.DecodeLost(make([]int16, 480)); err != nil {
			t.Fatalf("concealment after a good packet: %v", err)
		}
	})
}
