package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	qrenc "github.com/skip2/go-qrcode"

	"github.com/tumble-voip/tumble/app"
)

const testObfs4 = "obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=qqTGb50kxZAGtS9vNwiWv6+lU1LmLUqySKZBPsSjLmAtKIjQUMr4cm2DAC0oZe0r9B6W5g iat-mode=0"

// TestSettingsBridges: Settings > Network > Bridges shows an error per bad
// line as the user types, refuses to save bad lines, and saves good ones.
func TestSettingsBridges(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	b := f.bridges
	if b.use.Checked || !b.lines.Disabled() {
		t.Fatalf("bridges on or editable by default")
	}
	test.Tap(b.use)
	b.source.SetSelected(bridgeOptCustom)
	if b.lines.Disabled() {
		t.Fatal("bridge lines box disabled with custom bridges")
	}
	b.lines.SetText(testObfs4 + "\nobfs4 192.0.2.1:443\nfoo 192.0.2.1:1 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D")
	if !b.errs.Visible() || !strings.Contains(b.errs.Text, "line 2: missing fingerprint") || !strings.Contains(b.errs.Text, `line 3: unknown transport "foo"`) {
		t.Errorf("per-line errors: visible %v, %q", b.errs.Visible(), b.errs.Text)
	}
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if u.settingsOpen == nil {
		t.Fatal("the dialog closed with bad bridge lines")
	}
	b.lines.SetText(testObfs4 + "\n")
	if b.errs.Visible() {
		t.Errorf("errors stay after the fix: %q", b.errs.Text)
	}
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if u.settingsOpen != nil {
		t.Fatalf("good bridges not saved: %q", f.errLabel.Text)
	}
	n := ctrl.Settings().Network
	if !n.UseBridges || n.BridgeSource != app.BridgesCustom || !slices.Equal(n.BridgeLines, []string{testObfs4}) {
		t.Errorf("saved %+v", n)
	}
}

func TestTorBarWarning(t *testing.T) {
	got := torBarWarning(app.TorStatus{Warning: "Connection refused (CONNECTREFUSED)", Hint: "Tor has been stuck at 5% for 30s: try bridges"})
	if got != "Connection refused (CONNECTREFUSED) · Tor has been stuck at 5% for 30s: try bridges" {
		t.Errorf("torBarWarning = %q", got)
	}
	if torBarWarning(app.TorStatus{}) != "" {
		t.Error("warning without problems")
	}
}

// TestSettingsBridgesImportQR: a QR code image of bridges.torproject.org's
// list of bridge lines fills the box (after lines already there), each
// line checked; an image without a QR code shows an error and changes
// nothing.
func TestSettingsBridgesImportQR(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	b := f.bridges
	test.Tap(b.use)
	b.source.SetSelected(bridgeOptCustom)
	b.lines.SetText(testObfs4)
	bad := "obfs4 192.0.2.1:443"
	png, err := qrenc.Encode("['"+testObfs4+"', '"+bad+"']", qrenc.Medium, 400)
	if err != nil {
		t.Fatal(err)
	}
	b.importFile(f, png)
	if want := testObfs4 + "\n" + testObfs4 + "\n" + bad; b.lines.Text != want {
		t.Errorf("box after import: %q, want %q", b.lines.Text, want)
	}
	if !b.errs.Visible() || !strings.Contains(b.errs.Text, "line 3: missing fingerprint") {
		t.Errorf("per-line errors after import: visible %v, %q", b.errs.Visible(), b.errs.Text)
	}
	before := b.lines.Text
	b.importFile(f, png[:len(png)/2])
	if !f.errLabel.Visible() || !strings.Contains(f.errLabel.Text, "not a readable PNG or JPEG image") {
		t.Errorf("error for a broken image: visible %v, %q", f.errLabel.Visible(), f.errLabel.Text)
	}
	if b.lines.Text != before {
		t.Errorf("a broken image changed the box: %q", b.lines.Text)
	}
}

// TestBridgeFileDialogEscape: Escape closes Fyne's file dialog (bridges
// from a file) without choosing a file, and leaves Settings open under
// it; a second Escape closes Settings.
func TestBridgeFileDialogEscape(t *testing.T) {
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	settings := topOverlay(u)
	test.Tap(f.bridges.use)
	f.bridges.source.SetSelected(bridgeOptCustom)
	if f.bridges.load.Disabled() {
		t.Fatal("no file to import bridges from with custom bridges")
	}
	test.Tap(f.bridges.load)
	files := topOverlay(u)
	if files == settings || !hasText(files, "Open") {
		t.Fatalf("no file dialog: %q", texts(files))
	}
	pressKey(u, fyne.KeyEscape)
	if slices.Contains(u.win.Canvas().Overlays().List(), files) || topOverlay(u) != settings || u.settingsOpen == nil {
		t.Fatal("Escape did not close the file dialog alone")
	}
	if f.errLabel.Text != "" || f.bridges.lines.Text != "" {
		t.Errorf("closing the file dialog changed the bridges: %q, %q", f.errLabel.Text, f.bridges.lines.Text)
	}
	pressKey(u, fyne.KeyEscape)
	if u.settingsOpen != nil {
		t.Fatal("the second Escape did not close Settings")
	}
}
