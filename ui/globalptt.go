package ui

import (
	"context"
	"errors"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/ui/hotkey"
)

// globalPTT holds the push-to-talk key for the whole desktop where the
// system allows it, so that it works while other windows have the focus:
// on Wayland through the XDG GlobalShortcuts portal, on X11 with a key
// grab; elsewhere the window's key events do the work.
type globalPTT struct {
	key    string             // the key grabbed (or tried)
	grab   *hotkey.Grab       // nil when not grabbed
	portal *hotkey.PortalGrab // nil when not bound
	state  string             // says whether push-to-talk is global, and why not

	// While the portal is being asked (the desktop may ask the user),
	// cancel stops the asking goroutine and done is closed when it has
	// returned.
	cancel context.CancelFunc
	done   chan struct{}
}

// updateGlobalPTT holds the settings' push-to-talk key for the desktop,
// again if it changed. Called on Fyne's goroutine while following the
// controller.
func (u *UI) updateGlobalPTT() {
	key := string(u.pttKey())
	if u.global.key == key { // grabbed, or tried and said why not
		return
	}
	u.stopGlobalPTT()
	u.global.key = key
	if u.opts.WindowPTT {
		u.global.state = "Push-to-talk works only while Tumble's window has the focus (--window-ptt)."
		return
	}
	if hotkey.Wayland(os.Getenv) {
		u.bindPortal(key)
		return
	}
	u.grabX11(key, "")
}

// pttChanged is the callback of the desktop-wide key: it runs on the
// grab's goroutine.
func (u *UI) pttChanged(pressed bool) {
	u.ctrl.PushToTalk(pressed)
	fyne.Do(func() {
		u.pttKeyHeld = pressed
		u.Sync()
	})
}

// grabX11 grabs key on the X11 display; why says why the portal was not
// used, if it was tried.
func (u *UI) grabX11(key, why string) {
	ok, avail := hotkey.Availability(os.Getenv)
	u.global.state = avail
	if why != "" {
		u.global.state = "Global push-to-talk is not available here: " + why + ". " + avail
	}
	if !ok {
		return
	}
	g, err := hotkey.NewGrab(key, u.pttChanged)
	switch {
	case errors.Is(err, hotkey.ErrUnsupported):
		u.global.state = "Push-to-talk works only while Tumble's window has the focus: " + err.Error()
	case err != nil:
		u.global.state = "Push-to-talk works only while Tumble's window has the focus (" + err.Error() + ")."
	default:
		u.global.grab = g
		if why != "" {
			u.global.state = "Push-to-talk works in every X11 window (XWayland); in Wayland windows only " +
				"while Tumble's window has the focus, as the desktop has no shortcut portal (" + why + ")."
		}
	}
}

// bindPortal asks the GlobalShortcuts portal for the push-to-talk
// shortcut in the background (the desktop may ask the user first), and
// falls back to an X11 grab (XWayland) or the window's keys, saying so.
func (u *UI) bindPortal(key string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	u.global.cancel, u.global.done = cancel, done
	u.global.state = "Asking the desktop for a global push-to-talk shortcut..."
	u.async(func() {
		defer close(done)
		g, err := hotkey.NewPortalGrab(ctx, key, u.pttChanged)
		fyne.Do(func() {
			if u.global.done != done { // stopped or replaced meanwhile
				if g != nil {
					g.Close()
				}
				return
			}
			u.global.cancel, u.global.done = nil, nil
			if err != nil {
				u.grabX11(key, strings.TrimPrefix(err.Error(), "hotkey: "))
				return
			}
			u.global.portal = g
			u.global.state = "Push-to-talk works while other windows have the focus (the desktop's shortcut " +
				"portal; the desktop's settings may choose another key)."
		})
	})
}

// stopGlobalPTT releases the key, and stops asking the portal.
func (u *UI) stopGlobalPTT() {
	if u.global.cancel != nil {
		u.global.cancel()
		<-u.global.done // the goroutine only queues work for Fyne's
		u.global.cancel, u.global.done = nil, nil
	}
	if u.global.portal != nil {
		u.global.portal.Close()
		u.global.portal = nil
	}
	if u.global.grab != nil {
		u.global.grab.Close()
		u.global.grab = nil
	}
}

// globalPTTState says whether push-to-talk works outside the window.
func (u *UI) globalPTTState() string {
	if u.global.state == "" {
		_, why := hotkey.Availability(os.Getenv)
		return why
	}
	return u.global.state
}

// capturePTTKey asks the user to press the new push-to-talk key and hands
// its name to done; keys push-to-talk cannot use are refused in the
// dialog.
func (u *UI) capturePTTKey(done func(key string)) {
	msg := widget.NewLabel("Press the key to hold for talking...")
	errLabel := wrapLabel("")
	d := u.newCustom("Push-to-talk key", "Cancel", container.NewVBox(msg, errLabel))
	u.captureKey = func(name fyne.KeyName) {
		k, err := app.ParsePTTKey(string(name))
		if err != nil {
			setLabel(errLabel, err.Error())
			return
		}
		u.captureKey = nil
		d.Hide()
		done(k)
	}
	d.SetOnClosed(func() { u.captureKey = nil })
	u.showDialog(d, nil, nil, nil) // nothing focused: the window's key events reach keyDown
}

// pttKeyRow is the settings row of the push-to-talk key: its name, a
// button that asks for a new one, and whether it works outside the
// window.
func (f *settingsForm) pttKeyRow() *setting {
	shown := widget.NewLabel("")
	key := ""
	show := func() { shown.SetText(app.PTTKeyLabel(key)) }
	change := f.ui.newButton("Change...", nil, func() {
		f.ui.capturePTTKey(func(k string) {
			key = k
			show()
			f.changed()
		})
	})
	f.pttKeyChange = change
	return &setting{label: "Push-to-talk key", hint: f.ui.globalPTTState(),
		obj:   container.NewHBox(shown, change),
		load:  func(s *app.Settings) { key = s.Input.PTTKey; show() },
		store: func(s *app.Settings) { s.Input.PTTKey = key },
	}
}
