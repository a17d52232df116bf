package main

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/mobile"
)

// Texts of the microphone dialog.
const (
	micTitle         = "Microphone"
	micReminderTitle = "Connected without the microphone"
	micDismiss       = "Not now"
)

// micPrompt is mobile.MicPrompt as a dialog over the main window: the
// permission's message with its action ("Allow microphone", "Open
// settings") and "Not now". Its methods run on Fyne's goroutine.
type micPrompt struct {
	win fyne.Window
	dlg *dialog.ConfirmDialog // the dialog showing, or nil
}

var _ mobile.MicPrompt = (*micPrompt)(nil)

func newMicPrompt(win fyne.Window) *micPrompt { return &micPrompt{win: win} }

// ShowMic replaces the dialog showing with one for st, or takes it down
// when st has no action.
func (p *micPrompt) ShowMic(st mobile.MicState, reminder bool, act func()) {
	if p.dlg != nil {
		d := p.dlg
		p.dlg = nil
		d.Hide()
	}
	msg, action := st.Message(), st.Action()
	if msg == "" || action == "" {
		return
	}
	title := micTitle
	if reminder {
		title = micReminderTitle
	}
	label := widget.NewLabel(msg)
	label.Wrapping = fyne.TextWrapWord
	var d *dialog.ConfirmDialog
	d = dialog.NewCustomConfirm(title, action, micDismiss, label, func(ok bool) {
		if p.dlg == d {
			p.dlg = nil
		}
		if ok {
			act()
		}
	}, p.win)
	p.dlg = d
	d.Resize(fyne.NewSize(narrowTo(p.win, 420), 0))
	d.Show()
}

// ShowError shows a failed permission call.
func (p *micPrompt) ShowError(err error) {
	dialog.ShowError(fmt.Errorf("microphone permission: %w", err), p.win)
}

// narrowTo returns w, or the window's width less a margin when that is
// narrower (a phone).
func narrowTo(win fyne.Window, w float32) float32 {
	if cw := win.Canvas().Size().Width; cw > 0 && w > cw-16 {
		return cw - 16
	}
	return w
}
