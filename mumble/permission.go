package mumble

import (
	"strconv"
	"strings"
)

// A Permission is a set of channel permission bits (upstream src/ACL.h).
type Permission uint32

// Channel permissions.
const (
	PermissionWrite           Permission = 0x1
	PermissionTraverse        Permission = 0x2
	PermissionEnter           Permission = 0x4
	PermissionSpeak           Permission = 0x8
	PermissionMuteDeafen      Permission = 0x10
	PermissionMove            Permission = 0x20
	PermissionMakeChannel     Permission = 0x40
	PermissionLinkChannel     Permission = 0x80
	PermissionWhisper         Permission = 0x100
	PermissionTextMessage     Permission = 0x200
	PermissionMakeTempChannel Permission = 0x400
	PermissionListen          Permission = 0x800
	// Server-wide permissions, valid on the root channel.
	PermissionKick             Permission = 0x10000
	PermissionBan              Permission = 0x20000
	PermissionRegister         Permission = 0x40000
	PermissionSelfRegister     Permission = 0x80000
	PermissionResetUserContent Permission = 0x100000
)

var permissionNames = []struct {
	p    Permission
	name string
}{
	{PermissionWrite, "Write"}, {PermissionTraverse, "Traverse"}, {PermissionEnter, "Enter"},
	{PermissionSpeak, "Speak"}, {PermissionMuteDeafen, "MuteDeafen"}, {PermissionMove, "Move"},
	{PermissionMakeChannel, "MakeChannel"}, {PermissionLinkChannel, "LinkChannel"},
	{PermissionWhisper, "Whisper"}, {PermissionTextMessage, "TextMessage"},
	{PermissionMakeTempChannel, "MakeTempChannel"}, {PermissionListen, "Listen"},
	{PermissionKick, "Kick"}, {PermissionBan, "Ban"}, {PermissionRegister, "Register"},
	{PermissionSelfRegister, "SelfRegister"}, {PermissionResetUserContent, "ResetUserContent"},
}

// String returns the names of the bits in p joined by "|", for example
// "Enter|Speak"; unknown bits are shown in hex.
func (p Permission) String() string {
	if p == 0 {
		return "None"
	}
	var parts []string
	for _, n := range permissionNames {
		if p&n.p != 0 {
			parts = append(parts, n.name)
			p &^= n.p
		}
	}
	if p != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(p), 16))
	}
	return strings.Join(parts, "|")
}
