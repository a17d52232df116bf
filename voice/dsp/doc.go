// Package dsp cleans up captured voice with libspeexdsp: acoustic echo
// cancellation against the playback mix (EchoCanceller) and a preprocessor
// with noise suppression, residual echo suppression, automatic gain control
// and a speech probability (Preprocessor).
//
// It is a thin cgo wrapper of our own over Debian's libspeexdsp
// (pkg-config speexdsp). The C state is freed by Close, not by a finalizer:
// every EchoCanceller and Preprocessor must be closed. Settings may be
// changed from any goroutine while audio is processed; the processing calls
// themselves (EchoCanceller.Cancel and Preprocessor.Process on a
// preprocessor linked to that canceller) belong to one audio goroutine.
//
// Settings follow Mumble's meanings: noise suppression is a negative dB
// figure (Mumble's default -30, strongest -60) applied after subtracting the
// current AGC gain, and "max amplification" X limits the AGC gain to
// floor(20*log10(1.5*X)) dB (MaxGainDB). As in Mumble, the caller freezes
// the AGC gain against increases while the user is not transmitting
// (Preprocessor.SetAGCIncrement 0) and lets it rise at AGCIncrementDB per
// second while they are.
//
// The pure-Go helpers in this package (MaxGainDB, AGCLevel) build without
// cgo; the speexdsp types need it.
package dsp
