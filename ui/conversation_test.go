package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// TestConversation: over a real server, join and leave notices show in
// the chat, the user menu sends a private message (shown with whom it went
// to, received as private), a talking user's name stands out, channels
// show their user count and a Join item, the phone's Chat tab counts
// unread lines, a 6000-character paste neither breaks the entry nor
// leaves the "too long" error once cleared, and the chat survives
// Disconnect and Connect again.
func TestConversation(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{"Lobby"},
		Extra: map[string]string{"messagelimit": "1000", "messageburst": "1000"}})
	ctrl := newController(t, app.ControllerConfig{AudioBackend: app.AudioNull})
	bm := addBookmark(t, ctrl, app.Bookmark{Label: "Test server", Address: "127.0.0.1", Port: srv.Port,
		Username: "alice", Channel: []string{"Lobby"}})
	u := newTestUI(t, ctrl, nil)
	test.Tap(findButton(t, u.servers.object(), "Connect"))
	waitFor(t, u, "alice in Lobby", func(st app.State) bool { _, ch := userIn(st.Root, "alice"); return ch == "Lobby" })
	lobby := srv.Channels["Lobby"]

	bob := connectOther(t, srv, "bob", "Lobby")
	st := waitFor(t, u, "bob's join notice", func(st app.State) bool { return chatShows(st, "bob connected.") })
	st = waitFor(t, u, "bob in Lobby", func(st app.State) bool { _, ch := userIn(st.Root, "bob"); return ch == "Lobby" })
	bobView, _ := userIn(st.Root, "bob")
	if row := treeRowFor(t, u, channelUID(lobby)); !hasText(row.status, "2") || !row.menu.Visible() {
		t.Errorf("Lobby's row: status %q, menu shown %v; want the count 2 and a menu", texts(row.status), row.menu.Visible())
	}
	if m := treeRowFor(t, u, channelUID(0)).channelMenu(); len(m.Items) == 0 || m.Items[0].Label != "Join channel" {
		t.Error("the channel menu has no Join item")
	} else {
		m.Items[0].Action()
		waitFor(t, u, "alice joined Root from the menu", func(st app.State) bool { a, ch := userIn(st.Root, "alice"); return a != nil && ch != "Lobby" })
		if err := ctrl.Join(lobby); err != nil {
			t.Fatal(err)
		}
		waitFor(t, u, "alice back in Lobby", func(st app.State) bool { _, ch := userIn(st.Root, "alice"); return ch == "Lobby" })
	}

	// A talking user's name stands out.
	bob.PushToTalk(true)
	waitFor(t, u, "bob talking", func(st app.State) bool { b, _ := userIn(st.Root, "bob"); return b != nil && b.Talking })
	if row := treeRowFor(t, u, userUID(bobView.Session, lobby)); !row.name.TextStyle.Bold || row.name.Importance != widget.SuccessImportance {
		t.Errorf("talking bob's name: bold %v, importance %v", row.name.TextStyle.Bold, row.name.Importance)
	}
	bob.PushToTalk(false)
	waitFor(t, u, "bob silent", func(st app.State) bool { b, _ := userIn(st.Root, "bob"); return b != nil && !b.Talking })
	if row := treeRowFor(t, u, userUID(bobView.Session, lobby)); row.name.TextStyle.Bold {
		t.Error("silent bob's name stays bold")
	}

	// Private message from the user menu.
	test.TapSecondary(treeRowFor(t, u, userUID(bobView.Session, lobby)))
	test.Tap(findButton(t, topOverlay(u), "Send message"))
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, "Private message to bob") {
		t.Fatal("no private message dialog")
	}
	if f := u.win.Canvas().Focused(); f == nil || f != fyne.Focusable(entries(dlg)[0]) {
		t.Error("the message entry does not have the focus")
	}
	test.Type(entries(dlg)[0], "just you")
	test.Tap(findButton(t, dlg, "Send"))
	waitFor(t, u, "private line", func(st app.State) bool { return chatShows(st, "just you") })
	if !hasText(u.chat.object(), "alice (private, to bob): just you") {
		t.Errorf("the private line reads %q", texts(u.chat.object()))
	}
	waitForCtrl(t, bob, "bob gets it privately", func(st app.State) bool {
		for _, l := range st.Chat {
			if l.Text == "just you" && l.Private && l.From == "alice" {
				return true
			}
		}
		return false
	})

	// The phone layout counts lines that arrive while another tab shows.
	u.win.Resize(fyne.NewSize(360, 720))
	layoutAll(u)
	u.panes.showTab(tabChannels)
	if err := bob.SendChat("anyone?"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, u, "bob's line", func(st app.State) bool { return chatShows(st, "anyone?") })
	if got := u.panes.tabs.Items[tabChat].Text; got != "Chat (1)" {
		t.Errorf("the Chat tab reads %q, want an unread count", got)
	}
	u.panes.showTab(tabChat)
	if got := u.panes.tabs.Items[tabChat].Text; got != "Chat" {
		t.Errorf("the Chat tab reads %q after showing it", got)
	}
	u.win.Resize(fyne.NewSize(1180, 720))
	layoutAll(u)

	// A 6000-character paste: the entry wraps, sending says it is too
	// long, and clearing the entry clears the error.
	long := strings.Repeat("abcdefghij", 600)
	u.chat.entry.SetText(long)
	if !u.chat.entry.MultiLine || u.chat.entry.Wrapping == fyne.TextWrapOff {
		t.Error("the chat entry does not wrap a long text")
	}
	if h := u.chat.entry.MinSize().Height; h > 200 {
		t.Errorf("the chat entry grew to %v high", h)
	}
	test.Tap(u.chat.send)
	if !u.chat.errMsg.Visible() {
		t.Fatalf("no error for a %d-character message (server limit %d)", len(long), 5000)
	}
	u.chat.entry.SetText("")
	if u.chat.errMsg.Visible() {
		t.Error("the too long error stays after clearing the entry")
	}
	// Enter sends.
	test.Type(u.chat.entry, "bye")
	u.chat.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	waitFor(t, u, "sent with Enter", func(st app.State) bool { return chatShows(st, "bye") })

	// Bob leaves: a notice. Disconnect and connect again: the chat is back.
	bob.Disconnect()
	waitFor(t, u, "bob's leave notice", func(st app.State) bool { return chatShows(st, "bob disconnected.") })
	test.Tap(findButton(t, u.session.object(), "Disconnect"))
	waitFor(t, u, "idle", func(st app.State) bool { return st.Phase == app.PhaseIdle })
	u.connect(bm.ID)
	st = waitFor(t, u, "connected again", func(st app.State) bool { return st.Phase == app.PhaseConnected })
	for _, want := range []string{"just you", "anyone?", "bob disconnected."} {
		if !chatShows(st, want) || !hasText(u.chat.object(), want) {
			t.Errorf("after Connect again the chat lacks %q", want)
		}
	}
}

// chatShows reports whether a chat line contains text.
func chatShows(st app.State, text string) bool {
	for _, l := range st.Chat {
		if strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

// waitForCtrl waits until cond holds for a controller without a UI.
func waitForCtrl(t *testing.T, c *app.Controller, what string, cond func(app.State) bool) {
	t.Helper()
	ch, cancel := c.Watch()
	defer cancel()
	for !cond(c.State()) {
		select {
		case <-ch:
		case <-t.Context().Done():
			t.Fatalf("%s: test ended", what)
		}
	}
}

// TestRegisterFromUserMenu: the own user's menu registers on the server.
func TestRegisterFromUserMenu(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	ctrl := newController(t, app.ControllerConfig{AudioBackend: app.AudioNull})
	addBookmark(t, ctrl, app.Bookmark{Label: "Test server", Address: "127.0.0.1", Port: srv.Port, Username: "reggie"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	test.Tap(findButton(t, u.servers.object(), "Connect"))
	st := waitFor(t, u, "connected", func(st app.State) bool { return st.Phase == app.PhaseConnected && st.Root != nil })
	test.TapSecondary(treeRowFor(t, u, userUID(st.Self.Session, 0)))
	test.Tap(findButton(t, topOverlay(u), "Register on this server"))
	waitFor(t, u, "registered", func(st app.State) bool { return st.Self.Registered })
	<-u.registered
	if o := topOverlay(u); o == nil || !hasText(o, "You are registered") {
		t.Fatal("no confirmation of the registration")
	}
	u.win.Canvas().Overlays().Remove(topOverlay(u))
	test.TapSecondary(treeRowFor(t, u, userUID(st.Self.Session, 0)))
	if hasText(topOverlay(u), "Register on this server") {
		t.Error("a registered user is offered to register")
	}
}

// TestSwitchServerAsks: Connect on another bookmark while connected asks,
// "Stay" stays, "Switch" switches without a separate Disconnect.
func TestSwitchServerAsks(t *testing.T) {
	a := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	b := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13})
	ctrl := newController(t, app.ControllerConfig{AudioBackend: app.AudioNull})
	ba := addBookmark(t, ctrl, app.Bookmark{Label: "Alpha", Address: "127.0.0.1", Port: a.Port, Username: "me"})
	bb := addBookmark(t, ctrl, app.Bookmark{Label: "Beta", Address: "127.0.0.1", Port: b.Port, Username: "me"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	u.switchTo(ba.ID)
	waitFor(t, u, "connected to Alpha", func(st app.State) bool {
		return st.Phase == app.PhaseConnected && st.Bookmark.ID == ba.ID
	})
	u.switchTo(bb.ID)
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, "Leave Alpha and connect to Beta?") {
		t.Fatal("no question before switching")
	}
	test.Tap(findButton(t, dlg, "Stay"))
	if st := ctrl.State(); st.Bookmark.ID != ba.ID || st.Phase != app.PhaseConnected {
		t.Errorf("Stay left Alpha: %v %v", st.Bookmark.Name(), st.Phase)
	}
	u.switchTo(bb.ID)
	test.Tap(findButton(t, topOverlay(u), "Switch"))
	waitFor(t, u, "connected to Beta", func(st app.State) bool {
		return st.Phase == app.PhaseConnected && st.Bookmark.ID == bb.ID
	})
}
