package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPresetValues pins every field of every preset to the values the issue
// and the official client specify. Each expected value is written out, so
// a change to a preset fails here.
func TestPresetValues(t *testing.T) {
	torRecommended := Settings{
		Input: AudioInput{
			Device:              "",
			Transmit:            TransmitVoiceActivity,
			VADSource:           VADAmplitude,
			SilenceBelowPercent: 30,
			SpeechAbovePercent:  50,
			VoiceHoldMs:         250,
			PTTHoldMs:           0,
			QualityBitrate:      13000,
			PacketMs:            20,
			EchoCancellation:    EchoMixed,
			NoiseSuppressionDB:  -60,
			MaxAmplification:    2.5,
		},
		Output: AudioOutput{
			Device:         "",
			JitterBufferMs: 10,
			OutputDelayMs:  30,
			VolumePercent:  10,
			UserVolumeDB:   nil,
		},
		Network: Network{
			TorMode:                 TorEmbedded,
			SOCKSAddress:            "",
			ForceTCP:                true,
			Reconnect:               false,
			ReconnectMaxAttempts:    10,
			ReconnectInitialSeconds: 2,
			ReconnectMaxSeconds:     300,
		},
		Privacy: Privacy{SendOSInfo: false, Statistics: false, Amnesic: false},
	}
	mumbleDefaults := Settings{
		Input: AudioInput{
			Device:              "",
			Transmit:            TransmitVoiceActivity,
			VADSource:           VADAmplitude,
			SilenceBelowPercent: 80,
			SpeechAbovePercent:  98,
			VoiceHoldMs:         200,
			PTTHoldMs:           0,
			QualityBitrate:      40000,
			PacketMs:            20,
			EchoCancellation:    EchoMixed,
			NoiseSuppressionDB:  -30,
			MaxAmplification:    20,
		},
		Output: AudioOutput{
			Device:         "",
			JitterBufferMs: 10,
			OutputDelayMs:  50,
			VolumePercent:  100,
			UserVolumeDB:   nil,
		},
		Network: Network{
			TorMode:                 TorEmbedded,
			SOCKSAddress:            "",
			ForceTCP:                true, // Mumble's UDP default cannot apply with Tor on
			Reconnect:               true,
			ReconnectMaxAttempts:    10,
			ReconnectInitialSeconds: 2,
			ReconnectMaxSeconds:     300,
		},
		Privacy: Privacy{SendOSInfo: false, Statistics: false, Amnesic: false},
	}
	torLow := torRecommended
	torLow.Input.PacketMs = 60
	torLow.Input.QualityBitrate = 10000

	tests := []struct {
		name PresetName
		want Settings
	}{
		{PresetTorRecommended, torRecommended},
		{PresetMumbleDefaults, mumbleDefaults},
		{PresetTorLowBandwidth, torLow},
	}
	for _, tt := range tests {
		got, err := PresetSettings(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("preset %s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("preset %s is invalid: %v", tt.name, err)
		}
		if !got.MatchesPreset(tt.name) {
			t.Errorf("preset %s does not match itself", tt.name)
		}
	}
	if !reflect.DeepEqual(DefaultSettings(), torRecommended) {
		t.Error("the default is not Tor recommended")
	}
	if _, err := PresetSettings("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
	names := map[PresetName]bool{}
	for _, p := range Presets() {
		names[p.Name] = true
		if p.Title == "" || p.Description == "" {
			t.Errorf("preset %s lacks a title or description", p.Name)
		}
		if _, err := PresetSettings(p.Name); err != nil {
			t.Errorf("listed preset %s: %v", p.Name, err)
		}
	}
	if len(names) != 3 || Presets()[0].Name != PresetTorRecommended || Presets()[0].Title != "Tor recommended" {
		t.Errorf("Presets() = %+v", Presets())
	}
	// 60 ms packets are a third of the packets (and so Tor cells) of 20 ms.
	if torLow.Input.PacketMs != 3*torRecommended.Input.PacketMs {
		t.Error("Tor low bandwidth does not send a third of the packets")
	}
}

func TestResetToPreset(t *testing.T) {
	s := DefaultSettings()
	if err := s.SetTorMode(TorSOCKS, "127.0.0.1:9150"); err != nil {
		t.Fatal(err)
	}
	s.Input.Device = "USB mic"
	s.Output.Device = "Headset"
	s.Output.UserVolumeDB = map[string]int{strings.Repeat("ab", 20): 6}
	s.Privacy.Amnesic = true
	s.Input.QualityBitrate = 64000
	s.Output.VolumePercent = 150
	s.Input.Transmit = TransmitPushToTalk
	if s.MatchesPreset(PresetTorRecommended) {
		t.Fatal("modified settings match the preset")
	}

	if err := s.ResetToPreset(PresetMumbleDefaults); err != nil {
		t.Fatal(err)
	}
	if s.Input.QualityBitrate != 40000 || s.Output.VolumePercent != 100 || s.Input.Transmit != TransmitVoiceActivity {
		t.Errorf("preset values not applied: %+v", s)
	}
	if !s.Network.ForceTCP {
		t.Error("Mumble defaults turned force TCP off while Tor is on")
	}
	if s.Input.Device != "USB mic" || s.Output.Device != "Headset" || s.Output.UserVolumeDB[strings.Repeat("ab", 20)] != 6 ||
		s.Network.TorMode != TorSOCKS || s.Network.SOCKSAddress != "127.0.0.1:9150" || !s.Privacy.Amnesic {
		t.Errorf("reset lost devices, per-user volumes, Tor mode or amnesic: %+v", s)
	}
	if !s.MatchesPreset(PresetMumbleDefaults) || s.MatchesPreset(PresetTorRecommended) {
		t.Error("MatchesPreset wrong after reset")
	}

	// "Reset to Tor recommended".
	if err := s.ResetToPreset(PresetTorRecommended); err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings()
	want.Input.Device, want.Output.Device = "USB mic", "Headset"
	want.Output.UserVolumeDB = map[string]int{strings.Repeat("ab", 20): 6}
	want.Network.TorMode, want.Network.SOCKSAddress = TorSOCKS, "127.0.0.1:9150"
	want.Privacy.Amnesic = true
	if !reflect.DeepEqual(s, want) {
		t.Errorf("after reset to Tor recommended:\n got %+v\nwant %+v", s, want)
	}
	if err := s.ResetToPreset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}

	// With Tor off, Mumble's own force-TCP default (off) applies.
	s = DefaultSettings()
	if err := s.SetTorMode(TorOff, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetToPreset(PresetMumbleDefaults); err != nil {
		t.Fatal(err)
	}
	if s.Network.ForceTCP {
		t.Error("Mumble defaults with Tor off should leave force TCP off (Mumble's bTCPCompat = false)")
	}
	// The preset's map is a copy, not shared.
	a := DefaultSettings()
	a.Output.UserVolumeDB = map[string]int{strings.Repeat("cd", 20): 1}
	b := a.Clone()
	b.Output.UserVolumeDB[strings.Repeat("cd", 20)] = 2
	if a.Output.UserVolumeDB[strings.Repeat("cd", 20)] != 1 {
		t.Error("Clone shares the per-user volume map")
	}
}

func TestForceTCPCannotBeTurnedOffInTorModes(t *testing.T) {
	for _, mode := range []TorMode{TorEmbedded, TorSOCKS} {
		s := DefaultSettings()
		if err := s.SetTorMode(mode, "127.0.0.1:9050"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetForceTCP(false); err == nil {
			t.Errorf("%s: SetForceTCP(false) accepted", mode)
		}
		if !s.Network.ForceTCP {
			t.Errorf("%s: force TCP is off after a refused SetForceTCP(false)", mode)
		}
		s.Network.ForceTCP = false // set behind the API's back
		if err := s.Validate(); !hasFieldError(err, "network.force_tcp") {
			t.Errorf("%s: Validate with force TCP off = %v", mode, err)
		}
		st := NewMemoryStorage()
		if err := SaveSettings(st, s); err == nil {
			t.Errorf("%s: SaveSettings saved force TCP off", mode)
		}
		// A hand-edited file cannot turn it off either.
		doc := []byte(`{"version":1,"network":{"tor_mode":"` + string(mode) + `","socks_address":"127.0.0.1:9050","force_tcp":false}}`)
		if err := st.WriteFile(SettingsFile, doc); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSettings(st); !errors.Is(err, ErrMalformedFile) || !strings.Contains(err.Error(), "force_tcp") {
			t.Errorf("%s: LoadSettings of force_tcp=false = %v", mode, err)
		}
	}
	// Switching from Tor off (TCP off) to a Tor mode turns it on.
	s := DefaultSettings()
	if err := s.SetTorMode(TorOff, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetForceTCP(false); err != nil {
		t.Fatalf("force TCP off with Tor off: %v", err)
	}
	if err := s.SetTorMode(TorEmbedded, ""); err != nil {
		t.Fatal(err)
	}
	if !s.Network.ForceTCP {
		t.Error("entering Tor mode left force TCP off")
	}
	if err := s.SetTorMode(TorSOCKS, "not an address"); err == nil || s.Network.TorMode != TorEmbedded {
		t.Errorf("bad SOCKS address accepted or applied: %v, mode %s", err, s.Network.TorMode)
	}
}

func TestSettingsValidate(t *testing.T) {
	hash := strings.Repeat("0a", 20)
	tests := []struct {
		field string
		mod   func(*Settings)
	}{
		{"input.device", func(s *Settings) { s.Input.Device = "a\x00" }},
		{"input.transmit", func(s *Settings) { s.Input.Transmit = "always" }},
		{"input.vad_source", func(s *Settings) { s.Input.VADSource = "" }},
		{"input.silence_below_percent", func(s *Settings) { s.Input.SilenceBelowPercent = -1 }},
		{"input.speech_above_percent", func(s *Settings) { s.Input.SpeechAbovePercent = 101 }},
		{"input.speech_above_percent", func(s *Settings) { s.Input.SpeechAbovePercent = 20 }}, // below silence (30)
		{"input.voice_hold_ms", func(s *Settings) { s.Input.VoiceHoldMs = 190 }},
		{"input.voice_hold_ms", func(s *Settings) { s.Input.VoiceHoldMs = 2510 }},
		{"input.voice_hold_ms", func(s *Settings) { s.Input.VoiceHoldMs = 255 }},
		{"input.ptt_hold_ms", func(s *Settings) { s.Input.PTTHoldMs = 5001 }},
		{"input.quality_bitrate", func(s *Settings) { s.Input.QualityBitrate = 7999 }},
		{"input.quality_bitrate", func(s *Settings) { s.Input.QualityBitrate = 192001 }},
		{"input.packet_ms", func(s *Settings) { s.Input.PacketMs = 30 }},
		{"input.echo_cancellation", func(s *Settings) { s.Input.EchoCancellation = "multichannel" }},
		{"input.noise_suppression_db", func(s *Settings) { s.Input.NoiseSuppressionDB = -61 }},
		{"input.noise_suppression_db", func(s *Settings) { s.Input.NoiseSuppressionDB = -14 }},
		{"input.max_amplification", func(s *Settings) { s.Input.MaxAmplification = 0.5 }},
		{"input.max_amplification", func(s *Settings) { s.Input.MaxAmplification = math.NaN() }},
		{"input.max_amplification", func(s *Settings) { s.Input.MaxAmplification = 40.5 }},
		{"output.jitter_buffer_ms", func(s *Settings) { s.Output.JitterBufferMs = 0 }},
		{"output.jitter_buffer_ms", func(s *Settings) { s.Output.JitterBufferMs = 15 }},
		{"output.jitter_buffer_ms", func(s *Settings) { s.Output.JitterBufferMs = 210 }},
		{"output.output_delay_ms", func(s *Settings) { s.Output.OutputDelayMs = 0 }},
		{"output.output_delay_ms", func(s *Settings) { s.Output.OutputDelayMs = 35 }},
		{"output.output_delay_ms", func(s *Settings) { s.Output.OutputDelayMs = 110 }},
		{"output.volume_percent", func(s *Settings) { s.Output.VolumePercent = 201 }},
		{"output.user_volume_db", func(s *Settings) { s.Output.UserVolumeDB = map[string]int{"alice": 0} }},
		{"output.user_volume_db", func(s *Settings) { s.Output.UserVolumeDB = map[string]int{hash: 31} }},
		{"network.tor_mode", func(s *Settings) { s.Network.TorMode = "auto" }},
		{"network.socks_address", func(s *Settings) { s.Network.TorMode = TorSOCKS }},
		{"network.socks_address", func(s *Settings) { s.Network.TorMode, s.Network.SOCKSAddress = TorSOCKS, "localhost" }},
		{"network.socks_address", func(s *Settings) { s.Network.TorMode, s.Network.SOCKSAddress = TorSOCKS, "localhost:0" }},
		{"network.socks_address", func(s *Settings) {
			s.Network.TorMode, s.Network.SOCKSAddress = TorSOCKS, newTestOnion(t)+":9050"
		}},
		{"network.use_bridges", func(s *Settings) {
			s.Network.TorMode, s.Network.SOCKSAddress, s.Network.UseBridges, s.Network.BridgeSource = TorSOCKS, "127.0.0.1:9050", true, BridgesSnowflake
		}},
		{"network.bridge_lines", func(s *Settings) { s.Network.BridgeLines = []string{"obfs4 1.2.3.4:5"} }},
		{"network.reconnect_max_attempts", func(s *Settings) { s.Network.ReconnectMaxAttempts = 0 }},
		{"network.reconnect_max_attempts", func(s *Settings) { s.Network.ReconnectMaxAttempts = 101 }},
		{"network.reconnect_initial_seconds", func(s *Settings) { s.Network.ReconnectInitialSeconds = 0 }},
		{"network.reconnect_max_seconds", func(s *Settings) { s.Network.ReconnectMaxSeconds = 1 }},
		{"network.reconnect_max_seconds", func(s *Settings) { s.Network.ReconnectMaxSeconds = 3601 }},
		{"privacy.send_os_info", func(s *Settings) { s.Privacy.SendOSInfo = true }},
		{"privacy.statistics", func(s *Settings) { s.Privacy.Statistics = true }},
	}
	for _, tt := range tests {
		s := DefaultSettings()
		tt.mod(&s)
		if err := s.Validate(); !hasFieldError(err, tt.field) {
			t.Errorf("%s: Validate() = %v", tt.field, err)
		}
	}
	// Edges of the ranges are valid.
	s := DefaultSettings()
	s.Input.VoiceHoldMs, s.Input.PTTHoldMs, s.Input.QualityBitrate = VoiceHoldMaxMs, PTTHoldMaxMs, QualityMaxBitrate
	s.Input.NoiseSuppressionDB, s.Input.MaxAmplification = 0, MaxAmplificationMax
	s.Input.SilenceBelowPercent, s.Input.SpeechAbovePercent = 40, 40
	s.Output.JitterBufferMs, s.Output.OutputDelayMs, s.Output.VolumePercent = JitterBufferMaxMs, OutputDelayMaxMs, 0
	s.Output.UserVolumeDB = map[string]int{hash: UserVolumeMinDB}
	s.Network.TorMode, s.Network.SOCKSAddress = TorSOCKS, "[::1]:9050"
	for _, p := range PacketDurations {
		s.Input.PacketMs = p
		if err := s.Validate(); err != nil {
			t.Errorf("edge values (packet %d ms): %v", p, err)
		}
	}
}

func TestSettingsHelpers(t *testing.T) {
	s := DefaultSettings()
	hash := strings.Repeat("12", 20)
	s.Output.UserVolumeDB = map[string]int{hash: 20}
	if g := s.Output.UserVolume(hash); math.Abs(g-10) > 1e-9 {
		t.Errorf("+20 dB = gain %v, want 10", g)
	}
	if g := s.Output.UserVolume("other"); g != 1 {
		t.Errorf("unset user gain %v, want 1", g)
	}
	p := s.Network.ReconnectPolicy()
	if p.Initial != 2*time.Second || p.Max != 5*time.Minute || p.MaxAttempts != 10 || p.Validate() != nil {
		t.Errorf("ReconnectPolicy = %+v", p)
	}
	if !s.Network.TorEnabled() {
		t.Error("default has Tor off")
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(st)
	if err != nil || !reflect.DeepEqual(got, DefaultSettings()) {
		t.Fatalf("no file: LoadSettings = %+v, %v; want defaults", got, err)
	}
	s, _ := PresetSettings(PresetTorLowBandwidth)
	s.Input.Device = "Mic «1»"
	s.Output.UserVolumeDB = map[string]int{strings.Repeat("ef", 20): -12}
	s.Privacy.Amnesic = true
	if err := SaveSettings(st, s); err != nil {
		t.Fatal(err)
	}
	got, err = LoadSettings(st)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, s)
	}
	fi, _ := os.Stat(st.Path(SettingsFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(st.Path(SettingsFile))
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || string(doc["version"]) != "1" {
		t.Errorf("settings file has no version 1: %s", raw)
	}
	// Missing fields take their defaults; unknown ones are ignored.
	if err := os.WriteFile(st.Path(SettingsFile), []byte(`{"version":1,"input":{"quality_bitrate":20000},"future":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = LoadSettings(st)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings()
	want.Input.QualityBitrate = 20000
	if !reflect.DeepEqual(got, want) {
		t.Errorf("partial file:\n got %+v\nwant %+v", got, want)
	}
	// Invalid values are not saved.
	bad := DefaultSettings()
	bad.Input.PacketMs = 7
	if err := SaveSettings(st, bad); !hasFieldError(err, "input.packet_ms") {
		t.Errorf("SaveSettings(invalid) = %v", err)
	}
}

func TestSettingsBadFileKeptUntouched(t *testing.T) {
	for name, tt := range map[string]struct {
		data string
		is   error
	}{
		"malformed":     {`{"version":1,"input":`, ErrMalformedFile},
		"newer":         {`{"version":7}`, ErrNewerFile},
		"no version":    {`{"input":{}}`, ErrMalformedFile},
		"invalid value": {`{"version":1,"input":{"packet_ms":33}}`, ErrMalformedFile},
		"os info":       {`{"version":1,"privacy":{"send_os_info":true}}`, ErrMalformedFile},
		"wrong type":    {`{"version":1,"input":{"packet_ms":"20"}}`, ErrMalformedFile},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, SettingsFile)
		if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
			t.Fatal(err)
		}
		st, _ := NewDirStorage(dir)
		if _, err := LoadSettings(st); !errors.Is(err, tt.is) {
			t.Errorf("%s: LoadSettings err = %v, want %v", name, err, tt.is)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, []byte(tt.data)) {
			t.Errorf("%s: file changed", name)
		}
	}
}
