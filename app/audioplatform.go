package app

import "github.com/tumble-voip/tumble/voice/device"

// AudioPlatform adapts the sound path to the platform it runs on: on
// Android, the phone's own voice-call processing (mobile.AudioPlatform).
// Desktop builds leave ControllerConfig.AudioPlatform nil.
type AudioPlatform interface {
	// PlanAudio is called before a connection opens the system's sound
	// devices, and again when the settings change, with the processing
	// the settings ask for. The plan says which stages Tumble still runs
	// (the platform does the others) and how to open the devices.
	PlanAudio(want AudioEffects) AudioPlan
	// AudioActive is called with true once a connection's system sound
	// devices are open and with false when they close (Android: the
	// audio system's communication mode). An error is shown, not fatal.
	AudioActive(on bool) error
}

// AudioEffects is a set of voice processing stages on the microphone.
type AudioEffects struct {
	// EchoCancel removes the far end's voice picked up from the speaker.
	EchoCancel bool
	// NoiseSuppress removes steady background noise.
	NoiseSuppress bool
	// GainControl levels the voice.
	GainControl bool
}

// AudioPlan is an AudioPlatform's answer.
type AudioPlan struct {
	// Tumble holds the stages Tumble's own processing still runs; a
	// stage the settings want and Tumble does not run is the platform's.
	Tumble AudioEffects
	// Capture and Playback say how the platform opens the microphone
	// and the speaker.
	Capture, Playback device.AndroidStream
	// Description tells the user who processes what, in one line.
	Description string
}
