package main

import (
	"fyne.io/fyne/v2"

	"github.com/tumble-voip/tumble/app"
)

// platform is what a platform adds to the program around the controller
// and the main window. newPlatform (platform_android.go,
// platform_other.go) returns nil where there is nothing to add, as on a
// desktop; on Android it is a phone (phone.go): the microphone
// permission, the phone's voice processing and the app lifecycle.
type platform interface {
	// Configure completes the controller's configuration before the
	// controller is created.
	Configure(cfg *app.ControllerConfig) error
	// Start hooks into the Fyne app, the main window and the controller
	// before the event loop runs.
	Start(a fyne.App, win fyne.Window, ctrl *app.Controller) error
}
