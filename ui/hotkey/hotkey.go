// Package hotkey holds a push-to-talk key for the whole desktop, so that
// it works while another window has the keyboard focus, as Mumble's does:
// on X11 with a real key grab (XGrabKey on the root window). Wayland
// gives no application the keys of other windows; there the XDG
// GlobalShortcuts portal binds a shortcut the desktop reports
// (PortalGrab).
package hotkey

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrUnsupported is returned by Grab where no global key can be had:
// Wayland without X11, builds without cgo, other systems.
var ErrUnsupported = errors.New("hotkey: global keys are not available here")

// Wayland reports whether the session is a Wayland one, from its
// environment (getenv is os.Getenv in the program): there the portal is
// the way to a global key.
func Wayland(getenv func(string) string) bool {
	return getenv("WAYLAND_DISPLAY") != "" || strings.EqualFold(getenv("XDG_SESSION_TYPE"), "wayland")
}

// Availability says in a sentence whether and how a global push-to-talk
// key works in this session, from its environment (getenv is os.Getenv
// in the program).
func Availability(getenv func(string) string) (ok bool, why string) {
	if !supported {
		return false, "Push-to-talk works only while Tumble's window has the focus: this build has no global key support."
	}
	wayland := Wayland(getenv)
	if getenv("DISPLAY") == "" {
		if wayland {
			return false, "Push-to-talk works only while Tumble's window has the focus: Wayland lets no program see the keys of other windows."
		}
		return false, "Push-to-talk works only while Tumble's window has the focus: no X11 display."
	}
	if wayland {
		return true, "Push-to-talk works in every X11 window (XWayland); in Wayland windows only while Tumble's window has the focus."
	}
	return true, "Push-to-talk works while other windows have the focus (X11 key grab)."
}

// x11Keysyms maps the push-to-talk key names (app.PTTKeys, Fyne's names)
// to X11 keysym names where they differ.
var x11Keysyms = map[string]string{
	"RightControl": "Control_R", "LeftControl": "Control_L",
	"RightAlt": "Alt_R", "LeftAlt": "Alt_L",
	"RightShift": "Shift_R", "LeftShift": "Shift_L",
	"RightSuper": "Super_R", "LeftSuper": "Super_L",
	"CapsLock": "Caps_Lock", "PrintScreen": "Print", "Space": "space",
	"`": "grave", "'": "apostrophe", ",": "comma", "-": "minus", ".": "period",
	"/": "slash", "\\": "backslash", "[": "bracketleft", "]": "bracketright",
	";": "semicolon", "=": "equal", "*": "KP_Multiply", "+": "KP_Add",
}

// keysymName returns the X11 keysym name of a push-to-talk key name.
func keysymName(key string) (string, error) {
	if s, ok := x11Keysyms[key]; ok {
		return s, nil
	}
	if len(key) == 1 && key[0] >= 'A' && key[0] <= 'Z' {
		return strings.ToLower(key), nil
	}
	if key == "" || strings.ContainsAny(key, " \t\n") {
		return "", fmt.Errorf("hotkey: no X11 key for %q", key)
	}
	return key, nil // F1-F12, 0-9, Insert, Home, Prior, Up, Menu ...
}

// Grab holds one key for the whole desktop; Close releases it.
type Grab struct {
	impl *x11Grab
}

// NewGrab grabs key (an app.PTTKeys name) on the display named by
// $DISPLAY and calls onChange(true) when it goes down and
// onChange(false) when it comes up, on the grab's own goroutine, whatever
// window has the focus. Key repeat is not reported. It fails with
// ErrUnsupported where that cannot be had, and when another program
// holds the key.
func NewGrab(key string, onChange func(pressed bool)) (*Grab, error) {
	if onChange == nil {
		return nil, errors.New("hotkey: no callback")
	}
	sym, err := keysymName(key)
	if err != nil {
		return nil, err
	}
	display := os.Getenv("DISPLAY")
	if display == "" || !supported {
		return nil, ErrUnsupported
	}
	g, err := grabX11(display, sym, onChange)
	if err != nil {
		return nil, err
	}
	return &Grab{impl: g}, nil
}

// Close releases the key and waits for the grab's goroutine.
func (g *Grab) Close() error { return g.impl.close() }
