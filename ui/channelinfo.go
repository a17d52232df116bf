package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// channelInfoRows is the height of the description area in lines; longer
// descriptions scroll inside it, so the tree above keeps its size.
const channelInfoRows = 5

// channelInfo shows the selected channel's name and description under the
// channel tree. The description is the controller's plain text, as text:
// images are placeholders, links are text to read and copy, nothing is
// rendered as rich text, opened or fetched.
type channelInfo struct {
	name  *widget.Label
	text  *textView
	close *keyButton
	obj   fyne.CanvasObject
}

func newChannelInfo(u *UI, onClose func()) *channelInfo {
	i := &channelInfo{}
	i.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	i.name.Truncation = fyne.TextTruncateEllipsis
	// Selectable for copying, and push-to-talk keeps working after a
	// click into it (textView).
	i.text = u.newTextView(channelInfoRows)
	i.close = u.newButton("", theme.CancelIcon(), onClose)
	i.close.Importance = widget.LowImportance
	header := container.NewBorder(nil, nil, widget.NewIcon(iconChannel()), i.close, i.name)
	i.obj = container.NewBorder(container.NewVBox(widget.NewSeparator(), header), nil, nil, nil, i.text.object())
	i.obj.Hide()
	return i
}

func (i *channelInfo) object() fyne.CanvasObject { return i.obj }

// show shows channel ch, or hides the area for nil.
func (i *channelInfo) show(ch *app.ChannelView) {
	if ch == nil {
		i.obj.Hide()
		return
	}
	// Only set what changed: the state changes often (users talking), and
	// setting a label's text would drop the user's text selection.
	if name := channelName(ch); i.name.Text != name {
		i.name.SetText(name)
	}
	if text := descriptionText(ch); i.text.Text != text {
		i.text.SetText(text)
	}
	i.obj.Show()
}

// channelName is the name shown for a channel; servers may leave the
// root's empty.
func channelName(ch *app.ChannelView) string {
	if ch.Name == "" && ch.ID == 0 {
		return "Root"
	}
	return ch.Name
}

// descriptionText is a channel's description as shown: the plain text and
// the target of every link on a line of its own, as in the chat.
func descriptionText(ch *app.ChannelView) string {
	switch {
	case ch.Description != "":
		return chatLineText(app.ChatLine{Text: ch.Description, Links: ch.DescriptionLinks})
	case ch.DescriptionPending:
		return "Loading the description..."
	}
	return "No description."
}
