package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// Choices of the settings dialog, named as in Mumble's own dialog.
const (
	transmitContinuous = "Continuous"
	transmitVAD        = "Voice Activity"
	transmitPTT        = "Push To Talk"
	vadAmplitude       = "Amplitude"
	vadSNR             = "Signal to Noise"
	echoOff            = "Disabled"
	echoMixed          = "Mixed echo cancellation"
	torOptEmbedded     = "Embedded Tor (recommended)"
	torOptSOCKS        = "External Tor (SOCKS port)"
	torOptOff          = "Off: UNPROTECTED"
	presetCustom       = "Custom"
)

// settingsForm is the Settings dialog: Audio Input, Audio Output, Network
// and Privacy, with the presets. It edits a copy of the settings; Save
// hands the result to the controller, which validates it.
type settingsForm struct {
	ui      *UI
	base    app.Settings // fields the form does not show are kept from here
	loading bool

	preset     *widget.Select
	presetDesc *widget.Label
	reset      *widget.Button

	// Audio Input
	inDevice  *widget.SelectEntry
	transmit  *widget.Select
	vadSource *widget.Select
	pttHold   *valueSlider
	voiceHold *valueSlider
	silence   *valueSlider
	speech    *valueSlider
	quality   *valueSlider
	packet    *widget.Select
	echo      *widget.Select
	noiseOn   *widget.Check
	noise     *valueSlider
	maxAmp    *valueSlider

	// Audio Output
	outDevice *widget.SelectEntry
	jitter    *valueSlider
	delay     *valueSlider
	volume    *valueSlider

	// Network
	torMode    *widget.RadioGroup
	socks      *widget.Entry
	torWarning *widget.Label
	torFlag    *widget.Label // says when --tor overrides the setting
	forceTCP   *widget.Check
	forceNote  *widget.Label
	reconnect  *widget.Check
	attempts   *valueSlider
	bridges    *bridgeWidgets

	// Privacy
	noOSInfo *widget.Check
	noStats  *widget.Check
	amnesic  *widget.Check

	// devicesLoaded is closed once loadDevices has filled the device
	// lists (or failed).
	devicesLoaded chan struct{}

	tabs     *container.AppTabs
	errLabel *widget.Label
	dlg      *dialog.CustomDialog
}

// torModeName names a Tor mode for a sentence.
func torModeName(mode string) string {
	switch app.TorMode(mode) {
	case app.TorEmbedded:
		return "the embedded Tor"
	case app.TorSOCKS:
		return "an external Tor"
	case app.TorOff:
		return "no Tor (UNPROTECTED)"
	}
	return mode
}

// valueSlider is a slider with its value written next to it.
type valueSlider struct {
	slider *widget.Slider
	label  *widget.Label
	format func(float64) string
	obj    fyne.CanvasObject
}

func newValueSlider(min, max, step float64, format func(float64) string, changed func()) *valueSlider {
	v := &valueSlider{slider: widget.NewSlider(min, max), label: widget.NewLabel(""), format: format}
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

// loadDevices fills the device lists with the system's sound devices. The
// sound system is asked off Fyne's goroutine: that can take a moment.
// Without a list (stand-in devices, no sound system) the fields still
// take a typed name, and empty means the system default.
func (f *settingsForm) loadDevices() {
	go func() {
		devs, err := f.ui.ctrl.SoundDevices()
		fyne.Do(func() {
			defer close(f.devicesLoaded)
			if err != nil {
				return
			}
			f.inDevice.SetOptions(devs.Capture)
			f.outDevice.SetOptions(devs.Playback)
			if devs.DefaultCapture != "" {
				f.inDevice.SetPlaceHolder("System default: " + devs.DefaultCapture)
			}
			if devs.DefaultPlayback != "" {
				f.outDevice.SetPlaceHolder("System default: " + devs.DefaultPlayback)
			}
		})
	}()
}

// showSettings opens the Settings dialog.
func (u *UI) showSettings() {
	if u.settingsOpen != nil {
		return
	}
	f := newSettingsForm(u, u.ctrl.Settings())
	u.settingsOpen = f
	f.dlg.SetOnClosed(func() { u.settingsOpen = nil })
	f.dlg.Show()
	f.loadDevices()
}

func newSettingsForm(u *UI, s app.Settings) *settingsForm {
	f := &settingsForm{ui: u, base: s.Clone(), devicesLoaded: make(chan struct{})}
	changed := f.changed

	var names []string
	for _, p := range app.Presets() {
		names = append(names, p.Title)
	}
	f.preset = widget.NewSelect(names, f.choosePreset)
	f.preset.PlaceHolder = presetCustom
	f.presetDesc = wrapLabel("")
	f.presetDesc.SizeName = theme.SizeNameCaptionText
	f.reset = widget.NewButtonWithIcon("Reset to Tor recommended", theme.HistoryIcon(), func() {
		f.applyPreset(app.PresetTorRecommended)
	})

	// Audio Input.
	// Device names can be typed (a device that is unplugged now) or
	// picked from the system's list, which loadDevices fills.
	f.inDevice = widget.NewSelectEntry(nil)
	f.inDevice.SetPlaceHolder("System default")
	f.inDevice.OnChanged = func(string) { changed() }
	f.transmit = widget.NewSelect([]string{transmitContinuous, transmitVAD, transmitPTT}, func(string) { changed() })
	f.vadSource = widget.NewSelect([]string{vadAmplitude, vadSNR}, func(string) { changed() })
	f.pttHold = newValueSlider(0, app.PTTHoldMaxMs, 10, ms, changed)
	f.voiceHold = newValueSlider(app.VoiceHoldMinMs, app.VoiceHoldMaxMs, 10, ms, changed)
	f.silence = newValueSlider(0, 100, 1, percent, changed)
	f.speech = newValueSlider(0, 100, 1, percent, changed)
	f.quality = newValueSlider(app.QualityMinBitrate, app.QualityMaxBitrate, 1000,
		func(x float64) string { return fmt.Sprintf("%.1f kb/s", x/1000) }, changed)
	var packets []string
	for _, d := range app.PacketDurations {
		packets = append(packets, fmt.Sprintf("%d ms", d))
	}
	f.packet = widget.NewSelect(packets, func(string) { changed() })
	f.echo = widget.NewSelect([]string{echoOff, echoMixed}, func(string) { changed() })
	f.noiseOn = widget.NewCheck("Noise suppression", func(bool) { changed() })
	f.noise = newValueSlider(app.NoiseSuppressionMin, app.NoiseSuppressionMax, 1,
		func(x float64) string { return fmt.Sprintf("%.0f dB", x) }, changed)
	f.maxAmp = newValueSlider(app.MaxAmplificationMin, app.MaxAmplificationMax, 0.1,
		func(x float64) string { return fmt.Sprintf("%.1f", x) }, changed)

	// Audio Output.
	f.outDevice = widget.NewSelectEntry(nil)
	f.outDevice.SetPlaceHolder("System default")
	f.outDevice.OnChanged = func(string) { changed() }
	f.jitter = newValueSlider(app.JitterBufferMinMs, app.JitterBufferMaxMs, 10, ms, changed)
	f.delay = newValueSlider(app.OutputDelayMinMs, app.OutputDelayMaxMs, 10, ms, changed)
	f.volume = newValueSlider(0, app.VolumeMaxPercent, 1, percent, changed)

	// Network.
	f.torMode = widget.NewRadioGroup([]string{torOptEmbedded, torOptSOCKS, torOptOff}, func(string) { changed() })
	f.torMode.Required = true
	f.socks = widget.NewEntry()
	f.socks.SetPlaceHolder("127.0.0.1:9050")
	f.socks.OnChanged = func(string) { changed() }
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
	f.forceTCP = widget.NewCheck("Force TCP mode", func(bool) { changed() })
	f.forceNote = wrapLabel("")
	f.forceNote.SizeName = theme.SizeNameCaptionText
	f.reconnect = widget.NewCheck("Reconnect automatically", func(bool) { changed() })
	f.attempts = newValueSlider(1, app.ReconnectMaxAttemptsLimit, 1,
		func(x float64) string { return fmt.Sprintf("%.0f tries", x) }, changed)
	f.bridges = newBridgeWidgets(f, changed)

	// Privacy.
	f.noOSInfo = widget.NewCheck("Do not send OS information", nil)
	f.noOSInfo.SetChecked(true)
	f.noOSInfo.Disable()
	f.noStats = widget.NewCheck("Submit anonymous statistics", nil)
	f.noStats.Disable()
	f.amnesic = widget.NewCheck("Amnesic mode: write nothing to disk from the next start on", func(bool) { changed() })

	f.errLabel = widget.NewLabel("")
	f.errLabel.Importance = widget.DangerImportance
	f.errLabel.Wrapping = fyne.TextWrapWord
	f.errLabel.Hide()

	f.load(s)
	f.build()
	return f
}

// section is a titled group of form rows.
func section(title string, items ...*widget.FormItem) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(head, widget.NewForm(items...))
}

func hint(item *widget.FormItem, text string) *widget.FormItem {
	item.HintText = text
	return item
}

// build lays the dialog out.
func (f *settingsForm) build() {
	input := container.NewVBox(
		section("Interface",
			widget.NewFormItem("Device", f.inDevice)),
		section("Transmission",
			widget.NewFormItem("Transmit", f.transmit),
			hint(widget.NewFormItem("Push to talk hold", f.pttHold.obj), "Keeps sending this long after the key is released"),
			widget.NewFormItem("Voice activity", f.vadSource),
			hint(widget.NewFormItem("Voice hold", f.voiceHold.obj), "Keeps sending this long after speech stops"),
			widget.NewFormItem("Silence below", f.silence.obj),
			widget.NewFormItem("Speech above", f.speech.obj)),
		section("Compression",
			hint(widget.NewFormItem("Quality", f.quality.obj), "Opus bit rate; the server may lower it"),
			hint(widget.NewFormItem("Audio per packet", f.packet), "Each packet costs at least one Tor cell")),
		section("Audio Processing",
			widget.NewFormItem("Echo cancellation", f.echo),
			widget.NewFormItem("", f.noiseOn),
			widget.NewFormItem("Noise suppression", f.noise.obj),
			widget.NewFormItem("Max. amplification", f.maxAmp.obj)),
	)
	output := container.NewVBox(
		section("Interface",
			widget.NewFormItem("Device", f.outDevice)),
		section("Audio Output",
			hint(widget.NewFormItem("Default jitter buffer", f.jitter.obj), "Grows by itself when Tor delivers in bursts"),
			hint(widget.NewFormItem("Output delay", f.delay.obj), "20-40 ms recommended over Tor"),
			hint(widget.NewFormItem("Volume", f.volume.obj), "Starts low; adjust single speakers in their menu")),
	)
	network := container.NewVBox(
		section("Tor",
			widget.NewFormItem("Connect through", f.torMode),
			widget.NewFormItem("SOCKS address", f.socks)),
		f.torFlag,
		f.torWarning,
		f.bridges.section(),
		section("Connection",
			widget.NewFormItem("", f.forceTCP),
			widget.NewFormItem("", f.forceNote),
			widget.NewFormItem("", f.reconnect),
			hint(widget.NewFormItem("Attempts", f.attempts.obj), "Waits double after each failed attempt")),
	)
	privacy := container.NewVBox(
		section("Privacy",
			hint(widget.NewFormItem("", f.noOSInfo), "Tumble never sends the operating system's name or version"),
			hint(widget.NewFormItem("", f.noStats), "Tumble has no statistics or telemetry of any kind"),
			hint(widget.NewFormItem("", f.amnesic), "Bookmarks and settings then live in memory only"),
			widget.NewFormItem("", f.ui.wipeButton())),
	)
	f.tabs = container.NewAppTabs(
		container.NewTabItem("Audio Input", container.NewVScroll(input)),
		container.NewTabItem("Audio Output", container.NewVScroll(output)),
		container.NewTabItem("Network", container.NewVScroll(network)),
		container.NewTabItem("Privacy", container.NewVScroll(privacy)),
	)
	top := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel("Preset"), f.reset, f.preset),
		f.presetDesc)
	content := container.NewBorder(top, f.errLabel, nil, nil, f.tabs)

	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.save)
	save.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { f.dlg.Hide() })
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
	in, out, net, priv := s.Input, s.Output, s.Network, s.Privacy

	f.inDevice.SetText(in.Device)
	switch in.Transmit {
	case app.TransmitContinuous:
		f.transmit.SetSelected(transmitContinuous)
	case app.TransmitPushToTalk:
		f.transmit.SetSelected(transmitPTT)
	default:
		f.transmit.SetSelected(transmitVAD)
	}
	if in.VADSource == app.VADSignalToNoise {
		f.vadSource.SetSelected(vadSNR)
	} else {
		f.vadSource.SetSelected(vadAmplitude)
	}
	f.pttHold.set(float64(in.PTTHoldMs))
	f.voiceHold.set(float64(in.VoiceHoldMs))
	f.silence.set(float64(in.SilenceBelowPercent))
	f.speech.set(float64(in.SpeechAbovePercent))
	f.quality.set(float64(in.QualityBitrate))
	f.packet.SetSelected(fmt.Sprintf("%d ms", in.PacketMs))
	if in.EchoCancellation == app.EchoMixed {
		f.echo.SetSelected(echoMixed)
	} else {
		f.echo.SetSelected(echoOff)
	}
	f.noiseOn.SetChecked(in.NoiseSuppressionDB != 0)
	if in.NoiseSuppressionDB != 0 {
		f.noise.set(float64(in.NoiseSuppressionDB))
	} else {
		f.noise.set(app.NoiseSuppressionMin)
	}
	f.maxAmp.set(in.MaxAmplification)

	f.outDevice.SetText(out.Device)
	f.jitter.set(float64(out.JitterBufferMs))
	f.delay.set(float64(out.OutputDelayMs))
	f.volume.set(float64(out.VolumePercent))

	switch net.TorMode {
	case app.TorSOCKS:
		f.torMode.SetSelected(torOptSOCKS)
	case app.TorOff:
		f.torMode.SetSelected(torOptOff)
	default:
		f.torMode.SetSelected(torOptEmbedded)
	}
	f.socks.SetText(net.SOCKSAddress)
	f.forceTCP.SetChecked(net.ForceTCP)
	f.reconnect.SetChecked(net.Reconnect)
	f.attempts.set(float64(net.ReconnectMaxAttempts))
	f.bridges.loadFrom(net)

	f.amnesic.SetChecked(priv.Amnesic)
}

// read returns the settings the widgets show.
func (f *settingsForm) read() app.Settings {
	s := f.base.Clone()
	in := &s.Input
	in.Device = f.inDevice.Text
	switch f.transmit.Selected {
	case transmitContinuous:
		in.Transmit = app.TransmitContinuous
	case transmitPTT:
		in.Transmit = app.TransmitPushToTalk
	default:
		in.Transmit = app.TransmitVoiceActivity
	}
	if f.vadSource.Selected == vadSNR {
		in.VADSource = app.VADSignalToNoise
	} else {
		in.VADSource = app.VADAmplitude
	}
	in.PTTHoldMs = f.pttHold.int()
	in.VoiceHoldMs = f.voiceHold.int()
	in.SilenceBelowPercent = f.silence.int()
	in.SpeechAbovePercent = f.speech.int()
	in.QualityBitrate = f.quality.int()
	if n, err := strconv.Atoi(strings.TrimSuffix(f.packet.Selected, " ms")); err == nil {
		in.PacketMs = n
	}
	if f.echo.Selected == echoMixed {
		in.EchoCancellation = app.EchoMixed
	} else {
		in.EchoCancellation = app.EchoOff
	}
	in.NoiseSuppressionDB = 0
	if f.noiseOn.Checked {
		in.NoiseSuppressionDB = f.noise.int()
	}
	in.MaxAmplification = math.Round(f.maxAmp.slider.Value*10) / 10

	out := &s.Output
	out.Device = f.outDevice.Text
	out.JitterBufferMs = f.jitter.int()
	out.OutputDelayMs = f.delay.int()
	out.VolumePercent = f.volume.int()

	net := &s.Network
	switch f.torMode.Selected {
	case torOptSOCKS:
		net.TorMode = app.TorSOCKS
	case torOptOff:
		net.TorMode = app.TorOff
	default:
		net.TorMode = app.TorEmbedded
	}
	net.SOCKSAddress = f.socks.Text
	net.ForceTCP = f.forceTCP.Checked || net.TorEnabled()
	net.Reconnect = f.reconnect.Checked
	net.ReconnectMaxAttempts = f.attempts.int()
	f.bridges.readInto(net)

	s.Privacy.Amnesic = f.amnesic.Checked
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
