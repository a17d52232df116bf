package ui

import (
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// LayoutMode chooses between the desktop and the phone arrangement of the
// main window.
type LayoutMode int

// Layout modes.
const (
	// LayoutAuto uses the phone layout on mobile devices and whenever the
	// window is narrower than MobileBreakpoint, the desktop layout
	// otherwise.
	LayoutAuto LayoutMode = iota
	// LayoutDesktop always shows the three panes side by side.
	LayoutDesktop
	// LayoutMobile always shows the panes as tabs.
	LayoutMobile
)

// MobileBreakpoint is the window width (in Fyne units) below which
// LayoutAuto switches to the phone layout.
const MobileBreakpoint = 640

// DefaultPTTKey is the key held for push-to-talk on a desktop.
const DefaultPTTKey = desktop.KeyControlRight

// Options tunes a UI. The zero value is ready to use.
type Options struct {
	// Layout chooses the arrangement; the zero value is LayoutAuto.
	Layout LayoutMode
	// PTTKey is the key held for push-to-talk; empty is DefaultPTTKey.
	PTTKey fyne.KeyName
	// NoEmbeddedTor says that this build has no embedded Tor, so the
	// interface can say so before the user tries to connect.
	NoEmbeddedTor bool
	// Notice, if not empty, is shown in the status area (for example why
	// amnesic mode is on).
	Notice string
	// AudioCheck shows the audio check when the window is first shown,
	// if it was never shown (real sound devices: not for stand-ins).
	AudioCheck bool
	// WindowPTT holds no desktop-wide push-to-talk key (no X11 grab, no
	// portal shortcut): push-to-talk then works while the window has the
	// focus, whatever widget in it has the keyboard.
	WindowPTT bool
}

// UI is Tumble's main window with its dialogs. Create it with New; all
// methods must be called on Fyne's goroutine (from callbacks, or through
// fyne.Do), except Start and Stop.
type UI struct {
	fyneApp fyne.App
	ctrl    Controller
	host    *hostDialog // the open Host dialog, or nil
	win     fyne.Window
	opts    Options

	tor      *torBar
	session  *sessionBar
	servers  *serversPane
	channels *channelsPane
	chat     *chatPane
	controls *controlsBar
	panes    *adaptive

	state        app.State     // the state last applied
	problemShown string        // key of the problem whose dialog was shown
	certQ        *certQuestion // the open certificate question, if any
	registered   chan struct{} // closed when the last Register's answer shows
	settingsOpen *settingsForm // the Settings dialog while it is open
	audioCheck   *micPanel     // the audio check while it is open
	compact      bool          // the phone layout is showing
	pttKeyHeld   bool
	global       globalPTT          // the desktop-wide push-to-talk key (globalptt.go)
	captureKey   func(fyne.KeyName) // set while the push-to-talk key is being chosen
	dialogs      []*keyDialog       // the shown dialogs, topmost last (keys.go)

	// async runs work that blocks (a controller call that waits for the
	// server, the sound system or the desktop) off Fyne's goroutine; the
	// work shows its result through fyne.Do. Tests run it in place:
	// Fyne's test driver runs fyne.Do in place too, and a goroutine
	// would race the test's own calls.
	async func(func())
	// meterEvery is how often an open level meter reads the level; 0
	// never (tests show the readings themselves).
	meterEvery time.Duration

	phase    atomic.Int32 // state.Phase, read by the watch goroutine
	watchMu  sync.Mutex
	stopOnce func()
}

// New builds the main window for ctrl in a, shows the current state and
// returns the UI. The window is not shown; call Window().Show or
// ShowAndRun. opts may be nil.
func New(a fyne.App, ctrl Controller, opts *Options) *UI {
	u := &UI{fyneApp: a, ctrl: ctrl, meterEvery: meterInterval, async: func(f func()) { go f() }}
	if opts != nil {
		u.opts = *opts
	}
	if u.opts.PTTKey == "" {
		u.opts.PTTKey = DefaultPTTKey
	}
	u.win = a.NewWindow("Tumble")

	u.tor = newTorBar(u)
	u.session = newSessionBar(u)
	u.servers = newServersPane(u)
	u.channels = newChannelsPane(u)
	u.chat = newChatPane(u)
	u.controls = newControlsBar(u)
	u.panes = newAdaptive(u)

	top := container.NewVBox(u.tor.object(), u.session.object())
	u.win.SetContent(container.NewBorder(top, u.controls.object(), nil, nil, u.panes))
	if u.opts.Layout == LayoutMobile || (u.opts.Layout == LayoutAuto && isMobileDevice()) {
		u.win.Resize(fyne.NewSize(360, 720))
	} else {
		u.win.Resize(fyne.NewSize(1180, 720))
	}
	if dc, ok := u.win.Canvas().(desktop.Canvas); ok {
		dc.SetOnKeyDown(u.keyDown)
		dc.SetOnKeyUp(u.keyUp)
	}
	u.win.Canvas().SetOnTypedKey(u.typedKey)
	u.Sync()
	return u
}

// Window returns the main window.
func (u *UI) Window() fyne.Window { return u.win }

// ShowAndRun follows the controller, shows the window and runs the Fyne
// event loop until the window is closed.
func (u *UI) ShowAndRun() {
	u.Start()
	defer u.Stop()
	if u.opts.AudioCheck {
		u.showFirstAudioCheck()
	}
	u.updateGlobalPTT()
	defer u.stopGlobalPTT()
	u.win.ShowAndRun()
}

// Sync reads the controller's state and shows it at once.
func (u *UI) Sync() {
	u.apply(u.ctrl.State())
}

// apply shows st.
func (u *UI) apply(st app.State) {
	u.tor.apply(st)
	u.session.apply(st)
	u.servers.apply(st)
	u.channels.apply(st)
	u.chat.apply(st)
	u.controls.apply(st)
	u.win.SetTitle(windowTitle(st))
	prev := u.state
	u.state = st
	u.phase.Store(int32(st.Phase))
	if st.Phase == app.PhaseConnected && prev.Phase != app.PhaseConnected {
		u.panes.showTab(tabChannels)
	}
	u.showProblem(st)
	u.showCertificateQuestion(st)
	if u.host != nil {
		u.host.apply(st)
	}
	if u.global.key != "" { // following the desktop's keys: follow a changed key
		u.updateGlobalPTT()
	}
}

// Start follows the controller: every change it signals is shown through
// fyne.Do. While a countdown or Tor's bootstrap is running the state is
// also re-read every second. Start may be called from any goroutine; a
// second call does nothing until Stop.
func (u *UI) Start() {
	u.watchMu.Lock()
	defer u.watchMu.Unlock()
	if u.stopOnce != nil {
		return
	}
	changed, cancel := u.ctrl.Watch()
	quit := make(chan struct{})
	var once sync.Once
	u.stopOnce = func() {
		once.Do(func() {
			cancel()
			close(quit)
		})
	}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case _, ok := <-changed:
				if !ok {
					return
				}
				fyne.Do(u.Sync)
			case <-tick.C:
				switch app.Phase(u.phase.Load()) {
				case app.PhaseReconnectWait, app.PhaseStartingTor:
					fyne.Do(u.Sync)
				}
			}
		}
	}()
}

// Stop stops following the controller. It may be called from any
// goroutine, more than once.
func (u *UI) Stop() {
	u.watchMu.Lock()
	stop := u.stopOnce
	u.stopOnce = nil
	u.watchMu.Unlock()
	if stop != nil {
		stop()
	}
}

// setCompact adapts labels to the phone layout: the tabs name the panes,
// and buttons show icons where text does not fit.
func (u *UI) setCompact(on bool) {
	u.compact = on
	for _, t := range []*widget.Label{u.servers.title, u.channels.title, u.chat.title} {
		if on {
			t.Hide()
		} else {
			t.Show()
		}
	}
	if on {
		u.tor.settings.SetText("")
	} else {
		u.tor.settings.SetText("Settings")
	}
	u.controls.apply(u.state)
}

// connect starts connecting to a bookmark.
func (u *UI) connect(id string) {
	u.ctrl.Connect(id)
	u.Sync()
	u.panes.showTab(tabChannels)
}

// pttKey is the push-to-talk key: the settings' (Audio Input), else
// Options.PTTKey.
func (u *UI) pttKey() fyne.KeyName {
	if k := u.ctrl.Settings().Input.PTTKey; k != "" {
		return fyne.KeyName(k)
	}
	return u.opts.PTTKey
}

// keyDown and keyUp implement push-to-talk on the window's key events.
func (u *UI) keyDown(ev *fyne.KeyEvent) {
	if u.captureKey != nil {
		if ev.Name != fyne.KeyEscape { // Escape closes the dialog (typedKey)
			u.captureKey(ev.Name)
		}
		return
	}
	if ev.Name != u.pttKey() || u.pttKeyHeld {
		return
	}
	u.pttKeyHeld = true
	u.ctrl.PushToTalk(true)
	u.Sync()
}

// typedKey gives Enter and Escape to the topmost dialog while nothing has
// the focus.
func (u *UI) typedKey(ev *fyne.KeyEvent) {
	u.dialogKey(ev.Name)
}

func (u *UI) keyUp(ev *fyne.KeyEvent) {
	if ev.Name != u.pttKey() || !u.pttKeyHeld {
		return
	}
	u.pttKeyHeld = false
	u.ctrl.PushToTalk(false)
	u.Sync()
}

// windowTitle names the window after the session.
func windowTitle(st app.State) string {
	if st.Bookmark == nil {
		return "Tumble"
	}
	switch st.Phase {
	case app.PhaseConnected:
		return st.Bookmark.Name() + " - Tumble"
	case app.PhaseStartingTor, app.PhaseConnecting, app.PhaseReconnectWait:
		return st.Bookmark.Name() + " (connecting) - Tumble"
	}
	return "Tumble"
}

// isMobileDevice reports whether Fyne runs on a phone or tablet.
func isMobileDevice() bool {
	a := fyne.CurrentApp()
	if a == nil {
		return false
	}
	return fyne.CurrentDevice().IsMobile()
}
