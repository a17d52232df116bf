package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// textView is read-only text the user can select and copy, as a
// selectable label, but that passes the push-to-talk key on while it has
// the focus: Fyne gives a selectable label's focus every key and the
// window none, so push-to-talk stopped after a click into the text. It is
// an entry that refuses every edit, drawn without the entry's box.
type textView struct {
	widget.Entry
	ui   *UI
	self focusWidget // what embeds the view (itself if nothing)
}

// focusWidget is a widget that takes the focus.
type focusWidget interface {
	fyne.Widget
	fyne.Focusable
}

// newTextView returns an empty text view showing rows lines at least;
// longer text scrolls inside it.
func (u *UI) newTextView(rows int) *textView {
	v := &textView{ui: u}
	v.self = v
	v.MultiLine = true
	v.Wrapping = fyne.TextWrapWord
	v.ExtendBaseWidget(v)
	v.SetMinRowsVisible(rows)
	return v
}

// object returns the view drawn as text, without the entry's box.
func (v *textView) object() fyne.CanvasObject {
	return container.NewThemeOverride(v, plainTextTheme{})
}

// TypedRune implements fyne.Focusable: nothing is typed.
func (v *textView) TypedRune(rune) {}

// TypedKey implements fyne.Focusable: the keys that move the cursor (and
// with Shift select) work, no key edits; Escape and Enter go to an open
// dialog.
func (v *textView) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyLeft, fyne.KeyRight, fyne.KeyUp, fyne.KeyDown,
		fyne.KeyHome, fyne.KeyEnd, fyne.KeyPageUp, fyne.KeyPageDown:
		v.Entry.TypedKey(ev)
	case fyne.KeyEscape, fyne.KeyReturn, fyne.KeyEnter:
		v.ui.dialogKey(ev.Name)
	}
}

// TypedShortcut implements fyne.Shortcutable: Copy and Select all only.
func (v *textView) TypedShortcut(s fyne.Shortcut) {
	switch s.(type) {
	case *fyne.ShortcutCopy, *fyne.ShortcutSelectAll:
		v.Entry.TypedShortcut(s)
	}
}

// TappedSecondary implements fyne.SecondaryTappable: a menu with Copy and
// Select all (the entry's own offers Cut and Paste).
func (v *textView) TappedSecondary(pe *fyne.PointEvent) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v.self)
	if c == nil {
		return
	}
	c.Focus(v.self)
	menu := fyne.NewMenu("",
		fyne.NewMenuItem("Copy", func() {
			v.Entry.TypedShortcut(&fyne.ShortcutCopy{Clipboard: fyne.CurrentApp().Clipboard()})
		}),
		fyne.NewMenuItem("Select all", func() { v.Entry.TypedShortcut(&fyne.ShortcutSelectAll{}) }))
	widget.ShowPopUpMenuAtPosition(menu, c, pe.AbsolutePosition)
}

// KeyDown implements desktop.Keyable.
func (v *textView) KeyDown(ev *fyne.KeyEvent) {
	if !v.ui.pttKeyDown(ev) {
		v.Entry.KeyDown(ev)
	}
}

// KeyUp implements desktop.Keyable.
func (v *textView) KeyUp(ev *fyne.KeyEvent) {
	if !v.ui.pttKeyUp(ev) {
		v.Entry.KeyUp(ev)
	}
}

// plainTextTheme draws an entry as plain text: no background, no border
// and no focus line.
type plainTextTheme struct{}

func (plainTextTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameInputBackground, theme.ColorNameInputBorder:
		return color.Transparent
	}
	return fyne.CurrentApp().Settings().Theme().Color(n, v)
}

func (plainTextTheme) Font(s fyne.TextStyle) fyne.Resource {
	return fyne.CurrentApp().Settings().Theme().Font(s)
}

func (plainTextTheme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return fyne.CurrentApp().Settings().Theme().Icon(n)
}

func (plainTextTheme) Size(n fyne.ThemeSizeName) float32 {
	return fyne.CurrentApp().Settings().Theme().Size(n)
}
