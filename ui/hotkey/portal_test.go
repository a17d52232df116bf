package hotkey

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/ui/internal/portaltest"
)

// TestPortalGrab: through a GlobalShortcuts portal on a private session
// bus, the push-to-talk shortcut is bound with the key proposed as its
// trigger; the portal's Activated and Deactivated for it report press
// and release (other shortcuts are ignored); Close ends the session.
func TestPortalGrab(t *testing.T) {
	addr := portaltest.StartBus(t)
	portal := portaltest.Start(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := make(chan bool, 8)
	g, err := NewPortalGrab(ctx, "F9", func(pressed bool) { events <- pressed })
	if err != nil {
		t.Fatal(err)
	}
	bound := strings.Join(portal.Bound(), ",")
	if bound != "push-to-talk=F9" {
		t.Errorf("bound %q, want push-to-talk=F9", bound)
	}
	wait := func(want bool) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("reported %v, want %v", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no report of %v", want)
		}
	}
	portal.Press(t, "someone-else", true)
	portal.Press(t, shortcutID, true)
	wait(true)
	portal.Press(t, shortcutID, true) // held: no second press
	portal.Press(t, shortcutID, false)
	wait(false)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		t.Errorf("extra report %v", e)
	default:
	}
	if !portal.Closed() {
		t.Error("Close did not end the portal session")
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPortalRefusals: without a portal on the bus NewPortalGrab says so
// (ErrNoPortal); when the user cancels the binding, it says that.
func TestPortalRefusals(t *testing.T) {
	addr := portaltest.StartBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := NewPortalGrab(ctx, "F9", func(bool) {})
	if !errors.Is(err, ErrNoPortal) {
		t.Fatalf("no portal: err %v, want ErrNoPortal", err)
	}
	portal := portaltest.Start(t, addr)
	portal.Response = 1
	_, err = NewPortalGrab(ctx, "F9", func(bool) {})
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("cancelled by the user: err %v", err)
	}
}
