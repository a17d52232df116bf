package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// chatPane shows the chat as plain text to select and copy and sends what is
// typed into its entry. Links are shown as text to copy; nothing is ever
// opened or fetched, and there are no images.
type chatPane struct {
	ui *UI

	title  *widget.Label
	lines  *fyne.Container
	scroll *container.Scroll
	entry  *chatEntry
	send   *keyButton
	errMsg *widget.Label
	obj    fyne.CanvasObject

	shown  []app.ChatLine // what lines holds, in order
	unread int            // lines from others not seen on the phone's Chat tab
}

func newChatPane(u *UI) *chatPane {
	p := &chatPane{ui: u}
	p.lines = container.NewVBox()
	p.scroll = container.NewVScroll(p.lines)
	p.entry = newChatEntry(u)
	p.entry.SetPlaceHolder("Type a message to the channel")
	p.entry.OnSubmitted = func(string) { p.submit() }
	p.entry.OnChanged = func(text string) {
		if strings.TrimSpace(text) == "" {
			setLabel(p.errMsg, "") // the error was about what is gone
		}
	}
	p.send = u.newButton("Send", theme.MailSendIcon(), p.submit)
	p.errMsg = widget.NewLabel("")
	p.errMsg.Importance = widget.DangerImportance
	p.errMsg.Wrapping = fyne.TextWrapWord
	p.errMsg.Hide()
	p.title = widget.NewLabelWithStyle("Chat", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	input := container.NewBorder(nil, nil, nil, p.send, p.entry)
	p.obj = container.NewBorder(p.title, container.NewVBox(p.errMsg, input), nil, nil, p.scroll)
	return p
}

func (p *chatPane) object() fyne.CanvasObject { return p.obj }

// apply shows st.Chat, appending when only new lines arrived.
func (p *chatPane) apply(st app.State) {
	connected := st.Phase == app.PhaseConnected
	setEnabled(p.entry, connected)
	setEnabled(p.send, connected)
	if chatEqual(st.Chat, p.shown) {
		return
	}
	n := len(p.shown)
	if n > 0 && len(st.Chat) > n && chatEqual(st.Chat[:n], p.shown) {
		for _, l := range st.Chat[n:] {
			p.lines.Add(p.chatLine(l))
			if !l.Own && !l.System {
				p.unread++
			}
		}
		if p.ui.panes != nil && p.ui.panes.isMobile() && p.ui.panes.tabs.SelectedIndex() != tabChat {
			p.ui.panes.markUnread(p.unread)
		} else {
			p.unread = 0
		}
	} else {
		objs := make([]fyne.CanvasObject, len(st.Chat))
		for i, l := range st.Chat {
			objs[i] = p.chatLine(l)
		}
		p.lines.Objects = objs
		p.lines.Refresh()
	}
	p.shown = append(p.shown[:0:0], st.Chat...)
	p.scroll.ScrollToBottom()
}

// submit sends the entry's text.
func (p *chatPane) submit() {
	text := strings.TrimSpace(p.entry.Text)
	if text == "" {
		return
	}
	if err := p.ui.ctrl.SendChat(text); err != nil {
		setLabel(p.errMsg, errorText(err))
		return
	}
	setLabel(p.errMsg, "")
	p.entry.SetText("")
	p.ui.Sync()
}

// chatLine is one chat line: wrapping text the user can select and copy,
// as tall as its text. It is a textView, not a selectable label: a
// label's selection takes the focus on a click and swallows every key, so
// push-to-talk stopped after a click into the chat. An entry is as tall
// as its rows, not its text, so a label that is never shown measures the
// wrapped text at the line's width (an entry's text wraps as a label's
// of the same width, and the entry's border fits in the label's padding).
type chatLine struct {
	textView
	sizer *widget.Label
}

// chatLine returns l drawn as a chatLine.
func (p *chatPane) chatLine(l app.ChatLine) fyne.CanvasObject {
	text := chatLineText(l)
	v := &chatLine{sizer: widget.NewLabel(text)}
	v.ui = p.ui
	v.self = v
	v.MultiLine = true
	v.Wrapping = fyne.TextWrapWord
	v.sizer.Wrapping = fyne.TextWrapWord
	v.ExtendBaseWidget(v)
	v.SetText(text)
	var th fyne.Theme = plainTextTheme{}
	switch {
	case l.System:
		v.TextStyle = fyne.TextStyle{Italic: true}
		v.sizer.TextStyle = v.TextStyle
	case l.Own:
		th = ownLineTheme{} // as a label of high importance
	}
	return container.NewThemeOverride(v, th)
}

// MinSize implements fyne.CanvasObject: the height of the wrapped text.
func (v *chatLine) MinSize() fyne.Size {
	min := v.textView.MinSize()
	min.Height = v.sizer.MinSize().Height
	return min
}

// Resize implements fyne.CanvasObject; the text wraps anew, and when that
// changes the height the line refreshes so the list lays out again.
func (v *chatLine) Resize(s fyne.Size) {
	before := v.sizer.MinSize().Height
	v.sizer.Resize(fyne.NewSize(s.Width, v.sizer.Size().Height))
	v.textView.Resize(s)
	if v.sizer.MinSize().Height != before {
		v.Refresh()
	}
}

// ownLineTheme draws the user's own chat lines as plain text in the
// primary colour.
type ownLineTheme struct{ plainTextTheme }

func (t ownLineTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameForeground {
		n = theme.ColorNamePrimary
	}
	return t.plainTextTheme.Color(n, v)
}

// chatLineText is the plain text of a chat line: time, sender, text and
// the target of every link on a line of its own, so what a link's text
// hides is visible and can be copied.
func chatLineText(l app.ChatLine) string {
	var b strings.Builder
	if !l.Time.IsZero() {
		b.WriteString("[" + l.Time.Local().Format("15:04") + "] ")
	}
	// Lines of the encrypted room (end to end) carry the lock; private
	// messages say it in words too.
	private := "private"
	if l.Encrypted {
		private = "private, encrypted"
		if !l.System {
			b.WriteString("🔒 ")
		}
	}
	switch {
	case l.Private && l.Own && l.To != "":
		b.WriteString(l.From + " (" + private + ", to " + l.To + "): ")
	case l.Private && l.From != "":
		b.WriteString(l.From + " (" + private + ", to you): ")
	case l.From != "":
		b.WriteString(l.From + ": ")
	}
	b.WriteString(l.Text)
	for _, k := range l.Links {
		switch {
		case k.URL == "":
		case k.Text == "" || k.Text == k.URL:
			b.WriteString("\nLink: " + k.URL)
		default:
			b.WriteString("\nLink: " + k.Text + " -> " + k.URL)
		}
	}
	return b.String()
}

// chatEqual compares chat lines by what is shown.
func chatEqual(a, b []app.ChatLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) || x.From != y.From || x.Text != y.Text || x.Own != y.Own ||
			x.System != y.System || x.Private != y.Private || x.To != y.To || x.Encrypted != y.Encrypted || len(x.Links) != len(y.Links) {
			return false
		}
		for j := range x.Links {
			if x.Links[j] != y.Links[j] {
				return false
			}
		}
	}
	return true
}

// chatEntry is the chat's input. It passes the push-to-talk key to the
// window, so holding it works while typing.
type chatEntry struct {
	widget.Entry
	ui *UI
}

func newChatEntry(u *UI) *chatEntry {
	e := &chatEntry{ui: u}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.SetMinRowsVisible(1)
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey sends with Enter. The entry is multi-line only so that a long
// text wraps instead of growing into one very wide line.
func (e *chatEntry) TypedKey(ev *fyne.KeyEvent) {
	if (ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter) && e.OnSubmitted != nil {
		e.OnSubmitted(e.Text)
		return
	}
	e.Entry.TypedKey(ev)
}

// KeyDown implements desktop.Keyable.
func (e *chatEntry) KeyDown(ev *fyne.KeyEvent) {
	if ev.Name == e.ui.pttKey() {
		e.ui.keyDown(ev)
		return
	}
	e.Entry.KeyDown(ev)
}

// KeyUp implements desktop.Keyable.
func (e *chatEntry) KeyUp(ev *fyne.KeyEvent) {
	if ev.Name == e.ui.pttKey() {
		e.ui.keyUp(ev)
		return
	}
	e.Entry.KeyUp(ev)
}
