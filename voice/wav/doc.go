// Package wav reads and writes the WAV files Tumble's voice tools use:
// RIFF/WAVE, 48 kHz, mono, 16-bit signed little-endian PCM.
//
// A Reader accepts only that format and names any other one in its error,
// skips chunks it does not know, and tolerates the data-chunk lengths left
// by streaming writers (0 or 0xFFFFFFFF) and files cut short. A Writer
// streams samples after a provisional header and patches the sizes on
// Close; Create writes through a temporary file renamed into place on Close,
// so a file the user keeps is never left half written.
package wav

// The only format this package handles.
const (
	// SampleRate is the sample rate in Hz.
	SampleRate = 48000
	// Channels is the number of channels.
	Channels = 1
	// BitsPerSample is the size of one sample in bits.
	BitsPerSample = 16
)

const (
	formatPCM        = 0x0001
	formatFloat      = 0x0003
	formatALaw       = 0x0006
	formatMuLaw      = 0x0007
	formatExtensible = 0xFFFE
	headerSize       = 44
)
