package app

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TransmitMode is when the microphone is sent (Audio Input, Transmission).
type TransmitMode string

// Transmission modes, as in Mumble.
const (
	TransmitContinuous    TransmitMode = "continuous"
	TransmitVoiceActivity TransmitMode = "voice_activity"
	TransmitPushToTalk    TransmitMode = "push_to_talk"
)

// VADSource is what voice activity detection measures.
type VADSource string

// Voice activity sources, as in Mumble.
const (
	// VADAmplitude compares the microphone's loudness to the thresholds.
	VADAmplitude VADSource = "amplitude"
	// VADSignalToNoise compares the speech probability from the
	// preprocessor to the thresholds.
	VADSignalToNoise VADSource = "snr"
)

// EchoCancellation is the echo canceller mode.
type EchoCancellation string

// Echo cancellation modes. Mixed cancels the echo of the mixed-down output,
// as Mumble's "Mixed echo cancellation" does.
const (
	EchoOff   EchoCancellation = "off"
	EchoMixed EchoCancellation = "mixed"
)

// TorMode is how connections are made.
type TorMode string

// Tor modes, as chosen with --tor.
const (
	// TorEmbedded starts Tor inside the process.
	TorEmbedded TorMode = "embedded"
	// TorSOCKS uses an existing Tor's SOCKS port (Whonix gateway, Tails,
	// Orbot), given in Network.SOCKSAddress.
	TorSOCKS TorMode = "socks"
	// TorOff connects directly: UNPROTECTED.
	TorOff TorMode = "off"
)

// Ranges the settings are checked against. Most follow the sliders of the
// official client (mumble-voip/mumble src/mumble/AudioInput.ui and
// AudioOutput.ui); the exceptions are noted.
const (
	VoiceHoldMinMs      = 200 // Mumble: 20 frames of 10 ms
	VoiceHoldMaxMs      = 2500
	PTTHoldMaxMs        = 5000
	QualityMinBitrate   = 8000
	QualityMaxBitrate   = 192000
	NoiseSuppressionMin = -60 // dB; 0 means off
	NoiseSuppressionMax = -15
	MaxAmplificationMin = 1.0
	MaxAmplificationMax = 40.0
	JitterBufferMinMs   = 10
	// JitterBufferMaxMs goes past Mumble's 50 ms because Tor delivers
	// voice in bursts; the adaptive buffer starts from this default.
	JitterBufferMaxMs = 200
	OutputDelayMinMs  = 10
	OutputDelayMaxMs  = 100
	// RecommendedOutputDelayMinMs and RecommendedOutputDelayMaxMs bound the
	// output delay recommended over Tor; the UI marks the range.
	RecommendedOutputDelayMinMs = 20
	RecommendedOutputDelayMaxMs = 40
	VolumeMaxPercent            = 200
	UserVolumeMinDB             = -30
	UserVolumeMaxDB             = 30
	ReconnectMaxAttemptsLimit   = 100
	ReconnectMaxSecondsLimit    = 3600
)

// PacketDurations are the allowed audio-per-packet values in milliseconds
// (Mumble's 1, 2, 4 or 6 frames of 10 ms).
var PacketDurations = []int{10, 20, 40, 60}

// Settings is everything the Settings dialog shows, in Mumble's sections.
// The zero value is not valid; start from DefaultSettings or PresetSettings.
type Settings struct {
	// Input is "Audio Input": interface, transmission, compression,
	// audio processing.
	Input AudioInput `json:"input"`
	// Output is "Audio Output".
	Output AudioOutput `json:"output"`
	// Network is "Network": Tor mode, force TCP, reconnecting.
	Network Network `json:"network"`
	// Privacy is "Privacy".
	Privacy Privacy `json:"privacy"`
}

// AudioInput is the "Audio Input" section.
type AudioInput struct {
	// Device is the capture device name; empty is the system default.
	Device string `json:"device,omitempty"`
	// Transmit is the transmission mode.
	Transmit TransmitMode `json:"transmit"`
	// VADSource is what voice activity detection measures.
	VADSource VADSource `json:"vad_source"`
	// SilenceBelowPercent is the "Silence below" threshold, 0-100.
	SilenceBelowPercent int `json:"silence_below_percent"`
	// SpeechAbovePercent is the "Speech above" threshold, 0-100, not below
	// SilenceBelowPercent.
	SpeechAbovePercent int `json:"speech_above_percent"`
	// VoiceHoldMs is how long transmission continues after speech stops,
	// 200-2500 ms in steps of 10.
	VoiceHoldMs int `json:"voice_hold_ms"`
	// PTTHoldMs is how long push-to-talk keeps sending after the key is
	// released, 0-5000 ms.
	PTTHoldMs int `json:"ptt_hold_ms"`
	// PTTKey is the push-to-talk key, a name from PTTKeys (the user
	// interface's key names); empty is DefaultPTTKey.
	PTTKey string `json:"ptt_key,omitempty"`
	// AudioChecked records that the first-run audio check was shown, so
	// it is shown once.
	AudioChecked bool `json:"audio_checked,omitempty"`
	// QualityBitrate is the Opus bit rate ("Quality"), 8000-192000 bit/s.
	QualityBitrate int `json:"quality_bitrate"`
	// PacketMs is the audio per packet: 10, 20, 40 or 60 ms. Each packet is
	// at least one Tor cell, so longer packets mean fewer cells.
	PacketMs int `json:"packet_ms"`
	// EchoCancellation is the echo canceller mode.
	EchoCancellation EchoCancellation `json:"echo_cancellation"`
	// NoiseSuppressionDB is the noise suppression strength, -60 to -15 dB,
	// or 0 for off.
	NoiseSuppressionDB int `json:"noise_suppression_db"`
	// MaxAmplification is the most the microphone is amplified, 1-40.
	MaxAmplification float64 `json:"max_amplification"`
}

// AudioOutput is the "Audio Output" section.
type AudioOutput struct {
	// Device is the playback device name; empty is the system default.
	Device string `json:"device,omitempty"`
	// JitterBufferMs is the default jitter buffer, 10-200 ms in steps of 10.
	JitterBufferMs int `json:"jitter_buffer_ms"`
	// OutputDelayMs is the output delay, 10-100 ms in steps of 10
	// (20-40 recommended over Tor).
	OutputDelayMs int `json:"output_delay_ms"`
	// VolumePercent is the output volume, 0-200 %.
	VolumePercent int `json:"volume_percent"`
	// UserVolumeDB adjusts single speakers ("local volume"), in dB from
	// -30 to +30, keyed by the user's certificate hash (40 lower-case hex
	// digits, see CertificateHash).
	UserVolumeDB map[string]int `json:"user_volume_db,omitempty"`
}

// Network is the "Network" section.
type Network struct {
	// TorMode is how connections are made.
	TorMode TorMode `json:"tor_mode"`
	// SOCKSAddress is Tor's SOCKS port as host:port, used in TorSOCKS mode.
	SOCKSAddress string `json:"socks_address,omitempty"`
	// ForceTCP sends voice through the TLS connection instead of UDP. It is
	// always true while Tor is on: Tor carries only TCP.
	ForceTCP bool `json:"force_tcp"`
	// Reconnect reconnects automatically after a lost connection, with
	// exponential backoff.
	Reconnect bool `json:"reconnect"`
	// ReconnectMaxAttempts bounds the automatic attempts, 1-100.
	ReconnectMaxAttempts int `json:"reconnect_max_attempts"`
	// ReconnectInitialSeconds is the wait before the first attempt; it
	// doubles after each failure.
	ReconnectInitialSeconds int `json:"reconnect_initial_seconds"`
	// ReconnectMaxSeconds caps the wait between attempts.
	ReconnectMaxSeconds int `json:"reconnect_max_seconds"`
	// UseBridges makes the embedded Tor reach the Tor network only through
	// bridges, for networks that block Tor. Embedded Tor only.
	UseBridges bool `json:"use_bridges,omitempty"`
	// BridgeSource is BridgesSnowflake (built-in) or BridgesCustom
	// (BridgeLines); "" means custom.
	BridgeSource string `json:"bridge_source,omitempty"`
	// BridgeLines are the user's bridge lines, one per element, as
	// tor.ParseBridgeLines accepts them.
	BridgeLines []string `json:"bridge_lines,omitempty"`
}

// Privacy is the "Privacy" section.
type Privacy struct {
	// SendOSInfo would send the operating system's name and version to
	// servers. Tumble never does: it must stay false; the field exists so
	// the dialog can show the setting users know from Mumble.
	SendOSInfo bool `json:"send_os_info"`
	// Statistics would submit usage statistics. Tumble has none: it must
	// stay false.
	Statistics bool `json:"statistics"`
	// Amnesic starts Tumble in amnesic mode next time: nothing further is
	// written to disk.
	Amnesic bool `json:"amnesic"`
}

// TorEnabled reports whether connections go through Tor.
func (n Network) TorEnabled() bool { return n.TorMode != TorOff }

// ReconnectPolicy returns the backoff policy these settings describe.
func (n Network) ReconnectPolicy() BackoffPolicy {
	p := DefaultBackoffPolicy()
	p.Initial = time.Duration(n.ReconnectInitialSeconds) * time.Second
	p.Max = time.Duration(n.ReconnectMaxSeconds) * time.Second
	p.MaxAttempts = n.ReconnectMaxAttempts
	return p
}

// SetTorMode switches the Tor mode (socks is the SOCKS address for TorSOCKS
// and ignored otherwise). Entering a Tor mode turns ForceTCP on.
func (s *Settings) SetTorMode(mode TorMode, socks string) error {
	n := s.Network
	n.TorMode = mode
	if mode == TorSOCKS {
		n.SOCKSAddress = socks
	}
	if n.TorEnabled() {
		n.ForceTCP = true
	}
	var errs fieldErrs
	n.validate(&errs)
	if err := errs.join(); err != nil {
		return fmt.Errorf("app: set Tor mode: %w", err)
	}
	s.Network = n
	return nil
}

// SetForceTCP sets ForceTCP. Turning it off while Tor is on is refused.
func (s *Settings) SetForceTCP(on bool) error {
	if !on && s.Network.TorEnabled() {
		return fmt.Errorf("app: force TCP cannot be turned off in Tor mode %q: Tor carries only TCP", s.Network.TorMode)
	}
	s.Network.ForceTCP = on
	return nil
}

// UserVolume returns the local volume adjustment for a user certificate
// hash as a linear gain factor (1 when none is set).
func (o AudioOutput) UserVolume(certHash string) float64 {
	db, ok := o.UserVolumeDB[certHash]
	if !ok {
		return 1
	}
	return math.Pow(10, float64(db)/20)
}

// Clone returns a deep copy.
func (s Settings) Clone() Settings {
	if s.Output.UserVolumeDB != nil {
		m := make(map[string]int, len(s.Output.UserVolumeDB))
		for k, v := range s.Output.UserVolumeDB {
			m[k] = v
		}
		s.Output.UserVolumeDB = m
	}
	s.Network.BridgeLines = slices.Clone(s.Network.BridgeLines)
	return s
}

// Validate checks every setting and returns all problems found, each as a
// *FieldError named like "input.voice_hold_ms".
func (s Settings) Validate() error {
	var errs fieldErrs
	s.Input.validate(&errs)
	s.Output.validate(&errs)
	s.Network.validate(&errs)
	s.Privacy.validate(&errs)
	return errs.join()
}

func (in AudioInput) validate(errs *fieldErrs) {
	errs.add("input.device", checkText(in.Device, 512))
	switch in.Transmit {
	case TransmitContinuous, TransmitVoiceActivity, TransmitPushToTalk:
	default:
		errs.addf("input.transmit", "%q is not one of continuous, voice_activity, push_to_talk", in.Transmit)
	}
	switch in.VADSource {
	case VADAmplitude, VADSignalToNoise:
	default:
		errs.addf("input.vad_source", "%q is not one of amplitude, snr", in.VADSource)
	}
	checkRange(errs, "input.silence_below_percent", in.SilenceBelowPercent, 0, 100, 1)
	checkRange(errs, "input.speech_above_percent", in.SpeechAbovePercent, 0, 100, 1)
	if in.SpeechAbovePercent < in.SilenceBelowPercent {
		errs.addf("input.speech_above_percent", "%d%% is below silence below (%d%%)", in.SpeechAbovePercent, in.SilenceBelowPercent)
	}
	checkRange(errs, "input.voice_hold_ms", in.VoiceHoldMs, VoiceHoldMinMs, VoiceHoldMaxMs, 10)
	checkRange(errs, "input.ptt_hold_ms", in.PTTHoldMs, 0, PTTHoldMaxMs, 1)
	if in.PTTKey != "" {
		if k, err := ParsePTTKey(in.PTTKey); err != nil {
			errs.add("input.ptt_key", err)
		} else if k != in.PTTKey {
			errs.addf("input.ptt_key", "%q is stored as %q", in.PTTKey, k)
		}
	}
	checkRange(errs, "input.quality_bitrate", in.QualityBitrate, QualityMinBitrate, QualityMaxBitrate, 1)
	okPacket := false
	for _, d := range PacketDurations {
		okPacket = okPacket || in.PacketMs == d
	}
	if !okPacket {
		errs.addf("input.packet_ms", "%d ms is not one of 10, 20, 40, 60", in.PacketMs)
	}
	switch in.EchoCancellation {
	case EchoOff, EchoMixed:
	default:
		errs.addf("input.echo_cancellation", "%q is not one of off, mixed", in.EchoCancellation)
	}
	if in.NoiseSuppressionDB != 0 {
		checkRange(errs, "input.noise_suppression_db", in.NoiseSuppressionDB, NoiseSuppressionMin, NoiseSuppressionMax, 1)
	}
	if a := in.MaxAmplification; math.IsNaN(a) || a < MaxAmplificationMin || a > MaxAmplificationMax {
		errs.addf("input.max_amplification", "%v is outside %v-%v", a, MaxAmplificationMin, MaxAmplificationMax)
	}
}

func (out AudioOutput) validate(errs *fieldErrs) {
	errs.add("output.device", checkText(out.Device, 512))
	checkRange(errs, "output.jitter_buffer_ms", out.JitterBufferMs, JitterBufferMinMs, JitterBufferMaxMs, 10)
	checkRange(errs, "output.output_delay_ms", out.OutputDelayMs, OutputDelayMinMs, OutputDelayMaxMs, 10)
	checkRange(errs, "output.volume_percent", out.VolumePercent, 0, VolumeMaxPercent, 1)
	for k, v := range out.UserVolumeDB {
		if len(k) != 40 || !isLowerHex(k) {
			errs.addf("output.user_volume_db", "key %q is not a certificate hash (40 lower-case hex digits)", k)
			continue
		}
		checkRange(errs, "output.user_volume_db", v, UserVolumeMinDB, UserVolumeMaxDB, 1)
	}
}

func (n Network) validate(errs *fieldErrs) {
	switch n.TorMode {
	case TorEmbedded, TorOff:
	case TorSOCKS:
		errs.add("network.socks_address", checkSOCKSAddress(n.SOCKSAddress))
	default:
		errs.addf("network.tor_mode", "%q is not one of embedded, socks, off", n.TorMode)
	}
	if n.TorEnabled() && !n.ForceTCP {
		errs.addf("network.force_tcp", "cannot be off while Tor is on (mode %q): Tor carries only TCP", n.TorMode)
	}
	checkRange(errs, "network.reconnect_max_attempts", n.ReconnectMaxAttempts, 1, ReconnectMaxAttemptsLimit, 1)
	checkRange(errs, "network.reconnect_initial_seconds", n.ReconnectInitialSeconds, 1, 60, 1)
	checkRange(errs, "network.reconnect_max_seconds", n.ReconnectMaxSeconds, 1, ReconnectMaxSecondsLimit, 1)
	if n.ReconnectMaxSeconds < n.ReconnectInitialSeconds {
		errs.addf("network.reconnect_max_seconds", "%d s is below the initial wait (%d s)", n.ReconnectMaxSeconds, n.ReconnectInitialSeconds)
	}
	n.validateBridges(errs)
}

func (p Privacy) validate(errs *fieldErrs) {
	if p.SendOSInfo {
		errs.addf("privacy.send_os_info", "must be off: Tumble never sends operating system information")
	}
	if p.Statistics {
		errs.addf("privacy.statistics", "must be off: Tumble has no statistics or telemetry")
	}
}

// checkSOCKSAddress validates a host:port SOCKS address.
func checkSOCKSAddress(addr string) error {
	if addr == "" {
		return errors.New("is empty; give Tor's SOCKS port as host:port")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("is not host:port: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is outside 1-65535", port)
	}
	kind, err := ValidateAddress(strings.ToLower(host))
	if err != nil {
		return fmt.Errorf("host %w", err)
	}
	if kind == AddressOnion {
		return errors.New("host cannot be an onion address")
	}
	return nil
}

// checkRange adds an error unless min <= v <= max and v is a multiple of step.
func checkRange(errs *fieldErrs, field string, v, min, max, step int) {
	switch {
	case v < min || v > max:
		errs.addf(field, "%d is outside %d-%d", v, min, max)
	case step > 1 && v%step != 0:
		errs.addf(field, "%d is not a multiple of %d", v, step)
	}
}

// SettingsFile is the name of the settings file inside the Storage.
const SettingsFile = "settings.json"

// settingsVersion is the format version this build writes and the newest it
// reads.
const settingsVersion = 1

// settingsDoc is the on-disk form: {"version": 1, "input": {...}, ...}.
type settingsDoc struct {
	Version int `json:"version"`
	Settings
}

// LoadSettings reads the settings from st. A missing file yields
// DefaultSettings. Fields missing from the file keep their default. A file
// that cannot be parsed, holds invalid values or has a newer format version
// is an error matching ErrMalformedFile or ErrNewerFile; the file is left
// untouched.
func LoadSettings(st Storage) (Settings, error) {
	data, err := st.ReadFile(SettingsFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DefaultSettings(), nil
	case err != nil:
		return Settings{}, fmt.Errorf("app: load settings: %w", err)
	}
	if _, err := checkVersion(SettingsFile, data, settingsVersion); err != nil {
		return Settings{}, err
	}
	doc := settingsDoc{Settings: DefaultSettings()}
	doc.Output.UserVolumeDB = nil
	if err := decodeJSON(SettingsFile, data, &doc); err != nil {
		return Settings{}, err
	}
	if err := doc.Settings.Validate(); err != nil {
		return Settings{}, fmt.Errorf("app: %s: %w: %w; it was left untouched", SettingsFile, ErrMalformedFile, err)
	}
	return doc.Settings, nil
}

// SaveSettings validates s and writes it to st atomically.
func SaveSettings(st Storage, s Settings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("app: save settings: %w", err)
	}
	data, err := encodeJSON(settingsDoc{Version: settingsVersion, Settings: s})
	if err != nil {
		return fmt.Errorf("app: save settings: encode: %w", err)
	}
	if err := st.WriteFile(SettingsFile, data); err != nil {
		return fmt.Errorf("app: save settings: %w", err)
	}
	return nil
}
