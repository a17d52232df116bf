package ui

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/base32"
	"image"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/tor"
)

// waitLimit bounds every wait; the conditions normally hold within a
// second or two.
const waitLimit = 30 * time.Second

// newController returns a real controller with its own configuration
// directory, Tor off unless cfg says otherwise and no sound devices,
// closed when the test ends.
func newController(t *testing.T, cfg app.ControllerConfig) *app.Controller {
	t.Helper()
	if cfg.ConfigDir == "" && !cfg.Amnesic {
		cfg.ConfigDir = t.TempDir()
	}
	if cfg.TorMode == "" {
		cfg.TorMode = "off"
	}
	if cfg.AudioBackend == app.AudioDevices {
		cfg.AudioBackend = app.AudioNone
	}
	c, err := app.NewController(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newTestUI builds the UI for ctrl in Fyne's test app (software
// rendering, test theme, no display).
func newTestUI(t *testing.T, ctrl Controller, opts *Options) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	u := New(a, ctrl, opts)
	// Fyne's test driver runs fyne.Do on the calling goroutine: work
	// that would run beside the test runs in place, and meters show the
	// readings a test gives them (TestMeterFeed covers the feed).
	u.async = func(f func()) { f() }
	u.meterEvery = 0
	t.Cleanup(u.win.Close)
	return u
}

// waitFor re-reads the controller's state until cond holds, showing every
// state read, and returns it.
func waitFor(t *testing.T, u *UI, what string, cond func(app.State) bool) app.State {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		u.Sync()
		if cond(u.state) {
			return u.state
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; phase %v, problem %+v", what, u.state.Phase, u.state.Problem)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fixedIsolation returns isolation credentials that render the same in
// every run (they are shown, shortened, in the bookmark list).
func fixedIsolation(t *testing.T, n byte) tor.Isolation {
	t.Helper()
	iso, err := tor.ParseIsolation("iso1-" + strings.Repeat(string("0123456789abcdef"[n%16]), 32) + strings.Repeat("f", 32))
	if err != nil {
		t.Fatal(err)
	}
	return iso
}

// addBookmark saves a bookmark through the controller.
func addBookmark(t *testing.T, c *app.Controller, b app.Bookmark) app.Bookmark {
	t.Helper()
	if b.Isolation.IsZero() {
		b.Isolation = fixedIsolation(t, byte(len(c.Bookmarks())))
	}
	saved, err := c.SaveBookmark(b)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// objects returns o and everything below it, widgets' renderers included.
func objects(o fyne.CanvasObject) []fyne.CanvasObject {
	out := []fyne.CanvasObject{o}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = append(out, objects(c)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			out = append(out, objects(c)...)
		}
	}
	return out
}

// visibleObjects returns o and everything visible below it.
func visibleObjects(o fyne.CanvasObject) []fyne.CanvasObject {
	if !o.Visible() {
		return nil
	}
	out := []fyne.CanvasObject{o}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = append(out, visibleObjects(c)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			out = append(out, visibleObjects(c)...)
		}
	}
	return out
}

// topOverlay returns the topmost overlay (dialog or pop-up), or nil.
func topOverlay(u *UI) fyne.CanvasObject {
	return u.win.Canvas().Overlays().Top()
}

// findButton returns the visible button with the given text below root.
func findButton(t *testing.T, root fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, o := range visibleObjects(root) {
		switch b := o.(type) {
		case *widget.Button:
			if b.Text == text {
				return b
			}
		case *keyButton:
			if b.Text == text {
				return &b.Button
			}
		case *pttButton:
			if b.Text == text {
				return &b.Button
			}
		}
	}
	t.Fatalf("no visible button %q", text)
	return nil
}

// texts returns the text of every visible label and rich text below root.
func texts(root fyne.CanvasObject) []string {
	var out []string
	for _, o := range visibleObjects(root) {
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
		case *widget.RichText:
			out = append(out, v.String())
		case *textView:
			out = append(out, v.Text)
		case *chatLine:
			out = append(out, v.Text)
		}
	}
	return out
}

// hasText reports whether some visible label below root contains s.
func hasText(root fyne.CanvasObject, s string) bool {
	for _, x := range texts(root) {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// entries returns the visible dialog entries (keys.go) below root, in
// order.
func entries(root fyne.CanvasObject) []*keyEntry {
	var out []*keyEntry
	for _, o := range visibleObjects(root) {
		if e, ok := o.(*keyEntry); ok {
			out = append(out, e)
		}
	}
	return out
}

// treeRowFor returns the rendered tree row of a node.
func treeRowFor(t *testing.T, u *UI, uid string) *treeRow {
	t.Helper()
	for _, o := range visibleObjects(u.win.Canvas().Content()) {
		if r, ok := o.(*treeRow); ok && r.uid == uid {
			return r
		}
	}
	t.Fatalf("tree node %s is not shown", uid)
	return nil
}

// crop returns the part of the window's capture covered by o.
func crop(u *UI, o fyne.CanvasObject) image.Image {
	img := u.win.Canvas().Capture()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	size := o.Size()
	scale := u.win.Canvas().Scale()
	r := image.Rect(int(pos.X*scale), int(pos.Y*scale), int((pos.X+size.Width)*scale), int((pos.Y+size.Height)*scale))
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			out.Set(x, y, img.At(r.Min.X+x, r.Min.Y+y))
		}
	}
	return out
}

// newOnion returns a valid v3 onion address derived from seed and a client
// authorization key for it, in Tor's "<addr>:descriptor:x25519:<key>"
// form. Nothing is ever connected to it.
func newOnion(t *testing.T, seed byte) (addr, key string) {
	t.Helper()
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(pub)
	h.Write([]byte{3})
	sum := h.Sum(nil)
	raw := append(append(append([]byte{}, pub...), sum[:2]...), 3)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	label := strings.ToLower(enc.EncodeToString(raw))
	secret := bytes.Repeat([]byte{seed ^ 0x5a}, 32)
	return label + ".onion", label + ":descriptor:x25519:" + enc.EncodeToString(secret)
}

// layoutAll lays the whole window out again from the top, as Fyne's real
// drivers do after a widget's minimum size changed (its test canvas does
// not), so captures show what a user sees.
func layoutAll(u *UI) {
	c := u.win.Canvas()
	for _, o := range append([]fyne.CanvasObject{c.Content()}, c.Overlays().List()...) {
		relayout(o)
	}
}

func relayout(o fyne.CanvasObject) {
	if !o.Visible() {
		return
	}
	switch v := o.(type) {
	case *fyne.Container:
		if v.Layout != nil {
			v.Layout.Layout(v.Objects, v.Size())
		}
		for _, c := range v.Objects {
			relayout(c)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(v)
		r.Layout(v.Size())
		for _, c := range r.Objects() {
			relayout(c)
		}
	}
}

// capture lays the window out and captures it.
func capture(u *UI) image.Image {
	layoutAll(u)
	layoutAll(u) // a second pass settles sizes that depend on the first
	return u.win.Canvas().Capture()
}
