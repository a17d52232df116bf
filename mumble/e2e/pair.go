package e2e

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// A pairKey is the key of the authenticated channel between two members:
// HKDF over X25519(ephemeral, ephemeral) and X25519(identity, identity),
// so only the holders of both identity keys can compute it, and it is
// gone once the connection's ephemeral keys are.
type pairKey struct {
	aead cipher.AEAD
}

func derivePairKey(myID *Identity, myEph *ecdh.PrivateKey, mine, theirs *Hello) (*pairKey, error) {
	peerEph, err := ecdh.X25519().NewPublicKey(theirs.Eph[:])
	if err != nil {
		return nil, fmt.Errorf("e2e: peer ephemeral key: %w", err)
	}
	peerDH, err := ecdh.X25519().NewPublicKey(theirs.Key.DH[:])
	if err != nil {
		return nil, fmt.Errorf("e2e: peer identity key: %w", err)
	}
	ee, err := myEph.ECDH(peerEph)
	if err != nil {
		return nil, fmt.Errorf("e2e: pair key: %w", err)
	}
	ss, err := myID.dh.ECDH(peerDH)
	if err != nil {
		return nil, fmt.Errorf("e2e: pair key: %w", err)
	}
	// Both sides order the two Hellos' keys the same way.
	a, b := helloKeys(mine), helloKeys(theirs)
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	info := append(append([]byte("tumble-e2e pair v1"), a...), b...)
	okm, err := hkdf.Key(sha256.New, append(ee, ss...), nil, string(info), 32)
	if err != nil {
		return nil, fmt.Errorf("e2e: pair key: %w", err)
	}
	block, err := aes.NewCipher(okm)
	if err != nil {
		return nil, fmt.Errorf("e2e: pair key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("e2e: pair key: %w", err)
	}
	return &pairKey{aead: aead}, nil
}

func helloKeys(h *Hello) []byte {
	out := append([]byte(nil), h.Key.Sign[:]...)
	out = append(out, h.Key.DH[:]...)
	return append(out, h.Eph[:]...)
}

func keyAAD(id uint8, to [8]byte) []byte {
	return append(append([]byte("tumble-e2e keys v1"), id), to[:]...)
}

func (p *pairKey) sealKey(k SenderKey, to [8]byte) (KeyEntry, error) {
	e := KeyEntry{To: to}
	if _, err := rand.Read(e.Nonce[:]); err != nil {
		return e, fmt.Errorf("e2e: seal key: %w", err)
	}
	e.Sealed = p.aead.Seal(nil, e.Nonce[:], k.Secret[:], keyAAD(k.ID, to))
	return e, nil
}

func (p *pairKey) openKey(id uint8, e KeyEntry) (SenderKey, error) {
	secret, err := p.aead.Open(nil, e.Nonce[:], e.Sealed, keyAAD(id, e.To))
	if err != nil || len(secret) != SecretSize {
		return SenderKey{}, ErrForged
	}
	k := SenderKey{ID: id}
	copy(k.Secret[:], secret)
	return k, nil
}

func privateAAD(ctr uint64, from, to Fingerprint) []byte {
	b := append([]byte("tumble-e2e private v1"), from[:8]...)
	b = append(b, to[:8]...)
	return binary.BigEndian.AppendUint64(b, ctr)
}

// sealPrivate seals text from one member to the other: counter, random
// nonce, ciphertext. The counter and both fingerprints are authenticated.
func (p *pairKey) sealPrivate(ctr uint64, from, to Fingerprint, text []byte) ([]byte, error) {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, minPrivate+len(text)), ctr)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("e2e: seal private message: %w", err)
	}
	out = append(out, nonce...)
	return p.aead.Seal(out, nonce, text, privateAAD(ctr, from, to)), nil
}

// openPrivate opens a message sealed with sealPrivate and returns its
// counter.
func (p *pairKey) openPrivate(sealed []byte, from, to Fingerprint) (uint64, []byte, error) {
	if len(sealed) < minPrivate {
		return 0, nil, ErrForged
	}
	ctr := binary.BigEndian.Uint64(sealed)
	nonce := sealed[8 : 8+nonceSize]
	text, err := p.aead.Open(nil, nonce, sealed[8+nonceSize:], privateAAD(ctr, from, to))
	if err != nil {
		return 0, nil, ErrForged
	}
	return ctr, text, nil
}
