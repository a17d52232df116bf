package main

import (
	"fmt"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/tumble-voip/tumble/tor/lockdir"
)

// Fyne writes two things by itself on the X11/Wayland platforms: it
// creates its configuration directory (~/.config/fyne) to watch its
// settings file for theme changes, and its font library indexes the system
// fonts into ~/.cache when a glyph is missing from the bundled fonts. In
// amnesic mode neither may reach the disk.

// redirectFyneCache points the font index into a fresh temporary
// directory (lockdir.TempDir), through XDG_CACHE_HOME. It must run before the Fyne app is
// created, after the controller has found its own directories. cleanup
// removes the directory.
func redirectFyneCache() (cleanup func(), err error) {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
	default:
		return func() {}, nil
	}
	// In $XDG_RUNTIME_DIR (tmpfs) when there is one; the directories of
	// killed runs are removed here at the next start.
	dir, lock, err := lockdir.TempDir("tumble-cache-")
	if err != nil {
		return nil, fmt.Errorf("amnesic mode: temporary cache directory: %w", err)
	}
	if err := os.Setenv("XDG_CACHE_HOME", dir); err != nil {
		os.RemoveAll(dir)
		lock.Release()
		return nil, fmt.Errorf("amnesic mode: XDG_CACHE_HOME: %w", err)
	}
	return func() {
		os.RemoveAll(dir)
		lock.Release()
	}, nil
}

// fixTheme sets the theme explicitly. Fyne then does not watch its
// settings file for theme changes, and so does not create its
// configuration directory.
func fixTheme(a fyne.App) {
	a.Settings().SetTheme(theme.DefaultTheme())
}
