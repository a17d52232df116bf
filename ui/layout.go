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
	// The channel tree gets a little more than the chat, so that names
	// fit at about 700 units; the servers pane shrinks to its narrow
	// toolbar there.
	right := container.NewHSplit(channels, chat)
	right.SetOffset(0.58)
	split := container.NewHSplit(servers, right)
	split.SetOffset(0.28)
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

// responsive lays its content out at the width it is given, calling fit
// with that width first so that the content can rearrange itself (shorter
// texts, a second row) to fit. Its minimum width is minWidth's, not the
// content's: a narrow window gets the narrow arrangement instead of a
// pane that refuses to shrink.
type responsive struct {
	widget.BaseWidget
	content  fyne.CanvasObject
	fit      func(width float32)
	minWidth func() float32
}

func newResponsive(content fyne.CanvasObject, fit func(float32), minWidth func() float32) *responsive {
	r := &responsive{content: content, fit: fit, minWidth: minWidth}
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *responsive) CreateRenderer() fyne.WidgetRenderer { return &responsiveRenderer{r: r} }

type responsiveRenderer struct{ r *responsive }

func (rr *responsiveRenderer) Layout(size fyne.Size) {
	rr.r.fit(size.Width)
	rr.r.content.Move(fyne.NewPos(0, 0))
	rr.r.content.Resize(size)
}

func (rr *responsiveRenderer) MinSize() fyne.Size {
	return fyne.NewSize(rr.r.minWidth(), rr.r.content.MinSize().Height)
}

func (rr *responsiveRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{rr.r.content} }
func (rr *responsiveRenderer) Refresh()                     { rr.r.content.Refresh() }
func (rr *responsiveRenderer) Destroy()                     {}

// newNarrowable returns content with arrangements from the widest (0)
// to the narrowest (n-1): set(i) arranges it so. It shows the widest that
// fits the width it gets. The widths are measured once, here, so that
// laying out never switches back and forth.
func newNarrowable(content fyne.CanvasObject, n int, set func(i int)) *responsive {
	widths := make([]float32, n)
	for i := n - 1; i >= 0; i-- {
		set(i)
		widths[i] = content.MinSize().Width
	}
	cur := 0
	fit := func(w float32) {
		i := 0
		for i < n-1 && w < widths[i] {
			i++
		}
		if i != cur {
			cur = i
			set(i)
		}
	}
	return newResponsive(content, fit, func() float32 { return widths[n-1] })
}
