package mobile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice"
)

func TestPhoneConfigure(t *testing.T) {
	if _, err := NewPhone(PhoneConfig{}); err == nil {
		t.Error("NewPhone without a Platform succeeded")
	}
	files := t.TempDir()
	ph := &phone{fx: Effects{EchoCancel: true}}
	p, err := NewPhone(PhoneConfig{Platform: ph, FilesDir: files})
	if err != nil {
		t.Fatal(err)
	}
	var cfg app.ControllerConfig
	if err := p.Configure(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ConfigDir != filepath.Join(files, "tumble") {
		t.Errorf("ConfigDir %q, want tumble in the files directory", cfg.ConfigDir)
	}
	if cfg.AudioPlatform == nil {
		t.Fatal("no AudioPlatform")
	}
	if plan := cfg.AudioPlatform.PlanAudio(voice.Effects{EchoCancel: true}); plan.Tumble.EchoCancel {
		t.Errorf("the configured AudioPlatform does not use the phone's echo canceller: %+v", plan)
	}

	// The controller keeps its files there.
	cfg.TorMode = "off"
	ctrl, err := app.NewController(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()
	if _, err := ctrl.SaveBookmark(app.Bookmark{Label: "x", Address: "127.0.0.1", Port: 64738, Username: "u"}); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(cfg.ConfigDir); err != nil || len(entries) == 0 {
		t.Errorf("nothing saved in %s: %v", cfg.ConfigDir, err)
	}

	// A directory given on the command line wins.
	cfg = app.ControllerConfig{ConfigDir: "/given"}
	if err := p.Configure(&cfg); err != nil || cfg.ConfigDir != "/given" {
		t.Errorf("Configure with a directory: %q, %v", cfg.ConfigDir, err)
	}
	// No files directory and none given: a clear error.
	bare, _ := NewPhone(PhoneConfig{Platform: ph})
	cfg = app.ControllerConfig{}
	if err := bare.Configure(&cfg); err == nil || !strings.Contains(err.Error(), "FILESDIR") {
		t.Errorf("Configure without a files directory: %v", err)
	}
}

// lifecycleHooks reads back the hooks installed on Fyne's lifecycle type.
type lifecycleHooks interface {
	hooks
	OnStarted() func()
}

// prompt records what the Phone shows the user, as the screen shows it:
// cmd/tumble renders a MicPrompt as a dialog and tests that rendering.
type prompt struct {
	mu       sync.Mutex
	visible  bool     // a message with a button is up
	st       MicState // its state
	reminder bool
	act      func()
	errs     []error
}

func (r *prompt) ShowMic(st MicState, reminder bool, act func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.visible = st.Action() != ""
	r.st, r.reminder, r.act = st, reminder, act
}

func (r *prompt) ShowError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// showing returns the message up, if any.
func (r *prompt) showing() (st MicState, reminder, visible bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st, r.reminder, r.visible
}

// tap is the user's tap on the message's button; dismiss on "Not now".
func (r *prompt) tap(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	act, visible := r.act, r.visible
	r.visible = false
	r.mu.Unlock()
	if !visible || act == nil {
		t.Fatal("no button to tap")
	}
	act()
}

func (r *prompt) dismiss() {
	r.mu.Lock()
	r.visible = false
	r.mu.Unlock()
}

// startPhone starts a Phone over ph with a test app and a real
// controller (no network, null sound).
func startPhone(t *testing.T, ph *phone) (*Phone, lifecycleHooks, *prompt, *app.Controller, *atomic.Int32) {
	t.Helper()
	a := test.NewTempApp(t)
	lc, ok := a.Lifecycle().(lifecycleHooks)
	if !ok {
		t.Fatalf("test app lifecycle %T has no hook getters", a.Lifecycle())
	}
	ctrl := newController(t)
	var exits atomic.Int32
	p, err := NewPhone(PhoneConfig{Platform: ph, Exit: func() { exits.Add(1) }, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(a, ctrl, nil); err == nil {
		t.Fatal("Start without a prompt succeeded")
	}
	pr := &prompt{}
	if err := p.Start(a, ctrl, pr); err != nil {
		t.Fatal(err)
	}
	return p, lc, pr, ctrl, &exits
}

// TestPhonePermissionFlow walks the permission from the first start to a
// refusal, asking again, a refusal for good, the settings page and the
// grant, as the user sees it in the window, then the activity's end.
func TestPhonePermissionFlow(t *testing.T) {
	ph := &phone{}
	p, lc, pr, ctrl, exits := startPhone(t, ph)
	if ph.requests != 0 {
		t.Fatal("asked before the app started")
	}

	// The app starts: Android's dialog is requested, Tumble shows nothing.
	lc.OnStarted()()
	if ph.requests != 1 || p.mic.State() != MicAsking {
		t.Fatalf("after start: %d requests, state %v", ph.requests, p.mic.State())
	}
	if _, _, visible := pr.showing(); visible {
		t.Fatal("a message shows while Android asks")
	}

	// The user refuses in Android's dialog.
	lc.OnExitedForeground()()
	ph.dialog()
	lc.OnEnteredForeground()()
	if st, reminder, visible := pr.showing(); st != MicDenied || reminder || !visible {
		t.Fatalf("after the refusal: shows %v (reminder %v, visible %v)", st, reminder, visible)
	}
	pr.tap(t) // "Allow microphone"
	if ph.requests != 2 || p.mic.State() != MicAsking {
		t.Fatalf("after \"Allow microphone\": %d requests, state %v", ph.requests, p.mic.State())
	}
	if st, _, visible := pr.showing(); visible || st != MicAsking {
		t.Errorf("while Android asks again: shows %v, visible %v", st, visible)
	}

	// Refused for good: the way out is the settings page.
	ph.neverAsk = true
	lc.OnExitedForeground()()
	ph.dialog()
	lc.OnEnteredForeground()()
	if st, _, visible := pr.showing(); st != MicBlocked || !visible {
		t.Fatalf("after a refusal for good: shows %v, visible %v", st, visible)
	}
	pr.tap(t) // "Open settings"
	if ph.settings != 1 {
		t.Fatalf("settings page opened %d times", ph.settings)
	}

	// Allowed in the settings: back in Tumble, the message goes.
	lc.OnExitedForeground()()
	ph.mu.Lock()
	ph.granted = true
	ph.mu.Unlock()
	lc.OnEnteredForeground()()
	if st, _, visible := pr.showing(); st != MicGranted || visible {
		t.Errorf("with the permission granted: shows %v, visible %v", st, visible)
	}
	if len(pr.errs) != 0 {
		t.Errorf("errors shown: %v", pr.errs)
	}

	if err := p.Start(test.NewTempApp(t), ctrl, pr); err == nil {
		t.Error("a second Start succeeded")
	}

	// Android destroys the activity: the controller closes, the process ends.
	lc.OnStopped()()
	if exits.Load() != 1 {
		t.Errorf("%d exits after the stop", exits.Load())
	}
	if err := ctrl.Close(); !errors.Is(err, app.ErrControllerClosed) {
		t.Errorf("controller still open after the stop: %v", err)
	}
}

// TestPhoneCheckError: a failing permission check is shown, not hidden.
func TestPhoneCheckError(t *testing.T) {
	ph := &phone{failCheck: errors.New("binder died")}
	_, lc, pr, _, _ := startPhone(t, ph)
	lc.OnStarted()()
	if len(pr.errs) != 1 || !strings.Contains(pr.errs[0].Error(), "binder died") {
		t.Errorf("errors shown: %v", pr.errs)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPhoneConnectWithoutMicrophone connects to a real Mumble server on
// loopback after the user refused the microphone: the connection checks
// the permission again without asking (no nagging), and the refusal is
// shown once more when the call starts, but only once per refusal. A
// permission granted in the settings meanwhile is noticed at the next
// connection.
func TestPhoneConnectWithoutMicrophone(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	ph := &phone{}
	p, lc, pr, ctrl, _ := startPhone(t, ph)
	lc.OnStarted()()
	lc.OnExitedForeground()()
	ph.dialog() // refused
	lc.OnEnteredForeground()()
	if st, _, visible := pr.showing(); st != MicDenied || !visible {
		t.Fatalf("after the refusal: shows %v, visible %v", st, visible)
	}
	pr.dismiss() // "Not now"

	b, err := ctrl.SaveBookmark(app.Bookmark{Label: "loopback", Address: "127.0.0.1", Port: srv.Port, Username: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	// Each step waits until the Phone has followed the controller there.
	connect := func() {
		t.Helper()
		ctrl.Connect(b.ID)
		waitFor(t, "connected", func() bool { return app.Phase(p.seen.Load()) == app.PhaseConnected })
	}
	disconnect := func() {
		t.Helper()
		ctrl.Disconnect()
		waitFor(t, "disconnected", func() bool { return !active(app.Phase(p.seen.Load())) })
	}

	connect()
	if st, reminder, visible := pr.showing(); st != MicDenied || !reminder || !visible {
		t.Errorf("call without the microphone: shows %v, reminder %v, visible %v", st, reminder, visible)
	}
	if ph.requests != 1 {
		t.Errorf("connecting asked again: %d requests", ph.requests)
	}
	pr.dismiss()
	disconnect()

	// Same refusal, next call: no second reminder.
	connect()
	if _, _, visible := pr.showing(); visible {
		t.Error("reminded twice of one refusal")
	}
	disconnect()

	// Allowed in the system settings meanwhile: the next connection
	// notices, and nothing is shown.
	ph.mu.Lock()
	ph.granted = true
	ph.mu.Unlock()
	connect()
	if st := p.mic.State(); st != MicGranted {
		t.Errorf("the grant was not noticed when connecting: %v", st)
	}
	if st, _, visible := pr.showing(); st != MicGranted || visible {
		t.Errorf("with the permission granted: shows %v, visible %v", st, visible)
	}
	if ph.requests != 1 {
		t.Errorf("%d requests in all, want 1", ph.requests)
	}
}
