package mumble

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// NewMessage returns a new, empty protobuf message for frames of type t, or
// nil for MessageUDPTunnel (whose payload is not protobuf) and unknown types.
func NewMessage(t MessageType) proto.Message {
	switch t {
	case MessageVersion:
		return new(mumbleproto.Version)
	case MessageAuthenticate:
		return new(mumbleproto.Authenticate)
	case MessagePing:
		return new(mumbleproto.Ping)
	case MessageReject:
		return new(mumbleproto.Reject)
	case MessageServerSync:
		return new(mumbleproto.ServerSync)
	case MessageChannelRemove:
		return new(mumbleproto.ChannelRemove)
	case MessageChannelState:
		return new(mumbleproto.ChannelState)
	case MessageUserRemove:
		return new(mumbleproto.UserRemove)
	case MessageUserState:
		return new(mumbleproto.UserState)
	case MessageBanList:
		return new(mumbleproto.BanList)
	case MessageTextMessage:
		return new(mumbleproto.TextMessage)
	case MessagePermissionDenied:
		return new(mumbleproto.PermissionDenied)
	case MessageACL:
		return new(mumbleproto.ACL)
	case MessageQueryUsers:
		return new(mumbleproto.QueryUsers)
	case MessageCryptSetup:
		return new(mumbleproto.CryptSetup)
	case MessageContextActionModify:
		return new(mumbleproto.ContextActionModify)
	case MessageContextAction:
		return new(mumbleproto.ContextAction)
	case MessageUserList:
		return new(mumbleproto.UserList)
	case MessageVoiceTarget:
		return new(mumbleproto.VoiceTarget)
	case MessagePermissionQuery:
		return new(mumbleproto.PermissionQuery)
	case MessageCodecVersion:
		return new(mumbleproto.CodecVersion)
	case MessageUserStats:
		return new(mumbleproto.UserStats)
	case MessageRequestBlob:
		return new(mumbleproto.RequestBlob)
	case MessageServerConfig:
		return new(mumbleproto.ServerConfig)
	case MessageSuggestConfig:
		return new(mumbleproto.SuggestConfig)
	case MessagePluginDataTransmission:
		return new(mumbleproto.PluginDataTransmission)
	}
	return nil
}

// TypeOf returns the frame type for a control protocol message, and false if
// m is not one.
func TypeOf(m proto.Message) (MessageType, bool) {
	switch m.(type) {
	case *mumbleproto.Version:
		return MessageVersion, true
	case *mumbleproto.Authenticate:
		return MessageAuthenticate, true
	case *mumbleproto.Ping:
		return MessagePing, true
	case *mumbleproto.Reject:
		return MessageReject, true
	case *mumbleproto.ServerSync:
		return MessageServerSync, true
	case *mumbleproto.ChannelRemove:
		return MessageChannelRemove, true
	case *mumbleproto.ChannelState:
		return MessageChannelState, true
	case *mumbleproto.UserRemove:
		return MessageUserRemove, true
	case *mumbleproto.UserState:
		return MessageUserState, true
	case *mumbleproto.BanList:
		return MessageBanList, true
	case *mumbleproto.TextMessage:
		return MessageTextMessage, true
	case *mumbleproto.PermissionDenied:
		return MessagePermissionDenied, true
	case *mumbleproto.ACL:
		return MessageACL, true
	case *mumbleproto.QueryUsers:
		return MessageQueryUsers, true
	case *mumbleproto.CryptSetup:
		return MessageCryptSetup, true
	case *mumbleproto.ContextActionModify:
		return MessageContextActionModify, true
	case *mumbleproto.ContextAction:
		return MessageContextAction, true
	case *mumbleproto.UserList:
		return MessageUserList, true
	case *mumbleproto.VoiceTarget:
		return MessageVoiceTarget, true
	case *mumbleproto.PermissionQuery:
		return MessagePermissionQuery, true
	case *mumbleproto.CodecVersion:
		return MessageCodecVersion, true
	case *mumbleproto.UserStats:
		return MessageUserStats, true
	case *mumbleproto.RequestBlob:
		return MessageRequestBlob, true
	case *mumbleproto.ServerConfig:
		return MessageServerConfig, true
	case *mumbleproto.SuggestConfig:
		return MessageSuggestConfig, true
	case *mumbleproto.PluginDataTransmission:
		return MessagePluginDataTransmission, true
	}
	return 0, false
}

// unmarshalOptions decode what servers really send: proto2 required fields
// are sometimes missing, and unknown fields (including known field numbers
// with the wrong wire type) are dropped.
var unmarshalOptions = proto.UnmarshalOptions{AllowPartial: true, DiscardUnknown: true}

// A MalformedMessageError reports a control message with fields that could
// not be decoded. UnmarshalMessage returns it together with the message
// holding every field that could.
type MalformedMessageError struct {
	Type    MessageType
	Dropped int   // number of fields skipped
	Trailer int   // bytes at the end that did not form a field
	Err     error // the first decoding error
}

func (e *MalformedMessageError) Error() string {
	return fmt.Sprintf("mumble: malformed %v message: %d bad fields, %d bytes of trailing garbage: %v",
		e.Type, e.Dropped, e.Trailer, e.Err)
}

func (e *MalformedMessageError) Unwrap() error { return e.Err }

// UnmarshalMessage decodes the payload of a control frame of type t. It
// tolerates what real servers send: missing required fields, unknown fields,
// known fields with an unexpected wire type. If the payload is malformed
// beyond that, it returns the message with every field it could decode on its
// own, together with a *MalformedMessageError. It returns (nil, nil) for
// MessageUDPTunnel and unknown types.
func UnmarshalMessage(t MessageType, payload []byte) (proto.Message, error) {
	m := NewMessage(t)
	if m == nil {
		return nil, nil
	}
	err := unmarshalOptions.Unmarshal(payload, m)
	if err == nil {
		return m, nil
	}
	// Salvage: decode field by field and keep those that decode alone.
	proto.Reset(m)
	merr := &MalformedMessageError{Type: t, Err: err}
	b := payload
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		v := protowire.ConsumeFieldValue(num, typ, b[n:])
		if v < 0 {
			break
		}
		field := b[:n+v]
		b = b[n+v:]
		one := NewMessage(t)
		if unmarshalOptions.Unmarshal(field, one) != nil {
			merr.Dropped++
			continue
		}
		proto.Merge(m, one)
	}
	merr.Trailer = len(b)
	return m, merr
}

var marshalOptions = proto.MarshalOptions{AllowPartial: true}

// AppendMessage appends a frame carrying the control message m to dst.
func AppendMessage(dst []byte, m proto.Message) ([]byte, error) {
	t, ok := TypeOf(m)
	if !ok {
		return dst, fmt.Errorf("mumble: %T is not a control protocol message", m)
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0)
	dst, err := marshalOptions.MarshalAppend(dst, m)
	if err != nil {
		return dst[:start], fmt.Errorf("mumble: encode %v: %w", t, err)
	}
	size := len(dst) - start - FrameHeaderSize
	if uint64(size) > math.MaxUint32 {
		return dst[:start], errPayloadTooLarge
	}
	binary.BigEndian.PutUint16(dst[start:], uint16(t))
	binary.BigEndian.PutUint32(dst[start+2:], uint32(size))
	return dst, nil
}
