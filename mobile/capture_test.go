package mobile

import (
	"testing"

	"github.com/tumble-voip/tumble/voice/device"
)

func TestPlanCapture(t *testing.T) {
	all := Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}
	comm, recog := device.PresetVoiceCommunication, device.PresetVoiceRecognition
	for _, tc := range []struct {
		name      string
		api       int
		available Effects
		want      Effects
		preset    device.InputPreset
		phone     Effects
		tumble    Effects
		note      string
	}{
		{name: "phone does everything", api: 34, available: all, want: all,
			preset: comm, phone: all, tumble: Effects{}},
		{name: "Android 9: the first with the preset", api: 28, available: all, want: all,
			preset: comm, phone: all, tumble: Effects{}},
		{name: "phone lacks gain control", api: 30,
			available: Effects{EchoCancel: true, NoiseSuppress: true}, want: all,
			preset: comm, phone: Effects{EchoCancel: true, NoiseSuppress: true}, tumble: Effects{GainControl: true}},
		{name: "phone lacks echo cancellation", api: 33,
			available: Effects{NoiseSuppress: true, GainControl: true}, want: all,
			preset: comm, phone: Effects{NoiseSuppress: true, GainControl: true}, tumble: Effects{EchoCancel: true}},
		{name: "phone lacks noise suppression", api: 29,
			available: Effects{EchoCancel: true, GainControl: true}, want: all,
			preset: comm, phone: Effects{EchoCancel: true, GainControl: true}, tumble: Effects{NoiseSuppress: true}},
		{name: "phone has no effects", api: 34, available: Effects{}, want: all,
			preset: comm, tumble: all},
		{name: "Android 8.1: no input preset", api: 27, available: all, want: all,
			preset: comm, tumble: all, note: noteOldAndroid},
		{name: "Android 7: OpenSL ES", api: 24, available: all, want: all,
			preset: comm, tumble: all, note: noteOldAndroid},
		{name: "user wants no processing", api: 34, available: all, want: Effects{},
			preset: recog},
		{name: "user wants no processing on Android 8.1", api: 27, available: all, want: Effects{},
			preset: recog},
		{name: "user wants only noise suppression, phone has it", api: 34, available: all,
			want: Effects{NoiseSuppress: true}, preset: comm, phone: all},
		{name: "user wants echo cancellation, phone lacks it", api: 34,
			available: Effects{NoiseSuppress: true}, want: Effects{EchoCancel: true},
			preset: comm, phone: Effects{NoiseSuppress: true}, tumble: Effects{EchoCancel: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanCapture(tc.api, tc.available, tc.want)
			if p.Capture.InputPreset != tc.preset || p.Phone != tc.phone || p.Tumble != tc.tumble || p.Note != tc.note {
				t.Errorf("PlanCapture(%d, %+v, %+v) = preset %s, phone %+v, tumble %+v, note %q; want %s, %+v, %+v, %q",
					tc.api, tc.available, tc.want, p.Capture.InputPreset, p.Phone, p.Tumble, p.Note,
					tc.preset, tc.phone, tc.tumble, tc.note)
			}
			// Never two of a kind: no stage runs on both sides.
			if (p.Phone.EchoCancel && p.Tumble.EchoCancel) || (p.Phone.NoiseSuppress && p.Tumble.NoiseSuppress) ||
				(p.Phone.GainControl && p.Tumble.GainControl) {
				t.Errorf("a stage runs twice: %s", p)
			}
			// Nothing the user wants is dropped.
			if (tc.want.EchoCancel && !p.Phone.EchoCancel && !p.Tumble.EchoCancel) ||
				(tc.want.NoiseSuppress && !p.Phone.NoiseSuppress && !p.Tumble.NoiseSuppress) ||
				(tc.want.GainControl && !p.Phone.GainControl && !p.Tumble.GainControl) {
				t.Errorf("a wanted stage runs nowhere: %s", p)
			}
			if p.Playback != (device.AndroidStream{VoiceCall: true}) {
				t.Errorf("playback stream %+v, want a voice call without a preset", p.Playback)
			}
			if p.Capture.VoiceCall {
				t.Error("capture stream marked as voice-call playback")
			}
		})
	}
}

func TestCapturePlanString(t *testing.T) {
	p := PlanCapture(34, Effects{EchoCancel: true, NoiseSuppress: true}, Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true})
	want := "phone: echo cancellation, noise suppression; Tumble: gain control"
	if p.String() != want {
		t.Errorf("String() = %q, want %q", p.String(), want)
	}
	if s := PlanCapture(34, Effects{}, Effects{}).String(); s != "phone: none; Tumble: none" {
		t.Errorf("no processing: %q", s)
	}
	old := PlanCapture(27, Effects{EchoCancel: true}, Effects{EchoCancel: true}).String()
	if want := "phone: none; Tumble: echo cancellation (" + noteOldAndroid + ")"; old != want {
		t.Errorf("Android 8.1: %q, want %q", old, want)
	}
}
