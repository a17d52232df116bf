package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mobile"
	"github.com/tumble-voip/tumble/voice"
)

// dialogTexts returns the texts of the labels and buttons in the
// window's top overlay (the dialog showing), and the buttons by text.
func dialogTexts(win fyne.Window) (texts []string, buttons map[string]*widget.Button) {
	top := win.Canvas().Overlays().Top()
	if top == nil {
		return nil, nil
	}
	buttons = map[string]*widget.Button{}
	for _, o := range test.LaidOutObjects(top) {
		switch w := o.(type) {
		case *widget.Label:
			texts = append(texts, w.Text)
		case *widget.Button:
			texts = append(texts, w.Text)
			buttons[w.Text] = w
		}
	}
	return texts, buttons
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMicPrompt(t *testing.T) {
	test.NewTempApp(t)
	win := test.NewTempWindow(t, widget.NewLabel("Tumble"))
	win.Resize(fyne.NewSize(360, 720))
	p := newMicPrompt(win)
	acts := 0
	act := func() { acts++ }

	p.ShowMic(mobile.MicDenied, false, act)
	texts, buttons := dialogTexts(win)
	for _, want := range []string{micTitle, mobile.MicDenied.Message(), "Allow microphone", micDismiss} {
		if !has(texts, want) {
			t.Errorf("denied: the dialog lacks %q; it shows %q", want, texts)
		}
	}
	// "Not now" closes it without acting.
	test.Tap(buttons[micDismiss])
	if win.Canvas().Overlays().Top() != nil || acts != 0 {
		t.Errorf("after \"Not now\": dialog %v, %d acts", win.Canvas().Overlays().Top() != nil, acts)
	}

	// The reminder of a refusal for good; the action opens the settings.
	p.ShowMic(mobile.MicBlocked, true, act)
	texts, buttons = dialogTexts(win)
	for _, want := range []string{micReminderTitle, mobile.MicBlocked.Message(), "Open settings"} {
		if !has(texts, want) {
			t.Errorf("blocked reminder: the dialog lacks %q; it shows %q", want, texts)
		}
	}
	test.Tap(buttons["Open settings"])
	if acts != 1 || win.Canvas().Overlays().Top() != nil {
		t.Errorf("after \"Open settings\": %d acts, dialog %v", acts, win.Canvas().Overlays().Top() != nil)
	}

	// A new state replaces the dialog; one without an action takes it down.
	p.ShowMic(mobile.MicDenied, false, act)
	p.ShowMic(mobile.MicBlocked, false, act)
	if n := len(win.Canvas().Overlays().List()); n != 1 {
		t.Errorf("%d dialogs after a state change, want 1", n)
	}
	for _, st := range []mobile.MicState{mobile.MicAsking, mobile.MicGranted, mobile.MicUnknown} {
		p.ShowMic(mobile.MicDenied, false, act)
		p.ShowMic(st, false, act)
		if win.Canvas().Overlays().Top() != nil {
			t.Errorf("a dialog shows for %v", st)
		}
	}
	if acts != 1 {
		t.Errorf("%d acts without a tap", acts-1)
	}

	p.ShowError(errors.New("binder died"))
	texts, _ = dialogTexts(win)
	if !strings.Contains(strings.Join(texts, "\n"), "binder died") {
		t.Errorf("error dialog shows %q", texts)
	}
}

// standIn is the phone's system for TestPhonePlatform: a permission
// that the user refuses in the dialog, and effects. (The Platform is the
// hardware and OS boundary; no phone runs here.)
type standIn struct {
	mu       sync.Mutex
	granted  bool
	explain  bool
	requests int
}

func (s *standIn) APILevel() int { return 34 }

func (s *standIn) MicrophoneGranted() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.granted, nil
}

func (s *standIn) ShouldExplainMicrophone() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.explain, nil
}

func (s *standIn) RequestMicrophone() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	return nil
}

func (s *standIn) OpenAppSettings() error { return nil }

func (s *standIn) VoiceEffects() (mobile.Effects, error) {
	return mobile.Effects{EchoCancel: true, NoiseSuppress: true}, nil
}

func (s *standIn) SetCommunicationMode(bool) error { return nil }

// TestPhonePlatform runs the Android platform of this program on Linux:
// the configuration it gives the controller, and the permission flow
// from the app's start to the dialog the user sees after refusing.
func TestPhonePlatform(t *testing.T) {
	sys := &standIn{}
	ph, err := mobile.NewPhone(mobile.PhoneConfig{Platform: sys, FilesDir: t.TempDir(), Exit: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	var plat platform = phone{ph}

	cfg := app.ControllerConfig{TorMode: "off", AudioBackend: app.AudioNull}
	if err := plat.Configure(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.AudioPlatform == nil || filepath.Base(cfg.ConfigDir) != "tumble" {
		t.Fatalf("configuration: AudioPlatform %v, ConfigDir %q", cfg.AudioPlatform, cfg.ConfigDir)
	}
	if plan := cfg.AudioPlatform.PlanAudio(voice.Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}); plan.Tumble != (voice.Effects{GainControl: true}) {
		t.Errorf("plan %+v: the phone's echo canceller and noise suppressor are not used", plan)
	}
	ctrl, err := app.NewController(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()

	a := test.NewTempApp(t)
	win := test.NewTempWindow(t, widget.NewLabel("Tumble"))
	if err := plat.Start(a, win, ctrl); err != nil {
		t.Fatal(err)
	}
	type hooks interface {
		OnStarted() func()
		OnEnteredForeground() func()
		OnExitedForeground() func()
	}
	lc, ok := a.Lifecycle().(hooks)
	if !ok {
		t.Fatalf("test app lifecycle %T has no hook getters", a.Lifecycle())
	}
	lc.OnStarted()()
	if sys.requests != 1 {
		t.Fatalf("%d permission requests at start, want 1", sys.requests)
	}
	// Android's dialog comes up and the user refuses.
	lc.OnExitedForeground()()
	sys.mu.Lock()
	sys.explain = true
	sys.mu.Unlock()
	lc.OnEnteredForeground()()
	texts, buttons := dialogTexts(win)
	if !has(texts, mobile.MicDenied.Message()) || buttons["Allow microphone"] == nil {
		t.Fatalf("after the refusal the window shows %q", texts)
	}
	test.Tap(buttons["Allow microphone"])
	if sys.requests != 2 {
		t.Errorf("%d permission requests after \"Allow microphone\", want 2", sys.requests)
	}
}
