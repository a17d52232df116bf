package ui

import (
	"errors"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/ui/hotkey"
)

// globalPTT holds the push-to-talk key for the whole desktop where the
// system allows it (X11), so that it works while other windows have the
// focus; elsewhere the window's key events do the work.
type globalPTT struct {
	key   string       // the key grabbed (or tried)
	grab  *hotkey.Grab // nil when not grabbed
	state string       // says whether push-to-talk is global, and why not
}

// updateGlobalPTT grabs the settings' push-to-talk key, again if it
// changed. Called on Fyne's goroutine while following the controller.
func (u *UI) updateGlobalPTT() {
	key := string(u.pttKey())
	if u.global.key == key { // grabbed, or tried and said why not
		return
	}
	u.stopGlobalPTT()
	u.global.key = key
	ok, why := hotkey.Availability(os.Getenv)
	u.global.state = why
	if !ok {
		return
	}
	g, err := hotkey.NewGrab(key, func(pressed bool) {
		u.ctrl.PushToTalk(pressed)
		fyne.Do(func() {
			u.pttKeyHeld = pressed
			u.Sync()
		})
	})
	switch {
	case errors.Is(err, hotkey.ErrUnsupported):
		u.global.state = "Push-to-talk works only while Tumble's window has the focus: " + err.Error()
	case err != nil:
		u.global.state = "Push-to-talk works only while Tumble's window has the focus (" + err.Error() + ")."
	default:
		u.global.grab = g
	}
}

// stopGlobalPTT releases the key.
func (u *UI) stopGlobalPTT() {
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
	d := dialog.NewCustom("Push-to-talk key", "Cancel", container.NewVBox(msg, errLabel), u.win)
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
	change := widget.NewButton("Change...", func() {
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
