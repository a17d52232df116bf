// Package mumbleproto holds the protobuf messages of the Mumble control
// protocol (package MumbleProto), generated from Mumble.proto, which matches
// upstream Mumble's src/Mumble.proto field for field. The 1.5 voice packet
// messages (package MumbleUDP) are in the subpackage mumbleudp, because both
// .proto files define a message named Ping.
//
// Regenerate with `go generate` in this directory (needs protoc and
// protoc-gen-go on PATH).
package mumbleproto

//go:generate protoc --go_out=. --go_opt=paths=source_relative Mumble.proto mumbleudp/MumbleUDP.proto
