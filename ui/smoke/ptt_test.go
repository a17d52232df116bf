package smoke

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// observe connects an observer (a second client) to the server at port,
// in smokeChannel, and returns a function that waits until what it sees
// of Tumble's user satisfies ok, and the observer's controller.
func observe(t *testing.T, ctx context.Context, port int) (func(what string, ok func(u app.UserView, found bool) bool), *app.Controller) {
	t.Helper()
	obs, err := app.NewController(ctx, app.ControllerConfig{ConfigDir: t.TempDir(), TorMode: "off", AudioBackend: app.AudioNone})
	if err != nil {
		t.Fatal(err)
	}
	b, err := obs.SaveBookmark(app.Bookmark{Label: "observer", Address: "127.0.0.1", Port: port, Username: "Observer", Channel: []string{smokeChannel}})
	if err != nil {
		t.Fatal(err)
	}
	changed, stop := obs.Watch()
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

	t.Cleanup(func() {
		stop()
		obs.Close()
	})
	return waitTumble, obs
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
	bin := buildTumble(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{smokeChannel}})
	display := startXvfb(t, ctx)
	xvfbtest.StartWM(t, ctx, display)
	cfgDir := t.TempDir()
	writeBookmark(t, cfgDir, srv.Port)

	waitTumble, _ := observe(t, ctx, srv.Port)

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

// clickWord takes a screenshot, finds text with tesseract between the x
// positions minX and maxX (a pane), and clicks its middle. It retries
// until the word shows or ctx ends.
func clickWord(t *testing.T, ctx context.Context, display, shot, text string, minX, maxX int) {
	t.Helper()
	for {
		if out, err := exec.CommandContext(ctx, "import", "-display", display, "-window", "root", shot).CombinedOutput(); err != nil {
			t.Fatalf("import: %v: %s", err, out)
		}
		words, err := ocr(ctx, shot)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range words {
			if strings.EqualFold(strings.Trim(w.text, ".,:;|"), text) && w.left >= minX && w.left < maxX {
				xvfbtest.XDoTool(t, ctx, display, "mousemove", strconv.Itoa(w.left+w.width/2), strconv.Itoa(w.top+w.height/2))
				xvfbtest.XDoTool(t, ctx, display, "click", "1")
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%q not on the screen (%s)", text, shot)
		case <-time.After(time.Second): // the next screenshot
		}
	}
}

// paneBounds returns the x range of the Channels pane: from its title to
// the Chat pane's title.
func paneBounds(t *testing.T, ctx context.Context, display, shot string) (int, int) {
	t.Helper()
	for {
		if out, err := exec.CommandContext(ctx, "import", "-display", display, "-window", "root", shot).CombinedOutput(); err != nil {
			t.Fatalf("import: %v: %s", err, out)
		}
		words, err := ocr(ctx, shot)
		if err != nil {
			t.Fatal(err)
		}
		ch, ok1 := find(words, "Channels")
		chat, ok2 := find(words, "Chat")
		if ok1 && ok2 && chat.left > ch.left {
			return ch.left - 10, chat.left - 10
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no Channels and Chat panes on the screen (%s)", shot)
		case <-time.After(time.Second):
		}
	}
}

// TestPTTAfterClickIntoDescription: the real tumble binary under Xvfb
// with openbox, holding no desktop-wide key (--window-ptt), so only the
// window's key events carry push-to-talk. After a click on the channel
// and then into its description (text that takes the keyboard focus, for
// selecting), holding Right Ctrl makes Tumble transmit, as a second
// client on the server sees; releasing it stops. The same after a click
// into a chat line (the second client's message).
func TestPTTAfterClickIntoDescription(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke test skipped with -short")
	}
	requireTools(t, "Xvfb", "xdotool", "openbox", "xprop", "import", "convert", "tesseract")
	bin := buildTumble(t) // before the deadline: a build takes what it takes
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{smokeChannel}})
	display := startXvfb(t, ctx)
	xvfbtest.StartWM(t, ctx, display)
	cfgDir := t.TempDir()
	writeBookmark(t, cfgDir, srv.Port)
	waitTumble, obs := observe(t, ctx, srv.Port)

	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "--config-dir", cfgDir, "--tor", "off", "--audio", "null",
		"--connect", smokeLabel, "--window-ptt")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"LANG=en_US.UTF-8", "FYNE_THEME=light")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("tumble's output:\n%s", log.String())
		}
	}()
	waitTumble("Tumble connected", func(_ app.UserView, found bool) bool { return found })

	shot := filepath.Join(outDir(t), "description.png")
	minX, maxX := paneBounds(t, ctx, display, shot)
	clickWord(t, ctx, display, shot, smokeChannel, minX, maxX) // select the channel: its description shows
	clickWord(t, ctx, display, shot, "description", minX, maxX)
	win := xvfbtest.XDoTool(t, ctx, display, "search", "--sync", "--name", "Tumble")
	if f := xvfbtest.XDoTool(t, ctx, display, "getwindowfocus"); !strings.Contains(win, f) {
		t.Fatalf("focus on %s, want Tumble's window %s", f, win)
	}
	xvfbtest.XDoTool(t, ctx, display, "keydown", "Control_R")
	waitTumble("Tumble talking", func(u app.UserView, found bool) bool { return found && u.Talking })
	xvfbtest.XDoTool(t, ctx, display, "keyup", "Control_R")
	waitTumble("Tumble silent", func(u app.UserView, found bool) bool { return found && !u.Talking })

	// A click into a chat line (in the Chat pane, right of the Channels
	// pane) takes the focus as the description did.
	if err := obs.SendChat("smokeline from the observer"); err != nil {
		t.Fatal(err)
	}
	clickWord(t, ctx, display, filepath.Join(outDir(t), "chatline.png"), "smokeline", maxX, math.MaxInt)
	if f := xvfbtest.XDoTool(t, ctx, display, "getwindowfocus"); !strings.Contains(win, f) {
		t.Fatalf("focus on %s, want Tumble's window %s", f, win)
	}
	xvfbtest.XDoTool(t, ctx, display, "keydown", "Control_R")
	waitTumble("Tumble talking after a click into the chat", func(u app.UserView, found bool) bool { return found && u.Talking })
	xvfbtest.XDoTool(t, ctx, display, "keyup", "Control_R")
	waitTumble("Tumble silent after a click into the chat", func(u app.UserView, found bool) bool { return found && !u.Talking })
}
