// Package device moves audio between Tumble's voice pipeline and sound
// devices: 48 kHz mono 16-bit in 10 ms frames.
//
// Real devices come from miniaudio through github.com/gen2brain/malgo
// (Context, cgo only): list capture and playback devices, open one by ID,
// and learn through Config.OnStop when a device stops on its own, for
// example when it is unplugged. Two pure-Go devices stand in for hardware
// in tests and in tumble-cli: a Null device driven by a timer, and a File
// device that captures from a WAV file and plays into one, in real time or
// as fast as possible.
//
// Every device calls a CaptureFunc with 10 ms frames and a PlaybackFunc
// for 10 ms of output, whatever its own period, from its own goroutine or
// audio thread; the callbacks must not block.
package device

import (
	"errors"
	"fmt"
	"time"
)

// Audio format of every device.
const (
	// SampleRate is the sample rate in Hz.
	SampleRate = 48000
	// FrameSamples is the number of samples in one 10 ms frame.
	FrameSamples = SampleRate / 100
)

// CaptureFunc receives one 10 ms frame of captured audio. frame is only
// valid during the call.
type CaptureFunc func(frame []int16)

// PlaybackFunc fills out, one 10 ms frame, with audio to play.
type PlaybackFunc func(out []int16)

// Device is an opened sound device or stand-in.
type Device interface {
	// Start starts the audio callbacks.
	Start() error
	// Close stops the device and frees it. It waits for a running
	// callback to return and is safe to call more than once.
	Close() error
}

// Config holds settings shared by all devices.
type Config struct {
	// Period is the device's buffer period: 10 or 20 ms. If zero, 10 ms.
	// Callbacks still see 10 ms frames; a 20 ms period calls them twice
	// in a row.
	Period time.Duration
	// OnStop, if set, is called once if the device stops by itself
	// rather than through Close: unplugged, lost its server, reached the
	// end of its file (err wraps ErrEndOfInput) or failed. It runs on its
	// own goroutine.
	OnStop func(err error)
	// Android says how Android's AAudio backend should open the stream;
	// other backends and the stand-in devices ignore it.
	Android AndroidStream
}

// AndroidStream describes a stream to Android's AAudio.
type AndroidStream struct {
	// InputPreset is the capture preset. PresetVoiceCommunication makes
	// the phone run its own echo canceller, noise suppressor and gain
	// control on the microphone (from Android 9, API 28).
	InputPreset InputPreset
	// VoiceCall marks a playback stream as a voice call: usage voice
	// communication and content type speech, so that Android routes it
	// as a call and its echo canceller takes it as the reference, and
	// other apps may not record it.
	VoiceCall bool
}

// InputPreset is an Android capture preset (AAUDIO_INPUT_PRESET_*).
type InputPreset int

// Android capture presets.
const (
	// PresetDefault leaves the choice to the system.
	PresetDefault InputPreset = iota
	// PresetGeneric is the plain microphone.
	PresetGeneric
	// PresetCamcorder is tuned for video recording.
	PresetCamcorder
	// PresetVoiceRecognition is tuned for speech recognition: Android's
	// compatibility rules keep it free of noise suppression and gain
	// control.
	PresetVoiceRecognition
	// PresetVoiceCommunication is a voice call: the phone's echo
	// canceller, noise suppressor and gain control run.
	PresetVoiceCommunication
	// PresetUnprocessed is the microphone without any processing, where
	// the phone offers that.
	PresetUnprocessed
	// PresetVoicePerformance is tuned for live performance (low latency,
	// no processing).
	PresetVoicePerformance
)

// String returns the preset's name as Android spells it.
func (p InputPreset) String() string {
	switch p {
	case PresetDefault:
		return "default"
	case PresetGeneric:
		return "GENERIC"
	case PresetCamcorder:
		return "CAMCORDER"
	case PresetVoiceRecognition:
		return "VOICE_RECOGNITION"
	case PresetVoiceCommunication:
		return "VOICE_COMMUNICATION"
	case PresetUnprocessed:
		return "UNPROCESSED"
	case PresetVoicePerformance:
		return "VOICE_PERFORMANCE"
	}
	return fmt.Sprintf("InputPreset(%d)", int(p))
}

// ErrEndOfInput reports that a File device's input ended.
var ErrEndOfInput = errors.New("device: end of input")

// ErrStopped reports that a device stopped without a known reason.
var ErrStopped = errors.New("device: stopped")

func (c *Config) periodFrames() (int, error) {
	if c.Android.InputPreset < PresetDefault || c.Android.InputPreset > PresetVoicePerformance {
		return 0, fmt.Errorf("device: unknown Android input preset %d", int(c.Android.InputPreset))
	}
	switch c.Period {
	case 0, 10 * time.Millisecond:
		return 1, nil
	case 20 * time.Millisecond:
		return 2, nil
	}
	return 0, fmt.Errorf("device: period %v, want 10ms or 20ms", c.Period)
}
