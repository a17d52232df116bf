// Package voice owns Tumble's audio: capture, DSP, codec, jitter buffer,
// mixing and playback.
//
// The send path takes 10 ms frames of 48 kHz mono 16-bit audio from a
// capture device, cancels the echo of our own playback (Mumble's "mixed"
// echo cancellation: the reference is the playback mix), suppresses noise,
// normalises the level, decides whether to transmit (continuous, voice
// activation or push-to-talk) and encodes Opus packets of 10 to 60 ms
// (Sender). The receive path buffers each speaker's packets against network
// jitter, decodes them with packet-loss concealment and mixes them for the
// playback device. Engine wires a capture device, a Sender and a playback
// device together and feeds the playback mix back to the echo canceller.
//
// Call is the sound of one voice connection, the one type an application
// configures (CallConfig): it owns a Receiver, an Engine, the devices
// (system, null, WAV files or none), the self-mute, deafen and
// push-to-talk gate, the bit rate cap and a Platform's plan (Android's
// own voice processing), and reports typed events (CallEvent). Without
// sound, for example in a build without cgo, a Call still tells who is
// talking from the packets.
//
// Opus (codec), speexdsp (dsp) and the system's sound devices (device)
// need cgo; without it their constructors return an ErrNoCgo error, so
// that everything builds everywhere (Android without cgo included).
//
// Subpackages hold the parts: wav (WAV files), codec (Opus), dsp (speexdsp
// echo cancellation and preprocessing), vad (transmission gate), device
// (sound devices, null and WAV-file devices), jitter (jitter buffer), mix
// (mixer) and analysis (signal measurements used by tests and tools).
//
// Package voice does not know about the Mumble protocol, Tor or the user
// interface: packets leave through a callback and arrive through Receiver.
package voice
