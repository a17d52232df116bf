package ui

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// roomHoster is what the Host dialog needs beyond Controller; *app.Controller
// implements it. It is separate so that controllers without hosting (tests,
// Android) need not.
type roomHoster interface {
	StartRoom(cfg app.RoomConfig) error
	StopRoom() error
	AddGuest(name string) (string, error)
	RevokeGuest(name string) error
	RoomInvite(guest string) (string, error)
}

// hostDialog is the "Host a room" dialog: settings, progress, invitation
// (text, copy, QR code) and guests with revoke.
type hostDialog struct {
	u        *UI
	h        roomHoster
	d        *dialog.CustomDialog
	name     *keyEntry
	welcome  *keyEntry
	password *keyEntry
	maxUsers *keyEntry
	listen   *keyEntry
	// clientAuth, remember and certReq are the room's options.
	clientAuth, remember, certReq *keyCheck
	status                        *widget.Label
	invite                        *keyEntry
	qr                            *canvas.Image
	guests                        *fyne.Container
	start                         *keyButton
	stop                          *keyButton
}

// showHost opens the Host dialog.
func (u *UI) showHost() {
	h, ok := u.ctrl.(roomHoster)
	if !ok || runtime.GOOS == "android" {
		d := u.newInformation("Host a room", "Hosting a room is not offered on this device.")
		u.showDialog(d, nil, d.Hide, nil)
		return
	}
	hd := &hostDialog{u: u, h: h}
	hd.name = u.newEntry()
	hd.name.SetPlaceHolder("Tumble room")
	hd.welcome = u.newEntry()
	hd.password = u.newPasswordEntry()
	hd.password.SetPlaceHolder("generated")
	hd.maxUsers = u.newEntry()
	hd.maxUsers.SetPlaceHolder("50")
	hd.listen = u.newEntry()
	hd.listen.SetPlaceHolder("127.0.0.1 (behind a Whonix Gateway: this machine's address)")
	hd.clientAuth = u.newCheck("Only invited guests can reach the room (client authorization)", nil)
	hd.clientAuth.SetChecked(true)
	hd.remember = u.newCheck("Remember each user's channel", nil)
	hd.certReq = u.newCheck("Require a client certificate", nil)
	form := widget.NewForm(
		widget.NewFormItem("Name", hd.name),
		widget.NewFormItem("Welcome text", hd.welcome),
		widget.NewFormItem("Password", hd.password),
		widget.NewFormItem("Max users", hd.maxUsers),
		widget.NewFormItem("Listen address", hd.listen),
	)
	hd.status = widget.NewLabel("Not hosting.")
	hd.status.Wrapping = fyne.TextWrapWord
	hd.invite = u.newMultiLineEntry()
	hd.invite.Wrapping = fyne.TextWrapBreak
	hd.invite.SetPlaceHolder("The invitation appears here.")
	copyBtn := u.newButton("Copy", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(hd.invite.Text)
	})
	hd.qr = canvas.NewImageFromImage(nil)
	hd.qr.FillMode = canvas.ImageFillContain
	hd.qr.SetMinSize(fyne.NewSize(200, 200))
	guestName := u.newEntry()
	guestName.SetPlaceHolder("guest name")
	invite := func() {
		link, err := h.AddGuest(guestName.Text)
		if err != nil {
			u.showError("Could not add the guest", err)
			return
		}
		guestName.SetText("")
		hd.showInvite(link)
	}
	guestName.OnSubmitted = func(string) { invite() }
	addGuest := u.newButton("Invite", theme.ContentAddIcon(), invite)
	hd.guests = container.NewVBox()
	hd.start = u.newButton("Start room", theme.MediaPlayIcon(), func() {
		cfg, err := hd.config()
		if err != nil {
			hd.status.SetText("Check the settings: " + err.Error())
			return
		}
		if err := h.StartRoom(cfg); err != nil {
			u.showError("Could not host the room", err)
		}
	})
	hd.start.Importance = widget.HighImportance
	hd.stop = u.newButton("Stop room", theme.MediaStopIcon(), func() {
		if err := h.StopRoom(); err != nil {
			u.showError("Stopping the room", err)
		}
	})
	closeDialog := func() { u.host = nil; hd.d.Hide() }
	closeBtn := u.newButton("Close", theme.CancelIcon(), closeDialog)
	content := container.NewVBox(form, hd.clientAuth, hd.remember, hd.certReq, hd.status,
		container.NewBorder(nil, nil, nil, copyBtn, hd.invite), container.NewCenter(hd.qr),
		widget.NewLabelWithStyle("Guests", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, addGuest, guestName), hd.guests)
	hd.d = dialog.NewCustomWithoutButtons("Host a room", container.NewVScroll(content), u.win)
	hd.d.SetButtons([]fyne.CanvasObject{hd.start, hd.stop, closeBtn})
	hd.d.Resize(fyne.NewSize(560, 640))
	u.host = hd
	hd.apply(u.ctrl.State())
	u.showDialog(hd.d, hd.name, func() {
		if !hd.start.Disabled() {
			hd.start.OnTapped()
		}
	}, closeDialog)
}

// config returns the room settings in the form, or an error that says
// which field is wrong.
func (hd *hostDialog) config() (app.RoomConfig, error) {
	cfg := app.RoomConfig{Name: strings.TrimSpace(hd.name.Text), Welcome: hd.welcome.Text, Password: hd.password.Text,
		Listen: strings.TrimSpace(hd.listen.Text), ClientAuth: hd.clientAuth.Checked, RememberChannel: hd.remember.Checked,
		CertRequired: hd.certReq.Checked}
	if t := strings.TrimSpace(hd.maxUsers.Text); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 10000 {
			return cfg, fmt.Errorf("max users %q is not a whole number from 1 to 10000", t)
		}
		cfg.MaxUsers = n
	}
	if cfg.Listen != "" {
		if err := app.CheckListenAddress(cfg.Listen); err != nil {
			return cfg, errors.New(errorText(err))
		}
	}
	return cfg, nil
}

// showInvite shows link as text and QR code.
func (hd *hostDialog) showInvite(link string) {
	hd.invite.SetText(link)
	if img, err := app.InviteQR(link, 400); err == nil {
		hd.qr.Image = img
		hd.qr.Refresh()
	}
}

// apply shows the room's state.
func (hd *hostDialog) apply(st app.State) {
	r := st.Hosting
	switch r.Phase {
	case app.RoomStopped:
		hd.status.SetText("Not hosting.")
		hd.start.Enable()
		hd.stop.Disable()
	case app.RoomFailed:
		hd.status.SetText("Could not host the room: " + errorText(r.Err))
		hd.start.Enable()
		hd.stop.Disable()
	case app.RoomOnGateway:
		hd.status.SetText(r.Gateway.Lines())
		hd.start.Disable()
		hd.stop.Enable()
		if torrc := strings.Join(r.Gateway.Torrc(), "\n"); hd.invite.Text != torrc {
			hd.invite.SetText(torrc)
			hd.qr.Image = nil
			hd.qr.Refresh()
		}
	case app.RoomReady:
		hd.status.SetText("Hosting " + r.Onion + " (you joined it as \"host\").")
		hd.start.Disable()
		hd.stop.Enable()
		if hd.invite.Text == "" {
			if link, err := hd.h.RoomInvite(""); err == nil {
				hd.showInvite(link)
			}
		}
	default:
		hd.status.SetText(string(r.Phase) + "…")
		hd.start.Disable()
		hd.stop.Enable()
	}
	hd.guests.RemoveAll()
	for _, g := range r.Guests {
		hd.guests.Add(container.NewHBox(widget.NewLabel(g),
			hd.u.newButton("Invitation", theme.MailSendIcon(), func() {
				if link, err := hd.h.RoomInvite(g); err == nil {
					hd.showInvite(link)
				}
			}),
			hd.u.newButton("Revoke", theme.DeleteIcon(), func() {
				if err := hd.h.RevokeGuest(g); err != nil {
					hd.u.showError("Could not revoke the guest", err)
				}
			})))
	}
}
