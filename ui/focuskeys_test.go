package ui

import (
	"fmt"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// tabCycle moves the focus with Tab (as Fyne's desktop driver does) from
// nothing focused round every widget that takes it, once, and returns
// them in order.
func tabCycle(t *testing.T, u *UI) []fyne.Focusable {
	t.Helper()
	c := u.win.Canvas()
	c.Unfocus()
	var seen []fyne.Focusable
	for range 300 {
		c.FocusNext()
		f := c.Focused()
		if f == nil || slices.Contains(seen, f) {
			return seen
		}
		seen = append(seen, f)
	}
	t.Fatal("Tab never came back round")
	return nil
}

// pttReaches presses and releases the push-to-talk key, delivered as
// Fyne's desktop driver does, and reports an error unless it reached
// the controller.
func pttReaches(t *testing.T, u *UI, where string) {
	t.Helper()
	ctrl := u.ctrl.(*fakeController)
	focused := u.win.Canvas().Focused()
	before := len(ctrl.callsSoFar())
	keyDown(u, DefaultPTTKey)
	keyDown(u, DefaultPTTKey) // key repeat
	keyUp(u, DefaultPTTKey)
	want := []string{"PushToTalk true", "PushToTalk false"}
	if got := ctrl.callsSoFar()[before:]; !slices.Equal(got, want) {
		t.Errorf("%s, %T %s focused: push-to-talk calls %q, want %q", where, focused, focusName(focused), got, want)
	}
}

// focusName names a focused widget by its text, for messages.
func focusName(f fyne.Focusable) string {
	switch v := f.(type) {
	case *keyButton:
		return fmt.Sprintf("%q", v.Text)
	case *keyCheck:
		return fmt.Sprintf("%q", v.Text)
	case *keyEntry:
		return fmt.Sprintf("%q", v.PlaceHolder)
	}
	return ""
}

// TestFocusedWidgetsPassKeys: whatever widget Tab moves the focus onto,
// in the main window and in every Settings tab, the push-to-talk key
// reaches the window; in Settings, Escape on a focused button, check
// box, radio choice, slider or drop-down closes the dialog without
// saving, and Enter there saves.
func TestFocusedWidgetsPassKeys(t *testing.T) {
	u := connectedAt(t, 1180)
	ctrl := u.ctrl.(*fakeController)
	st := ctrl.State()
	st.Chat = []app.ChatLine{{From: "bob", Text: "hi"}}
	ctrl.setState(st)
	u.Sync()
	layoutAll(u)

	main := tabCycle(t, u)
	if len(main) < 10 {
		t.Fatalf("Tab reaches only %d widgets of the main window", len(main))
	}
	kinds := map[string]bool{}
	for _, f := range main {
		u.win.Canvas().Focus(f)
		pttReaches(t, u, "main window")
		kinds[fmt.Sprintf("%T", f)] = true
	}
	for _, k := range []string{"*ui.keyButton", "*ui.keyTree", "*ui.keyList", "*ui.chatEntry", "*ui.chatLine"} {
		if !kinds[k] {
			t.Errorf("Tab in the main window reaches no %s (reached %v)", k, kinds)
		}
	}

	// Settings: where each kind of widget is first reached by Tab.
	type place struct{ tab, tabs int }
	first := map[string]place{}
	u.showSettings()
	f := u.settingsOpen
	for i := range f.tabs.Items {
		f.tabs.SelectIndex(i)
		layoutAll(u)
		for n, w := range tabCycle(t, u) {
			u.win.Canvas().Focus(w)
			pttReaches(t, u, "Settings > "+f.tabs.Items[i].Text)
			k := fmt.Sprintf("%T", w)
			if _, ok := first[k]; !ok {
				first[k] = place{i, n + 1}
			}
		}
	}
	pressKey(u, fyne.KeyEscape)
	if u.settingsOpen != nil {
		t.Fatal("Escape did not close the settings")
	}

	saved := fmt.Sprint(ctrl.Settings())
	for _, k := range []string{"*ui.keyButton", "*ui.keyCheck", "*ui.keySlider", "*ui.keySelect"} {
		p, ok := first[k]
		if !ok {
			t.Errorf("Tab in Settings reaches no %s (reached %v)", k, first)
			continue
		}
		for _, key := range []fyne.KeyName{fyne.KeyEscape, fyne.KeyReturn} {
			u.showSettings()
			f := u.settingsOpen
			f.tabs.SelectIndex(p.tab)
			layoutAll(u)
			c := u.win.Canvas()
			c.Unfocus()
			for range p.tabs {
				c.FocusNext()
			}
			if got := fmt.Sprintf("%T", c.Focused()); got != k {
				t.Fatalf("Tab onto a %s reached a %s", k, got)
			}
			if key == fyne.KeyReturn {
				if _, ok := c.Focused().(*keyButton); ok {
					continue // Enter presses a focused button: TestFocusedButtonEnter
				}
				for _, o := range f.preset.Options { // something to save
					if o != f.preset.Selected {
						f.preset.SetSelected(o)
						break
					}
				}
			}
			pressKey(u, key)
			if u.settingsOpen != nil || topOverlay(u) != nil {
				t.Errorf("%s with a %s focused left Settings open", key, k)
				f.dlg.Hide()
			}
			if now := fmt.Sprint(ctrl.Settings()); (now != saved) != (key == fyne.KeyReturn) {
				t.Errorf("%s with a %s focused: settings saved %v", key, k, now != saved)
			}
			saved = fmt.Sprint(ctrl.Settings())
		}
	}
}

// TestFocusedButtonEnter: Enter presses the button Tab moved the focus
// onto, as Space does: No keeps the server, Delete deletes it (Enter with
// nothing focused keeps it: TestDialogKeys).
func TestFocusedButtonEnter(t *testing.T) {
	for _, tc := range []struct {
		button string
		left   int
	}{{"No", 2}, {"Delete", 1}} {
		t.Run(tc.button, func(t *testing.T) {
			u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
			u.servers.list.Select(0)
			u.servers.confirmDelete()
			dlg := topOverlay(u)
			var b *keyButton
			for _, f := range tabCycle(t, u) {
				if kb, ok := f.(*keyButton); ok && kb.Text == tc.button {
					b = kb
				}
			}
			if b == nil {
				t.Fatalf("Tab does not reach %q", tc.button)
			}
			u.win.Canvas().Focus(b)
			pressKey(u, fyne.KeyReturn)
			if slices.Contains(u.win.Canvas().Overlays().List(), dlg) {
				t.Error("Enter left the question open")
			}
			if n := len(ctrl.Bookmarks()); n != tc.left {
				t.Errorf("Enter on %q left %d servers, want %d", tc.button, n, tc.left)
			}
		})
	}
}

// TestKeyRadio: the radio group of check boxes selects one choice, keeps
// it on a second click (as a Required RadioGroup), and while disabled
// shows Fyne's disabled radio group with the same choice.
func TestKeyRadio(t *testing.T) {
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop})
	var changes []string
	r := u.newRadio([]string{"a", "b"}, func(s string) { changes = append(changes, s) })
	test.NewTempWindow(t, r)
	r.SetSelected("a")
	test.Tap(r.items[0])
	if r.Selected != "a" || !r.items[0].Checked || r.items[1].Checked {
		t.Errorf("a second click on a: selected %q, checked %v %v", r.Selected, r.items[0].Checked, r.items[1].Checked)
	}
	test.Tap(r.items[1])
	if r.Selected != "b" || r.items[0].Checked || !r.items[1].Checked {
		t.Errorf("click on b: selected %q, checked %v %v", r.Selected, r.items[0].Checked, r.items[1].Checked)
	}
	if !slices.Equal(changes, []string{"a", "b"}) {
		t.Errorf("OnChanged got %q, want a then b", changes)
	}
	r.Disable()
	if r.box.Visible() || !r.off.Visible() || r.off.Selected != "b" || !r.off.Disabled() {
		t.Errorf("disabled: choices shown %v, radio group shown %v with %q", r.box.Visible(), r.off.Visible(), r.off.Selected)
	}
	r.Enable()
	if !r.box.Visible() || r.off.Visible() {
		t.Error("enabled again: the choices are not back")
	}
}
