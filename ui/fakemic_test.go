package ui

import (
	"fmt"

	"github.com/tumble-voip/tumble/app"
)

// The fake's microphone test records the intents; MicLevel returns
// c.mic (setMic) with the settings' thresholds.

func (c *fakeController) StartMicTest(s app.Settings, hear bool) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c.record(fmt.Sprintf("StartMicTest %q %v", s.Input.Device, hear))
	return nil
}

func (c *fakeController) SetMicTestHearing(hear bool) {
	c.record(fmt.Sprintf("SetMicTestHearing %v", hear))
}

func (c *fakeController) StopMicTest() { c.record("StopMicTest") }

func (c *fakeController) MicLevel() app.MicLevel {
	c.mu.Lock()
	defer c.mu.Unlock()
	ml := c.mic
	ml.SilenceBelow = float64(c.settings.Input.SilenceBelowPercent) / 100
	ml.SpeechAbove = float64(c.settings.Input.SpeechAbovePercent) / 100
	return ml
}

// setMic sets what MicLevel returns.
func (c *fakeController) setMic(ml app.MicLevel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mic = ml
}

// recorded returns the intents recorded so far.
func (c *fakeController) recorded() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}
