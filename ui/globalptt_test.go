package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"

	"github.com/tumble-voip/tumble/ui/internal/portaltest"
)

// waitCalls waits until the controller has recorded call.
func waitCalls(t *testing.T, c *fakeController, call string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !slices.Contains(c.callsSoFar(), call) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s; calls %q", call, c.callsSoFar())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGlobalPTTPortal: in a Wayland session with the GlobalShortcuts
// portal (a fake one on a private session bus), push-to-talk is bound
// there and the portal's activation talks, whatever window has the focus;
// the settings say so. Stopping ends the portal session.
func TestGlobalPTTPortal(t *testing.T) {
	portal := portaltest.Start(t, portaltest.StartBus(t))
	t.Setenv("WAYLAND_DISPLAY", "wayland-test")
	t.Setenv("DISPLAY", "")
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	u.updateGlobalPTT() // the portal answers, and the UI takes the answer, in place (newTestUI)
	if got := u.globalPTTState(); !strings.Contains(got, "shortcut portal") {
		t.Fatalf("state %q", got)
	}
	if got := portal.Bound(); !slices.Equal(got, []string{"push-to-talk=Control_R"}) {
		t.Errorf("bound %q, want push-to-talk proposing Right Ctrl", got)
	}
	portal.Press(t, "push-to-talk", true)
	waitCalls(t, ctrl, "PushToTalk true")
	portal.Press(t, "push-to-talk", false)
	waitCalls(t, ctrl, "PushToTalk false")
	u.stopGlobalPTT()
	if !portal.Closed() {
		t.Error("the portal session stayed open")
	}
}

// TestGlobalPTTNoPortal: in a Wayland session without the portal (and no
// XWayland), the settings say clearly that global push-to-talk is not
// available and why.
func TestGlobalPTTNoPortal(t *testing.T) {
	portaltest.StartBus(t)
	t.Setenv("WAYLAND_DISPLAY", "wayland-test")
	t.Setenv("DISPLAY", "")
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop})
	u.updateGlobalPTT()
	got := u.globalPTTState()
	for _, want := range []string{"Global push-to-talk is not available here", "no GlobalShortcuts portal",
		"only while Tumble's window has the focus"} {
		if !strings.Contains(got, want) {
			t.Errorf("state %q lacks %q", got, want)
		}
	}
	f := openSettings(t, u)
	said := false
	for _, o := range visibleObjects(topOverlay(u)) {
		if txt, ok := o.(*canvas.Text); ok && strings.Contains(txt.Text, "Global push-to-talk is not available here") {
			said = true
		}
	}
	if !said && !hasText(topOverlay(u), "Global push-to-talk is not available here") {
		t.Error("the settings do not say it")
	}
	f.dlg.Hide()
}

// TestWindowPTTOption: with WindowPTT (--window-ptt) no desktop-wide key
// is held, and the settings say push-to-talk needs the window's focus.
func TestWindowPTTOption(t *testing.T) {
	t.Setenv("WAYLAND_DISPLAY", "")
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop, WindowPTT: true})
	u.updateGlobalPTT()
	if u.global.grab != nil || u.global.portal != nil || u.global.done != nil {
		t.Error("a desktop-wide key is held or asked for")
	}
	if got := u.globalPTTState(); !strings.Contains(got, "only while Tumble's window has the focus (--window-ptt)") {
		t.Errorf("state %q", got)
	}
}
