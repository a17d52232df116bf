// Package codec encodes and decodes Mumble's Opus voice: 48 kHz mono,
// frames of 10, 20, 40 or 60 ms per packet.
//
// Encoder and Decoder wrap libopus (github.com/hraban/opus, build tag
// nolibopusfile) and need cgo. The packet helpers (PacketFrames,
// PacketSamples) and EncoderConfig validation are pure Go and build
// everywhere, Android without cgo included.
package codec
