// Package mumble is a Mumble protocol client: the TLS control connection
// (protobuf messages in length-prefixed frames), the channel and user state a
// server sends, text messages, voice targets, and voice packets in both wire
// formats (legacy varint packets for 1.3/1.4 servers, MumbleUDP protobuf for
// 1.5+), all carried over TCP as UDPTunnel messages. It never opens a UDP
// socket.
//
// The package never resolves names or opens connections on its own: every
// connection goes through the Config.DialContext the caller supplies (Tor
// plugs in there). It has no cgo and no GUI imports.
//
// # Connecting
//
// Dial connects, authenticates and returns once the server has sent its
// whole state. Servers use self-signed certificates, so instead of checking
// certificate authorities the client pins the SHA-256 fingerprint of the
// server certificate: pass the fingerprint from an earlier connection
// (Client.Fingerprint) in Config.PinnedFingerprint; a different certificate
// fails with a *CertificateMismatchError. A refused login fails with a
// *RejectError (errors.Is(err, ErrWrongServerPW) and so on). The client
// advertises version 1.5.0 and sends no operating system details unless
// Config.SendOSInfo is set. It pings every 5 s and gives up after 60 s of
// silence; timeouts default to values suited to onion services.
//
// # State and events
//
// The Client mirrors the server's channel tree and users; accessors
// (Channels, ChannelByPath, Users, Self, ServerInfo, ...) return copies.
// Subscribe delivers changes as Event values in order through an unbounded
// queue, so the network reader never waits for a subscriber: a
// ConnectedEvent with the complete state first, then ChannelAddedEvent,
// UserChangedEvent, TextMessageEvent, PermissionDeniedEvent and so on, and
// finally a DisconnectedEvent saying why the connection ended. Actions that
// the server answers (Join, CreateChannel, RequestUserStats, SetSelfMute)
// wait for the answer and return refusals as *PermissionDeniedError.
//
// # Voice
//
// SendVoice sends one Opus packet, numbering packets in 10 ms frames and
// choosing the wire format from both sides' versions. SubscribeVoice delivers
// every received packet with its sender, sequence number, context (normal,
// shout, whisper), terminator flag and position. The lower-level
// AppendVoicePacket and ParseVoicePacket encode and decode both formats
// without allocating. NetworkBandwidth and MaxBitrate apply the official
// client's bandwidth budget, so that the server's limit
// (ServerInfo.MaxBandwidth) never silently drops packets.
//
// # Wire level
//
// FrameReader, WriteFrame, UnmarshalMessage and AppendMessage handle the
// control protocol's frames. The reader rejects frames over a size limit
// (DefaultMaxFrameSize, upstream's), and decoding tolerates what real
// servers send: missing required fields, unknown fields, fields with the
// wrong wire type, and otherwise malformed fields (dropped one by one).
// Message types are in mumbleproto (and mumbleproto/mumbleudp); the legacy
// format's integers in varint.
package mumble
