package e2e

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
)

// Signalling messages start with magic, version and type.
const (
	magic0, magic1 = 'T', 'E'
	version        = 1
	headerSize     = 4
)

// MessageType says what a signalling message is.
type MessageType uint8

// Signalling message types.
const (
	TypeHello MessageType = 1 // announces a member's keys (signed)
	TypeKeys  MessageType = 2 // a member's new sender key, sealed per recipient
	TypeChat  MessageType = 3 // a chat line sealed with the sender's chat key
	TypeLeave MessageType = 4 // a member turned encryption off
	TypeAck   MessageType = 5 // a member received the sender key named
	// TypePrivate is a private text message to one member, sealed with
	// the pair key.
	TypePrivate MessageType = 6
)

// MaxMessageSize bounds signalling messages (PluginDataTransmission and
// text messages are relayed up to a few kB).
const MaxMessageSize = 4096

// maxCertHash bounds the certificate hash in a Hello (hex SHA-1 is 40).
const maxCertHash = 64

// A Hello announces a member: its identity key, the per-connection
// ephemeral key for the pairwise channels, the Mumble certificate hash it
// is bound to and the channel whose room it is in, all signed.
type Hello struct {
	Channel  uint32
	Reply    bool // the sender wants Hellos back from the room's members
	Key      PublicKey
	Eph      [32]byte
	CertHash string
	Sig      [ed25519.SignatureSize]byte
}

// A KeyEntry is a sender key sealed for one recipient.
type KeyEntry struct {
	To     [8]byte // first bytes of the recipient's fingerprint
	Nonce  [nonceSize]byte
	Sealed []byte // SecretSize + tag bytes
}

// A Keys message hands a member's new sender key to each other member.
type Keys struct {
	KeyID   uint8
	Entries []KeyEntry
}

// A Message is a decoded signalling message: exactly one field is set.
type Message struct {
	Type  MessageType
	Hello *Hello
	Keys  *Keys
	Chat  []byte // sealed chat line
	Leave uint32 // channel left
	Ack   uint8  // key ID received
	// Private is a sealed private message: counter (8 bytes, big
	// endian), nonce, ciphertext and tag.
	Private []byte
}

// minPrivate is the size of an empty sealed private message.
const minPrivate = 8 + nonceSize + tagSize

var errMessage = errors.New("e2e: malformed message")

func appendHeader(dst []byte, t MessageType) []byte {
	return append(dst, magic0, magic1, version, byte(t))
}

// IsMessage reports whether b looks like a signalling message (by its
// magic), so that callers can tell it from other data.
func IsMessage(b []byte) bool {
	return len(b) >= headerSize && b[0] == magic0 && b[1] == magic1
}

// signed returns the bytes a Hello's signature covers.
func (h *Hello) signed(dst []byte) []byte {
	dst = append(dst, "tumble-e2e hello v1"...)
	dst = appendHeader(dst, TypeHello)
	return h.appendBody(dst)
}

func (h *Hello) appendBody(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, h.Channel)
	var flags byte
	if h.Reply {
		flags |= 1
	}
	dst = append(dst, flags)
	dst = append(dst, h.Key.Sign[:]...)
	dst = append(dst, h.Key.DH[:]...)
	dst = append(dst, h.Eph[:]...)
	dst = append(dst, byte(len(h.CertHash)))
	return append(dst, h.CertHash...)
}

// Verify checks the Hello's signature.
func (h *Hello) Verify() error {
	if !ed25519.Verify(h.Key.Sign[:], h.signed(nil), h.Sig[:]) {
		return errBadSignature
	}
	return nil
}

// Marshal encodes a message.
func (m *Message) Marshal() ([]byte, error) {
	b := appendHeader(make([]byte, 0, 256), m.Type)
	switch m.Type {
	case TypeHello:
		h := m.Hello
		if h == nil || len(h.CertHash) > maxCertHash {
			return nil, errMessage
		}
		b = h.appendBody(b)
		b = append(b, h.Sig[:]...)
	case TypeKeys:
		k := m.Keys
		if k == nil || len(k.Entries) > 255 {
			return nil, errMessage
		}
		b = append(b, k.KeyID, byte(len(k.Entries)))
		for _, e := range k.Entries {
			if len(e.Sealed) != SecretSize+tagSize {
				return nil, errMessage
			}
			b = append(b, e.To[:]...)
			b = append(b, e.Nonce[:]...)
			b = append(b, e.Sealed...)
		}
	case TypeChat:
		b = append(b, m.Chat...)
	case TypeLeave:
		b = binary.BigEndian.AppendUint32(b, m.Leave)
	case TypeAck:
		b = append(b, m.Ack)
	case TypePrivate:
		if len(m.Private) < minPrivate {
			return nil, errMessage
		}
		b = append(b, m.Private...)
	default:
		return nil, errMessage
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("e2e: message of %d bytes is too large", len(b))
	}
	return b, nil
}

// reader reads fixed fields and remembers the first error.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) uint32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// ParseMessage decodes a signalling message. It never panics; malformed
// input is an error. Signatures are not checked here (Hello.Verify).
func ParseMessage(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("e2e: message of %d bytes is too large", len(b))
	}
	if !IsMessage(b) {
		return nil, fmt.Errorf("e2e: not a signalling message")
	}
	if b[2] != version {
		return nil, fmt.Errorf("e2e: unsupported version %d", b[2])
	}
	m := &Message{Type: MessageType(b[3])}
	r := &reader{b: b[headerSize:]}
	switch m.Type {
	case TypeHello:
		h := &Hello{}
		h.Channel = r.uint32()
		flags := r.byte()
		h.Reply = flags&1 != 0
		copy(h.Key.Sign[:], r.take(32))
		copy(h.Key.DH[:], r.take(32))
		copy(h.Eph[:], r.take(32))
		n := int(r.byte())
		if n > maxCertHash {
			return nil, errMessage
		}
		h.CertHash = string(r.take(n))
		copy(h.Sig[:], r.take(ed25519.SignatureSize))
		if flags&^1 != 0 {
			return nil, errMessage
		}
		m.Hello = h
	case TypeKeys:
		k := &Keys{KeyID: r.byte()}
		n := int(r.byte())
		for range n {
			var e KeyEntry
			copy(e.To[:], r.take(8))
			copy(e.Nonce[:], r.take(nonceSize))
			e.Sealed = append([]byte(nil), r.take(SecretSize+tagSize)...)
			if r.bad {
				break
			}
			k.Entries = append(k.Entries, e)
		}
		m.Keys = k
	case TypeChat:
		m.Chat = append([]byte(nil), r.take(len(r.b))...)
		if _, _, _, err := ParseHeader(m.Chat); err != nil {
			return nil, err
		}
	case TypeLeave:
		m.Leave = r.uint32()
	case TypeAck:
		m.Ack = r.byte()
	case TypePrivate:
		if len(r.b) < minPrivate {
			return nil, errMessage
		}
		m.Private = append([]byte(nil), r.take(len(r.b))...)
	default:
		return nil, fmt.Errorf("e2e: unknown message type %d", m.Type)
	}
	if r.bad || len(r.b) != 0 {
		return nil, errMessage
	}
	return m, nil
}
