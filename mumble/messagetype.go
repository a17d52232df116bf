package mumble

import "strconv"

// A MessageType is the 16-bit type number in a control protocol frame header.
// The names are upstream's (src/MumbleProtocol.h); each type's payload is the
// mumbleproto message of the same name, except MessageUDPTunnel, whose
// payload is a raw voice packet.
type MessageType uint16

// The control protocol message types.
const (
	MessageVersion                MessageType = 0
	MessageUDPTunnel              MessageType = 1
	MessageAuthenticate           MessageType = 2
	MessagePing                   MessageType = 3
	MessageReject                 MessageType = 4
	MessageServerSync             MessageType = 5
	MessageChannelRemove          MessageType = 6
	MessageChannelState           MessageType = 7
	MessageUserRemove             MessageType = 8
	MessageUserState              MessageType = 9
	MessageBanList                MessageType = 10
	MessageTextMessage            MessageType = 11
	MessagePermissionDenied       MessageType = 12
	MessageACL                    MessageType = 13
	MessageQueryUsers             MessageType = 14
	MessageCryptSetup             MessageType = 15
	MessageContextActionModify    MessageType = 16
	MessageContextAction          MessageType = 17
	MessageUserList               MessageType = 18
	MessageVoiceTarget            MessageType = 19
	MessagePermissionQuery        MessageType = 20
	MessageCodecVersion           MessageType = 21
	MessageUserStats              MessageType = 22
	MessageRequestBlob            MessageType = 23
	MessageServerConfig           MessageType = 24
	MessageSuggestConfig          MessageType = 25
	MessagePluginDataTransmission MessageType = 26
)

var messageTypeNames = [...]string{
	MessageVersion:                "Version",
	MessageUDPTunnel:              "UDPTunnel",
	MessageAuthenticate:           "Authenticate",
	MessagePing:                   "Ping",
	MessageReject:                 "Reject",
	MessageServerSync:             "ServerSync",
	MessageChannelRemove:          "ChannelRemove",
	MessageChannelState:           "ChannelState",
	MessageUserRemove:             "UserRemove",
	MessageUserState:              "UserState",
	MessageBanList:                "BanList",
	MessageTextMessage:            "TextMessage",
	MessagePermissionDenied:       "PermissionDenied",
	MessageACL:                    "ACL",
	MessageQueryUsers:             "QueryUsers",
	MessageCryptSetup:             "CryptSetup",
	MessageContextActionModify:    "ContextActionModify",
	MessageContextAction:          "ContextAction",
	MessageUserList:               "UserList",
	MessageVoiceTarget:            "VoiceTarget",
	MessagePermissionQuery:        "PermissionQuery",
	MessageCodecVersion:           "CodecVersion",
	MessageUserStats:              "UserStats",
	MessageRequestBlob:            "RequestBlob",
	MessageServerConfig:           "ServerConfig",
	MessageSuggestConfig:          "SuggestConfig",
	MessagePluginDataTransmission: "PluginDataTransmission",
}

// String returns upstream's name for t, or "MessageType(N)" for an unknown
// type.
func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) {
		return messageTypeNames[t]
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}
