package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Tab indexes of the phone layout.
const (
	tabServers = iota
	tabChannels
	tabChat
)

// adaptive holds the three panes: side by side in split containers on a
// wide window, as tabs (Servers / Channels / Chat) on a narrow one or a
// phone. It decides at every layout, so resizing a desktop window to phone
// width switches too.
type adaptive struct {
	widget.BaseWidget
	ui *UI

	mobile  bool // the arrangement in content
	content fyne.CanvasObject
	tabs    *container.AppTabs
}

func newAdaptive(u *UI) *adaptive {
	a := &adaptive{ui: u}
	a.ExtendBaseWidget(a)
	a.build(u.opts.Layout == LayoutMobile || (u.opts.Layout == LayoutAuto && isMobileDevice()))
	return a
}

// wantMobile reports which arrangement fits a given width.
func (a *adaptive) wantMobile(width float32) bool {
	switch a.ui.opts.Layout {
	case LayoutMobile:
		return true
	case LayoutDesktop:
		return false
	}
	return isMobileDevice() || width < MobileBreakpoint
}

// build arranges the panes for the phone (mobile) or the desktop. The panes
// move from the old containers to the new ones; the old ones are dropped.
func (a *adaptive) build(mobile bool) {
	servers := a.ui.servers.object()
	channels := a.ui.channels.object()
	chat := a.ui.chat.object()
	a.mobile = mobile
	// AppTabs hides the panes of unselected tabs; undo that when the panes
	// move.
	for _, o := range []fyne.CanvasObject{servers, channels, chat} {
		o.Show()
	}
	a.ui.setCompact(mobile)
	if mobile {
		a.tabs = container.NewAppTabs(
			container.NewTabItemWithIcon("Servers", iconOnion, servers),
			container.NewTabItemWithIcon("Channels", theme.FolderIcon(), channels),
			container.NewTabItemWithIcon("Chat", theme.MailComposeIcon(), chat),
		)
		a.tabs.OnSelected = func(*container.TabItem) { a.markUnread(0) }
		a.content = a.tabs
		return
	}
	a.tabs = nil
	right := container.NewHSplit(channels, chat)
	right.SetOffset(0.5)
	split := container.NewHSplit(servers, right)
	split.SetOffset(0.3)
	a.content = split
}

// markUnread shows on the Chat tab how many lines arrived while another
// tab was in front; 0 clears it. Only the phone layout has tabs.
func (a *adaptive) markUnread(n int) {
	if a.tabs == nil || len(a.tabs.Items) <= tabChat {
		return
	}
	if a.tabs.SelectedIndex() == tabChat {
		n = 0
	}
	text := "Chat"
	if n > 0 {
		text = fmt.Sprintf("Chat (%d)", n)
	}
	if item := a.tabs.Items[tabChat]; item.Text != text {
		item.Text = text
		a.tabs.Refresh()
	}
}

// isMobile reports whether the phone arrangement is showing.
func (a *adaptive) isMobile() bool { return a.mobile }

// showTab brings a pane to the front in the phone layout.
func (a *adaptive) showTab(i int) {
	if a.tabs != nil && i < len(a.tabs.Items) {
		a.tabs.SelectIndex(i)
	}
}

// CreateRenderer implements fyne.Widget.
func (a *adaptive) CreateRenderer() fyne.WidgetRenderer { return &adaptiveRenderer{a: a} }

type adaptiveRenderer struct{ a *adaptive }

func (r *adaptiveRenderer) Layout(size fyne.Size) {
	a := r.a
	if want := a.wantMobile(size.Width); want != a.mobile {
		a.build(want)
		defer a.Refresh()
	}
	a.content.Move(fyne.NewPos(0, 0))
	a.content.Resize(size)
}

// MinSize is the phone arrangement's: a desktop window can be made
// narrow, and then switches to tabs instead of refusing to shrink.
func (r *adaptiveRenderer) MinSize() fyne.Size {
	if r.a.mobile {
		return r.a.content.MinSize()
	}
	return fyne.NewSize(280, 320)
}

func (r *adaptiveRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.a.content} }
func (r *adaptiveRenderer) Refresh()                     { r.a.content.Refresh() }
func (r *adaptiveRenderer) Destroy()                     {}
