package mobile

import (
	"fmt"
	"sync"

	"github.com/tumble-voip/tumble/voice"
)

// AudioPlatform is voice.Platform on an Android phone (set it as
// app.ControllerConfig.AudioPlatform): the microphone opens with the
// voice-communication input preset so that the phone's own echo
// canceller, noise suppressor and gain control do the work Tumble's
// stages would do (PlanCapture), the speaker opens as a voice call, and
// the audio system is in its voice-call mode while a connection's sound
// devices are open. Its methods are safe for concurrent use.
type AudioPlatform struct {
	p Platform

	mu     sync.Mutex
	fx     Effects // the phone's effects, once read
	probed bool    // fx was read successfully
}

var _ voice.Platform = (*AudioPlatform)(nil)

// NewAudioPlatform returns the AudioPlatform over p. Nothing is asked of
// the phone until the first plan.
func NewAudioPlatform(p Platform) *AudioPlatform {
	return &AudioPlatform{p: p}
}

// PlanAudio implements voice.Platform: PlanCapture for the phone's API
// level and effects and the stages the settings want. The phone's effects
// are read once; when that fails, the plan uses the voice-recognition
// preset and leaves every wanted stage to Tumble (no stage runs twice, or
// unaccounted for), its description says why, and the next plan reads
// again.
func (a *AudioPlatform) PlanAudio(want voice.Effects) voice.Plan {
	return a.plan(Effects(want)).audioPlan()
}

// plan is PlanAudio in this package's terms.
func (a *AudioPlatform) plan(want Effects) CapturePlan {
	fx, err := a.effects()
	if err != nil {
		return planUnknownEffects(want, err)
	}
	return PlanCapture(a.p.APILevel(), fx, want)
}

// effects returns the phone's effects, reading them on the first call
// that succeeds.
func (a *AudioPlatform) effects() (Effects, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.probed {
		return a.fx, nil
	}
	fx, err := a.p.VoiceEffects()
	if err != nil {
		return Effects{}, fmt.Errorf("mobile: read the phone's voice effects: %w", err)
	}
	a.fx, a.probed = fx, true
	return fx, nil
}

// AudioActive implements voice.Platform: the audio system's voice-call
// mode (MODE_IN_COMMUNICATION) while a connection's sound devices are open,
// the normal mode after. Many phones route a call and engage their echo
// canceller only in that mode.
func (a *AudioPlatform) AudioActive(on bool) error {
	if err := a.p.SetCommunicationMode(on); err != nil {
		if on {
			return fmt.Errorf("mobile: the phone's voice-call audio mode could not be switched on: %w", err)
		}
		return fmt.Errorf("mobile: the phone's voice-call audio mode could not be switched off: %w", err)
	}
	return nil
}

// audioPlan returns the plan in voice's terms; the description is String.
// (The conversions between Effects and voice.Effects compile only while
// both have the same fields.)
func (p CapturePlan) audioPlan() voice.Plan {
	return voice.Plan{
		Tumble:      voice.Effects(p.Tumble),
		Capture:     p.Capture,
		Playback:    p.Playback,
		Description: p.String(),
	}
}
