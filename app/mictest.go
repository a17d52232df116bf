package app

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/tumble-voip/tumble/voice"
)

// MicLevel is the microphone's live level for a meter, from the
// microphone test or else from the connection's call.
type MicLevel struct {
	// Active is true while a microphone test or a connection's call
	// measures the input; the other fields are then meaningful.
	Active bool
	// Testing is true while the microphone test runs (StartMicTest);
	// Hearing while it plays the input back.
	Testing, Hearing bool
	// Level is the last 10 ms frame's voice activity level, 0-1 on
	// Mumble's scale (amplitude: 1 + dBFS/96).
	Level float64
	// Transmit is true while the gate lets voice out: what the voice
	// activity thresholds (or push-to-talk) decide.
	Transmit bool
	// SilenceBelow and SpeechAbove are the settings' thresholds on the
	// same scale, for the marks on the meter.
	SilenceBelow, SpeechAbove float64
	// Description says which devices the test uses, or why it has no
	// sound.
	Description string
}

// ErrMicTestConnected is returned by StartMicTest during a connection:
// the connection's call has the sound devices (its level still shows in
// MicLevel).
var ErrMicTestConnected = errors.New("app: the microphone test runs only while not connected")

// micTest is the Controller's microphone test: a loopback voice.Call
// (capture, processing, gate, Opus encode and decode, jitter buffer,
// playback) with its levels. The zero value is idle.
type micTest struct {
	mu      sync.Mutex
	call    *voice.Call
	hearing bool
	drain   sync.WaitGroup // the goroutine that reads the call's events

	level    atomic.Uint64 // math.Float64bits of the last level
	transmit atomic.Bool
}

// onLevel records a frame's level; it runs on the capture goroutine.
func (m *micTest) onLevel(level float64, transmit bool) {
	m.level.Store(math.Float64bits(level))
	m.transmit.Store(transmit)
}

// StartMicTest starts the microphone test with set's devices and Audio
// Input processing (the settings being edited, saved or not; they are
// validated), without a connection: its level shows in
// MicLevel and, if hear, the input is played back after going through the
// whole send and receive path, so the user hears what others would hear.
// A running test is restarted. It fails during a connection
// (ErrMicTestConnected) and on a bad configuration; a test whose devices
// cannot be opened runs without sound and says so in
// MicLevel.Description.
func (c *Controller) StartMicTest(set Settings, hear bool) error {
	if err := set.Validate(); err != nil {
		return fmt.Errorf("app: microphone test: %w", err)
	}
	c.mu.Lock()
	closed, sess := c.closed, c.sess
	c.mu.Unlock()
	if closed {
		return ErrControllerClosed
	}
	if sess != nil && sess.current() != nil {
		return ErrMicTestConnected
	}
	m := &c.mic
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked()
	m.level.Store(0)
	m.transmit.Store(false)
	call, err := voice.NewCall(voice.CallConfig{
		Devices:        c.cfg.AudioBackend,
		CaptureDevice:  set.Input.Device,
		PlaybackDevice: set.Output.Device,
		InputFile:      c.cfg.AudioInputFile,
		OutputFile:     c.cfg.AudioOutputFile,
		Platform:       c.cfg.AudioPlatform,
		Send:           sendConfig(set.Input),
		JitterBuffer:   msDuration(set.Output.JitterBufferMs),
		OutputDelay:    msDuration(set.Output.OutputDelayMs),
		Volume:         outputVolume(set.Output),
		Loopback:       true,
		OnLevel:        m.onLevel,
		Logf:           c.cfg.Logf,
	})
	if err != nil {
		return fmt.Errorf("app: microphone test: %w", err)
	}
	call.SetSelfDeaf(!hear)
	m.call, m.hearing = call, hear
	m.drain.Add(1)
	go func() {
		defer m.drain.Done()
		for range call.Events() { // the meter polls; nothing to show
		}
	}()
	c.changed()
	return nil
}

// SetMicTestHearing turns the playback of a running microphone test on or
// off.
func (c *Controller) SetMicTestHearing(hear bool) {
	m := &c.mic
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.call != nil {
		m.call.SetSelfDeaf(!hear)
		m.hearing = hear
	}
}

// StopMicTest stops the microphone test, if one runs, and frees its
// devices.
func (c *Controller) StopMicTest() {
	if c.mic.stop() {
		c.changed()
	}
}

// stop ends the test; it reports whether one ran.
func (m *micTest) stop() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopLocked()
}

// stopLocked ends the test; m.mu must be held.
func (m *micTest) stopLocked() bool {
	call := m.call
	m.call, m.hearing = nil, false
	if call == nil {
		return false
	}
	call.Close() // the devices' errors at close change nothing for the user
	m.drain.Wait()
	return true
}

// MicLevel returns the microphone's level now: the test's while it runs,
// else the connection's call's, else an inactive MicLevel with the
// thresholds.
func (c *Controller) MicLevel() MicLevel {
	in := c.Settings().Input
	ml := MicLevel{
		SilenceBelow: float64(in.SilenceBelowPercent) / 100,
		SpeechAbove:  float64(in.SpeechAbovePercent) / 100,
	}
	m := &c.mic
	m.mu.Lock()
	if m.call != nil {
		ml.Active, ml.Testing, ml.Hearing = true, true, m.hearing
		ml.Level = math.Float64frombits(m.level.Load())
		ml.Transmit = m.transmit.Load()
		ml.Description = m.call.Description()
	}
	m.mu.Unlock()
	if ml.Active {
		return ml
	}
	if _, cn, err := c.connected(); err == nil {
		st := cn.call.SendStats()
		ml.Active, ml.Level, ml.Transmit = true, st.Level, st.Talking
		ml.Description = cn.call.Description()
	}
	return ml
}

// micTestPushToTalk gives the push-to-talk key to a running test; it
// reports whether one runs.
func (m *micTest) pushToTalk(pressed bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.call == nil {
		return false
	}
	m.call.PushToTalk(pressed)
	return true
}

// applySettings gives a running test changed settings.
func (m *micTest) applySettings(s Settings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.call == nil {
		return nil
	}
	return applyCallSettings(m.call, s)
}
