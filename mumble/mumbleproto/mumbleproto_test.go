package mumbleproto_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
	"github.com/tumble-voip/tumble/mumble/mumbleproto/mumbleudp"
)

// TestWireSchema pins the parts of the schema Tumble depends on, as
// upstream defines them: package names, field numbers and kinds. (The whole
// descriptor was compared with upstream's when the .proto files were
// written.)
func TestWireSchema(t *testing.T) {
	for _, tc := range []struct {
		msg   protoreflect.ProtoMessage
		full  protoreflect.FullName
		field protoreflect.Name
		num   protoreflect.FieldNumber
		kind  protoreflect.Kind
	}{
		{&mumbleproto.Version{}, "MumbleProto.Version", "version_v1", 1, protoreflect.Uint32Kind},
		{&mumbleproto.Version{}, "MumbleProto.Version", "version_v2", 5, protoreflect.Uint64Kind},
		{&mumbleproto.Authenticate{}, "MumbleProto.Authenticate", "opus", 5, protoreflect.BoolKind},
		{&mumbleproto.Authenticate{}, "MumbleProto.Authenticate", "client_type", 6, protoreflect.Int32Kind},
		{&mumbleproto.Ping{}, "MumbleProto.Ping", "tcp_ping_var", 11, protoreflect.FloatKind},
		{&mumbleproto.Reject{}, "MumbleProto.Reject", "type", 1, protoreflect.EnumKind},
		{&mumbleproto.ServerSync{}, "MumbleProto.ServerSync", "permissions", 4, protoreflect.Uint64Kind},
		{&mumbleproto.ChannelState{}, "MumbleProto.ChannelState", "description_hash", 10, protoreflect.BytesKind},
		{&mumbleproto.ChannelState{}, "MumbleProto.ChannelState", "max_users", 11, protoreflect.Uint32Kind},
		{&mumbleproto.ChannelState{}, "MumbleProto.ChannelState", "position", 9, protoreflect.Int32Kind},
		{&mumbleproto.UserState{}, "MumbleProto.UserState", "hash", 15, protoreflect.StringKind},
		{&mumbleproto.UserState{}, "MumbleProto.UserState", "recording", 19, protoreflect.BoolKind},
		{&mumbleproto.TextMessage{}, "MumbleProto.TextMessage", "message", 5, protoreflect.StringKind},
		{&mumbleproto.PermissionDenied{}, "MumbleProto.PermissionDenied", "type", 5, protoreflect.EnumKind},
		{&mumbleproto.VoiceTarget_Target{}, "MumbleProto.VoiceTarget.Target", "children", 5, protoreflect.BoolKind},
		{&mumbleproto.UserStats{}, "MumbleProto.UserStats", "version", 12, protoreflect.MessageKind},
		{&mumbleproto.ServerConfig{}, "MumbleProto.ServerConfig", "image_message_length", 5, protoreflect.Uint32Kind},
		{&mumbleproto.SuggestConfig{}, "MumbleProto.SuggestConfig", "version_v2", 4, protoreflect.Uint64Kind},
		{&mumbleudp.Audio{}, "MumbleUDP.Audio", "target", 1, protoreflect.Uint32Kind},
		{&mumbleudp.Audio{}, "MumbleUDP.Audio", "context", 2, protoreflect.Uint32Kind},
		{&mumbleudp.Audio{}, "MumbleUDP.Audio", "frame_number", 4, protoreflect.Uint64Kind},
		{&mumbleudp.Audio{}, "MumbleUDP.Audio", "positional_data", 6, protoreflect.FloatKind},
		{&mumbleudp.Audio{}, "MumbleUDP.Audio", "volume_adjustment", 7, protoreflect.FloatKind},
		{&mumbleudp.Audio{}, "MumbleUDP.Audio", "is_terminator", 16, protoreflect.BoolKind},
		{&mumbleudp.Ping{}, "MumbleUDP.Ping", "server_version_v2", 3, protoreflect.Uint64Kind},
	} {
		d := tc.msg.ProtoReflect().Descriptor()
		if d.FullName() != tc.full {
			t.Errorf("%T is %s, want %s", tc.msg, d.FullName(), tc.full)
		}
		f := d.Fields().ByName(tc.field)
		if f == nil {
			t.Errorf("%s has no field %s", tc.full, tc.field)
			continue
		}
		if f.Number() != tc.num || f.Kind() != tc.kind {
			t.Errorf("%s.%s is %d %v, want %d %v", tc.full, tc.field, f.Number(), f.Kind(), tc.num, tc.kind)
		}
	}
	if !(&mumbleproto.TextMessage{}).ProtoReflect().Descriptor().Fields().ByName("message").HasPresence() {
		t.Error("TextMessage.message lost proto2 presence")
	}
	if got := mumbleproto.Reject_WrongServerPW.Number(); got != 4 {
		t.Errorf("Reject.WrongServerPW = %d", got)
	}
}
