//go:build cgo

package mobile

import (
	"testing"

	"github.com/gen2brain/malgo"

	"github.com/tumble-voip/tumble/voice"
)

func TestApplySend(t *testing.T) {
	def := voice.DefaultSendConfig()
	want := WantedEffects(def)
	if want != (Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}) {
		t.Fatalf("default send config wants %+v", want)
	}

	// The phone does echo cancellation and noise suppression: the Sender
	// keeps only its gain control, and its configuration stays valid.
	p := PlanCapture(34, Effects{EchoCancel: true, NoiseSuppress: true}, want)
	cfg := def
	p.ApplySend(&cfg)
	if cfg.EchoCancel != voice.EchoOff || cfg.NoiseSuppressionDB != 0 || cfg.MaxAmplification != def.MaxAmplification {
		t.Errorf("after ApplySend: echo %v, noise %d dB, max amplification %v", cfg.EchoCancel, cfg.NoiseSuppressionDB, cfg.MaxAmplification)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("adjusted config invalid: %v", err)
	}
	if got := WantedEffects(cfg); got != p.Tumble {
		t.Errorf("Sender now runs %+v, plan says %+v", got, p.Tumble)
	}

	// Everything on the phone: the Sender runs no DSP stage at all.
	all := PlanCapture(34, want, want)
	cfg = def
	all.ApplySend(&cfg)
	if WantedEffects(cfg).Any() {
		t.Errorf("phone does everything, Sender still runs %+v", WantedEffects(cfg))
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("config without DSP invalid: %v", err)
	}

	// An old phone: nothing changes.
	old := PlanCapture(26, want, want)
	cfg = def
	old.ApplySend(&cfg)
	if cfg != def {
		t.Errorf("API 26 changed the Sender's config: %+v", cfg)
	}
}

func TestAAudioConfigs(t *testing.T) {
	p := PlanCapture(34, Effects{EchoCancel: true}, Effects{EchoCancel: true})
	c := p.AAudioCapture()
	if c.InputPreset != malgo.AAudioInputPresetVoiceCommunication || c.Usage != 0 || c.ContentType != 0 {
		t.Errorf("capture config %+v", c)
	}
	pl := p.AAudioPlayback()
	if pl.Usage != malgo.AAudioUsageVoiceCommunication || pl.ContentType != malgo.AAudioContentTypeSpeech ||
		pl.AllowedCapturePolicy != malgo.AAudioAllowCapturePolicyByNone || pl.InputPreset != 0 {
		t.Errorf("playback config %+v", pl)
	}
	// malgo accepts them in a device config.
	dc := malgo.DefaultDeviceConfig(malgo.Capture)
	dc.AAudio = c
	if dc.AAudio.InputPreset != malgo.AAudioInputPresetVoiceCommunication {
		t.Error("device config lost the preset")
	}
}
