package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// roomMark is shown after the name of a channel whose encrypted room this
// client is in.
func roomMark(room app.EncryptedRoom, channel uint32) string {
	if !room.On || room.Channel != channel {
		return ""
	}
	for _, m := range room.Members {
		if m.Changed {
			return "  🔒 ⚠ key changed"
		}
	}
	mark := fmt.Sprintf("  🔒 %d", len(room.Members)+1)
	if room.Waiting > 0 {
		mark += ", " + room.KeyStatus() // not every member can hear this client yet
	}
	return mark
}

// roomController is the part of the controller for encrypted rooms
// (app.Controller has it).
type roomController interface {
	SetRoomEncrypted(on bool) error
	VerifyRoomMember(session uint32) bool
}

// selfIn reports whether this client is in channel id of the tree.
func selfIn(root *app.ChannelView, id uint32) bool {
	if root == nil {
		return false
	}
	stack := []*app.ChannelView{root}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.ID == id {
			for _, usr := range c.Users {
				if usr.Self {
					return true
				}
			}
			return false
		}
		for i := range c.Children {
			stack = append(stack, &c.Children[i])
		}
	}
	return false
}

// roomMenuItems are the channel menu's encrypted room entries: the lock
// toggle and the members, for the channel this client is in.
func (u *UI) roomMenuItems(channel uint32) []*fyne.MenuItem {
	st := u.state
	if _, ok := u.ctrl.(roomController); !ok || !st.Room.Available || !selfIn(st.Root, channel) {
		return nil
	}
	if !st.Room.On {
		return []*fyne.MenuItem{fyne.NewMenuItem("Encrypt this room (lock)", func() { u.setRoomEncrypted(true) })}
	}
	return []*fyne.MenuItem{
		fyne.NewMenuItem("Encrypted room members…", u.showRoomMembers),
		fyne.NewMenuItem("Stop encrypting (unlock)", func() { u.setRoomEncrypted(false) }),
	}
}

func (u *UI) setRoomEncrypted(on bool) {
	ctrl, ok := u.ctrl.(roomController)
	if !ok {
		return
	}
	u.async(func() {
		if err := ctrl.SetRoomEncrypted(on); err != nil {
			fyne.Do(func() { u.showError("Encrypted room", err) })
		}
	})
}

// showRoomMembers lists the room's members with their verification state
// and safety numbers; comparing a number aloud and pressing Verified marks
// the member.
func (u *UI) showRoomMembers() {
	room := u.state.Room
	rows := container.NewVBox(widget.NewLabel("Voice and chat in this room are end-to-end encrypted among these members. " +
		"Compare each safety number aloud; if it matches on both sides, mark the member verified."))
	if len(room.Members) == 0 {
		rows.Add(widget.NewLabel("No other member yet: nothing you say is sent."))
	} else if room.Waiting > 0 {
		rows.Add(widget.NewLabel("Your key: " + room.KeyStatus() + " (they cannot hear you with it yet)."))
	} else {
		rows.Add(widget.NewLabel("Your key: " + room.KeyStatus() + " (every member acknowledged it)."))
	}
	for _, m := range room.Members {
		state := m.Trust
		if !m.Keyed {
			state += ", key not received yet"
		}
		if !m.Acked {
			state += ", has not acknowledged your key yet"
		}
		name := widget.NewLabelWithStyle(fmt.Sprintf("%s (%s)", m.Name, state), fyne.TextAlignLeading, fyne.TextStyle{Bold: m.Changed})
		number := widget.NewLabelWithStyle(m.SafetyNumber, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		session := m.Session
		verify := u.newButton("Verified", nil, func() {
			if rc, ok := u.ctrl.(roomController); !ok || !rc.VerifyRoomMember(session) {
				u.showError("Encrypted room", fmt.Errorf("%s could not be marked verified (key changed or gone)", m.Name))
			}
		})
		if m.Trust == "verified" || m.Changed {
			verify.Disable()
		}
		rows.Add(container.NewBorder(nil, nil, nil, verify, container.NewVBox(name, number)))
		if m.Changed {
			rows.Add(widget.NewLabel("⚠ This member's key is not the one seen before: the member reinstalled, or someone is listening in. Do not trust what is said until you compare numbers."))
		}
	}
	if room.Dropped > 0 {
		rows.Add(widget.NewLabel(fmt.Sprintf("%d packets or messages could not be decrypted and were dropped.", room.Dropped)))
	}
	d := u.newCustom("Encrypted room", "Close", container.NewVScroll(rows))
	d.Resize(fyne.NewSize(460, 420))
	u.showDialog(d, nil, d.Hide, nil)
}
