package main

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// errNoDisplay is returned when there is no display to open a window on.
var errNoDisplay = errors.New("no display: DISPLAY and WAYLAND_DISPLAY are not set; " +
	"start Tumble in a desktop session, or use tumble-cli without a GUI")

// checkDisplay makes sure a window can be opened before the GUI driver is
// initialised, so a missing display is one clear error line and not a
// crash deep inside the driver. Only the X11 and Wayland platforms are
// checked; a local X server's socket must accept a connection.
func checkDisplay(getenv func(string) string) error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
	default:
		return nil
	}
	wayland, x := getenv("WAYLAND_DISPLAY"), getenv("DISPLAY")
	if wayland == "" && x == "" {
		return errNoDisplay
	}
	if wayland != "" {
		return nil // Fyne falls back to DISPLAY if Wayland fails.
	}
	return checkX11(x)
}

// checkX11 dials the unix socket of a local X display (":N" or ":N.S").
// Displays on other hosts are not dialed here.
func checkX11(display string) error {
	host, rest, ok := strings.Cut(display, ":")
	if !ok {
		return fmt.Errorf("no display: DISPLAY=%q is not a display name like :0", display)
	}
	if host != "" && host != "unix" {
		return nil
	}
	num, _, _ := strings.Cut(rest, ".")
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return fmt.Errorf("no display: DISPLAY=%q is not a display name like :0", display)
	}
	sock := filepath.Join("/tmp/.X11-unix", "X"+num)
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		// Some X servers listen on the abstract socket only.
		c, err = net.DialTimeout("unix", "@"+sock, 2*time.Second)
	}
	if err != nil {
		return fmt.Errorf("no display: cannot reach the X server of DISPLAY=%s: %w", display, err)
	}
	return c.Close()
}
