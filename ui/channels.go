package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// channelsPane is the channel tree with its users. A double tap on a
// channel joins it; a secondary tap (or the button on a user's row) opens
// the user's menu with the local volume and local mute. A tap selects a
// channel and shows its description under the tree.
type channelsPane struct {
	ui *UI

	title       *widget.Label
	tree        *keyTree
	placeholder *widget.Label
	info        *channelInfo
	obj         fyne.CanvasObject

	selected widget.TreeNodeID // the selected node, "" if none

	root     *app.ChannelView
	room     app.EncryptedRoom // of the state shown (the channel marker)
	nodes    map[widget.TreeNodeID]treeNode
	children map[widget.TreeNodeID][]widget.TreeNodeID
	seen     map[widget.TreeNodeID]bool // channels already opened once
}

// treeNode is what a tree node shows: a channel or a user.
type treeNode struct {
	channel *app.ChannelView // nil for users
	user    *app.UserView    // nil for channels
	chanID  uint32           // the channel, or the user's channel
}

// Tree node IDs: "c<channel id>" for channels and "u<session>.<channel
// id>" for users. The channel is part of a user's ID because Fyne's tree
// keeps the indentation of a node it already shows: a user moving to a
// channel at another depth must become a new node.
func channelUID(id uint32) widget.TreeNodeID { return "c" + strconv.FormatUint(uint64(id), 10) }
func userUID(session, channel uint32) widget.TreeNodeID {
	return "u" + strconv.FormatUint(uint64(session), 10) + "." + strconv.FormatUint(uint64(channel), 10)
}

func newChannelsPane(u *UI) *channelsPane {
	p := &channelsPane{ui: u, nodes: map[string]treeNode{}, children: map[string][]string{}, seen: map[string]bool{}}
	p.tree = u.newTree(
		func(uid widget.TreeNodeID) []widget.TreeNodeID { return p.children[uid] },
		func(uid widget.TreeNodeID) bool { return uid == "" || p.nodes[uid].channel != nil },
		func(bool) fyne.CanvasObject { return newTreeRow(p) },
		func(uid widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
			if r, ok := o.(*treeRow); ok {
				r.set(uid, p.nodes[uid])
			}
		},
	)
	p.tree.OnSelected = func(uid widget.TreeNodeID) {
		u.win.Canvas().Unfocus()
		p.selected = uid
		p.info.show(p.nodes[uid].channel)
	}
	p.tree.OnUnselected = func(uid widget.TreeNodeID) {
		if p.selected == uid {
			p.selected = ""
			p.info.show(nil)
		}
	}
	p.info = newChannelInfo(u, func() { p.tree.UnselectAll() })
	p.placeholder = widget.NewLabel("Not connected.")
	p.placeholder.Alignment = fyne.TextAlignCenter
	p.title = widget.NewLabelWithStyle("Channels", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.obj = container.NewBorder(p.title, p.info.object(), nil, nil,
		container.NewStack(p.tree, container.NewCenter(p.placeholder)))
	p.tree.Hide()
	return p
}

func (p *channelsPane) object() fyne.CanvasObject { return p.obj }

// apply rebuilds the tree from st.Root.
func (p *channelsPane) apply(st app.State) {
	p.root, p.room = st.Root, st.Room
	p.nodes = map[string]treeNode{}
	p.children = map[string][]string{}
	if st.Root == nil {
		p.tree.Hide()
		switch st.Phase {
		case app.PhaseStartingTor, app.PhaseConnecting:
			p.placeholder.SetText("Connecting...")
		default:
			p.placeholder.SetText("Not connected.")
		}
		p.placeholder.Show()
		p.seen = map[string]bool{}
		p.tree.UnselectAll()
		p.info.show(nil)
		p.tree.Refresh()
		return
	}
	p.placeholder.Hide()
	var walk func(parent string, c *app.ChannelView)
	walk = func(parent string, c *app.ChannelView) {
		uid := channelUID(c.ID)
		p.nodes[uid] = treeNode{channel: c, chanID: c.ID}
		p.children[parent] = append(p.children[parent], uid)
		for i := range c.Users {
			u := &c.Users[i]
			id := userUID(u.Session, c.ID)
			p.nodes[id] = treeNode{user: u, chanID: c.ID}
			p.children[uid] = append(p.children[uid], id)
		}
		for i := range c.Children {
			walk(uid, &c.Children[i])
		}
	}
	walk("", st.Root)
	// Open every channel the first time it appears; later the user's
	// choice of open and closed branches is kept.
	for uid, n := range p.nodes {
		if n.channel != nil && !p.seen[uid] {
			p.seen[uid] = true
			p.tree.OpenBranch(uid)
		}
	}
	p.tree.Show()
	p.tree.Refresh()
	// The selected channel's description follows the state; a node that
	// is gone (a removed channel, a user who moved) is unselected.
	if p.selected != "" {
		if n, ok := p.nodes[p.selected]; ok {
			p.info.show(n.channel)
		} else {
			p.tree.UnselectAll()
			p.selected = ""
			p.info.show(nil)
		}
	}
}

// join moves to a channel. Join waits for the server, so it runs in the
// background; the move shows through the controller's change signal.
func (p *channelsPane) join(id uint32) {
	ctrl, u := p.ui.ctrl, p.ui
	u.async(func() {
		if err := ctrl.Join(id); err != nil {
			fyne.Do(func() { u.showError("Could not join the channel", err) })
		}
	})
}

// treeRow is one node of the channel tree. It handles the taps itself:
// tap selects, double tap joins a channel, secondary tap opens a menu.
type treeRow struct {
	widget.BaseWidget
	pane *channelsPane
	uid  widget.TreeNodeID
	node treeNode

	icon   *widget.Icon
	name   *widget.Label
	status *fyne.Container
	menu   *keyButton
	box    *fyne.Container // the row's layout, redone when status changes
}

func newTreeRow(p *channelsPane) *treeRow {
	r := &treeRow{pane: p, icon: widget.NewIcon(iconChannel()), name: widget.NewLabel(""),
		status: container.NewHBox()}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.menu = p.ui.newButton("", theme.MoreVerticalIcon(), func() {
		r.openMenu(fyne.CurrentApp().Driver().AbsolutePositionForObject(r.menu))
	})
	r.menu.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *treeRow) CreateRenderer() fyne.WidgetRenderer {
	r.box = container.NewBorder(nil, nil, r.icon, container.NewHBox(r.status, r.menu), r.name)
	return widget.NewSimpleRenderer(r.box)
}

// set shows node n with ID uid.
func (r *treeRow) set(uid widget.TreeNodeID, n treeNode) {
	r.uid, r.node = uid, n
	var icons []fyne.Resource
	switch {
	case n.channel != nil:
		r.icon.SetResource(iconChannel())
		r.name.TextStyle = fyne.TextStyle{}
		r.name.Importance = widget.MediumImportance
		r.name.SetText(channelName(n.channel) + roomMark(r.pane.room, n.channel.ID))
		r.menu.Show() // Join is in the menu
	case n.user != nil:
		u := n.user
		icon, importance, how := talkLook(*u)
		r.icon.SetResource(icon)
		// A talking user stands out by name, not only by the icon, and a
		// whisper or shout says so.
		r.name.TextStyle = fyne.TextStyle{Bold: u.Self || u.Talking}
		r.name.Importance = importance
		r.name.SetText(u.Name + how)
		icons = userIcons(*u)
		r.menu.Show()
	default:
		r.name.SetText("")
		r.menu.Hide()
	}
	objs := make([]fyne.CanvasObject, 0, len(icons)+1)
	if n.channel != nil && len(n.channel.Users) > 0 {
		count := widget.NewLabel(strconv.Itoa(len(n.channel.Users)))
		count.Importance = widget.LowImportance
		objs = append(objs, count) // the number of users in the channel
	}
	for _, ic := range icons {
		objs = append(objs, widget.NewIcon(ic))
	}
	r.status.Objects = objs
	r.status.Refresh()
	if r.box != nil {
		r.box.Refresh() // status may have changed width
	}
}

// talkLook returns how a user's row shows talking: the icon, the
// importance (colour) of the name and words after the name. Talking in the
// channel is green; a whisper to this client is in the primary colour and
// a shout (voice sent to several channels, or from a linked one) in the
// warning colour, each named, as Mumble tells them apart.
func talkLook(u app.UserView) (fyne.Resource, widget.Importance, string) {
	if !u.Talking {
		return iconSilent(), widget.MediumImportance, ""
	}
	switch u.Talk {
	case app.TalkWhisper:
		return iconWhisper(), widget.HighImportance, " (whispering to you)"
	case app.TalkShout:
		return iconShout(), widget.WarningImportance, " (shouting)"
	case app.TalkListen:
		return iconTalking(), widget.SuccessImportance, " (heard by listening)"
	}
	return iconTalking(), widget.SuccessImportance, ""
}

// userIcons returns the status icons of a user, in Mumble's order.
func userIcons(u app.UserView) []fyne.Resource {
	var out []fyne.Resource
	if u.PrioritySpeaker {
		out = append(out, iconPriority())
	}
	if u.Recording {
		out = append(out, iconRecording())
	}
	switch {
	case u.Muted || u.Suppressed:
		out = append(out, iconMicOff)
	case u.SelfMuted:
		out = append(out, iconMicOffOwn)
	}
	switch {
	case u.Deafened:
		out = append(out, iconDeafened())
	case u.SelfDeafened:
		out = append(out, iconSelfDeafened())
	}
	if u.LocalMute {
		out = append(out, iconLocalMute())
	}
	return out
}

// Tapped selects the node.
func (r *treeRow) Tapped(*fyne.PointEvent) {
	if r.uid != "" {
		r.pane.tree.Select(r.uid)
	}
}

// DoubleTapped joins a channel, or the channel of a user.
func (r *treeRow) DoubleTapped(*fyne.PointEvent) {
	if r.node.channel == nil && r.node.user == nil {
		return
	}
	if r.node.user != nil && r.node.user.Self {
		return
	}
	r.pane.join(r.node.chanID)
}

// TappedSecondary opens the node's menu.
func (r *treeRow) TappedSecondary(e *fyne.PointEvent) {
	r.Tapped(e)
	r.openMenu(e.AbsolutePosition)
}

func (r *treeRow) openMenu(pos fyne.Position) {
	c := r.pane.ui.win.Canvas()
	switch {
	case r.node.channel != nil:
		widget.ShowPopUpMenuAtPosition(r.channelMenu(), c, pos)
	case r.node.user != nil:
		r.pane.ui.showUserMenu(*r.node.user, pos)
	}
}

// channelMenu is the menu of a channel row.
func (r *treeRow) channelMenu() *fyne.Menu {
	id := r.node.chanID
	items := append([]*fyne.MenuItem{fyne.NewMenuItem("Join channel", func() { r.pane.join(id) })},
		r.pane.ui.roomMenuItems(id)...)
	return fyne.NewMenu("", items...)
}

// showUserMenu opens the per-user menu: local volume and local mute for
// others, mute and deafen for oneself.
func (u *UI) showUserMenu(user app.UserView, pos fyne.Position) {
	var pop *widget.PopUp
	title := widget.NewLabelWithStyle(user.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var body fyne.CanvasObject
	if user.Self {
		mute := u.newCheck("Mute myself", func(on bool) { u.ctrl.SetSelfMute(on); u.Sync() })
		mute.SetChecked(u.state.SelfMute)
		deaf := u.newCheck("Deafen myself", func(on bool) { u.ctrl.SetSelfDeaf(on); u.Sync() })
		deaf.SetChecked(u.state.SelfDeaf)
		box := container.NewVBox(mute, deaf)
		if !user.Registered {
			box.Add(u.newButton("Register on this server", theme.AccountIcon(), func() {
				pop.Hide()
				u.register()
			}))
		}
		body = box
	} else {
		session := user.Session
		vol := u.newSlider(0, 200)
		vol.Step = 5
		value := widget.NewLabel("")
		showVol := func(v float64) { value.SetText(fmt.Sprintf("%.0f %%", v)) }
		lv := user.LocalVolume
		if lv == 0 && !user.LocalMute {
			lv = 1
		}
		vol.SetValue(lv * 100)
		showVol(vol.Value)
		// Every step is heard at once; the volume is saved when the
		// drag (or tap, or key press) ends.
		vol.OnChanged = func(v float64) {
			showVol(v)
			u.ctrl.SetUserVolume(session, v/100, false)
		}
		vol.OnChangeEnded = func(v float64) { u.ctrl.SetUserVolume(session, v/100, true) }
		mute := u.newCheck("Mute locally", func(on bool) { u.ctrl.SetUserMute(session, on); u.Sync() })
		mute.SetChecked(user.LocalMute)
		send := u.newButton("Send message", theme.MailSendIcon(), func() {
			pop.Hide()
			u.showPrivateMessage(user)
		})
		hint := widget.NewLabel("Only you hear this change.")
		hint.SizeName = theme.SizeNameCaptionText
		body = container.NewVBox(
			widget.NewLabel("Local volume"),
			container.NewBorder(nil, nil, nil, value, vol),
			mute, hint, send)
	}
	closeBtn := u.newButton("Close", theme.CancelIcon(), func() { pop.Hide() })
	content := container.NewVBox(title, widget.NewSeparator(), body, closeBtn)
	sized := container.NewGridWrap(fyne.NewSize(260, content.MinSize().Height), content)
	if u.panes.isMobile() {
		pop = widget.NewModalPopUp(sized, u.win.Canvas())
		pop.Show()
		return
	}
	pop = widget.NewPopUp(sized, u.win.Canvas())
	pop.ShowAtPosition(pos)
}

// showPrivateMessage asks for a message to one user and sends it to that
// user alone; it shows in the chat with whom it went to.
func (u *UI) showPrivateMessage(user app.UserView) {
	entry := u.newMultiLineEntry()
	entry.enterSubmits = true
	entry.SetPlaceHolder("Message to " + user.Name)
	errLabel := newErrorLabel()
	var d *dialog.CustomDialog
	send := func() {
		if strings.TrimSpace(entry.Text) == "" {
			return
		}
		if err := u.ctrl.SendPrivate(user.Session, entry.Text); err != nil {
			setLabel(errLabel, errorText(err))
			return
		}
		d.Hide()
		u.Sync()
	}
	sendBtn := u.newButton("Send", theme.MailSendIcon(), send)
	sendBtn.Importance = widget.HighImportance
	cancel := u.newButton("Cancel", theme.CancelIcon(), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Private message to "+user.Name,
		container.NewVBox(wrapLabel("Only "+user.Name+" gets this message."), entry, errLabel), u.win)
	d.SetButtons([]fyne.CanvasObject{cancel, sendBtn})
	d.Resize(dialogSize(u, 420, 0))
	u.showDialog(d, entry, send, nil)
}

// register registers this user on the server in the background; the
// account is then tied to the bookmark's certificate.
func (u *UI) register() {
	ctrl := u.ctrl
	done := make(chan struct{})
	u.registered = done
	u.async(func() {
		err := ctrl.Register()
		fyne.Do(func() {
			defer close(done)
			if err != nil {
				u.showError("Could not register", err)
				return
			}
			d := u.newInformation("Registered", "You are registered under this name. The account is tied to "+
				"this bookmark's certificate: export the bookmark (with its certificate) to keep it elsewhere.")
			u.showDialog(d, nil, d.Hide, nil)
		})
	})
}
