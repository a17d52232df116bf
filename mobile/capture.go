package mobile

import (
	"fmt"
	"strings"

	"github.com/gen2brain/malgo"
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
	// InputPreset is the AAudio capture preset (malgo's enumeration):
	// voice communication when any processing is wanted, else voice
	// recognition (Android's CDD keeps that one free of noise suppression
	// and gain control: the rawest source every phone has).
	InputPreset malgo.AAudioInputPreset
	// Usage and ContentType describe the playback stream: a voice call, so
	// that Android routes it as one and the phone's echo canceller takes
	// it as its reference.
	Usage       malgo.AAudioUsage
	ContentType malgo.AAudioContentType
	// CapturePolicy keeps other apps from recording the call's playback
	// (Android 10's playback capture): by none.
	CapturePolicy malgo.AAudioAllowedCapturePolicy
	// Phone is the processing the phone applies to the capture stream.
	Phone Effects
	// Tumble is the processing Tumble's speexdsp stages still do: what the
	// user wants and the phone does not do.
	Tumble Effects
}

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
		InputPreset:   malgo.AAudioInputPresetVoiceRecognition,
		Usage:         malgo.AAudioUsageVoiceCommunication,
		ContentType:   malgo.AAudioContentTypeSpeech,
		CapturePolicy: malgo.AAudioAllowCapturePolicyByNone,
		Tumble:        want,
	}
	if !want.Any() {
		return p
	}
	p.InputPreset = malgo.AAudioInputPresetVoiceCommunication
	if apiLevel < InputPresetMinAPI {
		// The preset cannot be set: the phone does nothing for us.
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

// String describes the plan in one line for logs and the settings page,
// e.g. "phone: echo cancellation, noise suppression; Tumble: gain control".
func (p CapturePlan) String() string {
	return "phone: " + p.Phone.describe() + "; Tumble: " + p.Tumble.describe()
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

// PresetName returns the name of an AAudio input preset as Android spells
// it (AAUDIO_INPUT_PRESET_...).
func PresetName(p malgo.AAudioInputPreset) string {
	switch p {
	case malgo.AAudioInputPresetDefault:
		return "default"
	case malgo.AAudioInputPresetGeneric:
		return "GENERIC"
	case malgo.AAudioInputPresetCamcorder:
		return "CAMCORDER"
	case malgo.AAudioInputPresetVoiceRecognition:
		return "VOICE_RECOGNITION"
	case malgo.AAudioInputPresetVoiceCommunication:
		return "VOICE_COMMUNICATION"
	case malgo.AAudioInputPresetUnprocessed:
		return "UNPROCESSED"
	case malgo.AAudioInputPresetVoicePerformance:
		return "VOICE_PERFORMANCE"
	}
	return fmt.Sprintf("AAudioInputPreset(%d)", uint32(p))
}
