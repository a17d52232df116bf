package app

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultPTTKey is the push-to-talk key when AudioInput.PTTKey is empty:
// Right Ctrl, as before the key could be chosen.
const DefaultPTTKey = "RightControl"

// pttKeys are the key names AudioInput.PTTKey accepts: the names of the
// user interface's toolkit (Fyne's fyne.KeyName values) for keys that can
// be held, without Escape, Return, Tab and BackSpace, which dialogs need.
var pttKeys = func() []string {
	keys := []string{
		"RightControl", "LeftControl", "RightAlt", "LeftAlt", "RightShift", "LeftShift",
		"RightSuper", "LeftSuper", "Menu", "CapsLock", "PrintScreen", "Space",
		"Insert", "Delete", "Home", "End", "Prior", "Next", "Up", "Down", "Left", "Right",
		"`", "'", ",", "-", ".", "/", "\\", "[", "]", ";", "=", "*", "+",
	}
	for i := 1; i <= 12; i++ {
		keys = append(keys, fmt.Sprintf("F%d", i))
	}
	for c := '0'; c <= '9'; c++ {
		keys = append(keys, string(c))
	}
	for c := 'A'; c <= 'Z'; c++ {
		keys = append(keys, string(c))
	}
	return keys
}()

// PTTKeys returns the key names a push-to-talk key may have.
func PTTKeys() []string { return slices.Clone(pttKeys) }

// ParsePTTKey checks a push-to-talk key name and returns it as stored:
// "" is DefaultPTTKey, a letter may be given in lower case. Keys that
// cannot be held for talking (Escape, Return, Tab, BackSpace) and unknown
// names are refused.
func ParsePTTKey(name string) (string, error) {
	if name == "" {
		return DefaultPTTKey, nil
	}
	if len(name) == 1 {
		name = strings.ToUpper(name)
	}
	if slices.Contains(pttKeys, name) {
		return name, nil
	}
	switch name {
	case "Escape", "Return", "KP_Enter", "Tab", "BackSpace":
		return "", fmt.Errorf("%q cannot be the push-to-talk key: dialogs need it", name)
	}
	return "", fmt.Errorf("%q is not a key name push-to-talk can use", name)
}

// PTTKeyLabel names a key for people: "Right Ctrl", "F12", "Space".
func PTTKeyLabel(name string) string {
	if name == "" {
		name = DefaultPTTKey
	}
	for _, side := range []string{"Right", "Left"} {
		if rest, ok := strings.CutPrefix(name, side); ok && rest != "" {
			switch rest {
			case "Control":
				rest = "Ctrl"
			case "Super":
				rest = "Super (Windows key)"
			}
			return side + " " + rest
		}
	}
	switch name {
	case "Prior":
		return "Page Up"
	case "Next":
		return "Page Down"
	case "Up", "Down", "Left", "Right":
		return "Arrow " + name
	}
	return name
}
