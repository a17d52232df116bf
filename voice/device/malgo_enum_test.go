//go:build cgo

package device

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gen2brain/malgo"
)

// TestMalgoEnumsMatchMiniaudio guards against an off-by-one like malgo
// v0.11.24's BackendNull: the device hands Android streams to malgo as
// malgo's AAudio constants (every InputPreset through aaudioPresets, and
// usage, content type and capture policy for a voice call), which must
// equal miniaudio's C enumerators of the same names (malgo passes them
// through as numbers). The enumerator of each preset is named after its
// String. The null backend's number is checked too.
func TestMalgoEnumsMatchMiniaudio(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/gen2brain/malgo").Output()
	if err != nil {
		t.Fatalf("go list malgo: %v", err)
	}
	header, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "miniaudio.h"))
	if err != nil {
		t.Fatal(err)
	}
	type enumCase struct {
		enum, name string
		value      uint32
	}
	if len(aaudioPresets) != int(PresetVoicePerformance)+1 {
		t.Fatalf("aaudioPresets maps %d presets, want %d", len(aaudioPresets), PresetVoicePerformance+1)
	}
	var cases []enumCase
	for p := PresetDefault; p <= PresetVoicePerformance; p++ {
		cases = append(cases, enumCase{"ma_aaudio_input_preset", "ma_aaudio_input_preset_" + strings.ToLower(p.String()), uint32(aaudioPresets[p])})
	}
	null, err := BackendNull.malgo()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range append(cases, []enumCase{
		{"ma_aaudio_usage", "ma_aaudio_usage_voice_communication", uint32(malgo.AAudioUsageVoiceCommunication)},
		{"ma_aaudio_content_type", "ma_aaudio_content_type_speech", uint32(malgo.AAudioContentTypeSpeech)},
		{"ma_aaudio_allowed_capture_policy", "ma_aaudio_allow_capture_by_none", uint32(malgo.AAudioAllowCapturePolicyByNone)},
		{"ma_backend", "ma_backend_null", uint32(null)},
	}...) {
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
