//go:build cgo

package mobile

import (
	"github.com/gen2brain/malgo"

	"github.com/tumble-voip/tumble/voice"
)

// AAudioCapture returns malgo's AAudio settings for the capture device.
func (p CapturePlan) AAudioCapture() malgo.AAudioDeviceConfig {
	return malgo.AAudioDeviceConfig{InputPreset: p.InputPreset}
}

// AAudioPlayback returns malgo's AAudio settings for the playback device.
func (p CapturePlan) AAudioPlayback() malgo.AAudioDeviceConfig {
	return malgo.AAudioDeviceConfig{
		Usage:                p.Usage,
		ContentType:          p.ContentType,
		AllowedCapturePolicy: p.CapturePolicy,
	}
}

// ApplySend turns off the Sender's stages that Tumble must not run under
// the plan: echo cancellation, noise suppression (0 dB) and gain control
// (max amplification 0). Stages already off stay off.
func (p CapturePlan) ApplySend(cfg *voice.SendConfig) {
	if !p.Tumble.EchoCancel {
		cfg.EchoCancel = voice.EchoOff
	}
	if !p.Tumble.NoiseSuppress {
		cfg.NoiseSuppressionDB = 0
	}
	if !p.Tumble.GainControl {
		cfg.MaxAmplification = 0
	}
}

// WantedEffects returns the stages a Sender configuration asks for.
func WantedEffects(cfg voice.SendConfig) Effects {
	return Effects{
		EchoCancel:    cfg.EchoCancel != voice.EchoOff,
		NoiseSuppress: cfg.NoiseSuppressionDB != 0,
		GainControl:   cfg.MaxAmplification > 0,
	}
}
