package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tumble-voip/tumble/app"
)

// idleUI is the main window with two bookmarks, Tor embedded (this test
// build has none) and nothing connected: what an idle app.Controller
// shows, served by a fake.
func idleUI(t *testing.T, opts *Options) (*UI, *fakeController) {
	t.Helper()
	onion, _ := newOnion(t, 1)
	ctrl := newFakeController(app.State{Tor: app.TorStatus{Mode: "embedded", Protected: true},
		Audio: "No sound devices: voice is received but not played, and nothing is sent."},
		app.Bookmark{Label: "Hidden lab", Address: onion, Username: "alice", Isolation: fixedIsolation(t, 0)},
		app.Bookmark{Label: "Club", Address: "mumble.example.org", Port: 64739, Username: "bob", Isolation: fixedIsolation(t, 1)})
	if opts == nil {
		opts = &Options{}
	}
	opts.NoEmbeddedTor = true
	return newTestUI(t, ctrl, opts), ctrl
}

func TestMainWindowIdle(t *testing.T) {
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop})
	if u.panes.isMobile() {
		t.Fatal("desktop layout shows tabs")
	}
	if got := u.tor.mode.Text; got != torEmbeddedText {
		t.Errorf("Tor mode reads %q, want %q", got, torEmbeddedText)
	}
	if u.tor.progress.Visible() {
		t.Error("a bootstrap progress bar shows before Tor starts")
	}
	if !hasText(u.tor.object(), "built without embedded Tor") {
		t.Error("no notice that this build has no embedded Tor")
	}
	if len(u.servers.items) != 2 {
		t.Fatalf("%d bookmarks listed, want 2", len(u.servers.items))
	}
	content := u.win.Canvas().Content()
	for _, want := range []string{"Hidden lab", "Club", "bob @ mumble.example.org:64739", "Tor isolation: own circuit 11111111"} {
		if !hasText(content, want) {
			t.Errorf("main window does not show %q", want)
		}
	}
	if u.session.stop.Visible() {
		t.Error("a Cancel/Disconnect button shows while idle")
	}
	test.AssertImageMatches(t, "main_idle.png", capture(u))
}

func TestUnprotectedBanner(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{TorMode: "off"})
	addBookmark(t, ctrl, app.Bookmark{Label: "Local", Address: "127.0.0.1", Username: "alice"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	if got := u.tor.mode.Text; got != torUnprotectedText {
		t.Fatalf("Tor mode reads %q, want %q", got, torUnprotectedText)
	}
	if got, want := u.tor.banner.FillColor, theme.Color(theme.ColorNameError); got != want {
		t.Errorf("banner colour %v, want the error colour %v", got, want)
	}
	if u.tor.progress.Visible() {
		t.Error("a Tor progress bar shows while Tor is off")
	}
	if !hasText(u.win.Canvas().Content(), "No Tor isolation: Tor is off") {
		t.Error("the bookmark row claims Tor isolation while Tor is off")
	}

	// Switching Tor on in the settings takes the banner away.
	s := ctrl.Settings()
	if err := s.SetTorMode(app.TorSOCKS, "127.0.0.1:9050"); err != nil {
		t.Fatal(err)
	}
	ctrl2 := newController(t, app.ControllerConfig{TorMode: "socks=127.0.0.1:9050"})
	u2 := newTestUI(t, ctrl2, &Options{Layout: LayoutDesktop})
	if got := u2.tor.mode.Text; got != torExternalText {
		t.Errorf("Tor mode reads %q with --tor socks=..., want %q", got, torExternalText)
	}
}

func TestMobileLayout(t *testing.T) {
	u, _ := idleUI(t, nil)
	u.win.Resize(fyne.NewSize(360, 720))
	if !u.panes.isMobile() {
		t.Fatal("a phone-sized window shows the desktop layout")
	}
	tabs := u.panes.tabs
	if tabs == nil || len(tabs.Items) != 3 {
		t.Fatal("no Servers / Channels / Chat tabs")
	}
	for i, want := range []string{"Servers", "Channels", "Chat"} {
		if tabs.Items[i].Text != want {
			t.Errorf("tab %d is %q, want %q", i, tabs.Items[i].Text, want)
		}
	}
	test.AssertImageMatches(t, "mobile_idle.png", capture(u))

	tabs.SelectIndex(tabChat)
	if !u.chat.object().Visible() || u.servers.object().Visible() {
		t.Error("the Chat tab does not show the chat pane alone")
	}

	// Back to desktop width: every pane shows again side by side.
	u.win.Resize(fyne.NewSize(1180, 720))
	if u.panes.isMobile() {
		t.Fatal("a wide window keeps the phone layout")
	}
	for name, o := range map[string]fyne.CanvasObject{
		"servers": u.servers.object(), "channels": u.channels.object(), "chat": u.chat.object(),
	} {
		if !o.Visible() || o.Size().Width < 100 {
			t.Errorf("the %s pane is hidden or squeezed (%v) after leaving the phone layout", name, o.Size())
		}
	}
}

func TestForcedMobileLayout(t *testing.T) {
	u, _ := idleUI(t, &Options{Layout: LayoutMobile})
	u.win.Resize(fyne.NewSize(1180, 720))
	if !u.panes.isMobile() {
		t.Fatal("LayoutMobile shows the desktop layout on a wide window")
	}
	if got := u.controls.ptt.Text; got != "Push to talk" {
		t.Errorf("phone push-to-talk button reads %q, want no keyboard hint", got)
	}
}

func TestTorBootstrapShown(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	// The states the controller reports while its Tor bootstraps (the
	// bootstrap itself runs against a private Tor network in the app and
	// tor tests).
	st := ctrl.State()
	st.Phase = app.PhaseStartingTor
	st.Tor = app.TorStatus{Mode: "embedded", Protected: true, Progress: 45, Summary: "Loading relay descriptors"}
	ctrl.setState(st)
	u.Sync()
	if !u.tor.progress.Visible() || u.tor.progress.Value != 0.45 {
		t.Errorf("progress bar visible %v at %v, want 0.45", u.tor.progress.Visible(), u.tor.progress.Value)
	}
	if u.tor.detail.Text != "Loading relay descriptors" {
		t.Errorf("detail reads %q, want Tor's summary", u.tor.detail.Text)
	}
	if u.tor.warning.Visible() {
		t.Error("a warning shows while bootstrapping normally")
	}
	if u.session.stop.Text != "Cancel" || !u.session.stop.Visible() {
		t.Error("no Cancel while Tor starts")
	}
	st.Tor.Warning = "No route to host; reason: NOROUTE"
	ctrl.setState(st)
	u.Sync()
	if !u.tor.warning.Visible() || u.tor.warning.Text != st.Tor.Warning {
		t.Errorf("Tor's warning is not shown in its words: %q", u.tor.warning.Text)
	}
	st.Tor = app.TorStatus{Mode: "embedded", Protected: true, Progress: 100, Summary: "Done", Ready: true}
	st.Phase = app.PhaseConnecting
	ctrl.setState(st)
	u.Sync()
	if u.tor.progress.Value != 1 || u.tor.warning.Visible() || !strings.Contains(u.tor.detail.Text, "ready") {
		t.Errorf("ready Tor shows %v, warning %v, %q", u.tor.progress.Value, u.tor.warning.Visible(), u.tor.detail.Text)
	}
}
