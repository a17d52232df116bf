package ui

import (
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// choice is one value of an enum setting with its label in the dialog.
type choice[T comparable] struct {
	value T
	label string
	// phrase names the value inside a sentence; empty when unused.
	phrase string
}

// enum is the one table of an enum's labels, in the order the dialog shows
// them: the label of a value and the value of a label both come from it.
// Values and labels outside the table stand for def.
type enum[T comparable] struct {
	def     T
	choices []choice[T]
}

// labels returns the labels in order.
func (e enum[T]) labels() []string {
	out := make([]string, len(e.choices))
	for i, c := range e.choices {
		out[i] = c.label
	}
	return out
}

// find returns the choice of v, or def's.
func (e enum[T]) find(v T) choice[T] {
	for _, c := range e.choices {
		if c.value == v {
			return c
		}
	}
	for _, c := range e.choices {
		if c.value == e.def {
			return c
		}
	}
	return choice[T]{value: e.def}
}

// label returns the label of v.
func (e enum[T]) label(v T) string { return e.find(v).label }

// value returns the value labelled label.
func (e enum[T]) value(label string) T {
	for _, c := range e.choices {
		if c.label == label {
			return c.value
		}
	}
	return e.def
}

// The choices of the settings dialog, named as in Mumble's own dialog.
var (
	transmitChoices = enum[app.TransmitMode]{def: app.TransmitVoiceActivity, choices: []choice[app.TransmitMode]{
		{value: app.TransmitContinuous, label: "Continuous"},
		{value: app.TransmitVoiceActivity, label: "Voice Activity"},
		{value: app.TransmitPushToTalk, label: "Push To Talk"},
	}}
	vadChoices = enum[app.VADSource]{def: app.VADAmplitude, choices: []choice[app.VADSource]{
		{value: app.VADAmplitude, label: "Amplitude"},
		{value: app.VADSignalToNoise, label: "Signal to Noise"},
	}}
	echoChoices = enum[app.EchoCancellation]{def: app.EchoOff, choices: []choice[app.EchoCancellation]{
		{value: app.EchoOff, label: "Disabled"},
		{value: app.EchoMixed, label: "Mixed echo cancellation"},
	}}
	torChoices = enum[app.TorMode]{def: app.TorEmbedded, choices: []choice[app.TorMode]{
		{value: app.TorEmbedded, label: "Embedded Tor (recommended)", phrase: "the embedded Tor"},
		{value: app.TorSOCKS, label: "External Tor (SOCKS port)", phrase: "an external Tor"},
		{value: app.TorOff, label: "Off: UNPROTECTED", phrase: "no Tor (UNPROTECTED)"},
	}}
	packetChoices = packetEnum()
)

// packetEnum labels app.PacketDurations in milliseconds.
func packetEnum() enum[int] {
	e := enum[int]{def: app.PacketDurations[0]}
	for _, d := range app.PacketDurations {
		e.choices = append(e.choices, choice[int]{value: d, label: fmt.Sprintf("%d ms", d)})
	}
	return e
}

const presetCustom = "Custom"

// torModeName names a Tor mode for a sentence.
func torModeName(mode string) string {
	for _, c := range torChoices.choices {
		if string(c.value) == mode {
			return c.phrase
		}
	}
	return mode
}

// settingsForm is the Settings dialog: Audio Input, Audio Output, Network
// and Privacy, with the presets. It edits a copy of the settings; Save
// hands the result to the controller, which validates it.
//
// Each setting is declared once, in build: one call makes its widget,
// places it under its label and hint, and binds it to its field of
// app.Settings (see setting). The fields below are the widgets that other
// settings depend on (refreshDerived) or that tests read.
type settingsForm struct {
	ui      *UI
	base    app.Settings // fields the form does not show are kept from here
	loading bool
	rows    []*setting // every row of every section, in order

	preset     *keySelect
	presetDesc *widget.Label
	reset      *keyButton

	// Audio Input
	inDevice     *keySelectEntry
	transmit     *keySelect
	vadSource    *keySelect
	pttHold      *valueSlider
	pttKeyChange *keyButton // asks for a new push-to-talk key
	voiceHold    *valueSlider
	silence      *valueSlider
	speech       *valueSlider
	quality      *valueSlider
	packet       *keySelect
	echo         *keySelect
	noiseOn      *keyCheck
	noise        *valueSlider
	maxAmp       *valueSlider
	mic          *micPanel // the level meter and the microphone test

	// Audio Output
	outDevice *keySelectEntry
	jitter    *valueSlider
	delay     *valueSlider
	volume    *valueSlider

	// Network
	torMode    *keyRadio
	socks      *keyEntry
	torWarning *widget.Label
	torFlag    *widget.Label // says when --tor overrides the setting
	forceTCP   *keyCheck
	forceNote  *widget.Label
	reconnect  *keyCheck
	attempts   *valueSlider
	bridges    *bridgeWidgets

	// Privacy
	noOSInfo *keyCheck
	noStats  *keyCheck
	amnesic  *keyCheck

	// devicesLoaded is closed once loadDevices has filled the device
	// lists (or failed).
	devicesLoaded <-chan struct{}

	tabs     *container.AppTabs
	errLabel *widget.Label
	dlg      *dialog.CustomDialog
}

// setting is one row of the form: its label and hint, its widget, and how
// the widget shows (load) and writes back (store) its field of
// app.Settings. Rows without a field (notes, fixed checks) have neither.
type setting struct {
	label, hint string
	obj         fyne.CanvasObject
	load        func(s *app.Settings)
	store       func(s *app.Settings)
}

// valueSlider is a slider with its value written next to it.
type valueSlider struct {
	slider *keySlider
	label  *widget.Label
	format func(float64) string
	obj    fyne.CanvasObject
}

func newValueSlider(u *UI, min, max, step float64, format func(float64) string, changed func()) *valueSlider {
	v := &valueSlider{slider: u.newSlider(min, max), label: widget.NewLabel(""), format: format}
	v.slider.Step = step
	v.slider.OnChanged = func(x float64) {
		v.label.SetText(v.format(x))
		changed()
	}
	v.label.SetText(format(min))
	// Reserve room for the widest value so the sliders line up.
	v.obj = container.NewBorder(nil, nil, nil,
		container.NewGridWrap(fyne.NewSize(96, v.label.MinSize().Height), v.label), v.slider)
	return v
}

func (v *valueSlider) set(x float64) {
	v.slider.SetValue(x)
	v.label.SetText(v.format(v.slider.Value))
}

func (v *valueSlider) int() int { return int(math.Round(v.slider.Value)) }

func (v *valueSlider) setEnabled(on bool) {
	if on {
		v.slider.Enable()
	} else {
		v.slider.Disable()
	}
}

func ms(x float64) string      { return fmt.Sprintf("%.0f ms", x) }
func percent(x float64) string { return fmt.Sprintf("%.0f %%", x) }

// Row constructors. Each makes the widget, stores it in *out for the
// dialog's other rules, and binds it to the field that field returns for
// a given app.Settings (nil: no field).

// intSlider is a slider over an int field.
func (f *settingsForm) intSlider(out **valueSlider, label, hint string, min, max, step float64,
	format func(float64) string, field func(*app.Settings) *int) *setting {
	v := newValueSlider(f.ui, min, max, step, format, f.changed)
	*out = v
	r := &setting{label: label, hint: hint, obj: v.obj}
	if field != nil {
		r.load = func(s *app.Settings) { v.set(float64(*field(s))) }
		r.store = func(s *app.Settings) { *field(s) = v.int() }
	}
	return r
}

// tenthSlider is a slider over a float field kept to one decimal.
func (f *settingsForm) tenthSlider(out **valueSlider, label, hint string, min, max float64,
	format func(float64) string, field func(*app.Settings) *float64) *setting {
	v := newValueSlider(f.ui, min, max, 0.1, format, f.changed)
	*out = v
	return &setting{label: label, hint: hint, obj: v.obj,
		load:  func(s *app.Settings) { v.set(*field(s)) },
		store: func(s *app.Settings) { *field(s) = math.Round(v.slider.Value*10) / 10 },
	}
}

// check is a check box over a bool field, its text beside it.
func (f *settingsForm) check(out **keyCheck, text, hint string, field func(*app.Settings) *bool) *setting {
	c := f.ui.newCheck(text, func(bool) { f.changed() })
	*out = c
	r := &setting{hint: hint, obj: c}
	if field != nil {
		r.load = func(s *app.Settings) { c.SetChecked(*field(s)) }
		r.store = func(s *app.Settings) { *field(s) = c.Checked }
	}
	return r
}

// fixedCheck is a check box that shows what Tumble always does.
func fixedCheck(u *UI, out **keyCheck, text, hint string, checked bool) *setting {
	c := u.newCheck(text, nil)
	c.SetChecked(checked)
	c.Disable()
	*out = c
	return &setting{hint: hint, obj: c}
}

// entry is a text field over a string field.
func (f *settingsForm) entry(out **keyEntry, label, placeholder string, field func(*app.Settings) *string) *setting {
	e := f.ui.newEntry()
	e.SetPlaceHolder(placeholder)
	e.OnChanged = func(string) { f.changed() }
	*out = e
	return &setting{label: label, obj: e,
		load:  func(s *app.Settings) { e.SetText(*field(s)) },
		store: func(s *app.Settings) { *field(s) = e.Text },
	}
}

// device is a sound device name: typed (a device unplugged now) or picked
// from the system's list, which loadDevices fills. Empty is the system
// default.
func (f *settingsForm) device(out **keySelectEntry, field func(*app.Settings) *string) *setting {
	e := f.ui.newSelectEntry(nil)
	e.SetPlaceHolder("System default")
	e.OnChanged = func(string) { f.changed() }
	*out = e
	return &setting{label: "Device", obj: e,
		load:  func(s *app.Settings) { e.SetText(*field(s)) },
		store: func(s *app.Settings) { *field(s) = e.Text },
	}
}

// selectOf is a drop-down over an enum field.
func selectOf[T comparable](f *settingsForm, out **keySelect, label, hint string, e enum[T], field func(*app.Settings) *T) *setting {
	w := f.ui.newSelect(e.labels(), func(string) { f.changed() })
	*out = w
	return &setting{label: label, hint: hint, obj: w,
		load:  func(s *app.Settings) { w.SetSelected(e.label(*field(s))) },
		store: func(s *app.Settings) { *field(s) = e.value(w.Selected) },
	}
}

// radioOf is a radio group over an enum field.
func radioOf[T comparable](f *settingsForm, out **keyRadio, label string, e enum[T], field func(*app.Settings) *T) *setting {
	w := f.ui.newRadio(e.labels(), func(string) { f.changed() })
	*out = w
	return &setting{label: label, obj: w,
		load:  func(s *app.Settings) { w.SetSelected(e.label(*field(s))) },
		store: func(s *app.Settings) { *field(s) = e.value(w.Selected) },
	}
}

// note is a row of text that depends on other settings.
func note(out **widget.Label) *setting {
	l := wrapLabel("")
	l.SizeName = theme.SizeNameCaptionText
	*out = l
	return &setting{obj: l}
}

// section is a titled group of rows; the rows join the form's.
func (f *settingsForm) section(title string, rows ...*setting) fyne.CanvasObject {
	f.rows = append(f.rows, rows...)
	items := make([]*widget.FormItem, len(rows))
	for i, r := range rows {
		items[i] = widget.NewFormItem(r.label, r.obj)
		items[i].HintText = r.hint
	}
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(head, widget.NewForm(items...))
}

// showSettings opens the Settings dialog.
func (u *UI) showSettings() {
	if u.settingsOpen != nil {
		return
	}
	f := newSettingsForm(u, u.ctrl.Settings())
	u.settingsOpen = f
	f.dlg.SetOnClosed(func() {
		f.mic.close()
		u.settingsOpen = nil
	})
	f.mic.open()
	u.showDialog(f.dlg, f.preset, f.save, nil)
	f.devicesLoaded = u.loadDevices(f.inDevice, f.outDevice)
}

func newSettingsForm(u *UI, s app.Settings) *settingsForm {
	f := &settingsForm{ui: u, base: s.Clone()}

	var names []string
	for _, p := range app.Presets() {
		names = append(names, p.Title)
	}
	f.preset = u.newSelect(names, f.choosePreset)
	f.preset.PlaceHolder = presetCustom
	f.presetDesc = wrapLabel("")
	f.presetDesc.SizeName = theme.SizeNameCaptionText
	f.reset = u.newButton("Reset to Tor recommended", theme.HistoryIcon(), func() {
		f.applyPreset(app.PresetTorRecommended)
	})

	f.torWarning = wrapLabel("UNPROTECTED: without Tor the server and everyone on the way see your IP address, " +
		"and .onion servers cannot be reached.")
	f.torWarning.Importance = widget.DangerImportance
	f.torFlag = wrapLabel("")
	f.torFlag.Importance = widget.WarningImportance
	f.torFlag.Hide()
	if cur := u.state.Tor.Mode; cur != "" && cur != "?" && cur != string(s.Network.TorMode) {
		f.torFlag.SetText(fmt.Sprintf("This run uses %s, chosen on the command line (--tor); "+
			"the choice here applies when Tumble starts without --tor.", torModeName(cur)))
		f.torFlag.Show()
	}

	f.errLabel = widget.NewLabel("")
	f.errLabel.Importance = widget.DangerImportance
	f.errLabel.Wrapping = fyne.TextWrapWord
	f.errLabel.Hide()

	f.build()
	f.load(s)
	return f
}

// settingsTabs are the names of the Settings tabs: Mumble's, and short
// ones for a narrow dialog.
var settingsTabs = []struct{ wide, narrow string }{
	{"Audio Input", "Input"}, {"Audio Output", "Output"}, {"Network", "Network"}, {"Privacy", "Privacy"},
}

// build declares every setting (widget, place, field) and lays the dialog
// out.
func (f *settingsForm) build() {
	in := func(s *app.Settings) *app.AudioInput { return &s.Input }
	out := func(s *app.Settings) *app.AudioOutput { return &s.Output }
	net := func(s *app.Settings) *app.Network { return &s.Network }

	noise := f.intSlider(&f.noise, "Noise suppression", "", app.NoiseSuppressionMin, app.NoiseSuppressionMax, 1,
		func(x float64) string { return fmt.Sprintf("%.0f dB", x) }, nil)
	// 0 dB is "off": the check box says so, the slider keeps its place.
	noise.load = func(s *app.Settings) {
		db := s.Input.NoiseSuppressionDB
		f.noiseOn.SetChecked(db != 0)
		if db == 0 {
			db = app.NoiseSuppressionMin
		}
		f.noise.set(float64(db))
	}
	noise.store = func(s *app.Settings) {
		s.Input.NoiseSuppressionDB = 0
		if f.noiseOn.Checked {
			s.Input.NoiseSuppressionDB = f.noise.int()
		}
	}

	f.mic = newMicPanel(f.ui, f.read)
	f.mic.ownMarks = true
	input := container.NewVBox(
		f.section("Check the microphone", f.mic.rows()...),
		f.section("Interface",
			f.device(&f.inDevice, func(s *app.Settings) *string { return &in(s).Device })),
		f.section("Transmission",
			selectOf(f, &f.transmit, "Transmit", "", transmitChoices,
				func(s *app.Settings) *app.TransmitMode { return &in(s).Transmit }),
			f.intSlider(&f.pttHold, "Push to talk hold", "Keeps sending this long after the key is released",
				0, app.PTTHoldMaxMs, 10, ms, func(s *app.Settings) *int { return &in(s).PTTHoldMs }),
			f.pttKeyRow(),
			selectOf(f, &f.vadSource, "Voice activity", "", vadChoices,
				func(s *app.Settings) *app.VADSource { return &in(s).VADSource }),
			f.intSlider(&f.voiceHold, "Voice hold", "Keeps sending this long after speech stops",
				app.VoiceHoldMinMs, app.VoiceHoldMaxMs, 10, ms, func(s *app.Settings) *int { return &in(s).VoiceHoldMs }),
			f.intSlider(&f.silence, "Silence below", "", 0, 100, 1, percent,
				func(s *app.Settings) *int { return &in(s).SilenceBelowPercent }),
			f.intSlider(&f.speech, "Speech above", "", 0, 100, 1, percent,
				func(s *app.Settings) *int { return &in(s).SpeechAbovePercent })),
		f.section("Compression",
			f.intSlider(&f.quality, "Quality", "Opus bit rate; the server may lower it",
				app.QualityMinBitrate, app.QualityMaxBitrate, 1000,
				func(x float64) string { return fmt.Sprintf("%.1f kb/s", x/1000) },
				func(s *app.Settings) *int { return &in(s).QualityBitrate }),
			selectOf(f, &f.packet, "Audio per packet", "Each packet costs at least one Tor cell", packetChoices,
				func(s *app.Settings) *int { return &in(s).PacketMs })),
		f.section("Audio Processing",
			selectOf(f, &f.echo, "Echo cancellation", "", echoChoices,
				func(s *app.Settings) *app.EchoCancellation { return &in(s).EchoCancellation }),
			f.check(&f.noiseOn, "Noise suppression", "", nil),
			noise,
			f.tenthSlider(&f.maxAmp, "Max. amplification", "", app.MaxAmplificationMin, app.MaxAmplificationMax,
				func(x float64) string { return fmt.Sprintf("%.1f", x) },
				func(s *app.Settings) *float64 { return &in(s).MaxAmplification })),
	)
	output := container.NewVBox(
		f.section("Interface",
			f.device(&f.outDevice, func(s *app.Settings) *string { return &out(s).Device })),
		f.section("Audio Output",
			f.intSlider(&f.jitter, "Default jitter buffer", "Grows by itself when Tor delivers in bursts",
				app.JitterBufferMinMs, app.JitterBufferMaxMs, 10, ms, func(s *app.Settings) *int { return &out(s).JitterBufferMs }),
			f.intSlider(&f.delay, "Output delay", "20-40 ms recommended over Tor",
				app.OutputDelayMinMs, app.OutputDelayMaxMs, 10, ms, func(s *app.Settings) *int { return &out(s).OutputDelayMs }),
			f.intSlider(&f.volume, "Volume", "Starts low; adjust single speakers in their menu",
				0, app.VolumeMaxPercent, 1, percent, func(s *app.Settings) *int { return &out(s).VolumePercent })),
	)
	f.bridges = newBridgeWidgets(f, f.changed)
	network := container.NewVBox(
		f.section("Tor",
			radioOf(f, &f.torMode, "Connect through", torChoices,
				func(s *app.Settings) *app.TorMode { return &net(s).TorMode }),
			f.entry(&f.socks, "SOCKS address", "127.0.0.1:9050",
				func(s *app.Settings) *string { return &net(s).SOCKSAddress })),
		f.torFlag,
		f.torWarning,
		f.bridges.section(f),
		f.section("Connection",
			// Tor carries only TCP: read keeps this on while Tor is on.
			f.check(&f.forceTCP, "Force TCP mode", "", func(s *app.Settings) *bool { return &net(s).ForceTCP }),
			note(&f.forceNote),
			f.check(&f.reconnect, "Reconnect automatically", "", func(s *app.Settings) *bool { return &net(s).Reconnect }),
			f.intSlider(&f.attempts, "Attempts", "Waits double after each failed attempt",
				1, app.ReconnectMaxAttemptsLimit, 1, func(x float64) string { return fmt.Sprintf("%.0f tries", x) },
				func(s *app.Settings) *int { return &net(s).ReconnectMaxAttempts })),
	)
	privacy := container.NewVBox(
		f.section("Privacy",
			fixedCheck(f.ui, &f.noOSInfo, "Do not send OS information",
				"Tumble never sends the operating system's name or version", true),
			fixedCheck(f.ui, &f.noStats, "Submit anonymous statistics",
				"Tumble has no statistics or telemetry of any kind", false),
			f.check(&f.amnesic, "Amnesic mode: write nothing to disk from the next start on",
				"Bookmarks and settings then live in memory only",
				func(s *app.Settings) *bool { return &s.Privacy.Amnesic }),
			&setting{obj: f.ui.wipeButton()}),
	)
	f.tabs = container.NewAppTabs()
	for i, page := range []fyne.CanvasObject{input, output, network, privacy} {
		f.tabs.Append(container.NewTabItem(settingsTabs[i].wide, container.NewVScroll(page)))
	}
	presetLabel := widget.NewLabel("Preset")
	wideRow := layout.NewBorderLayout(nil, nil, presetLabel, f.reset)
	presetRow := container.New(wideRow, presetLabel, f.preset, f.reset)
	top := container.NewVBox(presetRow, f.presetDesc)
	content := newNarrowable(container.NewBorder(top, f.errLabel, nil, nil, f.tabs), 2, func(i int) {
		narrow := i == 1
		// A phone-wide dialog: the reset button goes under the preset,
		// which keeps its name readable, and the tabs take short names
		// so that all of them show.
		presetRow.Layout = wideRow
		if narrow {
			presetRow.Layout = layout.NewBorderLayout(nil, f.reset, presetLabel, nil)
		}
		for i, item := range f.tabs.Items {
			item.Text = settingsTabs[i].wide
			if narrow {
				item.Text = settingsTabs[i].narrow
			}
		}
		presetRow.Refresh()
		f.tabs.Refresh()
	})

	save := f.ui.newButton("Save", theme.DocumentSaveIcon(), f.save)
	save.Importance = widget.HighImportance
	cancel := f.ui.newButton("Cancel", theme.CancelIcon(), func() { f.dlg.Hide() })
	f.dlg = dialog.NewCustomWithoutButtons("Settings", content, f.ui.win)
	f.dlg.SetButtons([]fyne.CanvasObject{cancel, save})
	f.dlg.Resize(dialogSize(f.ui, 720, 640))
}

// load shows s in the widgets.
func (f *settingsForm) load(s app.Settings) {
	f.loading = true
	defer func() {
		f.loading = false
		f.refreshDerived()
	}()
	f.base = s.Clone()
	for _, r := range f.rows {
		if r.load != nil {
			r.load(&s)
		}
	}
}

// read returns the settings the widgets show.
func (f *settingsForm) read() app.Settings {
	s := f.base.Clone()
	for _, r := range f.rows {
		if r.store != nil {
			r.store(&s)
		}
	}
	s.Network.ForceTCP = s.Network.ForceTCP || s.Network.TorEnabled()
	return s
}

// changed follows an edit: dependent widgets and the preset name.
func (f *settingsForm) changed() {
	if f.loading {
		return
	}
	f.refreshDerived()
	setLabel(f.errLabel, "")
}

// refreshDerived enables what applies to the current choices, locks force
// TCP on while Tor is on, and names the matching preset.
func (f *settingsForm) refreshDerived() {
	s := f.read()
	vad := s.Input.Transmit == app.TransmitVoiceActivity
	setEnabled(f.vadSource, vad)
	f.voiceHold.setEnabled(vad)
	f.silence.setEnabled(vad)
	f.speech.setEnabled(vad)
	f.mic.meter.setThresholds(float64(s.Input.SilenceBelowPercent)/100, float64(s.Input.SpeechAbovePercent)/100)
	f.pttHold.setEnabled(s.Input.Transmit == app.TransmitPushToTalk)
	f.noise.setEnabled(f.noiseOn.Checked)
	setEnabled(f.socks, s.Network.TorMode == app.TorSOCKS)
	if s.Network.TorEnabled() {
		f.forceTCP.SetChecked(true)
		f.forceTCP.Disable()
		f.forceNote.SetText("Always on with Tor: Tor carries only TCP, so voice goes through the TLS connection.")
		f.torWarning.Hide()
	} else {
		f.forceTCP.Enable()
		f.forceNote.SetText("Without Tor, voice may use UDP when this is off.")
		f.torWarning.Show()
	}
	f.attempts.setEnabled(s.Network.Reconnect)
	f.bridges.refresh(s.Network)

	f.loading = true // SetSelected below must not apply the preset
	defer func() { f.loading = false }()
	for _, p := range app.Presets() {
		if s.MatchesPreset(p.Name) {
			f.preset.SetSelected(p.Title)
			f.presetDesc.SetText(p.Description)
			return
		}
	}
	f.preset.ClearSelected()
	f.presetDesc.SetText("Custom settings. Choose a preset to start again from its values.")
}

// choosePreset applies the preset chosen in the Select.
func (f *settingsForm) choosePreset(title string) {
	if f.loading {
		return
	}
	for _, p := range app.Presets() {
		if p.Title == title {
			f.applyPreset(p.Name)
		}
	}
}

// applyPreset replaces the form's values by a preset's, keeping what
// ResetToPreset keeps (devices, Tor mode, amnesic mode).
func (f *settingsForm) applyPreset(name app.PresetName) {
	s := f.read()
	if err := s.ResetToPreset(name); err != nil {
		setLabel(f.errLabel, errorText(err))
		return
	}
	f.load(s)
	setLabel(f.errLabel, "")
}

// save hands the settings to the controller and closes the dialog, or
// shows what is wrong.
func (f *settingsForm) save() {
	if err := f.ui.ctrl.SetSettings(f.read()); err != nil {
		setLabel(f.errLabel, errorText(err))
		return
	}
	f.dlg.Hide()
	f.ui.Sync()
}
