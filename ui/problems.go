package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// showProblem opens the dialog for the problem that ended the last attempt,
// once per attempt. Problems without a dialog of their own show in the
// session bar only.
func (u *UI) showProblem(st app.State) {
	switch st.Phase {
	case app.PhaseStartingTor, app.PhaseConnecting, app.PhaseConnected:
		// A new attempt: the next problem gets its dialog even if it is
		// the same as the last one.
		u.problemShown = ""
		return
	}
	p := st.Problem
	if p.Kind == app.ProblemNone || p.Kind == app.ProblemOther {
		return
	}
	key := strings.Join([]string{p.Kind.String(), p.Message, p.PinnedFingerprint.String(), p.NewFingerprint.String()}, "\x00")
	if key == u.problemShown {
		return
	}
	u.problemShown = key
	var b app.Bookmark
	if st.Bookmark != nil {
		b = st.Bookmark.Clone()
	}
	switch p.Kind {
	case app.ProblemCertificateChanged:
		u.showCertificateChanged(b, p)
	case app.ProblemWrongPassword:
		u.showWrongPassword(b, p)
	case app.ProblemClientAuthRequired:
		u.showClientAuth(b, p)
	case app.ProblemTorFailed:
		u.showTorFailed(p)
	}
}

// wrapLabel returns a word-wrapping label.
func wrapLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// fingerprintText shows a SHA-256 fingerprint in groups of four hex
// digits, two lines of eight groups, selectable for comparison (a
// textView: Escape and push-to-talk still work after a click into it).
func (u *UI) fingerprintText(fp string) fyne.CanvasObject {
	var groups []string
	for i := 0; i < len(fp); i += 4 {
		end := min(i+4, len(fp))
		groups = append(groups, fp[i:end])
	}
	var lines []string
	for i := 0; i < len(groups); i += 8 {
		end := min(i+8, len(groups))
		lines = append(lines, strings.Join(groups[i:end], " "))
	}
	v := u.newTextView(len(lines))
	v.Wrapping = fyne.TextWrapOff
	v.TextStyle = fyne.TextStyle{Monospace: true}
	v.SetText(strings.Join(lines, "\n"))
	return v.object()
}

// showCertificateChanged explains a changed server certificate and shows
// both fingerprints. Refusing is the default; trusting the new certificate
// takes an explicit press.
func (u *UI) showCertificateChanged(b app.Bookmark, p app.Problem) {
	name := b.Name()
	if name == "" {
		name = "The server"
	}
	content := container.NewVBox(
		wrapLabel(name+" presented a different certificate than the one trusted before. "+
			"Either its operator replaced the certificate, or someone is intercepting the connection. "+
			"Tumble refused to connect."),
		widget.NewLabelWithStyle("Trusted certificate", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.fingerprintText(p.PinnedFingerprint.String()),
		widget.NewLabelWithStyle("Certificate presented now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.fingerprintText(p.NewFingerprint.String()),
		wrapLabel("Trust the new certificate only if the server's operator told you, through another channel, "+
			"that it changed, and its fingerprint matches."),
	)
	var d *dialog.CustomDialog
	refuse := u.newButton("Refuse", theme.CancelIcon(), func() { d.Hide() })
	refuse.Importance = widget.HighImportance
	trust := u.newButton("Trust new certificate", theme.WarningIcon(), func() {
		d.Hide()
		u.ctrl.TrustNewCertificate()
		u.Sync()
	})
	trust.Importance = widget.DangerImportance
	d = dialog.NewCustomWithoutButtons("Server certificate changed", content, u.win)
	d.SetButtons([]fyne.CanvasObject{trust, refuse})
	d.Resize(dialogSize(u, 560, 0))
	u.showDialog(d, nil, d.Hide, nil) // Enter refuses, as the highlighted button
}

// showWrongPassword asks for the password again and reconnects with it.
func (u *UI) showWrongPassword(b app.Bookmark, p app.Problem) {
	entry := u.newPasswordEntry()
	entry.SetPlaceHolder("Password")
	msg, title := "The server refused the password.", "Wrong password"
	if p.PasswordNeeded {
		msg, title = "The server needs a password.", "Password needed"
	}
	if p.Message != "" {
		msg = p.Message
	}
	u.askAndRetry(title, msg+" It is saved with the server's bookmark.",
		entry, b, func(b *app.Bookmark) error { b.Password = entry.Text; return nil })
}

// showClientAuth asks for the onion service's client authorization key.
func (u *UI) showClientAuth(b app.Bookmark, p app.Problem) {
	entry := u.newPasswordEntry()
	entry.SetPlaceHolder("descriptor:x25519:KEY, or the bare key")
	msg := "This onion service only lets in clients with an authorization key."
	if p.Message != "" {
		msg = p.Message
	}
	u.askAndRetry("Client authorization required", msg+" Paste the key its operator gave you.",
		entry, b, func(b *app.Bookmark) error { return b.SetClientAuthKey(entry.Text) })
}

// askAndRetry shows a dialog with one entry; Connect stores the entry into
// the bookmark with set, saves it and connects again.
func (u *UI) askAndRetry(title, text string, entry *keyEntry, b app.Bookmark, set func(*app.Bookmark) error) {
	errLabel := newErrorLabel()
	var d *dialog.CustomDialog
	retry := func() {
		nb := b.Clone()
		for _, cur := range u.ctrl.Bookmarks() {
			if cur.ID == b.ID {
				nb = cur // the stored one may have changed since
			}
		}
		err := set(&nb)
		var saved app.Bookmark
		if err == nil {
			saved, err = u.ctrl.SaveBookmark(nb)
		}
		if err != nil {
			setLabel(errLabel, errorText(err))
			return
		}
		d.Hide()
		u.servers.reload(saved.ID)
		u.connect(saved.ID)
	}
	connect := u.newButton("Connect", theme.LoginIcon(), retry)
	connect.Importance = widget.HighImportance
	cancel := u.newButton("Cancel", theme.CancelIcon(), func() { d.Hide() })
	if b.ID == "" {
		connect.Disable()
	}
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(wrapLabel(text), entry, errLabel), u.win)
	d.SetButtons([]fyne.CanvasObject{cancel, connect})
	d.Resize(dialogSize(u, 480, 0))
	u.showDialog(d, entry, func() {
		if !connect.Disabled() {
			retry()
		}
	}, nil)
}

// showTorFailed says why Tor failed and what to do; Tor's own words are
// behind Details.
func (u *UI) showTorFailed(p app.Problem) {
	content := container.NewVBox(wrapLabel(p.Message))
	if p.Detail != "" {
		content.Add(u.newButton("Details", theme.InfoIcon(), func() { u.showDetail(p.Detail) }))
	}
	var d *dialog.CustomDialog
	settings := u.newButton("Settings", theme.SettingsIcon(), func() {
		d.Hide()
		u.showSettings()
	})
	closeBtn := u.newButton("Close", theme.CancelIcon(), func() { d.Hide() })
	closeBtn.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons("Tor failed", content, u.win)
	d.SetButtons([]fyne.CanvasObject{settings, closeBtn})
	d.Resize(dialogSize(u, 520, 0))
	u.showDialog(d, nil, d.Hide, nil)
}

// showDetail shows the raw error behind a problem, selectable for copying
// into a bug report or a search.
func (u *UI) showDetail(detail string) {
	v := u.newTextView(6)
	v.TextStyle = fyne.TextStyle{Monospace: true}
	v.SetText(detail)
	d := u.newCustom("Details", "Close", v.object())
	d.Resize(dialogSize(u, 520, 0))
	u.showDialog(d, nil, d.Hide, nil)
}
