// Package e2e is Tumble's end-to-end encryption for Mumble channels
// ("encrypted rooms", docs/e2e.md): per-bookmark identity keys bound to the
// member's Mumble certificate, pairwise channels authenticated with them,
// SFrame-style sender keys (one AEAD seal per voice packet or chat line)
// with per-sender replay windows, rekeying on every membership change,
// safety numbers and trust on first use.
//
// It uses only vetted primitives from Go's standard library (crypto/ed25519,
// crypto/ecdh X25519, crypto/hkdf with SHA-256, AES-256-GCM) and does no
// I/O: Room turns received signalling into messages to send, and the
// caller carries them over Mumble (see Transport).
package e2e
