package smoke

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/ui/internal/xvfbtest"
)

// findUser returns the user named name in the tree under ch.
func findUser(ch *app.ChannelView, name string) (app.UserView, bool) {
	if ch == nil {
		return app.UserView{}, false
	}
	for _, u := range ch.Users {
		if u.Name == name {
			return u, true
		}
	}
	for i := range ch.Children {
		if u, ok := findUser(&ch.Children[i], name); ok {
			return u, true
		}
	}
	return app.UserView{}, false
}

// TestGlobalPTTOtherWindowFocused: the real tumble binary under Xvfb with
// the openbox window manager, connected to a Mumble server; another
// program's window has the focus. Holding Right Ctrl (the default
// push-to-talk key) makes Tumble transmit, as a second client on the
// server sees, through the X11 key grab; releasing it stops.
func TestGlobalPTTOtherWindowFocused(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke test skipped with -short")
	}
	requireTools(t, "Xvfb", "xdotool", "openbox", "xmessage", "xprop")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{smokeChannel}})
	bin := buildTumble(t, ctx)
	display := startXvfb(t, ctx)
	xvfbtest.StartWM(t, ctx, display)
	cfgDir := t.TempDir()
	writeBookmark(t, cfgDir, srv.Port)

	// The observer: a second client in the same channel.
	obs, err := app.NewController(ctx, app.ControllerConfig{ConfigDir: t.TempDir(), TorMode: "off", AudioBackend: app.AudioNone})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	b, err := obs.SaveBookmark(app.Bookmark{Label: "observer", Address: "127.0.0.1", Port: srv.Port, Username: "Observer", Channel: []string{smokeChannel}})
	if err != nil {
		t.Fatal(err)
	}
	changed, stop := obs.Watch()
	defer stop()
	obs.Connect(b.ID)
	waitTumble := func(what string, ok func(u app.UserView, found bool) bool) {
		t.Helper()
		for {
			st := obs.State()
			if u, found := findUser(st.Root, smokeUser); ok(u, found) {
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				t.Fatalf("observer: no %s (phase %v, problem %+v)", what, st.Phase, st.Problem)
			}
		}
	}

	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "--config-dir", cfgDir, "--tor", "off", "--audio", "null", "--connect", smokeLabel)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LANG=en_US.UTF-8")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	waitTumble("Tumble connected", func(_ app.UserView, found bool) bool { return found })

	other := exec.CommandContext(ctx, "xmessage", "-name", "otherapp", "another program")
	other.Env = append(os.Environ(), "DISPLAY="+display)
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		other.Process.Kill()
		other.Wait()
	}()
	win := xvfbtest.XDoTool(t, ctx, display, "search", "--sync", "--classname", "otherapp")
	xvfbtest.XDoTool(t, ctx, display, "windowactivate", "--sync", win)
	if f := xvfbtest.XDoTool(t, ctx, display, "getwindowfocus"); f != win {
		t.Fatalf("focus on %s, want the other program's window %s", f, win)
	}
	xvfbtest.XDoTool(t, ctx, display, "keydown", "Control_R")
	waitTumble("Tumble talking", func(u app.UserView, found bool) bool { return found && u.Talking })
	xvfbtest.XDoTool(t, ctx, display, "keyup", "Control_R")
	waitTumble("Tumble silent", func(u app.UserView, found bool) bool { return found && !u.Talking })
	if f := xvfbtest.XDoTool(t, ctx, display, "getwindowfocus"); f != win {
		t.Errorf("focus moved to %s during push-to-talk", f)
	}
}
