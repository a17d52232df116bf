package mumble

import "fmt"

// A Version is a Mumble software version.
type Version struct {
	Major, Minor, Patch uint16
}

// advertisedVersion is the version the client advertises: that of a
// released official client (1.5.735, Debian trixie's and upstream's stable
// 1.5), so that a Tumble user looks like a user of it. It speaks the
// protobuf voice format, as every version from 1.5.0 does.
var advertisedVersion = Version{1, 5, 735}

// advertisedRelease is the release string the official client of
// advertisedVersion sends (its build's version string; a 1.5.735 server
// reports "1.5.735" too).
var advertisedRelease = advertisedVersion.String()

// protobufVoiceVersion is the first version speaking VoiceProtobuf.
var protobufVoiceVersion = Version{1, 5, 0}

// V1 returns the legacy 32-bit encoding major<<16 | minor<<8 | patch, with
// major capped at 65535 and minor and patch at 255.
func (v Version) V1() uint32 {
	return uint32(v.Major)<<16 | uint32(min(v.Minor, 255))<<8 | uint32(min(v.Patch, 255))
}

// V2 returns the 64-bit encoding major<<48 | minor<<32 | patch<<16.
func (v Version) V2() uint64 {
	return uint64(v.Major)<<48 | uint64(v.Minor)<<32 | uint64(v.Patch)<<16
}

// VersionFromV1 decodes the legacy 32-bit encoding.
func VersionFromV1(v uint32) Version {
	return Version{Major: uint16(v >> 16), Minor: uint16(v >> 8 & 0xFF), Patch: uint16(v & 0xFF)}
}

// VersionFromV2 decodes the 64-bit encoding.
func VersionFromV2(v uint64) Version {
	return Version{Major: uint16(v >> 48), Minor: uint16(v >> 32), Patch: uint16(v >> 16)}
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	switch {
	case v.Major != w.Major:
		return cmp3(v.Major, w.Major)
	case v.Minor != w.Minor:
		return cmp3(v.Minor, w.Minor)
	default:
		return cmp3(v.Patch, w.Patch)
	}
}

func cmp3(a, b uint16) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IsZero reports whether v is unknown (0.0.0).
func (v Version) IsZero() bool { return v == Version{} }

// String returns "major.minor.patch".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// voiceFormatFor returns the voice packet format to send when we advertise
// ours and the server runs server: protobuf iff both are 1.5.0 or newer.
func voiceFormatFor(ours, server Version) VoiceFormat {
	if ours.Compare(protobufVoiceVersion) >= 0 && server.Compare(protobufVoiceVersion) >= 0 {
		return VoiceProtobuf
	}
	return VoiceLegacy
}
