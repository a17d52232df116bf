package ui

import (
	"errors"
	"fmt"
	"reflect"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// serversPane is the onion bookmark list with its toolbar: add, import a
// mumble:// link, edit, delete, move up and down, and a Connect button on
// every row.
type serversPane struct {
	ui *UI

	title    *widget.Label
	list     *keyList
	items    []app.Bookmark
	selected int // index into items, -1 for none
	canDial  bool
	tor      app.TorStatus
	editor   *bookmarkEditor // the editor last opened

	add, imp, edit, del, up, down *keyButton
	empty                         *widget.Label
	tools                         *fyne.Container // the buttons (toolbar)
	obj                           fyne.CanvasObject
}

func newServersPane(u *UI) *serversPane {
	p := &serversPane{ui: u, selected: -1}
	p.list = u.newList(
		func() int { return len(p.items) },
		p.newRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { p.updateRow(i, o) },
	)
	p.list.OnSelected = func(i widget.ListItemID) {
		p.selected = i
		p.updateButtons()
		// Keep keyboard focus on the window so the push-to-talk key
		// keeps working after a click into the list.
		u.win.Canvas().Unfocus()
	}
	p.list.OnUnselected = func(widget.ListItemID) {
		p.selected = -1
		p.updateButtons()
	}
	p.add = u.newButton("Add", theme.ContentAddIcon(), func() { p.showEditor(nil) })
	p.imp = u.newButton("Import link", theme.ContentPasteIcon(), p.showImport)
	host := u.newButton("Host", theme.HomeIcon(), u.showHost)
	p.edit = u.newButton("", theme.DocumentCreateIcon(), func() {
		if b, ok := p.selectedBookmark(); ok {
			p.showEditor(&b)
		}
	})
	p.del = u.newButton("", theme.DeleteIcon(), p.confirmDelete)
	p.up = u.newButton("", theme.MoveUpIcon(), func() { p.move(-1) })
	p.down = u.newButton("", theme.MoveDownIcon(), func() { p.move(+1) })
	p.empty = widget.NewLabel("No servers yet. Add one, or import a mumble:// link.")
	p.empty.Wrapping = fyne.TextWrapWord

	p.title = widget.NewLabelWithStyle("Servers", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.obj = container.NewBorder(container.NewVBox(p.title, p.toolbar(host)), nil, nil, nil,
		container.NewStack(p.list, container.NewVBox(p.empty)))
	p.updateButtons()
	return p
}

func (p *serversPane) object() fyne.CanvasObject { return p.obj }

// toolbar lays the pane's buttons out in one row, the ones that act on
// the selected server on the right; where the pane is too narrow for that
// the right ones go to a second row, and where even that is too narrow the
// buttons lose their texts (a window of about 700 units), so that the pane
// does not take half the window from the channels and the chat, while a
// window of ordinary size still names Add, Import link and Host.
func (p *serversPane) toolbar(host *keyButton) fyne.CanvasObject {
	texts := map[*keyButton]string{p.add: p.add.Text, p.imp: p.imp.Text, host: host.Text}
	left := container.NewHBox(p.add, p.imp, p.fileButton(), host)
	right := container.NewHBox(p.edit, p.del, p.up, p.down)
	oneRow := layout.NewBorderLayout(nil, nil, left, right)
	tools := container.New(oneRow, left, right)
	arrange := func(i int) { // 0: with texts, 1: texts in two rows, 2: icons in two rows
		for b, text := range texts {
			if i == 2 {
				text = ""
			}
			b.SetText(text)
		}
		tools.Layout = oneRow
		if i > 0 {
			tools.Layout = layout.NewVBoxLayout()
		}
		tools.Refresh()
	}
	p.tools = tools
	return newNarrowable(tools, 3, arrange)
}

// bookmarkRow is one row of the list: the server's name, address and Tor
// isolation, and its Connect button. It is not tappable itself, so a tap
// on its text selects the row.
type bookmarkRow struct {
	widget.BaseWidget
	icon    *widget.Icon
	text    *widget.RichText
	connect *keyButton
}

func newBookmarkRow(u *UI) *bookmarkRow {
	r := &bookmarkRow{
		icon:    widget.NewIcon(iconOnion),
		text:    widget.NewRichText(),
		connect: u.newButton("Connect", theme.LoginIcon(), nil),
	}
	r.text.Truncation = fyne.TextTruncateEllipsis
	r.connect.Importance = widget.HighImportance
	// Three lines, so the list sizes its rows for them.
	r.text.Segments = []widget.RichTextSegment{
		&widget.TextSegment{Text: "Name", Style: nameStyle},
		&widget.TextSegment{Text: "user @ address", Style: widget.RichTextStyleParagraph},
		&widget.TextSegment{Text: "isolation", Style: captionStyle},
	}
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
// In a narrow pane the Connect button shows only its icon, leaving the
// width to the server's name.
func (r *bookmarkRow) CreateRenderer() fyne.WidgetRenderer {
	box := container.NewBorder(nil, nil, container.NewCenter(r.icon), container.NewCenter(r.connect), r.text)
	const wide = 300 // row width from which the button says "Connect"
	fit := func(w float32) {
		text := "Connect"
		if w < wide {
			text = ""
		}
		if r.connect.Text != text {
			r.connect.SetText(text)
		}
	}
	return widget.NewSimpleRenderer(newResponsive(box, fit, func() float32 { return box.MinSize().Width }))
}

// set shows b.
func (r *bookmarkRow) set(b app.Bookmark, tor app.TorStatus, canDial bool, connect func()) {
	if b.IsOnion() {
		r.icon.SetResource(iconOnion)
	} else {
		r.icon.SetResource(theme.ComputerIcon())
	}
	addr := b.HostPort()
	if b.Username != "" {
		addr = b.Username + " @ " + addr
	}
	r.text.Segments = []widget.RichTextSegment{
		&widget.TextSegment{Text: b.Name(), Style: nameStyle},
		&widget.TextSegment{Text: addr, Style: widget.RichTextStyleParagraph},
		&widget.TextSegment{Text: isolationText(b, tor), Style: captionStyle},
	}
	r.text.Refresh()
	r.connect.OnTapped = connect
	setEnabled(r.connect, canDial)
}

// Paragraph styles of the rows: a bold name and a small grey line.
var (
	nameStyle    = widget.RichTextStyle{SizeName: theme.SizeNameText, ColorName: theme.ColorNameForeground, TextStyle: fyne.TextStyle{Bold: true}}
	captionStyle = widget.RichTextStyle{SizeName: theme.SizeNameCaptionText, ColorName: theme.ColorNamePlaceHolder}
)

func (p *serversPane) newRow() fyne.CanvasObject { return newBookmarkRow(p.ui) }

func (p *serversPane) updateRow(i int, o fyne.CanvasObject) {
	r, ok := o.(*bookmarkRow)
	if !ok || i < 0 || i >= len(p.items) {
		return
	}
	id := p.items[i].ID
	r.set(p.items[i], p.tor, p.canDial, func() { p.ui.switchTo(id) })
}

// isolationText describes a bookmark's Tor isolation for its row.
func isolationText(b app.Bookmark, t app.TorStatus) string {
	if t.Mode == string(app.TorOff) {
		return "No Tor isolation: Tor is off"
	}
	tag := b.Isolation.Username()
	if len(tag) > 8 {
		tag = tag[:8]
	}
	s := "Tor isolation: own circuit " + tag
	if !b.ClientAuthKey.IsZero() {
		s += ", client authorization key"
	}
	return s
}

// apply reloads the list when the bookmarks changed and enables the
// Connect buttons when no session is running.
func (p *serversPane) apply(st app.State) {
	canDial := st.Phase == app.PhaseIdle || st.Phase == app.PhaseDisconnected
	list := p.ui.ctrl.Bookmarks()
	changed := !reflect.DeepEqual(list, p.items) || canDial != p.canDial ||
		st.Tor.Mode != p.tor.Mode
	if !changed {
		return
	}
	var selID string
	if b, ok := p.selectedBookmark(); ok {
		selID = b.ID
	}
	p.items, p.canDial, p.tor = list, canDial, st.Tor
	p.list.Refresh()
	p.selected = -1
	p.list.UnselectAll()
	for i, b := range p.items {
		if b.ID == selID {
			p.list.Select(i)
		}
	}
	if len(p.items) == 0 {
		p.empty.Show()
	} else {
		p.empty.Hide()
	}
	p.updateButtons()
}

// reload re-reads the bookmarks now and selects the one with id.
func (p *serversPane) reload(selectID string) {
	p.items = nil // force the reload
	p.apply(p.ui.ctrl.State())
	for i, b := range p.items {
		if b.ID == selectID {
			p.list.Select(i)
			p.list.ScrollTo(i)
		}
	}
}

func (p *serversPane) selectedBookmark() (app.Bookmark, bool) {
	if p.selected < 0 || p.selected >= len(p.items) {
		return app.Bookmark{}, false
	}
	return p.items[p.selected], true
}

func (p *serversPane) updateButtons() {
	_, ok := p.selectedBookmark()
	for _, b := range []*keyButton{p.edit, p.del} {
		setEnabled(b, ok)
	}
	setEnabled(p.up, ok && p.selected > 0)
	setEnabled(p.down, ok && p.selected < len(p.items)-1)
}

// move moves the selected bookmark up (-1) or down (+1).
func (p *serversPane) move(delta int) {
	b, ok := p.selectedBookmark()
	if !ok {
		return
	}
	to := p.selected + delta
	if to < 0 || to >= len(p.items) {
		return
	}
	if err := p.ui.ctrl.MoveBookmark(b.ID, to); err != nil {
		p.ui.showError("Could not move the server", err)
	}
	p.reload(b.ID)
}

func (p *serversPane) confirmDelete() {
	b, ok := p.selectedBookmark()
	if !ok {
		return
	}
	msg := fmt.Sprintf("Delete %q (%s)?\n\nIts own client certificate goes with it: "+
		"if you add the server again, it sees a new user.", b.Name(), b.HostPort())
	d := p.ui.newConfirm("Delete server", msg, "Delete", "No", widget.DangerImportance, func(yes bool) {
		if !yes {
			return
		}
		if err := p.ui.ctrl.DeleteBookmark(b.ID); err != nil {
			p.ui.showError("Could not delete the server", err)
		}
		p.reload("")
	})
	p.ui.showDialog(d, nil, d.Hide, nil) // Enter keeps it: deleting takes a click
}

// showImport asks for a mumble:// link and adds it as a bookmark.
func (p *serversPane) showImport() {
	entry := p.ui.newEntry()
	entry.SetPlaceHolder("mumble://user@server.onion:64738/Channel")
	errLabel := widget.NewLabel("")
	errLabel.Importance = widget.DangerImportance
	errLabel.Wrapping = fyne.TextWrapWord
	errLabel.Hide()
	help := widget.NewLabel("Paste a mumble:// link. Tumble only reads it: nothing is fetched.")
	help.Wrapping = fyne.TextWrapWord
	var d *dialog.CustomDialog
	doImport := func() {
		b, err := p.ui.ctrl.ImportLink(entry.Text)
		switch {
		case errors.Is(err, app.ErrLinkNeedsUsername):
			// The link names no user: let the user choose one; the
			// bookmark is added when the editor saves it.
			d.Hide()
			p.showEditor(&b)
			p.ui.win.Canvas().Focus(p.editor.username)
		case err != nil:
			setLabel(errLabel, errorText(err))
		default:
			d.Hide()
			p.reload(b.ID)
		}
	}
	importBtn := p.ui.newButton("Import", theme.ConfirmIcon(), doImport)
	importBtn.Importance = widget.HighImportance
	cancel := p.ui.newButton("Cancel", theme.CancelIcon(), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Import mumble:// link", container.NewVBox(help, entry, errLabel), p.ui.win)
	d.SetButtons([]fyne.CanvasObject{cancel, importBtn})
	d.Resize(dialogSize(p.ui, 520, 0))
	p.ui.showDialog(d, entry, doImport, nil)
}

func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
