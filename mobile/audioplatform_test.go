package mobile

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/device"
)

// TestAudioPlatformPlans walks API levels, phones with and without each
// effect and what the settings want, and checks the plan app receives
// against the rules written out here (not against PlanCapture): raw
// voice-recognition capture when nothing is wanted; the
// voice-communication preset otherwise; from API 28 each stage the phone
// has is the phone's and Tumble runs only the rest; before API 28
// Tumble runs everything wanted; playback is always a voice call.
func TestAudioPlatformPlans(t *testing.T) {
	all := Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}
	phones := map[string]Effects{
		"all effects":       all,
		"no effects":        {},
		"no echo canceller": {NoiseSuppress: true, GainControl: true},
		"no noise suppress": {EchoCancel: true, GainControl: true},
		"no gain control":   {EchoCancel: true, NoiseSuppress: true},
		"only echo":         {EchoCancel: true},
	}
	wants := map[string]voice.Effects{
		"wants all":        {EchoCancel: true, NoiseSuppress: true, GainControl: true},
		"wants none":       {},
		"wants gain":       {GainControl: true},
		"wants echo+noise": {EchoCancel: true, NoiseSuppress: true},
	}
	for _, api := range []int{24, 27, 28, 34} {
		for pn, fx := range phones {
			for wn, want := range wants {
				t.Run(fmt.Sprintf("API %d/%s/%s", api, pn, wn), func(t *testing.T) {
					ph := &phone{api: api, fx: fx}
					plan := NewAudioPlatform(ph).PlanAudio(want)

					anyWanted := want.EchoCancel || want.NoiseSuppress || want.GainControl
					wantPreset, wantTumble := device.PresetVoiceRecognition, want
					switch {
					case !anyWanted:
					case api < 28:
						wantPreset = device.PresetVoiceCommunication
					default:
						wantPreset = device.PresetVoiceCommunication
						wantTumble = voice.Effects{
							EchoCancel:    want.EchoCancel && !fx.EchoCancel,
							NoiseSuppress: want.NoiseSuppress && !fx.NoiseSuppress,
							GainControl:   want.GainControl && !fx.GainControl,
						}
					}
					if plan.Capture != (device.AndroidStream{InputPreset: wantPreset}) {
						t.Errorf("capture %+v, want preset %s", plan.Capture, wantPreset)
					}
					if plan.Playback != (device.AndroidStream{VoiceCall: true}) {
						t.Errorf("playback %+v, want a voice call", plan.Playback)
					}
					if plan.Tumble != wantTumble {
						t.Errorf("Tumble runs %+v, want %+v", plan.Tumble, wantTumble)
					}
					if !strings.HasPrefix(plan.Description, "phone: ") || !strings.Contains(plan.Description, "; Tumble: ") {
						t.Errorf("description %q", plan.Description)
					}
					if old := strings.Contains(plan.Description, "Android 8.1 or older"); old != (api < 28 && anyWanted) {
						t.Errorf("API %d: description %q", api, plan.Description)
					}
				})
			}
		}
	}
}

// TestAudioPlatformDescriptions pins the line the user reads.
func TestAudioPlatformDescriptions(t *testing.T) {
	all := voice.Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}
	for _, tc := range []struct {
		api  int
		fx   Effects
		want voice.Effects
		desc string
	}{
		{34, Effects{EchoCancel: true, NoiseSuppress: true}, all,
			"phone: echo cancellation, noise suppression; Tumble: gain control"},
		{34, Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}, all,
			"phone: echo cancellation, noise suppression, gain control; Tumble: none"},
		{34, Effects{}, all,
			"phone: none; Tumble: echo cancellation, noise suppression, gain control"},
		{34, Effects{EchoCancel: true}, voice.Effects{},
			"phone: none; Tumble: none"},
		{27, Effects{EchoCancel: true}, voice.Effects{EchoCancel: true},
			"phone: none; Tumble: echo cancellation (Android 8.1 or older cannot switch on the phone's own processing)"},
	} {
		got := NewAudioPlatform(&phone{api: tc.api, fx: tc.fx}).PlanAudio(tc.want).Description
		if got != tc.desc {
			t.Errorf("API %d, phone %+v, want %+v:\n got %q\nwant %q", tc.api, tc.fx, tc.want, got, tc.desc)
		}
	}
}

// TestAudioPlatformReadsEffectsOnce: the effects do not change while
// Tumble runs; each plan must not cost JNI calls.
func TestAudioPlatformReadsEffectsOnce(t *testing.T) {
	ph := &phone{fx: Effects{EchoCancel: true}}
	a := NewAudioPlatform(ph)
	if ph.fxReads != 0 {
		t.Fatal("NewAudioPlatform asked the phone")
	}
	for range 3 {
		a.PlanAudio(voice.Effects{EchoCancel: true})
	}
	if ph.fxReads != 1 {
		t.Errorf("%d reads of the phone's effects for 3 plans, want 1", ph.fxReads)
	}
}

// TestAudioPlatformEffectsUnknown: when the phone's effects cannot be
// read, nothing of the phone's may run unaccounted for: raw capture,
// Tumble does every wanted stage, the description says why; the next plan
// reads again and then uses the phone.
func TestAudioPlatformEffectsUnknown(t *testing.T) {
	ph := &phone{fx: Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}, fxErr: errors.New("binder died")}
	a := NewAudioPlatform(ph)
	want := voice.Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}
	plan := a.PlanAudio(want)
	if plan.Capture.InputPreset != device.PresetVoiceRecognition || plan.Tumble != want || !plan.Playback.VoiceCall {
		t.Errorf("plan without the effects: %+v", plan)
	}
	if !strings.Contains(plan.Description, "could not be checked") || !strings.Contains(plan.Description, "binder died") {
		t.Errorf("description %q does not say why", plan.Description)
	}

	ph.mu.Lock()
	ph.fxErr = nil
	ph.mu.Unlock()
	plan = a.PlanAudio(want)
	if plan.Capture.InputPreset != device.PresetVoiceCommunication || plan.Tumble != (voice.Effects{}) {
		t.Errorf("plan after the effects could be read: %+v", plan)
	}
	if ph.fxReads != 2 {
		t.Errorf("%d reads, want 2 (the failed one and the good one)", ph.fxReads)
	}
}

// TestAudioActive: the controller's device notifications switch the
// phone's voice-call mode, and a refusal comes back as an error that says
// what failed and wraps the phone's.
func TestAudioActive(t *testing.T) {
	ph := &phone{}
	var a voice.Platform = NewAudioPlatform(ph)
	if err := a.AudioActive(true); err != nil {
		t.Fatal(err)
	}
	if err := a.AudioActive(false); err != nil {
		t.Fatal(err)
	}
	if got := ph.modes(); len(got) != 2 || !got[0] || got[1] {
		t.Errorf("communication mode calls %v, want [true false]", got)
	}

	refused := errors.New("java.lang.SecurityException: MODIFY_AUDIO_SETTINGS")
	ph.mu.Lock()
	ph.modeErr = refused
	ph.mu.Unlock()
	err := a.AudioActive(true)
	if !errors.Is(err, refused) || !strings.Contains(err.Error(), "switched on") {
		t.Errorf("AudioActive(true) with a refusal = %v", err)
	}
	err = a.AudioActive(false)
	if !errors.Is(err, refused) || !strings.Contains(err.Error(), "switched off") {
		t.Errorf("AudioActive(false) with a refusal = %v", err)
	}
	if got := ph.modes(); len(got) != 2 {
		t.Errorf("mode changed despite the refusal: %v", got)
	}
}
