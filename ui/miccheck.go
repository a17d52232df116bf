package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// micPanel checks the microphone: a live level meter with the voice
// activity thresholds marked, and the microphone test ("hear yourself":
// the input played back through the whole send and receive path). The
// Settings dialog and the audio check both show one. open starts reading
// the level; close stops the test and the reading.
type micPanel struct {
	ui *UI
	// settings returns the settings to test with (the dialog's, saved
	// or not).
	settings func() app.Settings
	// ownMarks: the meter's marks come from settings (the Settings
	// dialog's sliders), not from the saved settings.
	ownMarks bool

	meter   *levelMeter
	hear    *keyCheck
	test    *keyButton
	status  *widget.Label
	feed    *meterFeed
	testing bool
}

func newMicPanel(u *UI, settings func() app.Settings) *micPanel {
	p := &micPanel{ui: u, settings: settings, meter: newLevelMeter()}
	p.hear = u.newCheck("Hear yourself", func(on bool) {
		if p.testing {
			u.ctrl.SetMicTestHearing(on)
		}
	})
	p.hear.SetChecked(true)
	p.test = u.newButton("Test the microphone", iconMic, p.toggle)
	// The first reading comes from a poller; until then say what a
	// stopped meter means (and the panel looks the same at once).
	p.status = wrapLabel(micStatus(app.MicLevel{}))
	p.status.SizeName = theme.SizeNameCaptionText
	return p
}

// rows are the panel's rows for a settings section.
func (p *micPanel) rows() []*setting {
	return []*setting{
		{label: "Input level", hint: "Red: silence, yellow: undecided, green: speech; the marks are the thresholds below", obj: p.meter},
		{obj: container.NewHBox(p.test, p.hear)},
		{obj: p.status},
	}
}

// open starts following the level.
func (p *micPanel) open() {
	if p.feed == nil {
		p.feed = startMeterFeed(p.ui.ctrl, p.ui.meterEvery, p.show)
	}
}

// close stops the test and the level.
func (p *micPanel) close() {
	p.feed.stop()
	p.feed = nil
	if p.testing {
		p.testing = false
		p.ui.ctrl.StopMicTest()
	}
}

// restart runs the test again with changed settings (a device chosen).
func (p *micPanel) restart() {
	if p.testing {
		p.testing = false
		p.toggle()
	}
}

// toggle starts or stops the test.
func (p *micPanel) toggle() {
	if p.testing {
		p.testing = false
		p.ui.ctrl.StopMicTest()
		p.refreshButton()
		return
	}
	if err := p.ui.ctrl.StartMicTest(p.settings(), p.hear.Checked); err != nil {
		setLabel(p.status, errorText(err))
		return
	}
	p.testing = true
	p.refreshButton()
}

func (p *micPanel) refreshButton() {
	if p.testing {
		p.test.SetText("Stop the test")
		p.test.SetIcon(theme.MediaStopIcon())
	} else {
		p.test.SetText("Test the microphone")
		p.test.SetIcon(iconMic)
	}
}

// show shows a reading of the level.
func (p *micPanel) show(ml app.MicLevel) {
	p.meter.setLevel(ml)
	if !p.ownMarks {
		p.meter.setThresholds(ml.SilenceBelow, ml.SpeechAbove)
	}
	if p.testing && !ml.Testing { // a connection took the devices
		p.testing = false
		p.refreshButton()
	}
	setLabel(p.status, micStatus(ml))
}

// micStatus says in a sentence what the meter shows.
func micStatus(ml app.MicLevel) string {
	switch {
	case !ml.Active:
		return "Press \"Test the microphone\" and speak: the bar shows your level."
	case ml.Transmit && ml.Testing:
		return "Speech: this would be sent. " + ml.Description
	case ml.Transmit:
		return "Speech: your voice is being sent."
	case ml.Testing:
		return "Silence: nothing would be sent. " + ml.Description
	}
	return "Silence: nothing is sent."
}

// showAudioCheck opens the audio check: choose the devices, watch the
// level against the thresholds, hear yourself. Closing it saves the
// chosen devices and records that the check was shown.
func (u *UI) showAudioCheck() {
	s := u.ctrl.Settings()
	in := u.newSelectEntry(nil)
	in.SetPlaceHolder("System default")
	in.SetText(s.Input.Device)
	out := u.newSelectEntry(nil)
	out.SetPlaceHolder("System default")
	out.SetText(s.Output.Device)
	current := func() app.Settings {
		c := s.Clone()
		c.Input.Device, c.Output.Device = in.Text, out.Text
		return c
	}
	p := newMicPanel(u, current)
	in.OnChanged = func(string) { p.restart() }
	out.OnChanged = func(string) { p.restart() }
	intro := wrapLabel("Choose your microphone and speakers, press \"Test the microphone\" and speak. " +
		"With \"Hear yourself\" you hear what others will hear, through the same processing and codec.")
	form := widget.NewForm(
		widget.NewFormItem("Microphone", in),
		widget.NewFormItem("Speakers", out),
		widget.NewFormItem("Input level", p.meter),
	)
	content := container.NewVBox(intro, form, container.NewHBox(p.test, p.hear), p.status)
	d := u.newCustom("Audio check", "Done", content)
	d.SetOnClosed(func() {
		p.close()
		c := current()
		c.Input.AudioChecked = true
		if err := u.ctrl.SetSettings(c); err != nil {
			u.showError("Could not save", err)
		}
		u.audioCheck = nil
	})
	d.Resize(dialogSize(u, 560, 380))
	u.audioCheck = p
	p.open()
	u.showDialog(d, in, d.Hide, nil)
	u.loadDevices(in, out)
}

// loadDevices fills the two device lists with the system's sound devices
// and names the system's defaults; the returned channel is closed once
// that is done (or the system had no list). The sound system is asked
// off Fyne's goroutine: that can take a moment. Without a list (stand-in
// devices, no sound system) the fields still take a typed name, and
// empty means the system default.
func (u *UI) loadDevices(in, out *keySelectEntry) <-chan struct{} {
	done := make(chan struct{})
	u.async(func() {
		devs, err := u.ctrl.SoundDevices()
		fyne.Do(func() {
			defer close(done)
			if err != nil {
				return
			}
			in.SetOptions(devs.Capture)
			out.SetOptions(devs.Playback)
			if devs.DefaultCapture != "" {
				in.SetPlaceHolder("System default: " + devs.DefaultCapture)
			}
			if devs.DefaultPlayback != "" {
				out.SetPlaceHolder("System default: " + devs.DefaultPlayback)
			}
		})
	})
	return done
}

// showFirstAudioCheck opens the audio check if it was never shown.
func (u *UI) showFirstAudioCheck() {
	if !u.ctrl.Settings().Input.AudioChecked {
		u.showAudioCheck()
	}
}
