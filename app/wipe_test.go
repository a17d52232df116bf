package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeaveSavedAmnesia: amnesic mode chosen in the settings can be left
// again from the settings, which writes exactly that to disk.
func TestLeaveSavedAmnesia(t *testing.T) {
	dir := t.TempDir()
	c := newTestController(t, ControllerConfig{ConfigDir: dir})
	s := c.Settings()
	s.Privacy.Amnesic = true
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c = newTestController(t, ControllerConfig{ConfigDir: dir})
	if !c.Amnesic() || !c.Settings().Privacy.Amnesic {
		t.Fatalf("amnesic %v, Privacy.Amnesic %v after choosing it", c.Amnesic(), c.Settings().Privacy.Amnesic)
	}
	s = c.Settings()
	s.Privacy.Amnesic = false
	s.Input.QualityBitrate = 24000 // an amnesic change: not written
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	ds, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := LoadSettings(ds)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Privacy.Amnesic {
		t.Error("settings.json keeps amnesic mode after leaving it")
	}
	if saved.Input.QualityBitrate == 24000 {
		t.Error("a change made in amnesic mode was written")
	}
	c.Close()
	if c = newTestController(t, ControllerConfig{ConfigDir: dir}); c.Amnesic() {
		t.Error("still amnesic at the next start")
	}
}

// TestAmnesicFlagShowsChecked: under --amnesic the settings say amnesic,
// and the notice says what is and is not written.
func TestAmnesicFlagShowsChecked(t *testing.T) {
	c := newTestController(t, ControllerConfig{Amnesic: true, ConfigDir: t.TempDir()})
	if !c.Settings().Privacy.Amnesic {
		t.Error("Privacy.Amnesic is false under --amnesic")
	}
	n := c.AmnesiaNotice("--amnesic")
	for _, want := range []string{"--amnesic", "not written", "Tor's state", os.TempDir(), "removed at exit", "swap"} {
		if !strings.Contains(n, want) {
			t.Errorf("notice %q lacks %q", n, want)
		}
	}
	if n := newTestController(t, ControllerConfig{}).AmnesiaNotice(""); n != "" {
		t.Errorf("notice %q when not amnesic", n)
	}
}

// TestWipeSavedData: bookmarks, settings and Tor's state are deleted from
// the configuration directory, and the bookmarks from memory.
func TestWipeSavedData(t *testing.T) {
	dir := t.TempDir()
	c := newTestController(t, ControllerConfig{ConfigDir: dir})
	if _, err := c.SaveBookmark(Bookmark{Address: "example.org", Username: "me"}); err != nil {
		t.Fatal(err)
	}
	s := c.Settings()
	s.Input.QualityBitrate = 24000
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	torDir := filepath.Join(dir, "tor")
	if err := os.MkdirAll(torDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(torDir, "state"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{BookmarksFile, SettingsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not saved: %v", f, err)
		}
	}
	if err := c.WipeSavedData(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{BookmarksFile, SettingsFile, "tor"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s still there after wiping: %v", f, err)
		}
	}
	if n := len(c.Bookmarks()); n != 0 {
		t.Errorf("%d bookmarks after wiping", n)
	}
	if c.Settings().Input.QualityBitrate == 24000 {
		t.Error("the settings were not reset")
	}
}
