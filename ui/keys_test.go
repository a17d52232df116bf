package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
)

// keyDown and keyUp deliver a key as Fyne's desktop driver does
// (internal/driver/glfw, window.processKeyPressed): on press KeyDown to
// the focused widget if it is desktop.Keyable, or to the window's
// handler when nothing has the focus, then TypedKey to the focused widget
// or the window; on release KeyUp likewise. The test driver's canvas has
// no desktop key handlers, so the window's are called here directly.
func keyDown(u *UI, name fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: name}
	c := u.win.Canvas()
	if f := c.Focused(); f != nil {
		if k, ok := f.(desktop.Keyable); ok {
			k.KeyDown(ev)
		}
	} else {
		u.keyDown(ev)
	}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
}

func keyUp(u *UI, name fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: name}
	if f := u.win.Canvas().Focused(); f != nil {
		if k, ok := f.(desktop.Keyable); ok {
			k.KeyUp(ev)
		}
		return
	}
	u.keyUp(ev)
}

// pressKey presses and releases a key.
func pressKey(u *UI, name fyne.KeyName) {
	keyDown(u, name)
	keyUp(u, name)
}

// TestDialogKeys: in every dialog the first field has the focus, Enter
// does what the highlighted button does (submits; keeps things where the
// button that destroys needs a click) and Escape closes without doing it,
// whether an entry or nothing has the focus. All dialogs are shown by
// showDialog (keys.go); this table opens each one.
func TestDialogKeys(t *testing.T) {
	asking := app.State{Phase: app.PhaseConnecting, Tor: app.TorStatus{Mode: "embedded", Protected: true},
		Certificate: &app.CertificateQuestion{Host: "mumble.example.org",
			Fingerprint: mumble.FingerprintOf([]byte("x")), Reason: "it is self-signed"}}
	type tc struct {
		name  string
		open  func(u *UI, c *fakeController)
		first func(u *UI) fyne.Focusable // nil: nothing has the focus
		fill  func(u *UI)                // before Enter
		// what Enter must have called, and whether the dialog stays
		// (an error shown in it)
		enterCalls []string
		enterStays bool
		enterKeeps bool // Enter must not delete a bookmark
	}
	bm := func(c *fakeController) app.Bookmark { return c.Bookmarks()[0] }
	typeInto := func(u *UI, s string) { test.Type(u.win.Canvas().Focused(), s) }
	cases := []tc{
		{name: "add server", open: func(u *UI, _ *fakeController) { u.servers.showEditor(nil) },
			first: func(u *UI) fyne.Focusable { return u.servers.editor.label },
			fill: func(u *UI) {
				u.servers.editor.address.SetText("mumble.example.net")
				u.servers.editor.username.SetText("carol")
			}},
		{name: "add server, invalid", open: func(u *UI, _ *fakeController) { u.servers.showEditor(nil) },
			first:      func(u *UI) fyne.Focusable { return u.servers.editor.label },
			fill:       func(u *UI) { u.servers.editor.port.SetText("not a port") },
			enterStays: true},
		{name: "wrong password", open: func(u *UI, c *fakeController) { u.showWrongPassword(bm(c), app.Problem{}) },
			first: func(u *UI) fyne.Focusable { return entryOf(topOverlay(u)) },
			fill:  func(u *UI) { typeInto(u, "secret") }, enterCalls: []string{"Connect fake-1"}},
		{name: "client authorization", open: func(u *UI, c *fakeController) { u.showClientAuth(bm(c), app.Problem{}) },
			first:      func(u *UI) fyne.Focusable { return entryOf(topOverlay(u)) },
			fill:       func(u *UI) { typeInto(u, "not a key") },
			enterStays: true},
		{name: "settings", open: func(u *UI, _ *fakeController) { u.showSettings() },
			first: func(u *UI) fyne.Focusable { return u.settingsOpen.preset }},
		{name: "certificate question", open: func(u *UI, c *fakeController) { c.setState(asking); u.Sync() },
			enterCalls: []string{fmt.Sprintf("AnswerCertificate(%d)", app.CertificateRefuse)}},
		{name: "certificate changed", open: func(u *UI, c *fakeController) {
			u.showCertificateChanged(bm(c), app.Problem{PinnedFingerprint: mumble.FingerprintOf([]byte("a")),
				NewFingerprint: mumble.FingerprintOf([]byte("b"))})
		}},
		{name: "private message", open: func(u *UI, _ *fakeController) {
			u.showPrivateMessage(app.UserView{Name: "bob", Session: 7})
		}, first: func(u *UI) fyne.Focusable { return entryOf(topOverlay(u)) },
			fill: func(u *UI) { typeInto(u, "hello") }, enterCalls: []string{"SendPrivate(7)"}},
		{name: "import link", open: func(u *UI, _ *fakeController) { u.servers.showImport() },
			first: func(u *UI) fyne.Focusable { return entryOf(topOverlay(u)) },
			fill:  func(u *UI) { typeInto(u, "mumble://x") }, enterCalls: []string{"ImportLink mumble://x"},
			enterStays: true}, // the fake refuses every link
		{name: "export", open: func(u *UI, c *fakeController) { u.servers.showExport(bm(c)) },
			first: func(u *UI) fyne.Focusable { return entryOf(topOverlay(u)) },
			fill: func(u *UI) {
				es := entries(topOverlay(u))
				es[1].SetText("pass phrase")
				es[2].SetText("pass phrase")
			}, enterCalls: []string{"ExportBookmark(fake-1)"}},
		{name: "import file", open: func(u *UI, _ *fakeController) { u.servers.showImportFile() },
			first:      func(u *UI) fyne.Focusable { return entryOf(topOverlay(u)) },
			enterCalls: []string{"ImportBookmarkFile"}, enterStays: true},
		{name: "delete server", open: func(u *UI, _ *fakeController) {
			u.servers.list.Select(0)
			u.servers.confirmDelete()
		}, enterKeeps: true},
		{name: "switch server", open: func(u *UI, c *fakeController) {
			b := bm(c)
			c.setState(app.State{Phase: app.PhaseConnected, Bookmark: &b, Tor: app.TorStatus{Mode: "embedded"}})
			u.Sync()
			u.switchTo("fake-2")
		}, enterCalls: []string{"Connect fake-2"}},
		{name: "wipe", open: func(u *UI, _ *fakeController) { u.confirmWipe() }},
		{name: "error", open: func(u *UI, _ *fakeController) { u.showError("Could not", errors.New("because")) }},
		{name: "tor failed", open: func(u *UI, _ *fakeController) { u.showTorFailed(app.Problem{Message: "Tor failed."}) }},
		{name: "details", open: func(u *UI, _ *fakeController) { u.showDetail("raw") }},
		{name: "certificate question, fingerprint clicked", open: func(u *UI, c *fakeController) {
			c.setState(asking)
			u.Sync()
			layoutAll(u)
			for _, o := range visibleObjects(topOverlay(u)) {
				if v, ok := o.(*textView); ok {
					click(v)
				}
			}
		}, first: func(u *UI) fyne.Focusable { // the click's
			v, _ := u.win.Canvas().Focused().(*textView)
			if v == nil {
				return nil
			}
			return v
		}, enterCalls: []string{fmt.Sprintf("AnswerCertificate(%d)", app.CertificateRefuse)}},
		{name: "audio check", open: func(u *UI, _ *fakeController) { u.showAudioCheck() },
			first: func(u *UI) fyne.Focusable {
				if _, ok := u.win.Canvas().Focused().(*keySelectEntry); ok {
					return u.win.Canvas().Focused()
				}
				return nil
			}},
	}
	for _, c := range cases {
		// Tab onto each widget: push-to-talk works with every one
		// focused, and Escape closes the dialog from the last (a button).
		t.Run(c.name+"/Tab", func(t *testing.T) {
			u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
			c.open(u, ctrl)
			dlg := topOverlay(u)
			cycle := tabCycle(t, u)
			if len(cycle) == 0 {
				t.Fatal("Tab reaches nothing in the dialog")
			}
			for _, f := range cycle {
				u.win.Canvas().Focus(f)
				pttReaches(t, u, c.name)
			}
			last := cycle[len(cycle)-1]
			u.win.Canvas().Focus(last)
			before := len(ctrl.callsSoFar())
			pressKey(u, fyne.KeyEscape)
			if slices.Contains(u.win.Canvas().Overlays().List(), dlg) {
				t.Errorf("Escape with %T %s focused left the dialog open", last, focusName(last))
			}
			for _, call := range ctrl.callsSoFar()[before:] {
				if !strings.HasPrefix(call, "AnswerCertificate") { // closing refuses
					t.Errorf("Escape called %s", call)
				}
			}
			if n := len(ctrl.Bookmarks()); n != 2 {
				t.Errorf("%d bookmarks after Escape, want the 2 there were", n)
			}
		})
		for _, key := range []fyne.KeyName{fyne.KeyEscape, fyne.KeyReturn} {
			t.Run(c.name+"/"+string(key), func(t *testing.T) {
				u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
				c.open(u, ctrl)
				dlg := topOverlay(u)
				if dlg == nil {
					t.Fatal("no dialog")
				}
				focused := u.win.Canvas().Focused()
				if c.first != nil {
					want := c.first(u)
					if want == nil || focused != want {
						t.Fatalf("focus on %T, want the first field %T", focused, want)
					}
				} else if focused != nil {
					t.Fatalf("focus on %T, want nothing (no field)", focused)
				}
				before := len(ctrl.callsSoFar())
				if key == fyne.KeyReturn && c.fill != nil {
					c.fill(u)
				}
				pressKey(u, key)
				calls := ctrl.callsSoFar()[before:]
				open := slices.Contains(u.win.Canvas().Overlays().List(), dlg)
				switch {
				case key == fyne.KeyEscape:
					if open {
						t.Error("Escape left the dialog open")
					}
					if len(u.dialogs) != 0 {
						t.Errorf("%d dialogs still take keys", len(u.dialogs))
					}
					for _, call := range calls {
						if !strings.HasPrefix(call, "AnswerCertificate") { // closing refuses
							t.Errorf("Escape called %s", call)
						}
					}
				case c.enterStays:
					if !open {
						t.Error("Enter closed the dialog showing an error")
					}
				default:
					if open {
						t.Errorf("Enter left the dialog open: %q", texts(dlg))
					}
				}
				if n := len(ctrl.Bookmarks()); (key == fyne.KeyEscape || c.enterKeeps) && n != 2 {
					t.Errorf("%d bookmarks after %s, want the 2 there were", n, key)
				}
				if key == fyne.KeyReturn {
					for _, want := range c.enterCalls {
						if !slices.Contains(calls, want) {
							t.Errorf("Enter: calls %q, want %s", calls, want)
						}
					}
					if c.enterCalls == nil && slices.ContainsFunc(calls, func(s string) bool {
						return s != "SetSettings" && !strings.HasPrefix(s, "Connect")
					}) {
						t.Errorf("Enter called %q", calls)
					}
				}
			})
		}
	}
}

// entryOf returns the first entry of a dialog.
func entryOf(root fyne.CanvasObject) fyne.Focusable {
	if es := entries(root); len(es) > 0 {
		return es[0]
	}
	return nil
}

// TestDialogKeysStack: Escape closes only the topmost of two dialogs.
func TestDialogKeysStack(t *testing.T) {
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop})
	u.showSettings()
	settings := topOverlay(u)
	u.showDetail("raw")
	pressKey(u, fyne.KeyEscape)
	if topOverlay(u) != settings || u.settingsOpen == nil {
		t.Fatal("Escape did not leave the settings open under the closed dialog")
	}
	pressKey(u, fyne.KeyEscape)
	if u.settingsOpen != nil || topOverlay(u) != nil {
		t.Fatal("the second Escape did not close the settings")
	}
}

// hostingFake is a fakeController that can host a room.
type hostingFake struct{ *fakeController }

func (h hostingFake) StartRoom(app.RoomConfig) error  { h.record("StartRoom"); return nil }
func (h hostingFake) StopRoom() error                 { h.record("StopRoom"); return nil }
func (h hostingFake) AddGuest(string) (string, error) { return "", errors.New("fake: no guests") }
func (h hostingFake) RevokeGuest(string) error        { return nil }
func (h hostingFake) RoomInvite(string) (string, error) {
	return "", errors.New("fake: no invitations")
}

// TestHostDialogKeys: the Host dialog has the room's name focused, Enter
// starts the room, Escape closes.
func TestHostDialogKeys(t *testing.T) {
	ctrl := newFakeController(app.State{Tor: app.TorStatus{Mode: "embedded", Protected: true},
		Hosting: app.RoomView{Phase: app.RoomStopped}})
	u := newTestUI(t, hostingFake{ctrl}, &Options{Layout: LayoutDesktop, NoEmbeddedTor: true})
	u.showHost()
	if u.host == nil {
		t.Fatal("no Host dialog")
	}
	es := entries(topOverlay(u))
	if len(es) == 0 || u.win.Canvas().Focused() != fyne.Focusable(es[0]) {
		t.Fatalf("focus on %T, want the room's name", u.win.Canvas().Focused())
	}
	pressKey(u, fyne.KeyEscape)
	if u.host != nil || topOverlay(u) != nil {
		t.Fatal("Escape left the Host dialog open")
	}
	u.showHost()
	test.Type(u.win.Canvas().Focused(), "Den")
	pressKey(u, fyne.KeyReturn)
	if !slices.Contains(ctrl.callsSoFar(), "StartRoom") {
		t.Errorf("Enter did not start the room: %q", ctrl.callsSoFar())
	}
}
