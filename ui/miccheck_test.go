package ui

import (
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// meterGeometry returns the level bar's width and the two marks' centres
// as fractions of the meter's width.
func meterGeometry(t *testing.T, m *levelMeter) (bar, silence, speech float64) {
	t.Helper()
	r, ok := test.WidgetRenderer(m).(*meterRenderer)
	if !ok {
		t.Fatal("the meter has no meterRenderer")
	}
	w := float64(m.Size().Width)
	if w == 0 {
		t.Fatal("the meter has no width")
	}
	mark := func(i int) float64 { return (float64(r.marks[i].Position().X) + 1) / w }
	return float64(r.bar.Size().Width) / w, mark(0), mark(1)
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

// TestAudioCheckMeter: the audio check shows the level the controller
// measures on a bar with the two voice activity thresholds marked where
// the settings put them, says whether the voice would go out, and starts
// and stops the microphone test with the chosen devices; closing it
// saves the devices and that the check was shown. The rendering is the
// golden image audiocheck_speech.png.
func TestAudioCheckMeter(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	ctrl.setMic(app.MicLevel{Active: true, Testing: true, Hearing: true, Level: 0.62, Transmit: true,
		Description: "Sound: the default device in, the default device out."})
	u.showAudioCheck()
	p := u.audioCheck
	if p == nil || topOverlay(u) == nil {
		t.Fatal("no audio check dialog")
	}
	p.show(ctrl.MicLevel())
	capture(u)
	bar, silence, speech := meterGeometry(t, p.meter)
	if !near(bar, 0.62) || !near(silence, 0.30) || !near(speech, 0.50) {
		t.Errorf("meter: bar %.3f, marks %.3f and %.3f; want 0.62, 0.30, 0.50", bar, silence, speech)
	}
	if !strings.HasPrefix(p.status.Text, "Speech: this would be sent.") {
		t.Errorf("status %q, want that speech would be sent", p.status.Text)
	}
	test.AssertImageMatches(t, "audiocheck_speech.png", capture(u))

	// Quiet: the bar follows, the status says nothing would be sent.
	ctrl.setMic(app.MicLevel{Active: true, Testing: true, Level: 0.1})
	p.show(ctrl.MicLevel())
	if bar, _, _ := meterGeometry(t, p.meter); !near(bar, 0.1) {
		t.Errorf("quiet bar %.3f, want 0.10", bar)
	}
	if !strings.HasPrefix(p.status.Text, "Silence: nothing would be sent.") {
		t.Errorf("quiet status %q", p.status.Text)
	}

	test.Tap(p.test)
	p.hear.SetChecked(false)
	test.Tap(p.test)
	test.Tap(topOverlayButton(t, u, "Done"))
	want := []string{`StartMicTest "" true`, "SetMicTestHearing false", "StopMicTest"}
	if got := ctrl.recorded(); !slices.Equal(got, want) {
		t.Errorf("intents %q, want %q", got, want)
	}
	if !ctrl.Settings().Input.AudioChecked {
		t.Error("closing the audio check did not record it as shown")
	}
	if u.audioCheck != nil {
		t.Error("the audio check is still open")
	}
}

// topOverlayButton finds the button labelled text in the top dialog.
func topOverlayButton(t *testing.T, u *UI, text string) *widget.Button {
	t.Helper()
	for _, o := range visibleObjects(topOverlay(u)) {
		if b, ok := o.(*keyButton); ok && b.Text == text {
			return &b.Button
		}
	}
	t.Fatalf("no %q button in the dialog", text)
	return nil
}

// TestSettingsMeterFollowsSliders: the meter in Settings > Audio Input
// marks the thresholds as the sliders set them, before saving.
func TestSettingsMeterFollowsSliders(t *testing.T) {
	u, _ := idleUI(t, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	f.silence.set(20)
	f.speech.set(70)
	capture(u)
	_, silence, speech := meterGeometry(t, f.mic.meter)
	if !near(silence, 0.2) || !near(speech, 0.7) {
		t.Errorf("marks at %.3f and %.3f, want 0.20 and 0.70", silence, speech)
	}
}

// TestStatusSendingOnlyWhileTransmitting: the session bar says "sending"
// only while voice goes out, not merely because a bit rate is set.
func TestStatusSendingOnlyWhileTransmitting(t *testing.T) {
	b := app.Bookmark{ID: "lab", Label: "Lab", Address: "127.0.0.1", Username: "alice"}
	st := app.State{Phase: app.PhaseConnected, Bookmark: &b, Root: &app.ChannelView{Name: "Root"}, Bitrate: 13000, Tor: app.TorStatus{Mode: "off"}}
	ctrl := newFakeController(st, b)
	u := newTestUI(t, ctrl, &Options{Layout: LayoutDesktop})
	if got := u.session.status.Text; strings.Contains(got, "sending") {
		t.Errorf("silent: status %q says sending", got)
	}
	st.Transmitting = true
	ctrl.setState(st)
	u.Sync()
	if got := u.session.status.Text; !strings.Contains(got, "sending at 13.0 kb/s") {
		t.Errorf("transmitting: status %q, want sending at 13.0 kb/s", got)
	}
}

// TestPTTButtonAndKey: the push-to-talk button shows only in push-to-talk
// mode and names the settings' key; that key, not Right Ctrl, transmits.
func TestPTTButtonAndKey(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	if u.controls.ptt.Visible() {
		t.Error("push-to-talk button shows in voice activity mode")
	}
	s := ctrl.Settings()
	s.Input.Transmit, s.Input.PTTKey = app.TransmitPushToTalk, "F9"
	if err := ctrl.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	u.Sync()
	if !u.controls.ptt.Visible() {
		t.Error("push-to-talk button hidden in push-to-talk mode")
	}
	if got := u.controls.ptt.Text; got != "Push to talk (hold F9)" {
		t.Errorf("button reads %q", got)
	}
	u.keyDown(&fyne.KeyEvent{Name: desktop.KeyControlRight})
	u.keyUp(&fyne.KeyEvent{Name: desktop.KeyControlRight})
	u.keyDown(&fyne.KeyEvent{Name: fyne.KeyF9})
	u.keyUp(&fyne.KeyEvent{Name: fyne.KeyF9})
	want := []string{"PushToTalk true", "PushToTalk false"}
	if got := ctrl.recorded(); !slices.Equal(got, want) {
		t.Errorf("intents %q, want %q", got, want)
	}
}

// TestPTTKeyCapture: Settings > Audio Input asks for the push-to-talk key
// ("press the key"), refuses a key dialogs need, and saves the key
// pressed; the row says whether push-to-talk works outside the window.
func TestPTTKeyCapture(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	f := openSettings(t, u)
	if !hasText(topOverlay(u), "Right Ctrl") {
		t.Error("the settings do not show the default key Right Ctrl")
	}
	test.Tap(f.pttKeyChange)
	if u.captureKey == nil || !hasText(topOverlay(u), "Press the key") {
		t.Fatal("Change... did not ask for a key")
	}
	pressKey(u, fyne.KeyTab)
	if u.captureKey == nil || !hasText(topOverlay(u), "dialogs need it") {
		t.Fatal("Tab was taken as the push-to-talk key")
	}
	pressKey(u, fyne.KeyEscape)
	if u.captureKey != nil || hasText(topOverlay(u), "Press the key") {
		t.Fatal("Escape did not close the key dialog")
	}
	if u.settingsOpen == nil {
		t.Fatal("Escape in the key dialog closed the settings too")
	}
	test.Tap(f.pttKeyChange)
	pressKey(u, fyne.KeyF9)
	if u.captureKey != nil {
		t.Fatal("the key dialog is still waiting")
	}
	f.save()
	if got := ctrl.Settings().Input.PTTKey; got != "F9" {
		t.Fatalf("saved PTT key %q, want F9", got)
	}
	if got := ctrl.recorded(); len(got) != 0 {
		t.Errorf("choosing the key transmitted: %q", got)
	}
}

// TestMeterFeed: an open meter's feed reads the controller's level and
// shows it; stop ends the feed, and an interval of 0 reads nothing.
func TestMeterFeed(t *testing.T) {
	test.NewTempApp(t)
	ctrl := newFakeController(app.State{})
	ctrl.setMic(app.MicLevel{Active: true, Level: 0.4})
	shown := make(chan app.MicLevel, 1)
	var stopped atomic.Bool
	show := func(ml app.MicLevel) {
		if stopped.Load() {
			t.Errorf("the feed showed %+v after stop returned", ml)
		}
		select {
		case shown <- ml:
		default:
		}
	}
	f := startMeterFeed(ctrl, time.Millisecond, show)
	t.Cleanup(f.stop)
	select {
	case ml := <-shown:
		if !ml.Active || ml.Level != 0.4 {
			t.Errorf("the feed showed %+v, want the controller's level 0.4", ml)
		}
	case <-time.After(waitLimit):
		t.Fatal("the feed showed no level")
	}
	f.stop() // joins the feed's goroutine: nothing shows after it
	stopped.Store(true)
	f.stop() // a second stop does nothing

	idle := startMeterFeed(ctrl, 0, func(app.MicLevel) { t.Error("a feed with no interval read the level") })
	idle.stop()
}
