package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// wipeButton offers to delete everything Tumble saved, after a
// confirmation.
func (u *UI) wipeButton() *keyButton {
	b := u.newButton("Wipe saved data...", theme.DeleteIcon(), u.confirmWipe)
	b.Importance = widget.DangerImportance
	return b
}

// confirmWipe asks before deleting the saved bookmarks, settings and Tor
// state; the default answer keeps them.
func (u *UI) confirmWipe() {
	d := u.newConfirm("Wipe saved data",
		"Delete every saved bookmark (with its certificate), the settings and Tor's saved state? "+
			"This disconnects and cannot be undone.",
		"Wipe", "Keep", widget.HighImportance,
		func(ok bool) {
			if !ok {
				return
			}
			if f := u.settingsOpen; f != nil && f.dlg != nil {
				f.dlg.Hide()
			}
			if err := u.ctrl.WipeSavedData(); err != nil {
				u.showError("Could not wipe", err)
			}
			u.servers.reload("")
			u.Sync()
		})
	d.Resize(fyne.NewSize(420, 0))
	u.showDialog(d, nil, d.Hide, nil) // Enter keeps the data: wiping takes a click
}
