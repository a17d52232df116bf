package ui

import (
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/app"
)

// TestTorBarNetworkLost: the Tor bar follows Tor after bootstrap: ready,
// then the network lost (saying why and what to check, no longer
// "ready", the session bar saying the reconnect waits for Tor, with
// Cancel), then ready again.
func TestTorBarNetworkLost(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	ready := app.State{Phase: app.PhaseConnected, Tor: app.TorStatus{Mode: "embedded", Protected: true, Progress: 100, Ready: true}}
	ctrl.setState(ready)
	u.Sync()
	if got := u.tor.detail.Text; !strings.HasPrefix(got, "Tor is ready") || u.tor.warning.Visible() {
		t.Fatalf("ready: detail %q, warning shown %v", got, u.tor.warning.Visible())
	}

	lost := ready
	lost.Phase = app.PhaseStartingTor
	lost.Bookmark = &app.Bookmark{ID: "b", Address: "srv.example", Port: 64738, Username: "u"}
	lost.Tor.NetworkDown = true
	lost.Tor.NetworkProblem = "No circuit got an answer for 30s"
	ctrl.setState(lost)
	u.Sync()
	if got := u.tor.detail.Text; got != torNetworkLostText {
		t.Errorf("network lost: detail %q, want %q", got, torNetworkLostText)
	}
	if w := u.tor.warning.Text; !u.tor.warning.Visible() || !strings.Contains(w, lost.Tor.NetworkProblem) ||
		!strings.Contains(w, torNetworkLostStep) {
		t.Errorf("network lost: warning %q (shown %v), want the problem and the next step", w, u.tor.warning.Visible())
	}

	// The reconnect waits for Tor, says so and can be cancelled.
	if got := u.session.status.Text; !strings.Contains(got, "Waiting for Tor to get through to the network") {
		t.Errorf("session bar while waiting for Tor: %q", got)
	}
	if !u.session.stop.Visible() || u.session.stop.Text != "Cancel" {
		t.Errorf("no Cancel while waiting for Tor (button %q, shown %v)", u.session.stop.Text, u.session.stop.Visible())
	}

	ctrl.setState(ready)
	u.Sync()
	if got := u.tor.detail.Text; !strings.HasPrefix(got, "Tor is ready") || u.tor.warning.Visible() {
		t.Errorf("back: detail %q, warning %q shown %v", got, u.tor.warning.Text, u.tor.warning.Visible())
	}
}
