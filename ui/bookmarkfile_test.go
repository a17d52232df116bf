package ui

import (
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// TestBookmarkFileDialogs: export the selected bookmark with its
// certificate from the servers pane, and import it into another
// (amnesic) Tumble; a wrong passphrase says so in the dialog.
func TestBookmarkFileDialogs(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	b := addBookmark(t, ctrl, app.Bookmark{Label: "Home", Address: "example.org", Username: "me"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	if !u.servers.fileMenu().Items[0].Disabled {
		t.Error("Export is offered with no bookmark selected")
	}
	u.servers.list.Select(0)
	path := filepath.Join(t.TempDir(), "home.tumble-bookmark")
	u.servers.fileMenu().Items[0].Action()
	dlg := topOverlay(u)
	es := entries(dlg)
	if len(es) != 3 {
		t.Fatalf("export dialog has %d entries", len(es))
	}
	if u.win.Canvas().Focused() != fyne.Focusable(es[0]) {
		t.Error("the first field does not have the focus")
	}
	es[0].SetText(path)
	test.Type(es[1], "vault pass")
	test.Type(es[2], "vault pasz")
	test.Tap(findButton(t, dlg, "Export"))
	if !hasText(dlg, "the two passphrases differ") {
		t.Error("differing passphrases not reported")
	}
	es[2].SetText("vault pass")
	u.win.Canvas().Focus(es[2])
	pressKey(u, fyne.KeyReturn)
	if topOverlay(u) != nil {
		t.Fatal("the export dialog stays open")
	}

	ctrl2 := newController(t, app.ControllerConfig{Amnesic: true})
	u2 := newTestUI(t, ctrl2, &Options{Layout: LayoutDesktop})
	u2.servers.fileMenu().Items[1].Action()
	dlg = topOverlay(u2)
	es = entries(dlg)
	es[0].SetText(path)
	test.Type(es[1], "wrong")
	test.Tap(findButton(t, dlg, "Import"))
	if !hasText(dlg, "wrong passphrase") {
		t.Errorf("wrong passphrase not reported: %q", texts(dlg))
	}
	es[1].SetText("vault pass")
	test.Tap(findButton(t, dlg, "Import"))
	bs := ctrl2.Bookmarks()
	if len(bs) != 1 {
		t.Fatalf("%d bookmarks after import", len(bs))
	}
	h1, _ := b.Identity.Hash()
	h2, _ := bs[0].Identity.Hash()
	if h1 != h2 || !hasText(u2.servers.object(), "Home") {
		t.Errorf("imported identity %s (want %s), listed %v", h2, h1, hasText(u2.servers.object(), "Home"))
	}
}
