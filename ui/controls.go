package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// controlsBar holds push-to-talk, self mute and self deafen, and shows
// whether the microphone is being sent.
type controlsBar struct {
	ui *UI

	ptt   *pttButton
	check *keyButton // opens the audio check
	mute  *keyButton
	deaf  *keyButton
	tx    *widget.Label
	audio *widget.Label
	obj   fyne.CanvasObject
}

func newControlsBar(u *UI) *controlsBar {
	b := &controlsBar{ui: u}
	b.ptt = newPTTButton(u)
	b.mute = u.newButton("Mute", iconMic, func() {
		u.ctrl.SetSelfMute(!u.state.SelfMute)
		u.Sync()
	})
	b.deaf = u.newButton("Deafen", theme.VolumeUpIcon(), func() {
		u.ctrl.SetSelfDeaf(!u.state.SelfDeaf)
		u.Sync()
	})
	b.tx = widget.NewLabel("")
	b.tx.Importance = widget.SuccessImportance
	b.tx.TextStyle = fyne.TextStyle{Bold: true}
	b.audio = widget.NewLabel("")
	b.audio.Truncation = fyne.TextTruncateEllipsis
	b.audio.SizeName = theme.SizeNameCaptionText
	b.check = u.newButton("Check audio", theme.MediaRecordIcon(), u.showAudioCheck)
	buttons := container.NewHBox(b.ptt, b.mute, b.deaf, b.check, b.tx)
	b.obj = container.NewBorder(widget.NewSeparator(), nil, buttons, nil, b.audio)
	return b
}

func (b *controlsBar) object() fyne.CanvasObject { return b.obj }

func (b *controlsBar) apply(st app.State) {
	connected := st.Phase == app.PhaseConnected
	setEnabled(b.ptt, connected)
	// The push-to-talk button shows only in push-to-talk mode.
	if b.ui.ctrl.Settings().Input.Transmit == app.TransmitPushToTalk {
		b.ptt.Show()
	} else {
		b.ptt.Hide()
	}
	if !connected && b.ptt.held {
		b.ptt.held = false
	}
	muteText, deafText := "Mute", "Deafen"
	if st.SelfMute {
		muteText = "Muted"
	}
	if st.SelfDeaf {
		deafText = "Deafened"
	}
	checkText := "Check audio"
	if b.ui.compact {
		muteText, deafText, checkText = "", "", ""
	}
	b.check.SetText(checkText)
	b.mute.SetText(muteText)
	b.deaf.SetText(deafText)
	if st.SelfMute {
		b.mute.SetIcon(iconMicOff)
		b.mute.Importance = widget.WarningImportance
	} else {
		b.mute.SetIcon(iconMic)
		b.mute.Importance = widget.MediumImportance
	}
	b.mute.Refresh()
	if st.SelfDeaf {
		b.deaf.SetIcon(iconDeafened())
		b.deaf.Importance = widget.WarningImportance
	} else {
		b.deaf.SetIcon(theme.VolumeUpIcon())
		b.deaf.Importance = widget.MediumImportance
	}
	b.deaf.Refresh()
	if st.Transmitting {
		b.tx.SetText("Transmitting")
	} else {
		b.tx.SetText("")
	}
	b.audio.SetText(st.Audio)
	b.ptt.apply(st)
}

// pttButton transmits while it is held down (desktop) or, on a touch
// screen, between two taps.
type pttButton struct {
	widget.Button
	ui   *UI
	held bool // pressed by pointer or touch
}

func newPTTButton(u *UI) *pttButton {
	b := &pttButton{ui: u}
	b.Text = "Push to talk"
	b.Icon = iconMic
	b.ExtendBaseWidget(b)
	return b
}

func (b *pttButton) apply(st app.State) {
	text := "Push to talk"
	if !b.ui.compact && !isMobileDevice() {
		text += " (hold " + app.PTTKeyLabel(string(b.ui.pttKey())) + ")"
	}
	if b.held || st.Transmitting && b.ui.pttKeyHeld {
		b.Importance = widget.SuccessImportance
	} else {
		b.Importance = widget.MediumImportance
	}
	b.SetText(text)
}

// MouseDown starts transmitting.
func (b *pttButton) MouseDown(*desktop.MouseEvent) {
	if b.Disabled() || b.held {
		return
	}
	b.press(true)
}

// MouseUp stops transmitting.
func (b *pttButton) MouseUp(*desktop.MouseEvent) {
	if b.held {
		b.press(false)
	}
}

// Tapped toggles transmission on touch screens, which have no button
// release events; on a desktop MouseDown and MouseUp do the work.
func (b *pttButton) Tapped(*fyne.PointEvent) {
	if b.Disabled() || !isMobileDevice() {
		return
	}
	b.press(!b.held)
}

func (b *pttButton) press(on bool) {
	b.held = on
	b.ui.ctrl.PushToTalk(on)
	b.ui.Sync()
}
