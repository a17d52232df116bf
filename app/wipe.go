package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AmnesiaNotice says exactly what this run writes to disk and what it
// does not, for the line under Tor's status; "" when not amnesic. reason
// is why amnesic mode is on ("--amnesic", "Qubes disposable VM"; empty:
// the settings).
func (c *Controller) AmnesiaNotice(reason string) string {
	if !c.amnesic {
		return ""
	}
	if reason == "" {
		reason = "chosen in Settings > Privacy"
	}
	return fmt.Sprintf("Amnesic mode (%s): bookmarks, settings and chat stay in memory and are not written. "+
		"Tor's state and the interface's caches go to temporary directories (under %s) removed at exit; "+
		"if that is on disk and Tumble crashes, they stay. The system itself may still write to swap.",
		reason, os.TempDir())
}

// leaveSavedAmnesia writes the change of Privacy.Amnesic through to the
// settings file when amnesic mode came from the saved settings: an
// amnesic session saves nothing otherwise, so the mode could never be
// left. c.saveMu must be held.
func (c *Controller) leaveSavedAmnesia(old, s Settings) error {
	if !c.amnesicSaved || old.Privacy.Amnesic == s.Privacy.Amnesic {
		return nil
	}
	return SetSavedAmnesia(c.dir, s.Privacy.Amnesic)
}

// WipeSavedData ends any session and deletes everything Tumble saved in
// its configuration directory: the bookmarks, the settings and the
// embedded Tor's state. The bookmarks in memory go too, and the settings
// return to their defaults (not saved). An embedded Tor that is running
// keeps its state in memory until Tumble quits.
func (c *Controller) WipeSavedData() error {
	c.Cancel()
	for _, b := range c.store.List() {
		if err := c.store.Delete(b.ID); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	c.settings = c.cfg.Environment.DefaultSettings()
	c.settings.Privacy.Amnesic = c.amnesic && !c.amnesicSaved
	c.chats = nil
	c.mu.Unlock()
	var errs []error
	if c.dir != "" {
		for _, name := range []string{BookmarksFile, SettingsFile} {
			if err := os.Remove(filepath.Join(c.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if d := torDataDir(c.dir); d != "" && strings.HasPrefix(d, c.dir) {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.amnesicSaved {
		// Nothing on disk asks for amnesic mode any more.
		c.amnesicSaved = false
	}
	c.changed()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("app: wipe saved data: %w", err)
	}
	return nil
}
