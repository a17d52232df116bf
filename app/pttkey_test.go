package app

import (
	"errors"
	"strings"
	"testing"
)

// TestParsePTTKey: key names are checked, letters normalised, keys that
// dialogs need and unknown names refused with a message naming the key.
func TestParsePTTKey(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"", DefaultPTTKey, ""},
		{"RightControl", "RightControl", ""},
		{"F12", "F12", ""},
		{"v", "V", ""},
		{"V", "V", ""},
		{"Space", "Space", ""},
		{"CapsLock", "CapsLock", ""},
		{"`", "`", ""},
		{"Escape", "", "dialogs need it"},
		{"Return", "", "dialogs need it"},
		{"Tab", "", "dialogs need it"},
		{"F13", "", "not a key name"},
		{"rightcontrol", "", "not a key name"},
		{"ä", "", "not a key name"},
		{"Right Ctrl", "", "not a key name"},
	} {
		got, err := ParsePTTKey(c.in)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("ParsePTTKey(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.in) {
			t.Errorf("ParsePTTKey(%q) = %q, %v; want an error naming it with %q", c.in, got, err, c.err)
		}
	}
	for _, k := range PTTKeys() {
		if got, err := ParsePTTKey(k); err != nil || got != k {
			t.Errorf("listed key %q: ParsePTTKey = %q, %v", k, got, err)
		}
	}
}

// TestPTTKeyLabel: key names read as people name keys.
func TestPTTKeyLabel(t *testing.T) {
	for in, want := range map[string]string{
		"": "Right Ctrl", "RightControl": "Right Ctrl", "LeftAlt": "Left Alt", "RightSuper": "Right Super (Windows key)",
		"Prior": "Page Up", "Up": "Arrow Up", "Left": "Arrow Left", "F5": "F5", "Space": "Space",
	} {
		if got := PTTKeyLabel(in); got != want {
			t.Errorf("PTTKeyLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSettingsPTTKey: the settings keep a valid key, refuse a bad one on
// the field input.ptt_key, and accept the empty default of older files.
func TestSettingsPTTKey(t *testing.T) {
	s := DefaultSettings()
	if s.Input.PTTKey != "" || s.Validate() != nil {
		t.Fatalf("default PTT key %q, validate %v", s.Input.PTTKey, s.Validate())
	}
	s.Input.PTTKey = "F9"
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"Escape", "Nope", "v"} {
		s.Input.PTTKey = bad
		err := s.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "input.ptt_key" {
			t.Errorf("PTT key %q: %v, want a FieldError on input.ptt_key", bad, err)
		}
	}
}

// TestPresetKeepsPTTKey: a preset does not change the keyboard's
// push-to-talk key or forget that the audio check was shown.
func TestPresetKeepsPTTKey(t *testing.T) {
	s := DefaultSettings()
	s.Input.PTTKey, s.Input.AudioChecked = "F9", true
	for _, p := range Presets() {
		c := s.Clone()
		if err := c.ResetToPreset(p.Name); err != nil {
			t.Fatal(err)
		}
		if c.Input.PTTKey != "F9" || !c.Input.AudioChecked {
			t.Errorf("preset %s: PTT key %q, audio checked %v", p.Name, c.Input.PTTKey, c.Input.AudioChecked)
		}
	}
}
