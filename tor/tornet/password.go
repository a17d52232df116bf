package tornet

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// s2kIndicator is the OpenPGP iterated-and-salted S2K count byte tor uses
// for HashedControlPassword: 65536 bytes are hashed.
const s2kIndicator = 0x60

// hashControlPassword returns password in the form tor's
// HashedControlPassword option takes (what tor --hash-password prints):
// "16:" followed by the hex of the 8-byte salt, the S2K count byte and the
// SHA-1 digest of salt||password repeated up to the count (RFC 4880 3.7.1.3).
func hashControlPassword(password string, salt [8]byte) string {
	count := (16 + (s2kIndicator & 15)) << ((s2kIndicator >> 4) + 6)
	data := append(salt[:], password...)
	h := sha1.New()
	for count > 0 {
		n := min(count, len(data))
		h.Write(data[:n])
		count -= n
	}
	out := append(salt[:], s2kIndicator)
	out = h.Sum(out)
	return "16:" + strings.ToUpper(hex.EncodeToString(out))
}
