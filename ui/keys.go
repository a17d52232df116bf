package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
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
	if c, ok := d.(*confirmDialog); ok && submit == nil {
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
	// The drop-down button Fyne adds takes the focus on Tab too.
	if b, ok := e.ActionItem.(*widget.Button); ok {
		kb := u.newButton("", b.Icon, b.OnTapped)
		kb.Importance = b.Importance
		e.ActionItem = kb
	}
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

// Fyne gives the focused widget every key and the window none, and
// buttons, check boxes and sliders keep Escape, Enter and the
// push-to-talk key to themselves; after Tab onto one of them the dialog
// no longer closed and push-to-talk stopped. The widgets below pass those
// keys on. Every button, check box and slider of the window and its
// dialogs is one of them.

// keyButton is a button that passes Escape (and Enter: a focused button
// is pressed by Enter as by Space) and the push-to-talk key on.
type keyButton struct {
	widget.Button
	ui *UI
}

// newButton returns a button with text, icon (nil: none) and tapped.
func (u *UI) newButton(text string, icon fyne.Resource, tapped func()) *keyButton {
	b := &keyButton{ui: u}
	b.Text = text
	b.Icon = icon
	b.OnTapped = tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey implements fyne.Focusable.
func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	case fyne.KeyEscape:
		b.ui.dialogKey(ev.Name)
	default:
		b.Button.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (b *keyButton) KeyDown(ev *fyne.KeyEvent) { b.ui.pttKeyDown(ev) }

// KeyUp implements desktop.Keyable.
func (b *keyButton) KeyUp(ev *fyne.KeyEvent) { b.ui.pttKeyUp(ev) }

// keyCheck is a check box that passes Escape, Enter and the push-to-talk
// key on (Space toggles it).
type keyCheck struct {
	widget.Check
	ui *UI
}

// newCheck returns a check box with text and changed (may be nil).
func (u *UI) newCheck(text string, changed func(bool)) *keyCheck {
	c := &keyCheck{ui: u}
	c.Text = text
	c.OnChanged = changed
	c.ExtendBaseWidget(c)
	return c
}

// TypedKey implements fyne.Focusable.
func (c *keyCheck) TypedKey(ev *fyne.KeyEvent) {
	if !c.ui.dialogKey(ev.Name) {
		c.Check.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (c *keyCheck) KeyDown(ev *fyne.KeyEvent) { c.ui.pttKeyDown(ev) }

// KeyUp implements desktop.Keyable.
func (c *keyCheck) KeyUp(ev *fyne.KeyEvent) { c.ui.pttKeyUp(ev) }

// keySlider is a slider that passes Escape, Enter and the push-to-talk
// key on (the arrows move it).
type keySlider struct {
	widget.Slider
	ui *UI
}

// newSlider returns a horizontal slider from min to max in steps of 1.
func (u *UI) newSlider(min, max float64) *keySlider {
	s := &keySlider{ui: u}
	s.Min, s.Max, s.Step = min, max, 1
	s.Orientation = widget.Horizontal
	s.ExtendBaseWidget(s)
	return s
}

// TypedKey implements fyne.Focusable.
func (s *keySlider) TypedKey(ev *fyne.KeyEvent) {
	if !s.ui.dialogKey(ev.Name) {
		s.Slider.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (s *keySlider) KeyDown(ev *fyne.KeyEvent) { s.ui.pttKeyDown(ev) }

// KeyUp implements desktop.Keyable.
func (s *keySlider) KeyUp(ev *fyne.KeyEvent) { s.ui.pttKeyUp(ev) }

// confirmDialog is a yes/no question, dialog.NewConfirm's look with
// buttons that pass the dialog's keys on (Fyne's own take the focus on
// Tab and swallow Escape).
type confirmDialog struct {
	*dialog.CustomDialog
	yes, no *keyButton
}

// newConfirm returns a question with the buttons yes (of importance imp)
// and no; answered gets true after yes, false after no. Escape closes
// it without an answer.
func (u *UI) newConfirm(title, message, yes, no string, imp widget.Importance, answered func(bool)) *confirmDialog {
	c := &confirmDialog{CustomDialog: dialog.NewCustomWithoutButtons(title, wrapLabel(message), u.win)}
	c.SetIcon(theme.QuestionIcon())
	c.no = u.newButton(no, theme.CancelIcon(), func() {
		c.Hide()
		answered(false)
	})
	c.yes = u.newButton(yes, theme.ConfirmIcon(), func() {
		c.Hide()
		answered(true)
	})
	c.yes.Importance = imp
	c.SetButtons([]fyne.CanvasObject{c.no, c.yes})
	return c
}

// Confirm answers yes.
func (c *confirmDialog) Confirm() { c.yes.OnTapped() }

// newCustom is dialog.NewCustom with a dismiss button that passes the
// dialog's keys on.
func (u *UI) newCustom(title, dismiss string, content fyne.CanvasObject) *dialog.CustomDialog {
	d := dialog.NewCustomWithoutButtons(title, content, u.win)
	d.SetButtons([]fyne.CanvasObject{u.newButton(dismiss, nil, d.Hide)})
	return d
}

// newInformation is dialog.NewInformation with an OK button that passes
// the dialog's keys on.
func (u *UI) newInformation(title, message string) *dialog.CustomDialog {
	d := u.newCustom(title, "OK", wrapLabel(message))
	d.SetIcon(theme.InfoIcon())
	return d
}

// keyTree is a tree (the channels) that passes Escape and the
// push-to-talk key on while it has the focus (the arrows and Space move
// and select).
type keyTree struct {
	widget.Tree
	ui *UI
}

// newTree returns a tree as widget.NewTree does.
func (u *UI) newTree(childUIDs func(widget.TreeNodeID) []widget.TreeNodeID, isBranch func(widget.TreeNodeID) bool,
	create func(bool) fyne.CanvasObject, update func(widget.TreeNodeID, bool, fyne.CanvasObject)) *keyTree {
	t := &keyTree{ui: u}
	t.ChildUIDs, t.IsBranch, t.CreateNode, t.UpdateNode = childUIDs, isBranch, create, update
	t.ExtendBaseWidget(t)
	return t
}

// TypedKey implements fyne.Focusable.
func (t *keyTree) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name != fyne.KeyEscape || !t.ui.dialogKey(ev.Name) {
		t.Tree.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (t *keyTree) KeyDown(ev *fyne.KeyEvent) { t.ui.pttKeyDown(ev) }

// KeyUp implements desktop.Keyable.
func (t *keyTree) KeyUp(ev *fyne.KeyEvent) { t.ui.pttKeyUp(ev) }

// keyList is a list (the servers) that passes Escape and the
// push-to-talk key on while it has the focus (the arrows and Space move
// and select).
type keyList struct {
	widget.List
	ui *UI
}

// newList returns a list as widget.NewList does.
func (u *UI) newList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *keyList {
	l := &keyList{ui: u}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey implements fyne.Focusable.
func (l *keyList) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name != fyne.KeyEscape || !l.ui.dialogKey(ev.Name) {
		l.List.TypedKey(ev)
	}
}

// KeyDown implements desktop.Keyable.
func (l *keyList) KeyDown(ev *fyne.KeyEvent) { l.ui.pttKeyDown(ev) }

// KeyUp implements desktop.Keyable.
func (l *keyList) KeyUp(ev *fyne.KeyEvent) { l.ui.pttKeyUp(ev) }

// keyRadio is a radio group whose choices pass Escape, Enter and the
// push-to-talk key on (Fyne's radio group has its own focusable items,
// which cannot be wrapped). It is one keyCheck per choice, drawn with the
// radio icons; one choice is always selected once one was (as a
// RadioGroup that is Required).
type keyRadio struct {
	widget.DisableableWidget

	// Selected is the selected choice ("" for none); set it with
	// SetSelected.
	Selected string
	// OnChanged is called after the selection changed.
	OnChanged func(string)

	items    []*keyCheck
	box      *fyne.Container    // the items
	off      *widget.RadioGroup // shown instead while disabled
	updating bool
}

// newRadio returns a radio group of options.
func (u *UI) newRadio(options []string, changed func(string)) *keyRadio {
	r := &keyRadio{OnChanged: changed}
	for _, o := range options {
		c := u.newCheck(o, nil)
		c.OnChanged = func(on bool) {
			if r.updating {
				return
			}
			if on {
				r.SetSelected(o)
			} else {
				r.show() // a choice is not undone by a second click
			}
		}
		r.items = append(r.items, c)
	}
	objs := make([]fyne.CanvasObject, len(r.items))
	for i, c := range r.items {
		objs[i] = c
	}
	r.box = container.New(layout.NewCustomPaddedVBoxLayout(0), objs...)
	// A disabled check box draws its check mark whatever the theme says;
	// a disabled radio group, which takes no focus, is shown instead.
	r.off = widget.NewRadioGroup(options, nil)
	r.off.Disable()
	r.off.Hide()
	r.ExtendBaseWidget(r)
	return r
}

// SetSelected selects option and calls OnChanged if that changed it.
func (r *keyRadio) SetSelected(option string) {
	if r.Selected == option {
		return
	}
	r.Selected = option
	r.show()
	if r.OnChanged != nil {
		r.OnChanged(option)
	}
}

// show checks the selected choice only.
func (r *keyRadio) show() {
	r.updating = true
	defer func() { r.updating = false }()
	for _, c := range r.items {
		c.SetChecked(c.Text == r.Selected)
	}
	r.off.Selected = r.Selected
	r.off.Refresh()
}

// Disable implements fyne.Disableable.
func (r *keyRadio) Disable() {
	r.DisableableWidget.Disable()
	r.box.Hide()
	r.off.Show()
}

// Enable implements fyne.Disableable.
func (r *keyRadio) Enable() {
	r.DisableableWidget.Enable()
	r.off.Hide()
	r.box.Show()
}

// CreateRenderer implements fyne.Widget.
func (r *keyRadio) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(container.NewThemeOverride(r.box, radioTheme{}), r.off))
}

// radioTheme draws check boxes as radio buttons.
type radioTheme struct{}

func (radioTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return fyne.CurrentApp().Settings().Theme().Color(n, v)
}

func (radioTheme) Font(s fyne.TextStyle) fyne.Resource {
	return fyne.CurrentApp().Settings().Theme().Font(s)
}

func (radioTheme) Icon(n fyne.ThemeIconName) fyne.Resource {
	switch n {
	case theme.IconNameCheckButton:
		n = theme.IconNameRadioButton
	case theme.IconNameCheckButtonChecked:
		n = theme.IconNameRadioButtonChecked
	case theme.IconNameCheckButtonFill:
		n = theme.IconNameRadioButtonFill
	}
	return fyne.CurrentApp().Settings().Theme().Icon(n)
}

func (radioTheme) Size(n fyne.ThemeSizeName) float32 {
	return fyne.CurrentApp().Settings().Theme().Size(n)
}
