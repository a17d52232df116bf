package codec

import (
	"strings"
	"testing"
)

func TestPacketSamples(t *testing.T) {
	tests := []struct {
		pkt     []byte
		samples int
		frames  int
		err     string
	}{
		{[]byte{0 << 3}, 480, 1, ""},               // SILK 10 ms, one frame
		{[]byte{1 << 3}, 960, 2, ""},               // SILK 20 ms
		{[]byte{2 << 3}, 1920, 4, ""},              // SILK 40 ms
		{[]byte{3 << 3}, 2880, 6, ""},              // SILK 60 ms
		{[]byte{3<<3 | 1, 0}, 5760, 12, ""},        // two 60 ms frames (code 1)
		{[]byte{12 << 3}, 480, 1, ""},              // hybrid 10 ms
		{[]byte{13<<3 | 2, 0}, 1920, 4, ""},        // hybrid 20 ms x2 (code 2)
		{[]byte{16 << 3}, 120, 1, ""},              // CELT 2.5 ms rounds up
		{[]byte{19<<3 | 3, 3}, 2880, 6, ""},        // CELT 20 ms x3 (code 3)
		{[]byte{18<<3 | 3, 0x80 | 6}, 2880, 6, ""}, // VBR/padding flags ignored
		{nil, 0, 0, "empty"},
		{[]byte{19<<3 | 3}, 0, 0, "without frame count"},
		{[]byte{19<<3 | 3, 0}, 0, 0, "0 frames"},
		{[]byte{19<<3 | 3, 7}, 0, 0, "exceeds 120 ms"},
		{[]byte{3<<3 | 3, 3}, 0, 0, "exceeds 120 ms"},
	}
	for _, tc := range tests {
		n, err := PacketSamples(tc.pkt)
		f, ferr := PacketFrames(tc.pkt)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || ferr == nil {
				t.Errorf("%x: error %v, want %q", tc.pkt, err, tc.err)
			}
			continue
		}
		if err != nil || ferr != nil || n != tc.samples || f != tc.frames {
			t.Errorf("%x: %d samples %d frames (%v), want %d, %d", tc.pkt, n, f, err, tc.samples, tc.frames)
		}
	}
}

func TestValidate(t *testing.T) {
	good := EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 10}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  EncoderConfig
		want string
	}{
		{EncoderConfig{Bitrate: 5999, FrameMs: 20}, "bitrate 5999"},
		{EncoderConfig{Bitrate: 600000, FrameMs: 20}, "bitrate 600000"},
		{EncoderConfig{Bitrate: 13000, FrameMs: 30}, "frame duration 30 ms"},
		{EncoderConfig{Bitrate: 13000, FrameMs: 0}, "frame duration 0 ms"},
		{EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 11}, "complexity 11"},
		{EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: -1}, "complexity -1"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func FuzzPacketFrames(f *testing.F) {
	f.Add([]byte{0x08})
	f.Add([]byte{0x9b, 0x03})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		n, err := PacketSamples(pkt)
		if err == nil && (n <= 0 || n > MaxPacketSamples || n%120 != 0) {
			t.Fatalf("%x: %d samples", pkt, n)
		}
	})
}
