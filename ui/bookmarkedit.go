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

// bookmarkEditor is the Add / Edit server dialog.
type bookmarkEditor struct {
	ui   *UI
	orig app.Bookmark // the bookmark edited; zero ID when adding

	label, address, port, username, channel *keyEntry
	password, clientAuth                    *keyEntry
	isolation                               *widget.Label
	newCircuit, forget                      *keyButton
	errLabel                                *widget.Label
	dlg                                     *dialog.CustomDialog
	onSaved                                 func(app.Bookmark)
}

// showEditor opens the editor for b, or for a new bookmark if b is nil.
func (p *serversPane) showEditor(b *app.Bookmark) {
	e := newBookmarkEditor(p.ui, b)
	p.editor = e
	e.onSaved = func(saved app.Bookmark) { p.reload(saved.ID) }
	e.show()
}

func newBookmarkEditor(u *UI, b *app.Bookmark) *bookmarkEditor {
	e := &bookmarkEditor{ui: u}
	if b != nil {
		e.orig = b.Clone()
	}
	e.label = u.newEntry()
	e.label.SetPlaceHolder("Shown in the list (optional)")
	e.address = u.newEntry()
	e.address.SetPlaceHolder("xxxxxxxx.onion or host name")
	e.port = u.newEntry()
	e.port.SetPlaceHolder(strconv.Itoa(app.DefaultPort))
	e.username = u.newEntry()
	e.username.SetPlaceHolder("Your name on this server")
	e.password = u.newPasswordEntry()
	e.password.SetPlaceHolder("Server password (optional)")
	e.clientAuth = u.newPasswordEntry()
	e.clientAuth.SetPlaceHolder("Only if the onion service asks for one")
	e.channel = u.newEntry()
	e.channel.SetPlaceHolder("Channel to join, e.g. Lobby/Quiet (optional)")
	e.isolation = widget.NewLabel("")
	e.isolation.Wrapping = fyne.TextWrapWord
	e.newCircuit = u.newButton("New circuit", theme.ViewRefreshIcon(), e.renewCircuit)
	e.forget = u.newButton("Forget certificate", theme.DeleteIcon(), e.forgetCertificate)
	e.errLabel = widget.NewLabel("")
	e.errLabel.Importance = widget.DangerImportance
	e.errLabel.Wrapping = fyne.TextWrapWord
	e.errLabel.Hide()

	o := e.orig
	e.label.SetText(o.Label)
	e.address.SetText(o.Address)
	if o.Port != 0 {
		e.port.SetText(strconv.Itoa(o.Port))
	}
	e.username.SetText(o.Username)
	e.password.SetText(o.Password)
	e.clientAuth.SetText(o.ClientAuthKey.String())
	e.channel.SetText(strings.Join(o.Channel, "/"))
	e.showIsolation()
	return e
}

func (e *bookmarkEditor) showIsolation() {
	if e.orig.ID == "" {
		e.isolation.SetText("This server gets its own Tor circuit and its own client certificate, " +
			"so servers cannot link you to each other.")
		e.newCircuit.Hide()
		e.forget.Hide()
		return
	}
	text := "Own Tor circuit (credentials " + short(e.orig.Isolation.Username()) + ")"
	if h, err := e.orig.Identity.Hash(); err == nil {
		text += "\nOwn client certificate " + short(h)
	}
	if !e.orig.PinnedFingerprint.IsZero() {
		text += "\nServer certificate pinned: " + short(e.orig.PinnedFingerprint.String())
	}
	e.isolation.SetText(text)
	e.newCircuit.Show()
	if !e.orig.PinnedFingerprint.IsZero() {
		e.forget.Show()
	} else {
		e.forget.Hide()
	}
}

// short returns the first 8 characters of s followed by an ellipsis.
func short(s string) string {
	if len(s) <= 8 {
		return s
	}
	return s[:8] + "..."
}

func (e *bookmarkEditor) show() {
	form := widget.NewForm(
		widget.NewFormItem("Label", e.label),
		widget.NewFormItem("Address", e.address),
		widget.NewFormItem("Port", e.port),
		widget.NewFormItem("User name", e.username),
		widget.NewFormItem("Password", e.password),
		widget.NewFormItem("Client authorization", e.clientAuth),
		widget.NewFormItem("Channel", e.channel),
	)
	if e.orig.ID != "" {
		// SaveBookmark treats a changed address or port as another server.
		form.Items[2].HintText = "A new address or port gets a new identity and new circuits, and no pinned certificate"
	}
	iso := container.NewBorder(nil, nil, nil, container.NewVBox(e.newCircuit, e.forget), e.isolation)
	content := container.NewVBox(form, widget.NewSeparator(), iso, e.errLabel)
	title := "Add server"
	if e.orig.ID != "" {
		title = "Edit server"
	}
	save := e.ui.newButton("Save", theme.DocumentSaveIcon(), e.save)
	save.Importance = widget.HighImportance
	cancel := e.ui.newButton("Cancel", theme.CancelIcon(), func() { e.dlg.Hide() })
	e.dlg = dialog.NewCustomWithoutButtons(title, container.NewVScroll(content), e.ui.win)
	e.dlg.SetButtons([]fyne.CanvasObject{cancel, save})
	e.dlg.Resize(dialogSize(e.ui, 560, 560))
	e.ui.showDialog(e.dlg, e.label, e.save, nil)
}

// bookmark returns the bookmark as typed, or an error for fields the
// controller cannot be asked about (a port that is not a number).
func (e *bookmarkEditor) bookmark() (app.Bookmark, error) {
	b := e.orig.Clone()
	b.Label = e.label.Text
	b.Address = e.address.Text
	b.Username = e.username.Text
	b.Password = e.password.Text
	b.Port = 0
	if p := strings.TrimSpace(e.port.Text); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return b, fmt.Errorf("port: %q is not a number", p)
		}
		b.Port = n
	}
	if err := b.SetClientAuthKey(e.clientAuth.Text); err != nil {
		return b, err
	}
	b.Channel = nil
	for _, c := range strings.Split(e.channel.Text, "/") {
		if c = strings.TrimSpace(c); c != "" {
			b.Channel = append(b.Channel, c)
		}
	}
	return b, nil
}

func (e *bookmarkEditor) save() {
	b, err := e.bookmark()
	if err == nil {
		b, err = e.ui.ctrl.SaveBookmark(b)
	}
	if err != nil {
		setLabel(e.errLabel, errorText(err))
		return
	}
	e.dlg.Hide()
	if e.onSaved != nil {
		e.onSaved(b)
	}
}

func (e *bookmarkEditor) renewCircuit() {
	if err := e.ui.ctrl.NewCircuit(e.orig.ID); err != nil {
		setLabel(e.errLabel, errorText(err))
		return
	}
	for _, b := range e.ui.ctrl.Bookmarks() {
		if b.ID == e.orig.ID {
			e.orig.Isolation = b.Isolation
		}
	}
	e.showIsolation()
	e.ui.servers.reload(e.orig.ID)
}

// forgetCertificate clears the pinned server certificate after asking:
// the next connection then trusts whatever certificate the server shows.
func (e *bookmarkEditor) forgetCertificate() {
	msg := "Forget the pinned certificate of " + e.orig.Name() + "?\n\n" +
		"The next connection trusts whatever certificate the server presents, " +
		"so a changed certificate is no longer noticed that once."
	d := e.ui.newConfirm("Forget certificate", msg, "Forget", "No", widget.DangerImportance, func(yes bool) {
		if !yes {
			return
		}
		if err := e.ui.ctrl.ForgetCertificate(e.orig.ID); err != nil {
			setLabel(e.errLabel, errorText(err))
			return
		}
		for _, b := range e.ui.ctrl.Bookmarks() {
			if b.ID == e.orig.ID {
				e.orig.PinnedFingerprint = b.PinnedFingerprint
			}
		}
		e.showIsolation()
		e.ui.servers.reload(e.orig.ID)
	})
	e.ui.showDialog(d, nil, d.Hide, nil) // Enter keeps it: forgetting takes a click
}

// errorText turns an error into text for a dialog: one line per field
// error, without the package prefixes.
func errorText(err error) string {
	if fes := app.FieldErrors(err); len(fes) > 0 {
		lines := make([]string, 0, len(fes))
		for _, fe := range fes {
			lines = append(lines, fieldName(fe.Field)+": "+fe.Err.Error())
		}
		return strings.Join(lines, "\n")
	}
	s := err.Error()
	for _, prefix := range []string{"app: ", "tor: ", "mumble: "} {
		s = strings.ReplaceAll(s, prefix, "")
	}
	return s
}

// fieldNames are the names the dialogs use for app's field names.
var fieldNames = map[string]string{
	"label":                          "Label",
	"address":                        "Address",
	"port":                           "Port",
	"username":                       "User name",
	"password":                       "Password",
	"client_auth_key":                "Client authorization key",
	"channel":                        "Channel",
	"input.device":                   "Audio Input: device",
	"input.transmit":                 "Audio Input: transmission",
	"input.silence_below_percent":    "Audio Input: silence below",
	"input.speech_above_percent":     "Audio Input: speech above",
	"input.voice_hold_ms":            "Audio Input: voice hold",
	"input.ptt_hold_ms":              "Audio Input: push to talk hold",
	"input.quality_bitrate":          "Audio Input: quality",
	"input.packet_ms":                "Audio Input: audio per packet",
	"input.echo_cancellation":        "Audio Input: echo cancellation",
	"input.noise_suppression_db":     "Audio Input: noise suppression",
	"input.max_amplification":        "Audio Input: max. amplification",
	"output.device":                  "Audio Output: device",
	"output.jitter_buffer_ms":        "Audio Output: default jitter buffer",
	"output.output_delay_ms":         "Audio Output: output delay",
	"output.volume_percent":          "Audio Output: volume",
	"network.tor_mode":               "Network: Tor",
	"network.socks_address":          "Network: SOCKS address",
	"network.force_tcp":              "Network: force TCP mode",
	"network.reconnect_max_attempts": "Network: reconnect attempts",
	"privacy.send_os_info":           "Privacy: OS information",
	"privacy.statistics":             "Privacy: statistics",
}

func fieldName(f string) string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	return f
}

// showError shows an error in a dialog.
func (u *UI) showError(title string, err error) {
	msg := widget.NewLabel(errorText(err))
	msg.Wrapping = fyne.TextWrapWord
	d := u.newCustom(title, "Close", msg)
	d.Resize(dialogSize(u, 420, 0))
	u.showDialog(d, nil, d.Hide, nil)
}

// dialogSize returns a dialog size of w x h, shrunk to fit the window
// (phones get nearly the whole screen). A zero h leaves the height to the
// content.
func dialogSize(u *UI, w, h float32) fyne.Size {
	cs := u.win.Canvas().Size()
	if cs.Width > 0 && w > cs.Width-16 {
		w = cs.Width - 16
	}
	if cs.Height > 0 && h > cs.Height-16 {
		h = cs.Height - 16
	}
	return fyne.NewSize(w, h)
}
