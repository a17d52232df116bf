//go:build cgo && linux

package hotkey

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/ui/internal/xvfbtest"
)

// TestGrabWhileAnotherWindowHasFocus: under a real window manager, with
// another program's window focused, the grabbed key reports press and
// release (once each, however long it is held) and the other window
// keeps the focus; a key held by another grab is refused with a clear
// error.
func TestGrabWhileAnotherWindowHasFocus(t *testing.T) {
	xvfbtest.Need(t, "Xvfb", "openbox", "xdotool", "xmessage", "xprop")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	display := xvfbtest.Start(t, ctx)
	xvfbtest.StartWM(t, ctx, display)
	t.Setenv("DISPLAY", display)

	other := exec.CommandContext(ctx, "xmessage", "-name", "otherapp", "another program")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		other.Process.Kill()
		other.Wait()
	})
	win := xvfbtest.XDoTool(t, ctx, display, "search", "--sync", "--classname", "otherapp")
	xvfbtest.XDoTool(t, ctx, display, "windowactivate", "--sync", win)

	for _, key := range []struct{ name, xdotool string }{{"RightControl", "Control_R"}, {"F9", "F9"}, {"V", "v"}} {
		t.Run(key.name, func(t *testing.T) {
			events := make(chan bool, 16)
			g, err := NewGrab(key.name, func(p bool) { events <- p })
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if _, err := NewGrab(key.name, func(bool) {}); err == nil {
				t.Error("a second grab of the same key succeeded")
			} else {
				t.Logf("second grab: %v", err)
			}
			if f := xvfbtest.XDoTool(t, ctx, display, "getwindowfocus"); f != win {
				t.Fatalf("focus on window %s, want the other program's %s", f, win)
			}
			xvfbtest.XDoTool(t, ctx, display, "keydown", key.xdotool)
			want(t, events, true)
			xvfbtest.XDoTool(t, ctx, display, "keydown", key.xdotool) // a repeat
			xvfbtest.XDoTool(t, ctx, display, "keyup", key.xdotool)
			want(t, events, false)
			if f := xvfbtest.XDoTool(t, ctx, display, "getwindowfocus"); f != win {
				t.Errorf("focus moved to %s, want it to stay on %s", f, win)
			}
			if err := g.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case p := <-events:
				t.Errorf("extra event %v", p)
			default:
			}
		})
	}
}

func want(t *testing.T, events <-chan bool, pressed bool) {
	t.Helper()
	select {
	case p := <-events:
		if p != pressed {
			t.Fatalf("key reported pressed=%v, want %v", p, pressed)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no key event (pressed=%v) within 10 s", pressed)
	}
}

// TestGrabWithoutDisplay: without an X11 display the grab says it is
// unsupported.
func TestGrabWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	if _, err := NewGrab("F9", func(bool) {}); err != ErrUnsupported {
		t.Fatalf("NewGrab without DISPLAY: %v, want ErrUnsupported", err)
	}
}
