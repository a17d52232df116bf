package app

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// PresetName names a settings preset.
type PresetName string

// The presets. PresetTorRecommended is the default.
const (
	PresetTorRecommended  PresetName = "tor-recommended"
	PresetMumbleDefaults  PresetName = "mumble-defaults"
	PresetTorLowBandwidth PresetName = "tor-low-bandwidth"
)

// Preset describes a preset for the Settings dialog.
type Preset struct {
	// Name identifies the preset (PresetSettings, ResetToPreset).
	Name PresetName
	// Title is the name shown to users, e.g. "Tor recommended".
	Title string
	// Description is one or two sentences on what the preset sets.
	Description string
}

// Presets returns the presets in the order the dialog lists them.
func Presets() []Preset {
	return []Preset{
		{PresetTorRecommended, "Tor recommended",
			"The values recommended for Mumble over Tor: 13 kb/s in 20 ms packets, voice hold 250 ms, " +
				"noise suppression -60 dB, jitter buffer 10 ms, output delay 30 ms, TCP only, no automatic reconnect."},
		{PresetMumbleDefaults, "Mumble defaults",
			"The official Mumble client's defaults (40 kb/s, 20 ms packets, voice hold 200 ms, output delay 50 ms, " +
				"automatic reconnect), except that Tumble never sends OS information or statistics."},
		{PresetTorLowBandwidth, "Tor low bandwidth",
			"Like Tor recommended, with 60 ms packets (a third of the Tor cells) at 10 kb/s."},
	}
}

// torRecommended is the "Tor recommended" preset, the default.
func torRecommended() Settings {
	return Settings{
		Input: AudioInput{
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
			JitterBufferMs: 10,
			OutputDelayMs:  30,
			// Start low: voice over Tor arrives in bursts and a loud
			// first burst is unpleasant; raise per speaker instead.
			VolumePercent: 10,
		},
		Network: Network{
			TorMode:                 TorEmbedded,
			ForceTCP:                true,
			Reconnect:               false,
			ReconnectMaxAttempts:    10,
			ReconnectInitialSeconds: 2,
			ReconnectMaxSeconds:     300,
		},
		Privacy: Privacy{SendOSInfo: false, Statistics: false},
	}
}

// mumbleDefaults is the official client's defaults, from mumble-voip/mumble
// src/mumble/Settings.h (commit 6877cf64cb47, 2026-07-05), converted with
// the slider formulas of src/mumble/AudioConfigDialog.cpp:
//
//	atTransmit = VAD, vsVAD = Amplitude, pttHold = 0
//	fVADmin = 0.80, fVADmax = 0.98          -> silence below 80 %, speech above 98 %
//	iVoiceHold = 20 (frames of 10 ms)       -> 200 ms
//	iQuality = 40000                        -> 40 kb/s
//	iFramesPerPacket = 2                    -> 20 ms
//	echoOption = SPEEX_MIXED                -> mixed
//	iSpeexNoiseCancelStrength = -30         -> -30 dB
//	iMinLoudness = 1000                     -> max amplification 20000/1000 = 20
//	iJitterBufferSize = 1 (x 10 ms)         -> 10 ms
//	iOutputDelay = 5 (x 10 ms)              -> 50 ms
//	fVolume = 1.0                           -> 100 %
//	bReconnect = true                       -> reconnect on (Tumble backs off
//	                                           exponentially instead of
//	                                           Mumble's fixed 10 s)
//	bTCPCompat = false                      -> force TCP off, which only
//	                                           applies with Tor off
//	bHideOS = false, bUsage = true          -> not taken: Tumble never sends
//	                                           OS information or statistics
func mumbleDefaults() Settings {
	s := torRecommended()
	s.Input = AudioInput{
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
	}
	s.Output = AudioOutput{JitterBufferMs: 10, OutputDelayMs: 50, VolumePercent: 100}
	s.Network.Reconnect = true
	s.Network.ForceTCP = false // raised again by applyForceTCPRule while Tor is on
	return s
}

// torLowBandwidth is "Tor recommended" with 60 ms packets at 10 kb/s. A
// voice packet costs at least one 514-byte Tor cell however small it is, so
// 60 ms packets need a third of the cells of 20 ms ones (about 17 instead of
// 50 a second); 10 kb/s keeps a 60 ms Opus frame (75 bytes) well inside one
// cell while staying intelligible.
func torLowBandwidth() Settings {
	s := torRecommended()
	s.Input.PacketMs = 60
	s.Input.QualityBitrate = 10000
	return s
}

// applyForceTCPRule turns ForceTCP on whenever Tor is on.
func (s *Settings) applyForceTCPRule() {
	if s.Network.TorEnabled() {
		s.Network.ForceTCP = true
	}
}

// presetBase returns the preset's values before the force-TCP rule.
func presetBase(name PresetName) (Settings, error) {
	switch name {
	case PresetTorRecommended:
		return torRecommended(), nil
	case PresetMumbleDefaults:
		return mumbleDefaults(), nil
	case PresetTorLowBandwidth:
		return torLowBandwidth(), nil
	}
	return Settings{}, fmt.Errorf("app: unknown settings preset %q", name)
}

// PresetSettings returns the complete settings of a preset, with the
// embedded Tor mode.
func PresetSettings(name PresetName) (Settings, error) {
	s, err := presetBase(name)
	if err != nil {
		return Settings{}, err
	}
	s.applyForceTCPRule()
	return s, nil
}

// DefaultSettings returns the "Tor recommended" preset.
func DefaultSettings() Settings {
	s, _ := PresetSettings(PresetTorRecommended)
	return s
}

// ResetToPreset replaces every value the preset defines ("Reset to Tor
// recommended" is ResetToPreset(PresetTorRecommended)). It keeps what is
// not a matter of taste: the chosen devices, per-speaker volumes, the Tor
// mode, SOCKS address and bridges, and amnesic mode. Force TCP stays on while Tor is
// on.
func (s *Settings) ResetToPreset(name PresetName) error {
	p, err := presetBase(name)
	if err != nil {
		return err
	}
	p.Input.Device = s.Input.Device
	p.Output.Device = s.Output.Device
	// The keyboard's push-to-talk key and the done audio check are about
	// the user's machine, not about quality.
	p.Input.PTTKey, p.Input.AudioChecked = s.Input.PTTKey, s.Input.AudioChecked
	p.Output.UserVolumeDB = s.Clone().Output.UserVolumeDB
	p.Network.TorMode = s.Network.TorMode
	p.Network.SOCKSAddress = s.Network.SOCKSAddress
	// Bridges are about the user's network, not about quality.
	c := s.Clone()
	p.Network.UseBridges, p.Network.BridgeSource, p.Network.BridgeLines = c.Network.UseBridges, c.Network.BridgeSource, c.Network.BridgeLines
	p.Privacy.Amnesic = s.Privacy.Amnesic
	p.applyForceTCPRule()
	*s = p
	return nil
}

// MatchesPreset reports whether every value the preset defines is as in the
// preset, so the dialog can show "Tor recommended" rather than "Custom".
func (s Settings) MatchesPreset(name PresetName) bool {
	p := s.Clone()
	if err := p.ResetToPreset(name); err != nil {
		return false
	}
	return settingsEqual(p, s)
}

// settingsEqual compares two Settings field by field, the map included, by
// their JSON form (encoding/json sorts map keys), so a field added later is
// compared without touching this function.
func settingsEqual(a, b Settings) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}
