package ui

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// openSettings taps Settings and returns the open dialog's form.
func openSettings(t *testing.T, u *UI) *settingsForm {
	t.Helper()
	test.Tap(u.tor.settings)
	f := u.settingsOpen
	if f == nil || topOverlay(u) == nil {
		t.Fatal("tapping Settings opened no dialog")
	}
	return f
}

func TestSettingsDialog(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{TorMode: "embedded"})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	dlg := topOverlay(u)

	// The sections carry Mumble's names, and the values are the default
	// preset's.
	for i, want := range []string{"Audio Input", "Audio Output", "Network", "Privacy"} {
		if got := f.tabs.Items[i].Text; got != want {
			t.Errorf("tab %d is %q, want %q", i, got, want)
		}
	}
	for _, want := range []string{"Interface", "Transmission", "Compression", "Audio Processing", "Tor recommended"} {
		if !hasText(dlg, want) && f.preset.Selected != want {
			t.Errorf("the dialog does not show %q", want)
		}
	}
	if f.preset.Selected != "Tor recommended" {
		t.Errorf("preset shows %q, want Tor recommended", f.preset.Selected)
	}
	checks := map[string][2]string{
		"voice hold":    {f.voiceHold.label.Text, "250 ms"},
		"silence below": {f.silence.label.Text, "30 %"},
		"speech above":  {f.speech.label.Text, "50 %"},
		"quality":       {f.quality.label.Text, "13.0 kb/s"},
		"packet":        {f.packet.Selected, "20 ms"},
		"echo":          {f.echo.Selected, echoChoices.label(app.EchoMixed)},
		"noise":         {f.noise.label.Text, "-60 dB"},
		"amplification": {f.maxAmp.label.Text, "2.5"},
		"jitter":        {f.jitter.label.Text, "10 ms"},
		"output delay":  {f.delay.label.Text, "30 ms"},
		"volume":        {f.volume.label.Text, "10 %"},
		"transmit":      {f.transmit.Selected, transmitChoices.label(app.TransmitVoiceActivity)},
		"Tor":           {f.torMode.Selected, torChoices.label(app.TorEmbedded)},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s shows %q, want %q", name, c[0], c[1])
		}
	}
	if !f.forceTCP.Checked || !f.forceTCP.Disabled() {
		t.Error("Force TCP is not shown on and locked while Tor is on")
	}
	if f.torFlag.Visible() {
		t.Errorf("a --tor override is reported without one: %q", f.torFlag.Text)
	}
	if !f.noOSInfo.Checked || !f.noOSInfo.Disabled() || f.noStats.Checked || !f.noStats.Disabled() {
		t.Error("the privacy settings are not shown fixed: no OS information, no statistics")
	}
	waitDevices(t, f)
	test.AssertImageMatches(t, "settings_input.png", capture(u))

	f.tabs.SelectIndex(2)
	f.torMode.SetSelected(torChoices.label(app.TorOff))
	if f.forceTCP.Disabled() {
		t.Error("Force TCP stays locked with Tor off")
	}
	if !f.torWarning.Visible() {
		t.Error("no UNPROTECTED warning when Tor is switched off")
	}
	test.AssertImageMatches(t, "settings_network.png", capture(u))
	f.torMode.SetSelected(torChoices.label(app.TorEmbedded))
	if !f.forceTCP.Checked || !f.forceTCP.Disabled() {
		t.Error("Force TCP is not locked on again with Tor back on")
	}

	// A preset fills the form; Save hands it to the controller.
	f.preset.SetSelected("Tor low bandwidth")
	if f.packet.Selected != "60 ms" || f.quality.label.Text != "10.0 kb/s" {
		t.Errorf("Tor low bandwidth shows %s at %s, want 60 ms at 10.0 kb/s", f.packet.Selected, f.quality.label.Text)
	}
	test.Tap(findButton(t, dlg, "Save"))
	if u.settingsOpen != nil {
		t.Fatalf("the dialog stayed open after Save: %q", f.errLabel.Text)
	}
	if s := ctrl.Settings(); !s.MatchesPreset(app.PresetTorLowBandwidth) || s.Network.TorMode != app.TorEmbedded {
		t.Errorf("saved settings are not Tor low bandwidth with embedded Tor: %+v", s)
	}

	// "Reset to Tor recommended" is always there.
	f = openSettings(t, u)
	dlg = topOverlay(u)
	f.silence.set(12)
	if f.preset.Selected != "" {
		t.Errorf("edited settings still show the preset %q, want Custom", f.preset.Selected)
	}
	test.Tap(f.reset)
	if f.silence.label.Text != "30 %" || f.preset.Selected != "Tor recommended" {
		t.Errorf("reset shows silence below %s and preset %q", f.silence.label.Text, f.preset.Selected)
	}
	test.Tap(findButton(t, dlg, "Save"))
	if !ctrl.Settings().MatchesPreset(app.PresetTorRecommended) {
		t.Error("saved settings after reset are not Tor recommended")
	}
}

func TestSettingsInvalid(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	before := ctrl.Settings()
	f := openSettings(t, u)
	// The controller runs with --tor off while the settings say embedded.
	if !f.torFlag.Visible() || !strings.Contains(f.torFlag.Text, "no Tor (UNPROTECTED)") {
		t.Errorf("the --tor off override is not explained: %q", f.torFlag.Text)
	}
	f.torMode.SetSelected(torChoices.label(app.TorSOCKS))
	f.socks.SetText("no port here")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if u.settingsOpen == nil {
		t.Fatal("the dialog closed on invalid settings")
	}
	if !f.errLabel.Visible() || !strings.Contains(f.errLabel.Text, "Network: SOCKS address") {
		t.Errorf("error shown: %q, want it to name Network: SOCKS address", f.errLabel.Text)
	}
	if got := ctrl.Settings(); !reflect.DeepEqual(got.Network, before.Network) {
		t.Errorf("invalid settings were applied: %+v", got.Network)
	}
	f.socks.SetText("127.0.0.1:9050")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if u.settingsOpen != nil {
		t.Fatalf("valid settings not saved: %q", f.errLabel.Text)
	}
	if n := ctrl.Settings().Network; n.TorMode != app.TorSOCKS || n.SOCKSAddress != "127.0.0.1:9050" || !n.ForceTCP {
		t.Errorf("saved network settings %+v", n)
	}
}

func TestSettingsMobile(t *testing.T) {
	// Tor off by --tor while the settings say embedded: the dialog
	// explains that too.
	ctrl := newFakeController(app.State{Tor: app.TorStatus{Mode: "off"}})
	u := newTestUI(t, ctrl, &Options{Layout: LayoutMobile})
	u.win.Resize(u.win.Canvas().Size().SubtractWidthHeight(820, 0))
	openSettings(t, u)
	if got, max := topOverlay(u).Size().Width, u.win.Canvas().Size().Width; got > max {
		t.Errorf("settings dialog is %v wide on a %v wide phone", got, max)
	}
}

// waitDevices waits until the dialog has asked for the sound devices.
func waitDevices(t *testing.T, f *settingsForm) {
	t.Helper()
	select {
	case <-f.devicesLoaded:
	case <-time.After(10 * time.Second):
		t.Fatal("the settings dialog did not load the sound devices")
	}
}

// deviceListController is a real controller whose system reports two
// sound devices each (the sound hardware is the one thing faked).
type deviceListController struct {
	*app.Controller
	devs app.SoundDevices
}

func (c deviceListController) SoundDevices() (app.SoundDevices, error) { return c.devs, nil }

func TestSettingsSoundDevices(t *testing.T) {
	ctrl := newController(t, app.ControllerConfig{})
	s := ctrl.Settings()
	s.Input.Device = "Old USB microphone" // saved, unplugged now
	if err := ctrl.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	dc := deviceListController{Controller: ctrl, devs: app.SoundDevices{
		Capture:        []string{"Built-in Microphone", "USB Headset Microphone"},
		Playback:       []string{"Built-in Speakers", "USB Headset"},
		DefaultCapture: "Built-in Microphone", DefaultPlayback: "Built-in Speakers",
	}}
	u := newTestUI(t, dc, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	waitDevices(t, f)
	// The drop-down offers the system's devices.
	for _, c := range []struct {
		e    *keySelectEntry
		want []string
	}{{f.inDevice, dc.devs.Capture}, {f.outDevice, dc.devs.Playback}} {
		test.Tap(c.e.ActionItem.(fyne.Tappable))
		menu := u.win.Canvas().Overlays().Top()
		var offered []string
		if menu != nil {
			for _, o := range visibleObjects(menu) {
				if txt, ok := o.(*canvas.Text); ok {
					offered = append(offered, txt.Text)
				}
			}
		}
		if !slices.Equal(offered, c.want) {
			t.Errorf("the drop-down offers %q, want %q", offered, c.want)
		}
		u.win.Canvas().Overlays().Remove(menu)
	}
	if f.inDevice.Text != "Old USB microphone" {
		t.Errorf("the saved input device shows as %q", f.inDevice.Text)
	}
	if f.outDevice.Text != "" || f.outDevice.PlaceHolder != "System default: Built-in Speakers" {
		t.Errorf("the default output device shows %q / placeholder %q", f.outDevice.Text, f.outDevice.PlaceHolder)
	}
	f.outDevice.SetText("USB Headset") // what choosing it from the list does
	f.inDevice.SetText("")
	test.Tap(findButton(t, topOverlay(u), "Save"))
	if u.settingsOpen != nil {
		t.Fatalf("the dialog stayed open after Save: %q", f.errLabel.Text)
	}
	if got := ctrl.Settings(); got.Output.Device != "USB Headset" || got.Input.Device != "" {
		t.Errorf("saved devices: input %q, output %q; want the default and USB Headset", got.Input.Device, got.Output.Device)
	}
}
