package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/tumble-voip/tumble/app"
)

// truncated returns the visible texts below root that Fyne cut short
// with an ellipsis.
func truncated(root fyne.CanvasObject) []string {
	var out []string
	for _, o := range visibleObjects(root) {
		if t, ok := o.(*canvas.Text); ok && strings.HasSuffix(t.Text, "…") {
			out = append(out, t.Text)
		}
	}
	return out
}

// connectedAt returns a UI connected to a server with a few users, in a
// window w units wide (the automatic layout).
func connectedAt(t *testing.T, w float32) *UI {
	t.Helper()
	root := app.ChannelView{Name: "Root", Children: []app.ChannelView{
		{ID: 1, Name: "Lobby", Users: []app.UserView{
			{Session: 1, Name: "alice", Self: true}, {Session: 2, Name: "bob_the_builder"}, {Session: 3, Name: "carol"}}},
		{ID: 2, Name: "Quiet room"},
	}}
	b := app.Bookmark{ID: "lab", Label: "Hidden lab", Address: "127.0.0.1", Username: "alice"}
	ctrl := newFakeController(app.State{Phase: app.PhaseConnected, Bookmark: &b, Root: &root,
		Self: root.Children[0].Users[0], Tor: app.TorStatus{Mode: "off"}}, b)
	u := newTestUI(t, ctrl, &Options{NoEmbeddedTor: true})
	u.win.Resize(fyne.NewSize(w, 600))
	layoutAll(u)
	return u
}

// TestLayoutInBetween: at about 700 units the desktop layout keeps the
// servers pane to a quarter or so of the window (its toolbar goes to two
// rows of icons) and the names in the channel tree and the servers list
// are whole; at 1180 nothing is cut and the toolbar has its texts.
func TestLayoutInBetween(t *testing.T) {
	for _, w := range []float32{700, 800, 1180} {
		u := connectedAt(t, w)
		if u.panes.isMobile() {
			t.Fatalf("%v: phone layout", w)
		}
		if sw := u.servers.object().Size().Width; sw > 0.3*w {
			t.Errorf("%v: the servers pane is %v wide, more than 30 %%", w, sw)
		}
		if cut := truncated(u.channels.object()); len(cut) > 0 {
			t.Errorf("%v: channel tree cuts %q", w, cut)
		}
		for _, name := range []string{"alice", "bob_the_builder", "carol", "Lobby", "Quiet room"} {
			if !hasText(u.channels.object(), name) {
				t.Errorf("%v: %q not shown whole in the channel tree", w, name)
			}
		}
		if !hasText(u.servers.object(), "Hidden lab") {
			t.Errorf("%v: the server's name is cut: %q", w, truncated(u.servers.object()))
		}
		// An ordinary window still names its buttons (in two rows);
		// at 700 and 800 units they are icons.
		if named := u.servers.add.Text != ""; named != (w >= 1000) {
			t.Errorf("%v: the servers toolbar shows its texts: %v", w, named)
		}
	}
}

// TestSettingsNarrow: the Settings dialog at 400 units shows the preset's
// name whole and every tab (short names), and Mumble's tab names when
// wide.
func TestSettingsNarrow(t *testing.T) {
	for _, c := range []struct {
		w    float32
		tabs []string
	}{{400, []string{"Input", "Output", "Network", "Privacy"}},
		{1180, []string{"Audio Input", "Audio Output", "Network", "Privacy"}}} {
		u, _ := idleUI(t, &Options{})
		u.win.Resize(fyne.NewSize(c.w, 720))
		layoutAll(u)
		f := openSettings(t, u)
		layoutAll(u)
		dlg := topOverlay(u)
		if cut := truncated(dlg); len(cut) > 0 {
			t.Errorf("%v: the dialog cuts %q", c.w, cut)
		}
		if got := f.preset.Selected; got == "" || !hasText(dlg, got) {
			t.Errorf("%v: the preset %q is not shown whole", c.w, got)
		}
		if f.preset.Size().Width < 200 {
			t.Errorf("%v: the preset is %v wide", c.w, f.preset.Size().Width)
		}
		var shown []string
		for _, o := range visibleObjects(dlg) {
			if t, ok := o.(*canvas.Text); ok {
				shown = append(shown, t.Text)
			}
		}
		for _, tab := range c.tabs {
			if !slices.Contains(shown, tab) {
				t.Errorf("%v: tab %q not shown", c.w, tab)
			}
		}
		if right := f.reset.Position().X + f.reset.Size().Width; right > dlg.Size().Width {
			t.Errorf("%v: the reset button ends at %v, outside the dialog (%v)", c.w, right, dlg.Size().Width)
		}
	}
}
