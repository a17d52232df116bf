package device

import (
	"errors"
	"fmt"
)

// ErrNoCgo is returned by NewContext (and so by List) in a build without
// cgo: the system's sound devices come from miniaudio, which needs cgo.
// The Null and File devices work in every build.
var ErrNoCgo = errors.New("voice/device: built without cgo: the system's sound devices (miniaudio) need cgo")

// Backend selects a miniaudio backend.
type Backend int

// Backends. BackendAuto tries the platform's backends in miniaudio's order.
const (
	BackendAuto Backend = iota
	BackendPulseAudio
	BackendALSA
	BackendJACK
	BackendAAudio
	BackendOpenSL
	BackendNull // miniaudio's null backend: timed callbacks, silent capture
)

// String returns the backend's name.
func (b Backend) String() string {
	switch b {
	case BackendAuto:
		return "auto"
	case BackendPulseAudio:
		return "pulseaudio"
	case BackendALSA:
		return "alsa"
	case BackendJACK:
		return "jack"
	case BackendAAudio:
		return "aaudio"
	case BackendOpenSL:
		return "opensl"
	case BackendNull:
		return "null"
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// Kind tells capture devices from playback devices.
type Kind int

const (
	// CaptureKind is a microphone or other input.
	CaptureKind Kind = iota
	// PlaybackKind is a speaker, headset or other output.
	PlaybackKind
)

// Info describes a sound device.
type Info struct {
	// ID identifies the device for OpenCapture and OpenPlayback; it is
	// stable while the device stays connected.
	ID string
	// Name is the human-readable name.
	Name string
	// Default tells whether the system uses it by default.
	Default bool
}

// List returns the system's capture and playback devices.
func List() (capture, playback []Info, err error) {
	ctx, err := NewContext()
	if err != nil {
		return nil, nil, err
	}
	defer ctx.Close()
	if capture, err = ctx.Devices(CaptureKind); err != nil {
		return nil, nil, err
	}
	if playback, err = ctx.Devices(PlaybackKind); err != nil {
		return nil, nil, err
	}
	return capture, playback, nil
}
