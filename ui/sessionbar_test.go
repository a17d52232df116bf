package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// TestSessionBarReconnectCountdown: during the reconnect countdown the
// session bar shows it with the problem, "Retry now" makes the attempt at
// once and "Stop" stops reconnecting.
func TestSessionBarReconnectCountdown(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	b := &app.Bookmark{ID: "b1", Label: "Club", Address: "mumble.example.org", Port: 64738, Username: "bob"}
	ctrl.setState(app.State{Phase: app.PhaseReconnectWait, Bookmark: b, ReconnectIn: 4 * time.Second,
		ReconnectAttempt: 2, ReconnectMaxAttempts: 10, Tor: app.TorStatus{Mode: "embedded", Protected: true, Ready: true},
		Problem: app.Problem{Kind: app.ProblemOther, Message: "The connection was lost: Club closed the connection."}})
	u.Sync()
	if got := u.session.status.Text; !strings.Contains(got, "Reconnecting to Club in 4") || !strings.Contains(got, "attempt 2 of 10") ||
		!strings.Contains(got, "closed the connection") {
		t.Errorf("session bar: %q", got)
	}
	if !u.session.again.Visible() || u.session.again.Text != "Retry now" {
		t.Fatalf("retry button %q shown %v", u.session.again.Text, u.session.again.Visible())
	}
	test.Tap(u.session.again)
	if !slices.Contains(ctrl.callsSoFar(), "RetryNow") {
		t.Errorf("Retry now did not reach the controller: calls %v", ctrl.callsSoFar())
	}
	if u.session.stop.Text != "Stop" {
		t.Fatalf("stop button %q", u.session.stop.Text)
	}
	test.Tap(u.session.stop)
	if !slices.Contains(ctrl.callsSoFar(), "StopReconnect") {
		t.Errorf("Stop did not reach the controller: calls %v", ctrl.callsSoFar())
	}
}
