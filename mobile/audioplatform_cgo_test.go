//go:build cgo

package mobile

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/device/pulsetest"
	"github.com/tumble-voip/tumble/voice/vad"
)

// TestPlanOnTheSender applies plans for several phones to the Sender's
// defaults and runs a real Sender (speexdsp, Opus) with each: the
// configuration stays valid, the Sender runs exactly the plan's stages,
// and a phone with its own gain control leaves Tumble's AGC at 0 dB on a
// quiet voice that Tumble's AGC raises on a phone without one.
func TestPlanOnTheSender(t *testing.T) {
	def := voice.DefaultSendConfig()
	want := voice.Stages(def)
	if want != (voice.Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}) {
		t.Fatalf("the default Sender configuration wants %+v", want)
	}
	gain := map[string]int{}
	for _, tc := range []struct {
		name string
		api  int
		fx   Effects
	}{
		{"phone does everything", 34, Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}},
		{"phone lacks gain control", 34, Effects{EchoCancel: true, NoiseSuppress: true}},
		{"phone has nothing", 34, Effects{}},
		{"Android 8.1", 27, Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := NewAudioPlatform(&phone{api: tc.api, fx: tc.fx}).PlanAudio(want)
			cfg := plan.Apply(def)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("planned configuration invalid: %v", err)
			}
			if got := voice.Stages(cfg); got != plan.Tumble {
				t.Errorf("Sender runs %+v, the plan says %+v", got, plan.Tumble)
			}
			// Transmit all the time: the AGC adapts only while sending.
			cfg.Transmit = vad.Continuous
			s, err := voice.NewSender(cfg, func(voice.Packet) {}, nil)
			if err != nil {
				t.Fatalf("NewSender: %v", err)
			}
			defer s.Close()
			frame := make([]int16, voice.FrameSamples)
			var phase float64
			for i := range 400 { // 4 s
				quietVoice(frame, &phase, i)
				if err := s.Process(frame); err != nil {
					t.Fatal(err)
				}
			}
			gain[tc.name] = s.Stats().GainDB
			if !plan.Tumble.GainControl && s.Stats().GainDB != 0 {
				t.Errorf("the phone does gain control, yet Tumble's AGC is at %d dB", s.Stats().GainDB)
			}
		})
	}
	t.Logf("Tumble's AGC gain after 4 s of a quiet voice: %v", gain)
	if gain["phone lacks gain control"] <= 0 {
		t.Errorf("Tumble's AGC did not raise a quiet voice (%d dB) where the phone has no gain control", gain["phone lacks gain control"])
	}
}

// quietVoice fills frame (10 ms) with a voice-like signal around
// -40 dBFS: a 140 Hz buzz with harmonics, syllables of 200 ms.
func quietVoice(frame []int16, phase *float64, n int) {
	on := (n/20)%2 == 0
	for i := range frame {
		v := 0.0
		if on {
			for h := 1; h <= 8; h++ {
				v += math.Sin(float64(h)**phase) / float64(h)
			}
		}
		frame[i] = int16(300 * v)
		*phase += 2 * math.Pi * 140 / 48000
	}
	*phase = math.Mod(*phase, 2*math.Pi)
}

// recordingPlatform is mobile's AudioPlatform with a record of what the
// controller asked of it.
type recordingPlatform struct {
	*AudioPlatform
	mu    sync.Mutex
	wants []voice.Effects
	plans []voice.Plan
}

func (r *recordingPlatform) PlanAudio(want voice.Effects) voice.Plan {
	plan := r.AudioPlatform.PlanAudio(want)
	r.mu.Lock()
	r.wants = append(r.wants, want)
	r.plans = append(r.plans, plan)
	r.mu.Unlock()
	return plan
}

func (r *recordingPlatform) calls() ([]voice.Effects, []voice.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]voice.Effects(nil), r.wants...), append([]voice.Plan(nil), r.plans...)
}

// waitState follows ctrl until cond holds.
func waitState(t *testing.T, ctrl *app.Controller, what string, cond func(app.State) bool) app.State {
	t.Helper()
	ch, cancel := ctrl.Watch()
	defer cancel()
	deadline := time.After(30 * time.Second)
	for {
		if st := ctrl.State(); cond(st) {
			return st
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; state %+v", what, ctrl.State())
		}
	}
}

// TestControllerUsesAudioPlatform runs a real controller against a real
// Mumble server on loopback with real sound devices (a private
// PulseAudio: the desktop stand-in for AAudio) and mobile's AudioPlatform
// over a stand-in phone that has an echo canceller and a noise
// suppressor. The controller must plan with the stages its settings want,
// show the plan, switch the voice-call mode on once the devices are open
// and off when they close, show a refused mode switch, re-plan when the
// settings change, and leave the platform alone with null devices.
func TestControllerUsesAudioPlatform(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	pulsetest.StartT(t)

	ph := &phone{api: 34, fx: Effects{EchoCancel: true, NoiseSuppress: true}}
	rec := &recordingPlatform{AudioPlatform: NewAudioPlatform(ph)}
	ctrl, err := app.NewController(context.Background(), app.ControllerConfig{
		ConfigDir:     t.TempDir(),
		TorMode:       "off",
		AudioBackend:  app.AudioDevices,
		AudioPlatform: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()
	b, err := ctrl.SaveBookmark(app.Bookmark{Label: "loopback", Address: "127.0.0.1", Port: srv.Port, Username: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	connected := func(st app.State) bool {
		if st.Phase == app.PhaseDisconnected {
			t.Fatalf("connection failed: %+v", st.Problem)
		}
		return st.Phase == app.PhaseConnected && st.Audio != ""
	}
	idle := func(st app.State) bool { return st.Phase != app.PhaseConnected && st.Phase != app.PhaseConnecting }

	ctrl.Connect(b.ID)
	st := waitState(t, ctrl, "connected", connected)
	t.Logf("sound status: %s", st.Audio)
	wants, plans := rec.calls()
	all := voice.Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}
	if len(wants) != 1 || wants[0] != all {
		t.Fatalf("plans asked for %+v, want one for %+v (the default settings)", wants, all)
	}
	if plans[0].Tumble != (voice.Effects{GainControl: true}) {
		t.Errorf("plan %+v", plans[0])
	}
	if !strings.Contains(st.Audio, "Processing: phone: echo cancellation, noise suppression; Tumble: gain control") {
		t.Errorf("the sound status does not show the plan: %q", st.Audio)
	}
	if got := ph.modes(); len(got) != 1 || !got[0] {
		t.Errorf("communication mode calls %v after connecting, want [true]", got)
	}

	// Settings change while connected: a new plan for what they want.
	s := ctrl.Settings()
	s.Input.NoiseSuppressionDB = 0
	if err := ctrl.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for wants, _ = rec.calls(); len(wants) < 2 && time.Now().Before(deadline); wants, _ = rec.calls() {
		time.Sleep(10 * time.Millisecond)
	}
	if len(wants) != 2 || wants[1] != (voice.Effects{EchoCancel: true, GainControl: true}) {
		t.Errorf("after turning noise suppression off the plans asked for %+v", wants)
	}

	ctrl.Disconnect()
	waitState(t, ctrl, "disconnected", idle)
	deadline = time.Now().Add(10 * time.Second)
	for len(ph.modes()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := ph.modes(); len(got) != 2 || got[1] {
		t.Errorf("communication mode calls %v after disconnecting, want [true false]", got)
	}

	// The phone refuses the mode: the connection stands and says why.
	ph.mu.Lock()
	ph.modeErr = errors.New("java.lang.SecurityException: no MODIFY_AUDIO_SETTINGS")
	ph.mu.Unlock()
	ctrl.Connect(b.ID)
	st = waitState(t, ctrl, "connected again", connected)
	if !strings.Contains(st.Audio, "voice-call audio mode could not be switched on") || !strings.Contains(st.Audio, "MODIFY_AUDIO_SETTINGS") {
		t.Errorf("the sound status does not show the refusal: %q", st.Audio)
	}
	ctrl.Disconnect()
	waitState(t, ctrl, "disconnected again", idle)

	// Null devices: the platform is not consulted.
	ph2 := &phone{fx: Effects{EchoCancel: true}}
	rec2 := &recordingPlatform{AudioPlatform: NewAudioPlatform(ph2)}
	nullCtrl, err := app.NewController(context.Background(), app.ControllerConfig{
		ConfigDir: t.TempDir(), TorMode: "off", AudioBackend: app.AudioNull, AudioPlatform: rec2,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer nullCtrl.Close()
	b2, err := nullCtrl.SaveBookmark(app.Bookmark{Label: "loopback", Address: "127.0.0.1", Port: srv.Port, Username: "desk"})
	if err != nil {
		t.Fatal(err)
	}
	nullCtrl.Connect(b2.ID)
	waitState(t, nullCtrl, "null devices connected", connected)
	nullCtrl.Disconnect()
	waitState(t, nullCtrl, "null devices disconnected", idle)
	if wants, _ := rec2.calls(); len(wants) != 0 || len(ph2.modes()) != 0 || ph2.fxReads != 0 {
		t.Errorf("null devices consulted the platform: plans %+v, modes %v, effect reads %d", wants, ph2.modes(), ph2.fxReads)
	}
}
