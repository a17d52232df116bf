package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/app/apptest"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// bookmarkByID returns the stored bookmark with id.
func bookmarkByID(t *testing.T, c *app.Controller, id string) app.Bookmark {
	t.Helper()
	for _, b := range c.Bookmarks() {
		if b.ID == id {
			return b
		}
	}
	t.Fatalf("no bookmark %s", id)
	return app.Bookmark{}
}

func TestCertificateChangedDialog(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	ctrl := newController(t, app.ControllerConfig{})
	wrongPin := mumble.FingerprintOf([]byte("another certificate"))
	b := addBookmark(t, ctrl, app.Bookmark{Label: "Pinned", Address: "127.0.0.1", Port: srv.Port,
		Username: "alice", PinnedFingerprint: wrongPin})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	u.connect(b.ID)
	waitFor(t, u, "certificate problem", func(st app.State) bool { return st.Problem.Kind == app.ProblemCertificateChanged })
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, "different certificate") {
		t.Fatal("no certificate changed dialog")
	}
	// Both fingerprints, in groups of four.
	for _, fp := range []string{wrongPin.String(), srv.Fingerprint()} {
		if !hasText(dlg, fp[:4]+" "+fp[4:8]) || !hasText(dlg, fp[60:]) {
			t.Errorf("fingerprint %s is not shown", fp)
		}
	}
	// Refuse is the default (highlighted) button and changes nothing.
	refuse := findButton(t, dlg, "Refuse")
	trust := findButton(t, dlg, "Trust new certificate")
	if refuse.Importance != widget.HighImportance || trust.Importance != widget.DangerImportance {
		t.Errorf("Refuse is not the default choice (importances %v, %v)", refuse.Importance, trust.Importance)
	}
	test.Tap(refuse)
	if topOverlay(u) != nil {
		t.Fatal("the dialog stays after Refuse")
	}
	u.Sync()
	if u.state.Phase == app.PhaseConnected || bookmarkByID(t, ctrl, b.ID).PinnedFingerprint != wrongPin {
		t.Fatal("refusing connected or changed the pinned certificate")
	}

	// Another attempt asks again; trusting pins the new certificate.
	u.connect(b.ID)
	waitFor(t, u, "certificate problem again", func(st app.State) bool {
		return st.Problem.Kind == app.ProblemCertificateChanged && st.Phase == app.PhaseDisconnected
	})
	dlg = topOverlay(u)
	if dlg == nil {
		t.Fatal("no dialog on the second attempt")
	}
	test.Tap(findButton(t, dlg, "Trust new certificate"))
	waitFor(t, u, "connected after trusting", func(st app.State) bool { return st.Phase == app.PhaseConnected })
	if got := bookmarkByID(t, ctrl, b.ID).PinnedFingerprint.String(); got != srv.Fingerprint() {
		t.Errorf("pinned %s after trusting, want %s", got, srv.Fingerprint())
	}
}

func TestWrongPasswordDialog(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Password: "sesame"})
	ctrl := newController(t, app.ControllerConfig{})
	b := addBookmark(t, ctrl, app.Bookmark{Label: "Locked", Address: "127.0.0.1", Port: srv.Port, Username: "alice"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	test.Tap(findButton(t, u.servers.object(), "Connect"))
	waitFor(t, u, "wrong password", func(st app.State) bool { return st.Problem.Kind == app.ProblemWrongPassword })
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, "needs a server password") || !hasText(dlg, "Password needed") {
		t.Fatal("no password needed dialog")
	}
	// A wrong password is refused, and the dialog says so.
	test.Type(entries(dlg)[0], "open")
	test.Tap(findButton(t, dlg, "Connect"))
	waitFor(t, u, "password refused", func(st app.State) bool {
		return st.Phase == app.PhaseDisconnected && st.Problem.Kind == app.ProblemWrongPassword && !st.Problem.PasswordNeeded
	})
	dlg = topOverlay(u)
	if dlg == nil || !hasText(dlg, "refused the server password") || !hasText(dlg, "Wrong password") {
		t.Fatal("no wrong password dialog")
	}
	es := entries(dlg)
	if len(es) != 1 || !es[0].Password {
		t.Fatalf("the dialog has %d entries, want one password entry", len(es))
	}
	test.Type(es[0], "sesame")
	test.Tap(findButton(t, dlg, "Connect"))
	waitFor(t, u, "connected with the password", func(st app.State) bool { return st.Phase == app.PhaseConnected })
	if got := bookmarkByID(t, ctrl, b.ID).Password; got != "sesame" {
		t.Errorf("bookmark password %q after the dialog", got)
	}
}

func TestTorFailedDialog(t *testing.T) {
	// This test build has no embedded Tor: connecting fails in Tor, with
	// Tor's reason.
	ctrl := newController(t, app.ControllerConfig{TorMode: "embedded"})
	onion, _ := newOnion(t, 2)
	addBookmark(t, ctrl, app.Bookmark{Label: "Onion", Address: onion, Username: "alice"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop, NoEmbeddedTor: true})

	test.Tap(findButton(t, u.servers.object(), "Connect"))
	st := waitFor(t, u, "Tor failure", func(st app.State) bool { return st.Problem.Kind == app.ProblemTorFailed })
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, st.Problem.Message) || !strings.Contains(st.Problem.Message, "SOCKS port") {
		t.Fatalf("the Tor failed dialog does not say what to do: %q", st.Problem.Message)
	}
	// Tor's own words are one click away.
	test.Tap(findButton(t, dlg, "Details"))
	if det := topOverlay(u); det == nil || !hasText(det, "without embedded Tor") {
		t.Fatal("Details does not show the raw error")
	} else {
		test.Tap(findButton(t, det, "Close"))
	}
	dlg = topOverlay(u)
	if !u.session.details.Visible() {
		t.Error("the session bar has no Details button after the failure")
	}
	if !u.session.again.Visible() || !strings.Contains(u.session.status.Text, "Disconnected") {
		t.Errorf("session bar after the failure: %q", u.session.status.Text)
	}
	test.Tap(findButton(t, dlg, "Settings"))
	if u.settingsOpen == nil {
		t.Error("Settings in the Tor failed dialog opened no settings")
	}
}

func TestClientAuthDialog(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{TorMode: "embedded"})
	onion, key := newOnion(t, 3)
	b := addBookmark(t, ctrl, app.Bookmark{Label: "Private onion", Address: onion, Username: "alice"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	// Reaching a real onion service needs a Tor network (covered by the
	// tor and app tests); here the dialog is shown for the state the
	// controller reports when the service asks for authorization.
	st := u.ctrl.State()
	st.Phase = app.PhaseDisconnected
	st.Bookmark = &b
	st.Problem = app.Problem{Kind: app.ProblemClientAuthRequired,
		Message: "The onion service Private onion requires client authorization."}
	u.apply(st)
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, "requires client authorization") {
		t.Fatal("no client authorization dialog")
	}
	es := entries(dlg)
	if len(es) != 1 {
		t.Fatalf("the dialog has %d entries, want one for the key", len(es))
	}
	test.Type(es[0], "not a key")
	test.Tap(findButton(t, dlg, "Connect"))
	if topOverlay(u) != dlg || !hasText(dlg, "Client authorization key") {
		t.Fatal("an invalid key closed the dialog or was not explained")
	}
	es[0].SetText(key)
	test.Tap(findButton(t, dlg, "Connect"))
	if topOverlay(u) == dlg {
		t.Fatal("a valid key did not close the dialog")
	}
	if got := bookmarkByID(t, ctrl, b.ID).ClientAuthKey.String(); got != key {
		t.Errorf("bookmark key %q, want %q", got, key)
	}
	// Connecting again started (and fails for want of an embedded Tor).
	waitFor(t, u, "the retry", func(st app.State) bool { return st.Problem.Kind == app.ProblemTorFailed })
}

func TestCancelWhileConnecting(t *testing.T) {
	// A "Tor SOCKS port" that accepts and never answers keeps the attempt
	// hanging until it is cancelled.
	bh := apptest.NewBlackhole(t)
	ctrl := newController(t, app.ControllerConfig{TorMode: "socks=" + bh.Addr})
	onion, _ := newOnion(t, 4)
	addBookmark(t, ctrl, app.Bookmark{Label: "Slow", Address: onion, Username: "alice"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	if got := u.tor.mode.Text; got != torExternalText {
		t.Errorf("Tor mode reads %q, want %q", got, torExternalText)
	}

	test.Tap(findButton(t, u.servers.object(), "Connect"))
	waitFor(t, u, "an attempt under way", func(st app.State) bool {
		return st.Phase == app.PhaseStartingTor || st.Phase == app.PhaseConnecting
	})
	if u.session.stop.Text != "Cancel" || !u.session.stop.Visible() || !u.session.activity.Visible() {
		t.Fatalf("no Cancel button while connecting (%q)", u.session.stop.Text)
	}
	if !findButton(t, u.servers.object(), "Connect").Disabled() {
		t.Error("Connect stays enabled during an attempt")
	}
	test.Tap(u.session.stop)
	waitFor(t, u, "idle after Cancel", func(st app.State) bool { return st.Phase == app.PhaseIdle })
	if u.session.stop.Visible() || u.session.activity.Visible() {
		t.Error("the Cancel button or the activity stays after cancelling")
	}
}

func TestReconnectCountdown(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	ctrl := newController(t, app.ControllerConfig{})
	s := ctrl.Settings()
	s.Network.Reconnect = true
	s.Network.ReconnectInitialSeconds = 30
	s.Network.ReconnectMaxSeconds = 60
	if err := ctrl.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	b := addBookmark(t, ctrl, app.Bookmark{Label: "Flaky", Address: "127.0.0.1", Port: srv.Port, Username: "alice"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	u.connect(b.ID)
	waitFor(t, u, "connected", func(st app.State) bool { return st.Phase == app.PhaseConnected })

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, u, "countdown", func(st app.State) bool { return st.Phase == app.PhaseReconnectWait })
	if !strings.Contains(u.session.status.Text, "Reconnecting to Flaky in") || !strings.Contains(u.session.status.Text, "seconds") {
		t.Errorf("countdown reads %q", u.session.status.Text)
	}
	if u.session.stop.Text != "Stop" {
		t.Fatalf("countdown button reads %q, want Stop", u.session.stop.Text)
	}
	test.Tap(u.session.stop)
	waitFor(t, u, "countdown stopped", func(st app.State) bool { return st.Phase == app.PhaseDisconnected })
	if !u.session.again.Visible() {
		t.Error("no Connect again after stopping the countdown")
	}
}
