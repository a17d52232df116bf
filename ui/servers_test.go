package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// names returns the bookmark names in order.
func names(c *app.Controller) string {
	var out []string
	for _, b := range c.Bookmarks() {
		out = append(out, b.Name())
	}
	return strings.Join(out, ",")
}

func TestAddAndEditBookmark(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{TorMode: "embedded"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	test.Tap(u.servers.add)
	e := u.servers.editor
	if e == nil || topOverlay(u) == nil {
		t.Fatal("Add opened no editor")
	}
	// Invalid input is explained and nothing is saved.
	test.Type(e.address, "not an address!")
	test.Type(e.username, "alice")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if !e.errLabel.Visible() || !strings.Contains(e.errLabel.Text, "Address:") {
		t.Fatalf("invalid address not explained: %q", e.errLabel.Text)
	}
	if len(ctrl.Bookmarks()) != 0 {
		t.Fatal("an invalid bookmark was saved")
	}
	e.port.SetText("sixty")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if !strings.Contains(e.errLabel.Text, "port") {
		t.Errorf("a non-numeric port is not explained: %q", e.errLabel.Text)
	}

	onion, key := newOnion(t, 5)
	e.address.SetText(onion)
	e.port.SetText("")
	e.label.SetText("Lab")
	e.channel.SetText("Lobby / Quiet")
	e.clientAuth.SetText(key)
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if topOverlay(u) != nil {
		t.Fatalf("the editor stays open: %q", e.errLabel.Text)
	}
	list := ctrl.Bookmarks()
	if len(list) != 1 {
		t.Fatalf("%d bookmarks after Save, want 1", len(list))
	}
	b := list[0]
	if b.Label != "Lab" || b.Address != onion || b.Port != app.DefaultPort || b.Username != "alice" ||
		b.ClientAuthKey.String() != key || strings.Join(b.Channel, "/") != "Lobby/Quiet" {
		t.Errorf("saved bookmark %+v", b)
	}
	if b.Isolation.IsZero() || b.Identity.IsZero() {
		t.Error("the new bookmark has no own isolation or identity")
	}
	if u.servers.selected != 0 || !hasText(u.servers.object(), "client authorization key") {
		t.Error("the new bookmark is not selected and shown with its key")
	}

	// Edit: the editor shows the stored values; New circuit changes the
	// isolation credentials.
	test.Tap(u.servers.edit)
	e = u.servers.editor
	if e.label.Text != "Lab" || e.address.Text != onion || e.channel.Text != "Lobby/Quiet" {
		t.Fatalf("editor shows %q %q %q", e.label.Text, e.address.Text, e.channel.Text)
	}
	before := b.Isolation
	test.Tap(e.newCircuit)
	if got := ctrl.Bookmarks()[0].Isolation; got == before {
		t.Error("New circuit kept the isolation credentials")
	}
	e.label.SetText("Lab 2")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if got := ctrl.Bookmarks()[0]; got.Label != "Lab 2" || got.Identity != b.Identity {
		t.Errorf("after editing: label %q, identity kept %v", got.Label, got.Identity == b.Identity)
	}
}

func TestReorderAndDeleteBookmarks(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	for _, n := range []string{"A", "B", "C"} {
		addBookmark(t, ctrl, app.Bookmark{Label: n, Address: "127.0.0.1", Username: "u"})
	}
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	if !u.servers.edit.Disabled() || !u.servers.del.Disabled() {
		t.Error("edit and delete are enabled with nothing selected")
	}
	u.servers.list.Select(0)
	if !u.servers.up.Disabled() || u.servers.down.Disabled() {
		t.Error("the first bookmark can move up or not down")
	}
	test.Tap(u.servers.down)
	if got := names(ctrl); got != "B,A,C" {
		t.Fatalf("after moving A down: %s", got)
	}
	if b, _ := u.servers.selectedBookmark(); b.Label != "A" {
		t.Errorf("selection did not follow the moved bookmark: %q", b.Label)
	}
	test.Tap(u.servers.up)
	if got := names(ctrl); got != "A,B,C" {
		t.Fatalf("after moving A up: %s", got)
	}

	u.servers.list.Select(1)
	test.Tap(u.servers.del)
	dlg := topOverlay(u)
	if dlg == nil || !hasText(dlg, `Delete "B"`) {
		t.Fatal("Delete asked nothing")
	}
	test.Tap(findButton(t, dlg, "No"))
	if got := names(ctrl); got != "A,B,C" {
		t.Fatalf("declining deleted: %s", got)
	}
	test.Tap(u.servers.del)
	test.Tap(findButton(t, topOverlay(u), "Delete"))
	if got := names(ctrl); got != "A,C" {
		t.Fatalf("after deleting B: %s", got)
	}
	if len(u.servers.items) != 2 {
		t.Errorf("the list shows %d bookmarks, want 2", len(u.servers.items))
	}
}

func TestImportLink(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	test.Tap(u.servers.imp)
	dlg := topOverlay(u)
	entry := entries(dlg)[0]
	test.Type(entry, "https://example.com/")
	test.Tap(findButton(t, dlg, "Import"))
	if topOverlay(u) != dlg || !hasText(dlg, "mumble://") {
		t.Fatal("a non-mumble link was not refused with an explanation")
	}
	entry.SetText("mumble://carol@127.0.0.1:64000/Lobby?title=Carol%27s")
	test.Tap(findButton(t, dlg, "Import"))
	list := ctrl.Bookmarks()
	if len(list) != 1 || list[0].Username != "carol" || list[0].Port != 64000 || list[0].Label != "Carol's" {
		t.Fatalf("imported %+v", list)
	}

	// Without a user name the editor opens to choose one.
	test.Tap(u.servers.imp)
	dlg = topOverlay(u)
	entries(dlg)[0].SetText("mumble://127.0.0.1:64001/")
	test.Tap(findButton(t, dlg, "Import"))
	e := u.servers.editor
	if e == nil || e.address.Text != "127.0.0.1" || e.port.Text != "64001" || e.username.Text != "" {
		t.Fatal("no editor for the link without a user")
	}
	if len(ctrl.Bookmarks()) != 1 {
		t.Fatal("the link without a user was saved before choosing one")
	}
	test.Type(e.username, "dave")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if got := names(ctrl); got != "Carol's,127.0.0.1" {
		t.Errorf("bookmarks after both imports: %s", got)
	}
}
