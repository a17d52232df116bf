package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// certQuestion is the open dialog about an unverified server certificate.
type certQuestion struct {
	key string // host and fingerprint it asks about
	dlg *dialog.CustomDialog
}

// showCertificateQuestion opens the dialog for st.Certificate once, and
// closes it when the question is gone (answered, or the attempt ended).
func (u *UI) showCertificateQuestion(st app.State) {
	q := st.Certificate
	if q == nil {
		if u.certQ != nil {
			u.certQ.dlg.Hide()
			u.certQ = nil
		}
		return
	}
	key := q.Host + "\x00" + q.Fingerprint.String()
	if u.certQ != nil && u.certQ.key == key {
		return
	}
	if u.certQ != nil {
		u.certQ.dlg.Hide()
	}
	content := container.NewVBox(
		wrapLabel("The server "+q.Host+" presented a certificate that cannot be verified: "+q.Reason+". "+
			"Nothing has been sent to it yet: not your name, not a password."),
		wrapLabel("Anyone between you and the server (a Tor exit relay, for a server reached by name) "+
			"could present such a certificate. Trust it only if its fingerprint matches the one "+
			"the server's operator gave you."),
		widget.NewLabelWithStyle("SHA-256 fingerprint", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.fingerprintText(q.Fingerprint.String()),
	)
	answer := func(a app.CertificateAnswer) func() {
		return func() {
			u.certQ.dlg.Hide()
			u.certQ = nil
			u.ctrl.AnswerCertificate(a)
		}
	}
	cancel := u.newButton("Cancel", theme.CancelIcon(), answer(app.CertificateRefuse))
	cancel.Importance = widget.HighImportance
	once := u.newButton("Trust once", nil, answer(app.CertificateTrustOnce))
	pin := u.newButton("Trust and remember", theme.WarningIcon(), answer(app.CertificateTrustAndPin))
	d := dialog.NewCustomWithoutButtons("Unverified server certificate", content, u.win)
	d.SetButtons([]fyne.CanvasObject{pin, once, cancel})
	d.Resize(dialogSize(u, 560, 0))
	u.certQ = &certQuestion{key: key, dlg: d}
	// Enter and Escape refuse: trusting takes a deliberate click.
	refuse := answer(app.CertificateRefuse)
	u.showDialog(d, nil, refuse, refuse)
}
