package ui

import (
	"context"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/app/apptest"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// userIn returns the user with the given name and the name of its channel.
func userIn(root *app.ChannelView, name string) (*app.UserView, string) {
	if root == nil {
		return nil, ""
	}
	for i := range root.Users {
		if root.Users[i].Name == name {
			return &root.Users[i], root.Name
		}
	}
	for i := range root.Children {
		if u, ch := userIn(&root.Children[i], name); u != nil {
			return u, ch
		}
	}
	return nil, ""
}

// connectOther connects a second, headless controller as another user.
func connectOther(t *testing.T, srv *murmurtest.Server, name, channel string) *app.Controller {
	t.Helper()
	c := newController(t, app.ControllerConfig{AudioBackend: app.AudioNull})
	b := addBookmark(t, c, app.Bookmark{Address: "127.0.0.1", Port: srv.Port, Username: name, Channel: []string{channel}})
	c.Connect(b.ID)
	changed, cancel := c.Watch()
	defer cancel()
	deadline := time.After(waitLimit)
	for {
		st := c.State()
		if _, in := userIn(st.Root, name); st.Phase == app.PhaseConnected && in == channel {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s did not get into %s; phase %v", name, channel, st.Phase)
		}
		if p := c.State().Problem; p.Kind != app.ProblemNone {
			t.Fatalf("%s could not connect: %v", name, p.Message)
		}
	}
	return c
}

func TestConnectFlow(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{"Lobby", "Quiet"},
		// The test clicks faster than a person; the server's flood limit
		// (1 message a second, bursts of 5) would drop some clicks.
		Extra: map[string]string{"messagelimit": "1000", "messageburst": "1000"}})
	ctrl := newController(t, app.ControllerConfig{AudioBackend: app.AudioNull})
	addBookmark(t, ctrl, app.Bookmark{Label: "Test server", Address: "127.0.0.1", Port: srv.Port,
		Username: "alice", Channel: []string{"Lobby"}})
	u := newTestUI(t, ctrl, nil)
	if u.channels.tree.Visible() || !u.channels.placeholder.Visible() {
		t.Fatal("a channel tree shows before connecting")
	}

	// Tap Connect on the bookmark: the real client connects to the real
	// server and the tree shows the channels and the user.
	test.Tap(findButton(t, u.servers.object(), "Connect"))
	if u.state.Phase != app.PhaseStartingTor && u.state.Phase != app.PhaseConnecting && u.state.Phase != app.PhaseConnected {
		t.Fatalf("after Connect the phase is %v", u.state.Phase)
	}
	st := waitFor(t, u, "alice connected in Lobby", func(st app.State) bool {
		_, ch := userIn(st.Root, "alice")
		return st.Phase == app.PhaseConnected && ch == "Lobby"
	})
	if u.session.stop.Text != "Disconnect" || !u.session.stop.Visible() {
		t.Errorf("connected session bar button reads %q", u.session.stop.Text)
	}
	if !u.channels.tree.Visible() {
		t.Fatal("the channel tree is hidden while connected")
	}
	lobby, quiet := srv.Channels["Lobby"], srv.Channels["Quiet"]
	if got := treeRowFor(t, u, channelUID(lobby)).name.Text; got != "Lobby" {
		t.Errorf("Lobby's row reads %q", got)
	}
	treeRowFor(t, u, channelUID(0))
	aliceRow := treeRowFor(t, u, userUID(st.Self.Session, lobby))
	if aliceRow.name.Text != "alice" || !aliceRow.name.TextStyle.Bold {
		t.Errorf("own user row reads %q (bold %v), want alice in bold", aliceRow.name.Text, aliceRow.name.TextStyle.Bold)
	}
	test.AssertImageMatches(t, "channels_connected.png", crop(u, u.channels.object()))

	// A second user joins and talks: the talking indicator lights up.
	bob := connectOther(t, srv, "bob", "Lobby")
	st = waitFor(t, u, "bob shown in Lobby", func(st app.State) bool { _, ch := userIn(st.Root, "bob"); return ch == "Lobby" })
	bobView, _ := userIn(st.Root, "bob")
	bobSession := bobView.Session
	bobRow := treeRowFor(t, u, userUID(bobSession, lobby))
	if bobRow.icon.Resource.Name() != iconSilent().Name() {
		t.Errorf("silent bob shows icon %s", bobRow.icon.Resource.Name())
	}

	// The phone layout of the same session.
	u.win.Resize(fyne.NewSize(360, 720))
	u.panes.showTab(tabChannels)
	test.AssertImageMatches(t, "mobile_connected.png", capture(u))
	u.win.Resize(fyne.NewSize(1180, 720))

	bob.PushToTalk(true)
	waitFor(t, u, "bob talking", func(st app.State) bool { b, _ := userIn(st.Root, "bob"); return b != nil && b.Talking })
	if got := treeRowFor(t, u, userUID(bobSession, lobby)).icon.Resource.Name(); got != iconTalking().Name() {
		t.Errorf("talking bob shows icon %s, want the talking icon", got)
	}
	bob.PushToTalk(false)
	waitFor(t, u, "bob silent", func(st app.State) bool { b, _ := userIn(st.Root, "bob"); return b != nil && !b.Talking })

	// The user menu: local volume and local mute.
	test.TapSecondary(treeRowFor(t, u, userUID(bobSession, lobby)))
	menu := topOverlay(u)
	if menu == nil || !hasText(menu, "Local volume") {
		t.Fatal("secondary tap on bob opened no menu with a local volume")
	}
	var slider *keySlider
	var localMute *keyCheck
	for _, o := range visibleObjects(menu) {
		switch v := o.(type) {
		case *keySlider:
			slider = v
		case *keyCheck:
			if v.Text == "Mute locally" {
				localMute = v
			}
		}
	}
	if slider == nil || localMute == nil {
		t.Fatal("the user menu has no volume slider or local mute")
	}
	if slider.Value != 100 {
		t.Errorf("bob's local volume starts at %v %%, want 100", slider.Value)
	}
	slider.SetValue(50)
	waitFor(t, u, "bob at half volume", func(st app.State) bool {
		b, _ := userIn(st.Root, "bob")
		return b != nil && math.Abs(b.LocalVolume-0.5) < 0.01
	})
	localMute.SetChecked(true)
	waitFor(t, u, "bob muted locally", func(st app.State) bool { b, _ := userIn(st.Root, "bob"); return b != nil && b.LocalMute })
	if n := len(treeRowFor(t, u, userUID(bobSession, lobby)).status.Objects); n != 1 {
		t.Errorf("locally muted bob shows %d status icons, want the local mute icon", n)
	}
	test.Tap(findButton(t, menu, "Close"))
	if topOverlay(u) != nil {
		t.Error("the user menu stays open after Close")
	}

	// Chat both ways, as plain text.
	test.Type(u.chat.entry, "hello bob")
	test.Tap(u.chat.send)
	waitFor(t, u, "own chat line", func(st app.State) bool {
		return len(st.Chat) > 0 && st.Chat[len(st.Chat)-1].Own && st.Chat[len(st.Chat)-1].Text == "hello bob"
	})
	if u.chat.entry.Text != "" {
		t.Errorf("the chat entry keeps %q after sending", u.chat.entry.Text)
	}
	if !hasText(u.chat.object(), "hello bob") {
		t.Error("the sent line is not in the chat pane")
	}
	sendHTML(t, srv, st.Self.Session,
		`see <a href="https://example.com/x">this page</a> <img src="https://example.com/i.png"> <b>now</b>`)
	waitFor(t, u, "mallory's message", func(st app.State) bool { return chatShows(st, "see this page") })
	if !hasText(u.chat.object(), "Link: this page -> https://example.com/x") {
		t.Errorf("the link target is not shown as text; chat shows %q", texts(u.chat.object()))
	}
	if !hasText(u.chat.object(), app.ImagePlaceholder) {
		t.Errorf("the image is not replaced by %s", app.ImagePlaceholder)
	}
	for _, o := range objects(u.chat.lines) {
		switch v := o.(type) {
		case *widget.Hyperlink:
			t.Errorf("the chat holds a %T: links and images must stay text", o)
		case *canvas.Image: // an entry holds an empty one for its icon, hidden
			if v.Visible() || v.Resource != nil || v.File != "" || v.Image != nil {
				t.Errorf("the chat shows an image (%v): links and images must stay text", v.Resource)
			}
		}
	}

	// A channel description: long, so the server sends it by hash and the
	// controller fetches it, with an image on a loopback "tracker" and a
	// link. Selecting the channel shows it as plain text.
	tracker, fetched := apptest.Tracker(t)
	quietDesc := `<h2>Quiet room</h2><p>Whisper only. No voice after 22:00; read ` +
		`<a href="https://example.com/quiet">the schedule</a> first.</p><img src="` + tracker + `/pixel.png">`
	if len(quietDesc) < 128 {
		t.Fatalf("the description is %d bytes, too short to be sent by hash", len(quietDesc))
	}
	setDescription(t, srv, quiet, quietDesc)
	waitFor(t, u, "Quiet's description, and the helpers gone", func(st app.State) bool {
		q := st.Root.Find(quiet)
		m, _ := userIn(st.Root, "mallory")
		su, _ := userIn(st.Root, "SuperUser")
		return q != nil && q.Description != "" && m == nil && su == nil
	})
	if u.channels.info.object().Visible() {
		t.Error("a description shows with no channel selected")
	}
	test.Tap(treeRowFor(t, u, channelUID(quiet)))
	info := u.channels.info
	wantDesc := "Quiet room\nWhisper only. No voice after 22:00; read the schedule first.\n" + app.ImagePlaceholder +
		"\nLink: the schedule -> https://example.com/quiet"
	if !info.object().Visible() || info.name.Text != "Quiet" || info.text.Text != wantDesc {
		t.Errorf("selected Quiet shows %q: %q (visible %v), want %q", info.name.Text, info.text.Text, info.object().Visible(), wantDesc)
	}
	layoutAll(u)
	layoutAll(u)
	test.AssertImageMatches(t, "channels_description.png", crop(u, u.channels.object()))
	u.win.Resize(fyne.NewSize(360, 720))
	u.panes.showTab(tabChannels)
	test.AssertImageMatches(t, "mobile_description.png", capture(u))
	u.win.Resize(fyne.NewSize(1180, 720))
	test.Tap(treeRowFor(t, u, channelUID(lobby)))
	if info.name.Text != "Lobby" || info.text.Text != "No description." {
		t.Errorf("selected Lobby shows %q: %q", info.name.Text, info.text.Text)
	}
	test.Tap(info.close)
	if info.object().Visible() {
		t.Error("the description stays after closing it")
	}
	test.Tap(treeRowFor(t, u, channelUID(quiet)))

	// Nothing in the window is a link, an image from anywhere but the
	// bundled icons, or rich text that could hold either; nothing was
	// fetched.
	for _, o := range objects(u.win.Canvas().Content()) {
		switch v := o.(type) {
		case *widget.Hyperlink:
			t.Errorf("the window holds a hyperlink to %v", v.URL)
		case *canvas.Image:
			if v.File != "" || v.Resource != nil && strings.Contains(v.Resource.Name(), "://") {
				t.Errorf("the window holds an image that is not a bundled icon: %+v", v)
			}
		case *widget.RichText:
			for _, seg := range v.Segments {
				switch seg := seg.(type) {
				case *widget.ImageSegment:
					t.Errorf("the window holds rich text with an image from %v", seg.Source)
				case *widget.HyperlinkSegment:
					t.Errorf("the window holds rich text with a link to %v", seg.URL)
				}
			}
		}
	}
	if n := fetched(); n != 0 {
		t.Errorf("%d connections to the address of an image in a description or message: remote content was fetched", n)
	}

	// Double tap joins a channel.
	test.DoubleTap(treeRowFor(t, u, channelUID(quiet)))
	waitFor(t, u, "alice in Quiet", func(st app.State) bool { _, ch := userIn(st.Root, "alice"); return ch == "Quiet" })

	// Self mute and deafen.
	test.Tap(u.controls.mute)
	waitFor(t, u, "self-muted", func(st app.State) bool { return st.SelfMute })
	if u.controls.mute.Text != "Muted" {
		t.Errorf("mute button reads %q when muted", u.controls.mute.Text)
	}
	test.Tap(u.controls.mute)
	waitFor(t, u, "unmuted", func(st app.State) bool { return !st.SelfMute })
	test.Tap(u.controls.deaf)
	waitFor(t, u, "deafened", func(st app.State) bool { return st.SelfDeaf })
	test.Tap(u.controls.deaf)
	st = waitFor(t, u, "undeafened", func(st app.State) bool { return !st.SelfDeaf })
	if st.SelfMute {
		// Deafening mutes too (the server says so); undeafening leaves the
		// mute on, so unmute for push-to-talk below.
		test.Tap(u.controls.mute)
		waitFor(t, u, "unmuted after undeafening", func(st app.State) bool { return !st.SelfMute })
	}

	// Push to talk: the key held in the chat entry, then the button.
	u.chat.entry.KeyDown(&fyne.KeyEvent{Name: DefaultPTTKey})
	waitFor(t, u, "transmitting on the key", func(st app.State) bool { return st.Transmitting })
	u.chat.entry.KeyUp(&fyne.KeyEvent{Name: DefaultPTTKey})
	waitFor(t, u, "key released", func(st app.State) bool { return !st.Transmitting })
	u.controls.ptt.MouseDown(nil)
	waitFor(t, u, "transmitting on the button", func(st app.State) bool { return st.Transmitting })
	if u.controls.tx.Text != "Transmitting" {
		t.Errorf("no transmitting indicator: %q", u.controls.tx.Text)
	}
	u.controls.ptt.MouseUp(nil)
	waitFor(t, u, "button released", func(st app.State) bool { return !st.Transmitting })

	// Disconnect.
	test.Tap(u.session.stop)
	waitFor(t, u, "idle", func(st app.State) bool { return st.Phase == app.PhaseIdle })
	if u.channels.tree.Visible() || !u.channels.placeholder.Visible() {
		t.Error("the channel tree stays after disconnecting")
	}
	if u.session.stop.Visible() {
		t.Error("a stop button stays after disconnecting")
	}
}

// setDescription sets a channel's description as SuperUser.
func setDescription(t *testing.T, srv *murmurtest.Server, id uint32, html string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	// Gone again at once: the channel tree must not show SuperUser.
	c := apptest.SuperUser(t, srv)
	defer c.Close()
	if err := c.SetChannelDescription(ctx, id, html); err != nil {
		t.Fatal(err)
	}
}

// sendHTML sends an HTML text message to a session from a third client,
// "mallory", connected with the mumble package directly.
func sendHTML(t *testing.T, srv *murmurtest.Server, to uint32, html string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var d net.Dialer
	c, err := mumble.Dial(ctx, srv.Addr, &mumble.Config{Username: "mallory", DialContext: d.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendText(ctx, mumble.TextMessage{Users: []uint32{to}, Message: html}); err != nil {
		t.Fatal(err)
	}
}
