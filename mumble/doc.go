// Package mumble is a Mumble protocol client: the TLS control channel
// (protobuf messages), the channel and user state a server sends, text
// messages, voice targets, and voice packets in both wire formats (legacy
// varint packets for 1.3/1.4 servers, MumbleUDP protobuf for 1.5+), all
// carried over TCP as UDPTunnel messages.
//
// The package never resolves names or opens connections on its own: every
// connection goes through the Config.DialContext the caller supplies (Tor
// plugs in there). It has no cgo and no GUI imports.
package mumble
