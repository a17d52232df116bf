package mobile

import (
	"strings"

	"github.com/tumble-voip/tumble/voice/device"
)

// Android API levels that decide the audio path. miniaudio (malgo
// v0.11.24) opens AAudio from API 27 and OpenSL ES before; the AAudio
// input preset exists from API 28 (AAudioStreamBuilder_setInputPreset,
// looked up at run time). malgo does not expose OpenSL ES's recording
// preset, so below API 28 the stream gets no voice-call processing.
const (
	AAudioMinAPI      = 27
	InputPresetMinAPI = 28
)

// CapturePlan is how to open the microphone and the speaker on Android
// and which of Tumble's own stages to run on the captured voice.
type CapturePlan struct {
	// Capture opens the microphone with the voice-communication input
	// preset when any processing is wanted, else with voice recognition
	// (Android's CDD keeps that one free of noise suppression and gain
	// control: the rawest source every phone has).
	Capture device.AndroidStream
	// Playback opens the speaker as a voice call, so that Android routes
	// it as one, the phone's echo canceller takes it as its reference
	// and other apps may not record it.
	Playback device.AndroidStream
	// Phone is the processing the phone applies to the capture stream.
	Phone Effects
	// Tumble is the processing Tumble's speexdsp stages still do: what the
	// user wants and the phone does not do.
	Tumble Effects
	// Note, if set, says why the phone does less than it could, e.g.
	// "Android 8.1 or older cannot switch on the phone's own processing".
	Note string
}

// Notes of a CapturePlan.
const (
	noteOldAndroid = "Android 8.1 or older cannot switch on the phone's own processing"
	noteUnknownFX  = "the phone's own processing could not be checked"
)

// PlanCapture decides the audio path for a phone at apiLevel whose
// platform effects are available, for the stages the user wants (from the
// settings: echo cancellation, noise suppression, gain control).
//
// With the voice-communication preset the phone applies each available
// effect, and Tumble's own stage for it is turned off: two echo
// cancellers, two noise suppressors or two gain controls in a row work
// against each other. Stages the phone lacks stay with Tumble. When the
// user wants no processing at all, the preset is voice recognition and
// neither side processes.
func PlanCapture(apiLevel int, available, want Effects) CapturePlan {
	p := CapturePlan{
		Capture:  device.AndroidStream{InputPreset: device.PresetVoiceRecognition},
		Playback: device.AndroidStream{VoiceCall: true},
		Tumble:   want,
	}
	if !want.Any() {
		return p
	}
	p.Capture.InputPreset = device.PresetVoiceCommunication
	if apiLevel < InputPresetMinAPI {
		// The preset cannot be set: the phone does nothing for us.
		p.Note = noteOldAndroid
		return p
	}
	// The preset applies the phone's effects whether or not the user
	// wants each one; Tumble then runs only what the phone lacks.
	p.Phone = available
	p.Tumble = Effects{
		EchoCancel:    want.EchoCancel && !available.EchoCancel,
		NoiseSuppress: want.NoiseSuppress && !available.NoiseSuppress,
		GainControl:   want.GainControl && !available.GainControl,
	}
	return p
}

// planUnknownEffects is the plan when reading the phone's effects failed
// with err: the raw voice-recognition preset, so that no effect of the
// phone runs unaccounted for, and every wanted stage is Tumble's.
func planUnknownEffects(want Effects, err error) CapturePlan {
	return CapturePlan{
		Capture:  device.AndroidStream{InputPreset: device.PresetVoiceRecognition},
		Playback: device.AndroidStream{VoiceCall: true},
		Tumble:   want,
		Note:     noteUnknownFX + ": " + err.Error(),
	}
}

// String describes the plan in one line for logs and the sound status,
// e.g. "phone: echo cancellation, noise suppression; Tumble: gain control",
// with the Note in parentheses.
func (p CapturePlan) String() string {
	s := "phone: " + p.Phone.describe() + "; Tumble: " + p.Tumble.describe()
	if p.Note != "" {
		s += " (" + p.Note + ")"
	}
	return s
}

func (e Effects) describe() string {
	var parts []string
	if e.EchoCancel {
		parts = append(parts, "echo cancellation")
	}
	if e.NoiseSuppress {
		parts = append(parts, "noise suppression")
	}
	if e.GainControl {
		parts = append(parts, "gain control")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
