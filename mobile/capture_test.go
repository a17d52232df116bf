package mobile

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gen2brain/malgo"
)

func TestPlanCapture(t *testing.T) {
	all := Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}
	for _, tc := range []struct {
		name      string
		api       int
		available Effects
		want      Effects
		preset    malgo.AAudioInputPreset
		phone     Effects
		tumble    Effects
	}{
		{name: "phone does everything", api: 34, available: all, want: all,
			preset: malgo.AAudioInputPresetVoiceCommunication, phone: all, tumble: Effects{}},
		{name: "phone lacks gain control", api: 30,
			available: Effects{EchoCancel: true, NoiseSuppress: true}, want: all,
			preset: malgo.AAudioInputPresetVoiceCommunication,
			phone:  Effects{EchoCancel: true, NoiseSuppress: true}, tumble: Effects{GainControl: true}},
		{name: "phone has no effects", api: 34, available: Effects{}, want: all,
			preset: malgo.AAudioInputPresetVoiceCommunication, tumble: all},
		{name: "Android 8.1: no input preset", api: 27, available: all, want: all,
			preset: malgo.AAudioInputPresetVoiceCommunication, tumble: all},
		{name: "Android 7: OpenSL ES", api: 24, available: all, want: all,
			preset: malgo.AAudioInputPresetVoiceCommunication, tumble: all},
		{name: "user wants no processing", api: 34, available: all, want: Effects{},
			preset: malgo.AAudioInputPresetVoiceRecognition},
		{name: "user wants only noise suppression, phone has it", api: 34, available: all,
			want:   Effects{NoiseSuppress: true},
			preset: malgo.AAudioInputPresetVoiceCommunication, phone: all},
		{name: "user wants echo cancellation, phone lacks it", api: 34,
			available: Effects{NoiseSuppress: true}, want: Effects{EchoCancel: true},
			preset: malgo.AAudioInputPresetVoiceCommunication,
			phone:  Effects{NoiseSuppress: true}, tumble: Effects{EchoCancel: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanCapture(tc.api, tc.available, tc.want)
			if p.InputPreset != tc.preset || p.Phone != tc.phone || p.Tumble != tc.tumble {
				t.Errorf("PlanCapture(%d, %+v, %+v) = preset %s, phone %+v, tumble %+v; want %s, %+v, %+v",
					tc.api, tc.available, tc.want, PresetName(p.InputPreset), p.Phone, p.Tumble,
					PresetName(tc.preset), tc.phone, tc.tumble)
			}
			// Never two of a kind: no stage runs on both sides.
			if (p.Phone.EchoCancel && p.Tumble.EchoCancel) || (p.Phone.NoiseSuppress && p.Tumble.NoiseSuppress) ||
				(p.Phone.GainControl && p.Tumble.GainControl) {
				t.Errorf("a stage runs twice: %s", p)
			}
			if p.Usage != malgo.AAudioUsageVoiceCommunication || p.ContentType != malgo.AAudioContentTypeSpeech ||
				p.CapturePolicy != malgo.AAudioAllowCapturePolicyByNone {
				t.Errorf("playback stream: usage %d, content %d, capture policy %d", p.Usage, p.ContentType, p.CapturePolicy)
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
}

// TestMalgoEnumsMatchMiniaudio guards against an off-by-one like malgo
// v0.11.24's BackendNull: the Go constants this package hands to malgo
// must equal miniaudio's C enumerators (malgo passes them through as
// numbers).
func TestMalgoEnumsMatchMiniaudio(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/gen2brain/malgo").Output()
	if err != nil {
		t.Fatalf("go list malgo: %v", err)
	}
	header, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "miniaudio.h"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		enum, name string
		value      uint32
	}{
		{"ma_aaudio_input_preset", "ma_aaudio_input_preset_voice_communication", uint32(malgo.AAudioInputPresetVoiceCommunication)},
		{"ma_aaudio_input_preset", "ma_aaudio_input_preset_voice_recognition", uint32(malgo.AAudioInputPresetVoiceRecognition)},
		{"ma_aaudio_usage", "ma_aaudio_usage_voice_communication", uint32(malgo.AAudioUsageVoiceCommunication)},
		{"ma_aaudio_content_type", "ma_aaudio_content_type_speech", uint32(malgo.AAudioContentTypeSpeech)},
		{"ma_aaudio_allowed_capture_policy", "ma_aaudio_allow_capture_by_none", uint32(malgo.AAudioAllowCapturePolicyByNone)},
	} {
		got, err := enumValue(string(header), tc.enum, tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.value {
			t.Errorf("%s is %d in miniaudio.h, malgo's constant is %d", tc.name, got, tc.value)
		}
	}
}

// enumValue finds name's value in the C typedef enum {...} enum body:
// explicit "= N" or the position after the last explicit value.
func enumValue(header, enum, name string) (uint32, error) {
	re := regexp.MustCompile(`typedef enum\s*\{([^{}]*)\}\s*` + regexp.QuoteMeta(enum) + `\s*;`)
	m := re.FindStringSubmatch(header)
	if m == nil {
		return 0, os.ErrNotExist
	}
	body := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(m[1], "")
	next := uint32(0)
	for _, item := range strings.Split(body, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ident, val, explicit := strings.Cut(item, "=")
		ident = strings.TrimSpace(ident)
		if explicit {
			var v uint32
			for _, c := range strings.TrimSpace(val) {
				if c < '0' || c > '9' {
					return 0, os.ErrInvalid
				}
				v = v*10 + uint32(c-'0')
			}
			next = v
		}
		if ident == name {
			return next, nil
		}
		next++
	}
	return 0, os.ErrNotExist
}

func TestPresetName(t *testing.T) {
	if got := PresetName(malgo.AAudioInputPresetVoiceCommunication); got != "VOICE_COMMUNICATION" {
		t.Error(got)
	}
	if got := PresetName(malgo.AAudioInputPreset(42)); got != "AAudioInputPreset(42)" {
		t.Error(got)
	}
}
