package ui

import (
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// fileButton opens the menu to export the selected bookmark with its
// certificate, or import one, as a passphrase-protected file.
func (p *serversPane) fileButton() *keyButton {
	var b *keyButton
	b = p.ui.newButton("", theme.StorageIcon(), func() {
		widget.ShowPopUpMenuAtPosition(p.fileMenu(), p.ui.win.Canvas(),
			fyne.CurrentApp().Driver().AbsolutePositionForObject(b).AddXY(0, b.Size().Height))
	})
	return b
}

// fileMenu is the menu of fileButton.
func (p *serversPane) fileMenu() *fyne.Menu {
	export := fyne.NewMenuItem("Export with certificate...", func() {
		if b, ok := p.selectedBookmark(); ok {
			p.showExport(b)
		}
	})
	if _, ok := p.selectedBookmark(); !ok {
		export.Disabled = true
	}
	return fyne.NewMenu("", export, fyne.NewMenuItem("Import file...", p.showImportFile))
}

// showExport asks for a file name and a passphrase (twice) and writes the
// bookmark with its client certificate there.
func (p *serversPane) showExport(b app.Bookmark) {
	home, _ := os.UserHomeDir()
	path := p.ui.newEntry()
	path.SetText(filepath.Join(home, safeFileName(b.Name())+app.BookmarkFileExt))
	pass := p.ui.newPasswordEntry()
	pass.SetPlaceHolder("Passphrase")
	again := p.ui.newPasswordEntry()
	again.SetPlaceHolder("Passphrase again")
	p.fileDialog("Export "+b.Name(), "The file holds the bookmark and the certificate the server knows you by, "+
		"encrypted with the passphrase. Keep both safe: whoever has them can log in as you.",
		"Export", []*keyEntry{path, pass, again}, func() error {
			if pass.Text != again.Text {
				return errText("the two passphrases differ")
			}
			return p.ui.ctrl.ExportBookmark(b.ID, strings.TrimSpace(path.Text), pass.Text)
		})
}

// showImportFile asks for a bookmark file and its passphrase and adds the
// bookmark with its certificate.
func (p *serversPane) showImportFile() {
	path := p.ui.newEntry()
	path.SetPlaceHolder("File (" + app.BookmarkFileExt + ")")
	pass := p.ui.newPasswordEntry()
	pass.SetPlaceHolder("Passphrase")
	p.fileDialog("Import bookmark file", "A bookmark exported by Tumble, with its certificate.",
		"Import", []*keyEntry{path, pass}, func() error {
			b, err := p.ui.ctrl.ImportBookmarkFile(strings.TrimSpace(path.Text), pass.Text)
			if err == nil {
				p.reload(b.ID)
			}
			return err
		})
}

// fileDialog shows entries with an OK button running do; an error stays
// in the dialog. The first entry has the focus; Enter runs do.
func (p *serversPane) fileDialog(title, text, ok string, entries []*keyEntry, do func() error) {
	errLabel := newErrorLabel()
	box := container.NewVBox(wrapLabel(text))
	for _, e := range entries {
		box.Add(e)
	}
	box.Add(errLabel)
	var d *dialog.CustomDialog
	run := func() {
		if err := do(); err != nil {
			setLabel(errLabel, errorText(err))
			return
		}
		d.Hide()
		p.ui.Sync()
	}
	okBtn := p.ui.newButton(ok, theme.ConfirmIcon(), run)
	okBtn.Importance = widget.HighImportance
	cancel := p.ui.newButton("Cancel", theme.CancelIcon(), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(title, box, p.ui.win)
	d.SetButtons([]fyne.CanvasObject{cancel, okBtn})
	d.Resize(dialogSize(p.ui, 480, 0))
	p.ui.showDialog(d, entries[0], run, nil)
}

// safeFileName keeps letters, digits, dots and dashes of a name.
func safeFileName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
	if out == "" || strings.Trim(out, "._") == "" {
		return "bookmark"
	}
	return out
}

// errText is an error with a fixed text.
type errText string

func (e errText) Error() string { return string(e) }

// newErrorLabel returns the hidden, wrapping label a dialog shows its
// error in (setLabel shows it).
func newErrorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}
