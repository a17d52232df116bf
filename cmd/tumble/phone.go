package main

import (
	"fyne.io/fyne/v2"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mobile"
)

// phone is the Android platform: package mobile's Phone, with the
// microphone permission's messages in dialogs over the main window.
// platform_android.go creates it; it builds everywhere so that it is
// type-checked and tested on Linux.
type phone struct {
	*mobile.Phone
}

// Start starts the Phone with a micPrompt over win.
func (p phone) Start(a fyne.App, win fyne.Window, ctrl *app.Controller) error {
	return p.Phone.Start(a, ctrl, newMicPrompt(win))
}
