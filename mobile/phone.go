package mobile

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"

	"github.com/tumble-voip/tumble/app"
)

// PhoneConfig configures a Phone.
type PhoneConfig struct {
	// Platform is the phone's system (NewPlatform). Required.
	Platform Platform
	// FilesDir is the app's private files directory (Fyne's Android
	// driver puts it in the environment as FILESDIR). The controller
	// keeps its files in FilesDir/tumble unless it was given a
	// directory: Android apps have no $HOME/.config.
	FilesDir string
	// Exit ends the process once the controller closed after Android
	// destroyed the activity (KeeperConfig.Exit); on Android
	// func() { os.Exit(0) }.
	Exit func()
	// Logf, if set, receives a line for each lifecycle step and each
	// permission call that failed.
	Logf func(format string, args ...any)
}

// MicPrompt shows the user where the microphone permission stands; the
// program implements it with its interface (cmd/tumble: a dialog over the
// main window). Its methods are called on Fyne's goroutine.
type MicPrompt interface {
	// ShowMic shows st.Message with a button labelled st.Action that
	// calls act, in place of what it showed before; reminder says that a
	// call has just started without the microphone. For a state without
	// an action (unknown, asking, granted) it takes the message down.
	ShowMic(st MicState, reminder bool, act func())
	// ShowError reports a permission call that failed.
	ShowError(err error)
}

// Phone puts this package together for the Tumble program on Android:
// Configure before the controller is created (AudioPlatform, files
// directory), Start once the controller, the Fyne app and the user
// interface exist. From then on the microphone permission is asked for
// when the app starts and checked again when a connection begins; a
// refusal is shown with the way out (ask again, or the app's settings
// page) when it happens and once more when a call starts without the
// microphone; the screen stays on during a call; and the controller
// (audio and Tor) is closed when Android destroys the activity.
type Phone struct {
	cfg   PhoneConfig
	audio *AudioPlatform

	mu      sync.Mutex // guards started
	started bool

	// Set by Start, before anything can use them.
	mic    *Microphone
	prompt MicPrompt

	reminded bool         // the current refusal was shown for a call (Fyne's goroutine)
	seen     atomic.Int32 // the last phase followConnections handled
}

// NewPhone returns a Phone for cfg.
func NewPhone(cfg PhoneConfig) (*Phone, error) {
	if cfg.Platform == nil {
		return nil, errors.New("mobile: Phone needs a Platform")
	}
	return &Phone{cfg: cfg, audio: NewAudioPlatform(cfg.Platform)}, nil
}

// Configure completes the controller's configuration: the AudioPlatform,
// and the files directory when cfg names none.
func (p *Phone) Configure(cfg *app.ControllerConfig) error {
	cfg.AudioPlatform = p.audio
	if cfg.ConfigDir == "" {
		if p.cfg.FilesDir == "" {
			return errors.New("mobile: Android gave Tumble no files directory (FILESDIR is not set)")
		}
		cfg.ConfigDir = filepath.Join(p.cfg.FilesDir, "tumble")
	}
	return nil
}

// Start hooks the Phone into a's lifecycle and ctrl, with prompt for the
// permission's messages; call it once, before the Fyne event loop runs.
// The permission is first asked for when Fyne reports the app started.
func (p *Phone) Start(a fyne.App, ctrl *app.Controller, prompt MicPrompt) error {
	if prompt == nil {
		return errors.New("mobile: Phone needs a MicPrompt")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("mobile: Phone started twice")
	}
	p.prompt = prompt
	p.mic = NewMicrophone(p.cfg.Platform, func(st MicState) {
		fyne.Do(func() { p.show(st) })
	})
	k, err := NewKeeper(KeeperConfig{
		Lifecycle:  a.Lifecycle(),
		Close:      ctrl.Close,
		Exit:       p.cfg.Exit,
		Screen:     a.Driver(),
		Microphone: p.mic,
		Logf:       p.cfg.Logf,
	})
	if err != nil {
		return err
	}
	p.started = true
	a.Lifecycle().SetOnStarted(p.ensure)
	go k.Follow(context.Background(), ctrl)
	go p.followConnections(ctrl)
	return nil
}

// show shows a new state of the permission (Fyne's goroutine).
func (p *Phone) show(st MicState) {
	p.reminded = false
	p.prompt.ShowMic(st, false, p.act)
}

// remind shows a refusal once more when a call starts; once per refusal
// (Fyne's goroutine).
func (p *Phone) remind() {
	st := p.mic.State()
	if p.reminded || (st != MicDenied && st != MicBlocked) {
		return
	}
	p.reminded = true
	p.prompt.ShowMic(st, true, p.act)
}

// ensure asks for the permission unless granted (Microphone.Ensure) and
// shows a failure. It runs on Fyne's goroutine.
func (p *Phone) ensure() {
	if _, err := p.mic.Ensure(); err != nil {
		p.logf("%v", err)
		p.prompt.ShowError(err)
	}
}

// act is the prompt's action button: ask again, or open the settings
// (Fyne's goroutine).
func (p *Phone) act() {
	if _, err := p.mic.Act(); err != nil {
		p.logf("%v", err)
		p.prompt.ShowError(err)
	}
}

// followConnections checks the permission when a connection begins and
// reminds once per refusal when a call starts without the microphone.
// It returns when the controller closes.
func (p *Phone) followConnections(ctrl *app.Controller) {
	ch, cancel := ctrl.Watch()
	defer cancel()
	prev := ctrl.State().Phase
	p.seen.Store(int32(prev))
	for range ch {
		cur := ctrl.State().Phase
		if active(cur) && !active(prev) {
			fyne.Do(p.ensure)
		}
		if cur == app.PhaseConnected && prev != app.PhaseConnected {
			fyne.Do(p.remind)
		}
		prev = cur
		p.seen.Store(int32(cur))
	}
}

// active reports whether a connection attempt or call is under way.
func active(ph app.Phase) bool {
	return ph == app.PhaseStartingTor || ph == app.PhaseConnecting || ph == app.PhaseConnected
}

// logf logs errors, which carry the package name.
func (p *Phone) logf(format string, args ...any) {
	if p.cfg.Logf != nil {
		p.cfg.Logf(format, args...)
	}
}
