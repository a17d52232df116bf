// Package vad decides, frame by frame, whether the send path transmits:
// continuously, on voice activity (amplitude or signal-to-noise), or while
// push-to-talk is held, with Mumble's thresholds and hold times.
//
// Levels are Mumble's fractions: in amplitude mode a frame's level is
// 1 + dBFS/96 of its RMS before AGC gain, so 0.3 is -67 dBFS and 0.5 is
// -48 dBFS; in signal-to-noise mode it is the probability (0-1) that the
// frame is speech. Transmission starts when the level rises above
// SpeechAbove, goes on while it stays above SilenceBelow, and then for
// the voice hold. It is pure Go and keeps no global state.
package vad

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Mode selects when to transmit.
type Mode int

const (
	// Continuous transmits all the time.
	Continuous Mode = iota
	// VoiceActivity transmits while the voice activity detector hears
	// speech, and for Hold after.
	VoiceActivity
	// PushToTalk transmits while the key is held, and for PTTHold after.
	PushToTalk
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Continuous:
		return "continuous"
	case VoiceActivity:
		return "voice activity"
	case PushToTalk:
		return "push-to-talk"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Measure selects what voice activity detection looks at.
type Measure int

const (
	// Amplitude compares the frame's level, 1 + dBFS/96, with the
	// thresholds.
	Amplitude Measure = iota
	// SignalToNoise compares the probability that the frame is speech:
	// the preprocessor's if the caller has one (Frame.SpeechProb), or
	// the Gate's own estimate from the frame's level above a tracked
	// noise floor.
	SignalToNoise
)

// String returns the measure's name.
func (m Measure) String() string {
	switch m {
	case Amplitude:
		return "amplitude"
	case SignalToNoise:
		return "signal-to-noise"
	}
	return fmt.Sprintf("Measure(%d)", int(m))
}

// FrameDuration is the duration of the frames a Gate judges.
const FrameDuration = 10 * time.Millisecond

// Config sets up a Gate.
type Config struct {
	// Mode selects continuous, voice activity or push-to-talk.
	Mode Mode
	// Measure selects amplitude or signal-to-noise voice detection.
	Measure Measure
	// SilenceBelow is the level (0-1) under which speech ends.
	SilenceBelow float64
	// SpeechAbove is the level (0-1) over which speech starts; at least
	// SilenceBelow.
	SpeechAbove float64
	// Hold keeps transmitting this long after speech ends (Mumble's
	// "voice hold"), rounded up to 10 ms frames.
	Hold time.Duration
	// PTTHold keeps transmitting this long after push-to-talk is
	// released, rounded up to 10 ms frames.
	PTTHold time.Duration
}

// DefaultConfig returns voice activation on amplitude with thresholds of
// 30% (-67 dBFS) and 50% (-48 dBFS) and a 500 ms voice hold.
func DefaultConfig() Config {
	return Config{Mode: VoiceActivity, Measure: Amplitude, SilenceBelow: 0.3, SpeechAbove: 0.5, Hold: 500 * time.Millisecond}
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.Mode < Continuous || c.Mode > PushToTalk:
		return fmt.Errorf("vad: unknown mode %d", int(c.Mode))
	case c.Measure < Amplitude || c.Measure > SignalToNoise:
		return fmt.Errorf("vad: unknown measure %d", int(c.Measure))
	case !(c.SilenceBelow >= 0 && c.SilenceBelow <= 1):
		return fmt.Errorf("vad: silence threshold %v, want 0-1", c.SilenceBelow)
	case !(c.SpeechAbove >= 0 && c.SpeechAbove <= 1):
		return fmt.Errorf("vad: speech threshold %v, want 0-1", c.SpeechAbove)
	case c.SpeechAbove < c.SilenceBelow:
		return fmt.Errorf("vad: speech threshold %v below silence threshold %v", c.SpeechAbove, c.SilenceBelow)
	case c.Hold < 0 || c.Hold > time.Minute:
		return fmt.Errorf("vad: voice hold %v, want 0-1m", c.Hold)
	case c.PTTHold < 0 || c.PTTHold > time.Minute:
		return fmt.Errorf("vad: push-to-talk hold %v, want 0-1m", c.PTTHold)
	}
	return nil
}

// AmplitudeLevel converts a level in dBFS to Mumble's amplitude fraction,
// 1 + dBFS/96, clamped to 0-1.
func AmplitudeLevel(dbfs float64) float64 {
	return math.Min(1, math.Max(0, 1+dbfs/96))
}

// LevelDBFS converts Mumble's amplitude fraction back to dBFS.
func LevelDBFS(level float64) float64 { return (level - 1) * 96 }

// Frame is what the Gate knows about one 10 ms frame.
type Frame struct {
	// DBFS is the frame's RMS level in dBFS before any AGC gain (for the
	// processed signal: its level minus the AGC gain, as Mumble does).
	DBFS float64
	// SpeechProb is the preprocessor's speech probability (0-1), or
	// negative if there is none and the Gate should estimate it.
	SpeechProb float64
}

// Decision is the Gate's verdict on a frame.
type Decision struct {
	// Transmit tells whether to send this frame.
	Transmit bool
	// Voice tells whether voice activity detection heard speech in this
	// frame, hold included, whatever the mode (for level meters).
	Voice bool
	// Level is the frame's level on the configured measure (0-1).
	Level float64
}

// Gate is the transmission gate. Its methods are safe for concurrent use:
// the audio goroutine calls Next while the UI calls SetPushToTalk and
// SetConfig.
type Gate struct {
	mu         sync.Mutex
	cfg        Config
	ptt        bool
	pttHold    int // frames of push-to-talk hold left
	voice      bool
	holdLeft   int // frames of voice hold left
	noiseDBFS  float64
	noiseValid bool
}

// NewGate returns a Gate for cfg.
func NewGate(cfg Config) (*Gate, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Gate{cfg: cfg}, nil
}

// Config returns the current settings.
func (g *Gate) Config() Config {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg
}

// SetConfig changes the settings from the next frame on.
func (g *Gate) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg = cfg
	return nil
}

// SetPushToTalk reports the push-to-talk key pressed or released. Pressed
// transmits in every mode; on release the PTT hold starts.
func (g *Gate) SetPushToTalk(pressed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ptt && !pressed {
		g.pttHold = frames(g.cfg.PTTHold)
	}
	if pressed {
		g.pttHold = 0
	}
	g.ptt = pressed
}

func frames(d time.Duration) int {
	return int((d + FrameDuration - 1) / FrameDuration)
}

// Noise floor tracker for the Gate's own speech probability: the floor
// follows quieter frames quickly and rises slowly (3 dB per second), so
// speech, which keeps pausing, does not lift it.
const (
	noiseRiseDB   = 0.03 // per 10 ms frame
	noiseFallRate = 0.3  // fraction of the gap closed per quieter frame
	// The own probability is a logistic in the SNR: 0.5 at snrMidDB,
	// 0.8 at about 15.5 dB, 0.98 at about 22 dB.
	snrMidDB   = 12
	snrSlopeDB = 2.5
)

// Next judges one 10 ms frame.
func (g *Gate) Next(f Frame) Decision {
	g.mu.Lock()
	defer g.mu.Unlock()
	db := math.Max(f.DBFS, -96)
	if math.IsNaN(db) {
		db = -96
	}
	// Track the noise floor whatever the mode, so that switching to
	// signal-to-noise mode starts with an estimate.
	switch {
	case !g.noiseValid:
		g.noiseDBFS, g.noiseValid = db, true
	case db < g.noiseDBFS:
		g.noiseDBFS += (db - g.noiseDBFS) * noiseFallRate
	default:
		g.noiseDBFS += noiseRiseDB
	}

	var level float64
	if g.cfg.Measure == SignalToNoise {
		if f.SpeechProb >= 0 && f.SpeechProb <= 1 {
			level = f.SpeechProb
		} else {
			snr := db - g.noiseDBFS
			level = 1 / (1 + math.Exp(-(snr-snrMidDB)/snrSlopeDB))
		}
	} else {
		level = AmplitudeLevel(db)
	}

	speech := level > g.cfg.SpeechAbove || (g.voice && level > g.cfg.SilenceBelow)
	if speech {
		g.holdLeft = frames(g.cfg.Hold)
	} else if g.holdLeft > 0 {
		g.holdLeft--
		speech = true
	}
	g.voice = speech

	var transmit bool
	switch g.cfg.Mode {
	case Continuous:
		transmit = true
	case VoiceActivity:
		transmit = speech
	case PushToTalk:
		transmit = g.pttHold > 0
	}
	if !g.ptt && g.pttHold > 0 {
		g.pttHold--
	}
	transmit = transmit || g.ptt
	return Decision{Transmit: transmit, Voice: speech, Level: level}
}

// NoiseFloorDBFS returns the Gate's current noise floor estimate.
func (g *Gate) NoiseFloorDBFS() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.noiseDBFS
}
