package e2e

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// SecretSize is the length of a sender key secret.
const SecretSize = 32

// Overhead is the most a sealed packet adds to its plaintext: the key ID
// byte, the frame counter (a uvarint of at most 5 bytes, see MaxCounter)
// and the 16-byte GCM tag. Counters below 2^21 (11 hours of 20 ms
// packets) take 3 bytes: 20 bytes in all.
const Overhead = 1 + 5 + tagSize

// MaxCounter is the last frame counter a sender key may use; a sender
// rekeys long before (2^35 packets of 20 ms last 21 years).
const MaxCounter = 1<<35 - 1

const (
	tagSize   = 16
	nonceSize = 12
)

// Purposes of the keys derived from one sender secret.
const (
	purposeVoice = "tumble-e2e voice v1"
	purposeChat  = "tumble-e2e chat v1"
)

var (
	// ErrReplay reports a packet whose counter was seen before or is too
	// old for the replay window.
	ErrReplay = errors.New("e2e: replayed or too old packet")
	// ErrUnknownKey reports a packet sealed with a key this member does
	// not have (sent before it joined, or after it was removed).
	ErrUnknownKey = errors.New("e2e: no key for packet")
	// ErrForged reports a packet that does not authenticate.
	ErrForged = errors.New("e2e: packet does not authenticate")
	// ErrShort reports a packet too short to be sealed.
	ErrShort = errors.New("e2e: packet too short")
	// ErrExhausted reports a sender key that used up its counters.
	ErrExhausted = errors.New("e2e: sender key exhausted")
)

// A streamKey is one AEAD key with its nonce salt (SFrame: nonce = salt
// XOR counter).
type streamKey struct {
	aead cipher.AEAD
	salt [nonceSize]byte
}

func newStreamKey(secret []byte, purpose string) (streamKey, error) {
	okm, err := hkdf.Key(sha256.New, secret, nil, purpose, 32+nonceSize)
	if err != nil {
		return streamKey{}, fmt.Errorf("e2e: derive key: %w", err)
	}
	block, err := aes.NewCipher(okm[:32])
	if err != nil {
		return streamKey{}, fmt.Errorf("e2e: derive key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return streamKey{}, fmt.Errorf("e2e: derive key: %w", err)
	}
	k := streamKey{aead: aead}
	copy(k.salt[:], okm[32:])
	return k, nil
}

func (k *streamKey) nonce(ctr uint64) [nonceSize]byte {
	n := k.salt
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], ctr)
	for i := range c {
		n[4+i] ^= c[i]
	}
	return n
}

// A SenderKey is one member's current key for what it sends: a random
// secret from which a voice and a chat key are derived, and an ID (a byte
// counting the member's rekeys) that names it in every packet.
type SenderKey struct {
	ID     uint8
	Secret [SecretSize]byte
}

// NewSenderKey returns a fresh random sender key with the given ID.
func NewSenderKey(id uint8) (SenderKey, error) {
	k := SenderKey{ID: id}
	if _, err := rand.Read(k.Secret[:]); err != nil {
		return SenderKey{}, fmt.Errorf("e2e: new sender key: %w", err)
	}
	return k, nil
}

// A Sealer seals one stream (voice or chat) with a sender key. It is not
// safe for concurrent use.
type Sealer struct {
	id  uint8
	k   streamKey
	ctr uint64
}

// NewVoiceSealer and NewChatSealer return sealers for the two streams of k.
func NewVoiceSealer(k SenderKey) (*Sealer, error) { return newSealer(k, purposeVoice) }

// NewChatSealer returns a sealer for chat lines with k.
func NewChatSealer(k SenderKey) (*Sealer, error) { return newSealer(k, purposeChat) }

func newSealer(k SenderKey, purpose string) (*Sealer, error) {
	sk, err := newStreamKey(k.Secret[:], purpose)
	if err != nil {
		return nil, err
	}
	return &Sealer{id: k.ID, k: sk}, nil
}

// Seal appends the sealed packet for plaintext to dst: key ID, counter,
// ciphertext and tag. It does not allocate if dst has room.
func (s *Sealer) Seal(dst, plaintext []byte) ([]byte, error) {
	if s.ctr > MaxCounter {
		return dst, ErrExhausted
	}
	ctr := s.ctr
	s.ctr++
	start := len(dst)
	dst = append(dst, s.id)
	dst = binary.AppendUvarint(dst, ctr)
	nonce := s.k.nonce(ctr)
	return s.k.aead.Seal(dst, nonce[:], plaintext, dst[start:]), nil
}

// KeyID returns the ID of the sealer's key.
func (s *Sealer) KeyID() uint8 { return s.id }

// ParseHeader returns the key ID and counter of a sealed packet and the
// header's length.
func ParseHeader(p []byte) (id uint8, ctr uint64, n int, err error) {
	if len(p) < 2+tagSize {
		return 0, 0, 0, ErrShort
	}
	ctr, m := binary.Uvarint(p[1:])
	if m <= 0 || m > 5 || ctr > MaxCounter {
		return 0, 0, 0, fmt.Errorf("e2e: bad packet counter")
	}
	n = 1 + m
	if len(p) < n+tagSize {
		return 0, 0, 0, ErrShort
	}
	return p[0], ctr, n, nil
}

// replayWindow accepts each counter once, within the last windowSize
// counters of the highest seen.
type replayWindow struct {
	top  uint64 // highest counter seen + 1; 0 if none
	bits uint64 // bit i: counter top-1-i seen
}

const windowSize = 64

func (w *replayWindow) check(ctr uint64) bool {
	if ctr >= w.top {
		return true
	}
	d := w.top - 1 - ctr
	return d < windowSize && w.bits&(1<<d) == 0
}

func (w *replayWindow) mark(ctr uint64) {
	if ctr >= w.top {
		shift := ctr + 1 - w.top
		if shift >= windowSize {
			w.bits = 0
		} else {
			w.bits <<= shift
		}
		w.top = ctr + 1
		w.bits |= 1
		return
	}
	w.bits |= 1 << (w.top - 1 - ctr)
}

// An Opener opens the packets of one sender's stream, under any of the
// keys it was given (the current one and, for packets in flight during a
// rekey, the previous one), each with its own replay window. It is not safe
// for concurrent use.
type Opener struct {
	purpose string
	keys    [2]openKey // [0] newest
}

type openKey struct {
	ok   bool
	used bool // a packet opened with it: the sender is using it
	id   uint8
	k    streamKey
	win  replayWindow
}

// NewVoiceOpener returns an opener for a sender's voice packets.
func NewVoiceOpener() *Opener { return &Opener{purpose: purposeVoice} }

// NewChatOpener returns an opener for a sender's chat lines.
func NewChatOpener() *Opener { return &Opener{purpose: purposeChat} }

// SetKey installs the sender's new key. Of the older ones one stays
// usable, for packets still in flight and because a sender switches to a
// new key only once every member has it (docs/e2e.md): the previous
// newest key, unless it never opened a packet while the one before it did
// (two rekeys before the sender switched: it is still on that one).
// Setting the key it already has is a no-op.
func (o *Opener) SetKey(k SenderKey) error {
	if o.keys[0].ok && o.keys[0].id == k.ID {
		return nil
	}
	sk, err := newStreamKey(k.Secret[:], o.purpose)
	if err != nil {
		return err
	}
	if o.keys[0].used || !o.keys[1].used {
		o.keys[1] = o.keys[0]
	}
	o.keys[0] = openKey{ok: true, id: k.ID, k: sk}
	return nil
}

// Forget drops every key: nothing opens until SetKey.
func (o *Opener) Forget() { o.keys = [2]openKey{} }

// Open authenticates and decrypts sealed packet p, appending the plaintext
// to dst. Forged packets return ErrForged, replays ErrReplay, packets under
// an unknown key ErrUnknownKey.
func (o *Opener) Open(dst, p []byte) ([]byte, error) {
	id, ctr, n, err := ParseHeader(p)
	if err != nil {
		return dst, err
	}
	var k *openKey
	for i := range o.keys {
		if o.keys[i].ok && o.keys[i].id == id {
			k = &o.keys[i]
			break
		}
	}
	if k == nil {
		return dst, ErrUnknownKey
	}
	if !k.win.check(ctr) {
		return dst, ErrReplay
	}
	nonce := k.k.nonce(ctr)
	out, err := k.k.aead.Open(dst, nonce[:], p[n:], p[:n])
	if err != nil {
		return dst, ErrForged
	}
	k.win.mark(ctr)
	k.used = true
	return out, nil
}
