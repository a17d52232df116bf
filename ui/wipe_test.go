package ui

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// TestWipeSavedDataFromSettings: Settings > Privacy wipes the saved data
// after a confirmation; "Keep" keeps it.
func TestWipeSavedDataFromSettings(t *testing.T) {
	dir := t.TempDir()
	ctrl := newController(t, app.ControllerConfig{ConfigDir: dir})
	addBookmark(t, ctrl, app.Bookmark{Label: "Mine", Address: "example.org", Username: "me"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})

	u.showSettings()
	u.settingsOpen.tabs.SelectIndex(len(u.settingsOpen.tabs.Items) - 1) // Privacy
	test.Tap(findButton(t, topOverlay(u), "Wipe saved data..."))
	test.Tap(findButton(t, topOverlay(u), "Keep"))
	if len(ctrl.Bookmarks()) != 1 {
		t.Fatal("Keep wiped the bookmarks")
	}
	test.Tap(findButton(t, topOverlay(u), "Wipe saved data..."))
	test.Tap(findButton(t, topOverlay(u), "Wipe"))
	if n := len(ctrl.Bookmarks()); n != 0 {
		t.Errorf("%d bookmarks after wiping", n)
	}
	if _, err := os.Stat(filepath.Join(dir, app.BookmarksFile)); !os.IsNotExist(err) {
		t.Errorf("bookmarks file after wiping: %v", err)
	}
	if hasText(u.servers.object(), "Mine") {
		t.Error("the servers pane still lists the wiped bookmark")
	}
}

// TestAmnesicShowsChecked: under --amnesic the Privacy tab shows amnesic
// mode on.
func TestAmnesicShowsChecked(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{Amnesic: true, ConfigDir: t.TempDir()})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	u.showSettings()
	if u.settingsOpen == nil || !u.settingsOpen.amnesic.Checked {
		t.Error("the Privacy tab shows amnesic mode off under --amnesic")
	}
}
