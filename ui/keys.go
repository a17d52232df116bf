package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// keyDialog is a shown dialog's keyboard: what Enter and Escape do.
type keyDialog struct {
	d      dialog.Dialog
	submit func() // Enter; nil: Enter does nothing
	cancel func() // Escape; nil: the dialog closes
}

// showDialog shows d with the keyboard every dialog has: first (if not
// nil) gets the focus, Enter runs submit (if not nil; confirmation
// dialogs confirm) and Escape runs cancel (nil: the dialog closes). The
// keys reach the dialog whether nothing has the focus (the window's key
// events) or one of its entries made by newEntry has it. All dialogs go
// through here.
func (u *UI) showDialog(d dialog.Dialog, first fyne.Focusable, submit, cancel func()) {
	if c, ok := d.(*dialog.ConfirmDialog); ok && submit == nil {
		submit = c.Confirm
	}
	kd := &keyDialog{d: d, submit: submit, cancel: cancel}
	u.dialogs = append(u.dialogs, kd)
	d.SetOnClosed(func() {
		for i, x := range u.dialogs {
			if x == kd {
				u.dialogs = append(u.dialogs[:i], u.dialogs[i+1:]...)
				break
			}
		}
	})
	d.Show()
	if first != nil {
		u.win.Canvas().Focus(first)
	} else {
		u.win.Canvas().Unfocus() // the window's key events reach dialogKey
	}
}

// dialogKey runs what Enter or Escape does in the topmost dialog and
// reports whether there was one that took the key.
func (u *UI) dialogKey(name fyne.KeyName) bool {
	if len(u.dialogs) == 0 {
		return false
	}
	kd := u.dialogs[len(u.dialogs)-1]
	switch name {
	case fyne.KeyEscape:
		if kd.cancel != nil {
			kd.cancel()
		} else {
			kd.d.Hide()
		}
		return true
	case fyne.KeyReturn, fyne.KeyEnter:
		if kd.submit != nil {
			kd.submit()
		}
		return true
	}
	return false
}

// keyEntry is the entry of dialogs: Enter and Escape act on the dialog
// (Enter in a single-line entry runs OnSubmitted if set, else the
// dialog's submit; in a multi-line one it starts a new line unless
// enterSubmits), and the push-to-talk key reaches the window while it
// has the focus.
type keyEntry struct {
	widget.Entry
	ui *UI

	// enterSubmits makes Enter submit in a multi-line entry too (it
	// wraps long text, it does not take several lines).
	enterSubmits bool
}

// newEntry returns a single-line entry for a dialog.
func (u *UI) newEntry() *keyEntry {
	e := &keyEntry{ui: u}
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	return e
}

// newPasswordEntry returns a password entry for a dialog, with Fyne's
// button that shows the text.
func (u *UI) newPasswordEntry() *keyEntry {
	e := u.newEntry()
	e.Password = true // the renderer adds the revealer
	return e
}

// newMultiLineEntry returns a multi-line entry for a dialog; Enter there
// starts a new line, Escape closes the dialog.
func (u *UI) newMultiLineEntry() *keyEntry {
	e := &keyEntry{ui: u}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey implements fyne.Focusable.
func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	if !e.ui.entryKey(&e.Entry, e.enterSubmits, ev) {
		e.Entry.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (e *keyEntry) KeyDown(ev *fyne.KeyEvent) {
	if !e.ui.pttKeyDown(ev) {
		e.Entry.KeyDown(ev)
	}
}

// KeyUp implements desktop.Keyable.
func (e *keyEntry) KeyUp(ev *fyne.KeyEvent) {
	if !e.ui.pttKeyUp(ev) {
		e.Entry.KeyUp(ev)
	}
}

// keySelectEntry is a keyEntry with a drop-down list (sound devices).
type keySelectEntry struct {
	widget.SelectEntry
	ui *UI
}

// newSelectEntry returns a select entry for a dialog.
func (u *UI) newSelectEntry(options []string) *keySelectEntry {
	e := &keySelectEntry{ui: u}
	e.ExtendBaseWidget(e)
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.SetOptions(options)
	return e
}

// TypedKey implements fyne.Focusable.
func (e *keySelectEntry) TypedKey(ev *fyne.KeyEvent) {
	if !e.ui.entryKey(&e.Entry, false, ev) {
		e.SelectEntry.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (e *keySelectEntry) KeyDown(ev *fyne.KeyEvent) {
	if !e.ui.pttKeyDown(ev) {
		e.SelectEntry.KeyDown(ev)
	}
}

// KeyUp implements desktop.Keyable.
func (e *keySelectEntry) KeyUp(ev *fyne.KeyEvent) {
	if !e.ui.pttKeyUp(ev) {
		e.SelectEntry.KeyUp(ev)
	}
}

// keySelect is a drop-down of a dialog: Enter and Escape act on the
// dialog (Space and the arrows open the list), and the push-to-talk key
// reaches the window while it has the focus.
type keySelect struct {
	widget.Select
	ui *UI
}

// newSelect returns a drop-down for a dialog.
func (u *UI) newSelect(options []string, changed func(string)) *keySelect {
	s := &keySelect{ui: u}
	s.Options = options
	s.OnChanged = changed
	s.PlaceHolder = "(Select one)"
	s.ExtendBaseWidget(s)
	return s
}

// TypedKey implements fyne.Focusable.
func (s *keySelect) TypedKey(ev *fyne.KeyEvent) {
	if !s.ui.dialogKey(ev.Name) {
		s.Select.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (s *keySelect) KeyDown(ev *fyne.KeyEvent) { s.ui.pttKeyDown(ev) }

// KeyUp implements desktop.Keyable.
func (s *keySelect) KeyUp(ev *fyne.KeyEvent) { s.ui.pttKeyUp(ev) }

// entryKey does what Enter and Escape do in an entry of a dialog and
// reports whether it took the key: Escape acts on the dialog; Enter in a
// single-line entry (or one that submits) runs OnSubmitted if set, else
// the dialog's submit; in a multi-line entry it starts a new line.
func (u *UI) entryKey(e *widget.Entry, enterSubmits bool, ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyEscape:
		return u.dialogKey(ev.Name)
	case fyne.KeyReturn, fyne.KeyEnter:
		if e.MultiLine && !enterSubmits {
			return false
		}
		if e.OnSubmitted != nil {
			e.OnSubmitted(e.Text)
			return true
		}
		return u.dialogKey(ev.Name)
	}
	return false
}

// pttKeyDown and pttKeyUp pass the push-to-talk key from a focused widget
// to the window's handler and report whether it was that key.
func (u *UI) pttKeyDown(ev *fyne.KeyEvent) bool {
	if ev.Name != u.pttKey() {
		return false
	}
	u.keyDown(ev)
	return true
}

func (u *UI) pttKeyUp(ev *fyne.KeyEvent) bool {
	if ev.Name != u.pttKey() {
		return false
	}
	u.keyUp(ev)
	return true
}
