package tornet

import (
	"encoding/hex"
	"testing"
)

// TestHashControlPassword checks hashControlPassword against what
// `tor --hash-password` (0.4.9.11) printed for the same passwords.
func TestHashControlPassword(t *testing.T) {
	for _, tc := range []struct{ password, tor string }{
		{"tornet-test", "16:B6DB5B0E56CEC20860512F3D5A777DE5A15CDE5258CFEB6246D826DFE9"},
		{"tornet-vector-1", "16:0AD9B9C06B6DA5F360B5451EE512E446568AE3F51017B60698F9838064"},
		{"tornet-vector-2", "16:EC7A59833BFBFEAE600988A331213971FD0F4A5ABDDAF6E9897F140D4F"},
		{"tornet-vector-3", "16:1203B7FD04225CC5600F949B00D53DE86C0B7C73106422582E7D5CBF77"},
	} {
		raw, err := hex.DecodeString(tc.tor[3:])
		if err != nil {
			t.Fatal(err)
		}
		var salt [8]byte
		copy(salt[:], raw)
		if got := hashControlPassword(tc.password, salt); got != tc.tor {
			t.Errorf("hashControlPassword(%q) = %s, want %s", tc.password, got, tc.tor)
		}
	}
}
