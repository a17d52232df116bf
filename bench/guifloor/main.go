// Command guifloor is the Fyne floor for bench/guiidle.sh: a window with one
// label and nothing else, so that the GUI's idle cost can be compared with
// what Fyne's own driver costs while nothing changes (its event loop polls
// at 60 Hz whether or not anything happens). It ignores its arguments.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("org.tumble.guifloor")
	w := a.NewWindow("floor")
	w.SetContent(widget.NewLabel("idle"))
	w.Resize(fyne.NewSize(800, 600))
	w.ShowAndRun()
}
