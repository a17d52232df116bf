package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

func TestDescriptionText(t *testing.T) {
	tests := []struct {
		ch   app.ChannelView
		want string
	}{
		{app.ChannelView{}, "No description."},
		{app.ChannelView{DescriptionPending: true}, "Loading the description..."},
		{app.ChannelView{Description: "Be kind " + app.ImagePlaceholder}, "Be kind " + app.ImagePlaceholder},
		{app.ChannelView{Description: "see rules and https://a.example", DescriptionLinks: []app.ChatLink{
			{Text: "rules", URL: "https://example.com/r"}, {Text: "https://a.example", URL: "https://a.example"}}},
			"see rules and https://a.example\nLink: rules -> https://example.com/r\nLink: https://a.example"},
	}
	for _, tt := range tests {
		if got := descriptionText(&tt.ch); got != tt.want {
			t.Errorf("descriptionText(%+v) = %q, want %q", tt.ch, got, tt.want)
		}
	}
	if got := channelName(&app.ChannelView{ID: 0}); got != "Root" {
		t.Errorf("unnamed root shows as %q", got)
	}
}

// TestUserVolumeSavedWhenDragEnds checks that the local volume slider
// applies every step of a drag and asks to save only when it ends.
func TestUserVolumeSavedWhenDragEnds(t *testing.T) {
	root := app.ChannelView{Name: "Root", Users: []app.UserView{
		{Session: 1, Name: "alice", Self: true},
		{Session: 2, Name: "bob", LocalVolume: 1},
	}}
	b := app.Bookmark{ID: "lab", Label: "Lab", Address: "127.0.0.1", Username: "alice"}
	ctrl := newFakeController(app.State{Phase: app.PhaseConnected, Bookmark: &b, Root: &root, Self: root.Users[0],
		Tor: app.TorStatus{Mode: "off"}}, b)
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	test.TapSecondary(treeRowFor(t, u, userUID(2, 0)))
	var slider *keySlider
	for _, o := range visibleObjects(topOverlay(u)) {
		if s, ok := o.(*keySlider); ok {
			slider = s
		}
	}
	if slider == nil {
		t.Fatal("the user menu has no volume slider")
	}
	if got := ctrl.volumeCalls(); len(got) != 0 {
		t.Fatalf("opening the menu set volumes: %+v", got)
	}
	w, h := slider.Size().Width, slider.Size().Height
	for _, x := range []float32{0.2, 0.4, 0.3} {
		slider.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(w*x, h/2)}})
	}
	calls := ctrl.volumeCalls()
	if len(calls) != 3 {
		t.Fatalf("3 drag steps made %d volume calls: %+v", len(calls), calls)
	}
	for _, c := range calls {
		if c.session != 2 || c.final {
			t.Errorf("drag step %+v: want bob's volume, not final", c)
		}
	}
	slider.DragEnd()
	calls = ctrl.volumeCalls()
	if len(calls) != 4 {
		t.Fatalf("the end of the drag made %d calls in all, want 4: %+v", len(calls), calls)
	}
	if last := calls[3]; last != (volumeCall{session: 2, v: slider.Value / 100, final: true}) {
		t.Errorf("the end of the drag made %+v, want bob's %v as final", last, slider.Value/100)
	}
}

// TestPTTWithDescriptionFocused: after a click into the channel
// description (which takes the keyboard focus, for selecting and
// copying) the push-to-talk key still reaches the window, with keys
// delivered as Fyne's desktop driver does; the description stays read
// only and copies.
func TestPTTWithDescriptionFocused(t *testing.T) {
	u := connectedAt(t, 1180)
	ctrl := u.ctrl.(*fakeController)
	st := ctrl.State()
	st.Root.Children[0].Description = "Be kind"
	ctrl.setState(st)
	u.Sync()
	test.Tap(treeRowFor(t, u, channelUID(1)))
	info := u.channels.info
	if !info.object().Visible() || info.text.Text != "Be kind" {
		t.Fatalf("description shows %q", info.text.Text)
	}
	layoutAll(u)
	click(info.text)
	if u.win.Canvas().Focused() != fyne.Focusable(info.text) {
		t.Fatalf("the click left the focus on %T", u.win.Canvas().Focused())
	}
	before := len(ctrl.callsSoFar())
	keyDown(u, DefaultPTTKey)
	keyDown(u, DefaultPTTKey) // key repeat
	keyUp(u, DefaultPTTKey)
	want := []string{"PushToTalk true", "PushToTalk false"}
	if got := ctrl.callsSoFar()[before:]; !slices.Equal(got, want) {
		t.Errorf("push-to-talk with the description focused: calls %q, want %q", got, want)
	}

	// Read only, and copies.
	test.Type(info.text, "x")
	pressKey(u, fyne.KeyBackspace)
	fyne.CurrentApp().Clipboard().SetContent("pasted")
	info.text.TypedShortcut(&fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()})
	if info.text.Text != "Be kind" {
		t.Errorf("the description was edited to %q", info.text.Text)
	}
	info.text.TypedShortcut(&fyne.ShortcutSelectAll{})
	cb := fyne.CurrentApp().Clipboard()
	info.text.TypedShortcut(&fyne.ShortcutCopy{Clipboard: cb})
	if got := cb.Content(); got != "Be kind" {
		t.Errorf("copied %q", got)
	}
}

// click clicks o with the primary button as Fyne's desktop driver
// delivers it: MouseDown, MouseUp, then Tapped.
func click(o fyne.CanvasObject) {
	ev := &desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(5, 5)}, Button: desktop.MouseButtonPrimary}
	if m, ok := o.(desktop.Mouseable); ok {
		m.MouseDown(ev)
		m.MouseUp(ev)
	}
	if tp, ok := o.(fyne.Tappable); ok {
		tp.Tapped(&ev.PointEvent)
	}
}

// TestPTTWithChatLineFocused: after a click into a chat line (which takes
// the keyboard focus, for selecting and copying) the push-to-talk key
// still reaches the window, with keys delivered as Fyne's desktop driver
// does; the line stays read only, copies, and is as tall as its wrapped
// text (no scrolling inside a line).
func TestPTTWithChatLineFocused(t *testing.T) {
	u := connectedAt(t, 1180)
	ctrl := u.ctrl.(*fakeController)
	st := ctrl.State()
	long := "bob: " + strings.Repeat("a long line that wraps ", 30)
	st.Chat = []app.ChatLine{
		{From: "bob", Text: strings.TrimPrefix(long, "bob: ")},
		{From: "alice", Text: "short", Own: true},
		{Text: "carol connected.", System: true},
	}
	ctrl.setState(st)
	u.Sync()
	layoutAll(u) // the lines wrap at their width
	layoutAll(u) // and the list lays them out at their height, as the driver does on the next frame
	var lines []*chatLine
	for _, o := range objects(u.chat.lines) {
		if v, ok := o.(*chatLine); ok {
			lines = append(lines, v)
		}
	}
	if len(lines) != 3 || lines[0].Text != long || lines[1].Text != "alice: short" {
		t.Fatalf("chat lines %q", texts(u.chat.lines))
	}
	short := lines[1].MinSize().Height
	if h := lines[0].Size().Height; h < 3*short || h < lines[0].MinSize().Height {
		t.Errorf("the long line is %v high (min %v), a one-line one %v: not as tall as its text",
			h, lines[0].MinSize().Height, short)
	}
	if h := lines[1].Size().Height; h != short {
		t.Errorf("a one-line line is %v high, want %v", h, short)
	}

	line := lines[0]
	click(line)
	if u.win.Canvas().Focused() != fyne.Focusable(line) {
		t.Fatalf("the click left the focus on %T", u.win.Canvas().Focused())
	}
	before := len(ctrl.callsSoFar())
	keyDown(u, DefaultPTTKey)
	keyDown(u, DefaultPTTKey) // key repeat
	keyUp(u, DefaultPTTKey)
	want := []string{"PushToTalk true", "PushToTalk false"}
	if got := ctrl.callsSoFar()[before:]; !slices.Equal(got, want) {
		t.Errorf("push-to-talk with a chat line focused: calls %q, want %q", got, want)
	}

	test.Type(line, "x")
	pressKey(u, fyne.KeyBackspace)
	pressKey(u, fyne.KeyReturn)
	if line.Text != long {
		t.Errorf("the chat line was edited to %q", line.Text)
	}
	line.TypedShortcut(&fyne.ShortcutSelectAll{})
	cb := fyne.CurrentApp().Clipboard()
	line.TypedShortcut(&fyne.ShortcutCopy{Clipboard: cb})
	if got := cb.Content(); got != long {
		t.Errorf("copied %q", got)
	}
}
