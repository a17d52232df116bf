package voice

import "github.com/tumble-voip/tumble/voice/device"

// Platform adapts a Call's system sound devices to the platform it runs
// on: on Android, the phone's own voice-call processing
// (mobile.AudioPlatform). Desktops leave CallConfig.Platform nil.
type Platform interface {
	// PlanAudio is called before a Call opens the system's sound devices,
	// and again when the settings change, with the processing the
	// settings ask for. The plan says which stages Tumble still runs (the
	// platform does the others) and how to open the devices.
	PlanAudio(want Effects) Plan
	// AudioActive is called with true once a Call's system sound devices
	// are open and with false when they close (Android: the audio
	// system's communication mode). An error is shown, not fatal.
	AudioActive(on bool) error
}

// Effects is a set of voice processing stages on the microphone.
type Effects struct {
	// EchoCancel removes the far end's voice picked up from the speaker.
	EchoCancel bool
	// NoiseSuppress removes steady background noise.
	NoiseSuppress bool
	// GainControl levels the voice.
	GainControl bool
}

// Stages returns the processing stages cfg runs.
func Stages(cfg SendConfig) Effects {
	return Effects{
		EchoCancel:    cfg.EchoCancel != EchoOff,
		NoiseSuppress: cfg.NoiseSuppressionDB != 0,
		GainControl:   cfg.MaxAmplification > 0,
	}
}

// Plan is a Platform's answer.
type Plan struct {
	// Tumble holds the stages Tumble's own processing still runs; a
	// stage the settings want and Tumble does not run is the platform's.
	Tumble Effects
	// Capture and Playback say how the platform opens the microphone
	// and the speaker.
	Capture, Playback device.AndroidStream
	// Description tells the user who processes what, in one line.
	Description string
}

// Apply returns cfg with the stages the plan leaves to the platform
// turned off: echo cancellation off, noise suppression 0 dB, maximum
// amplification 0.
func (p Plan) Apply(cfg SendConfig) SendConfig {
	if !p.Tumble.EchoCancel {
		cfg.EchoCancel = EchoOff
	}
	if !p.Tumble.NoiseSuppress {
		cfg.NoiseSuppressionDB = 0
	}
	if !p.Tumble.GainControl {
		cfg.MaxAmplification = 0
	}
	return cfg
}
