package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Fyne's theme has no microphone, so Tumble draws its own, as plain filled
// paths that the theme recolours like its own icons.
var (
	micSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">` +
		`<path d="M12 14.5a3.5 3.5 0 0 0 3.5-3.5V5a3.5 3.5 0 0 0-7 0v6a3.5 3.5 0 0 0 3.5 3.5z"/>` +
		`<path d="M17 11a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.93V21h2v-3.07A7 7 0 0 0 19 11z"/>` +
		`</svg>`)
	micOffSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">` +
		`<path d="M12 14.5a3.5 3.5 0 0 0 3.5-3.5V5a3.5 3.5 0 0 0-7 0v6a3.5 3.5 0 0 0 3.5 3.5z"/>` +
		`<path d="M17 11a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.93V21h2v-3.07A7 7 0 0 0 19 11z"/>` +
		`<path d="M3.4 4.8l1.4-1.4 15.8 15.8-1.4 1.4z"/>` +
		`</svg>`)
	onionSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">` +
		`<path d="M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 16.2V17.4a5.4 5.4 0 0 0 0-10.8V4.8a7.2 7.2 0 0 1 0 14.4z` +
		`m0-3.6v-1.8a1.8 1.8 0 0 0 0-3.6V8.4a3.6 3.6 0 0 1 0 7.2z"/>` +
		`</svg>`)
)

// Icons used in the channel tree and the controls. Every one is a themed
// resource, so it follows the light and dark themes.
var (
	iconMic       fyne.Resource = theme.NewThemedResource(fyne.NewStaticResource("mic.svg", micSVG))
	iconMicOff    fyne.Resource = theme.NewErrorThemedResource(fyne.NewStaticResource("mic-off.svg", micOffSVG))
	iconMicOffOwn fyne.Resource = theme.NewThemedResource(fyne.NewStaticResource("mic-off-self.svg", micOffSVG))
	iconOnion     fyne.Resource = theme.NewThemedResource(fyne.NewStaticResource("onion.svg", onionSVG))
)

// User and channel state icons.
func iconTalking() fyne.Resource      { return theme.NewSuccessThemedResource(theme.AccountIcon()) }
func iconSilent() fyne.Resource       { return theme.AccountIcon() }
func iconWhisper() fyne.Resource      { return theme.NewPrimaryThemedResource(theme.AccountIcon()) }
func iconShout() fyne.Resource        { return theme.NewWarningThemedResource(theme.AccountIcon()) }
func iconChannel() fyne.Resource      { return theme.FolderIcon() }
func iconDeafened() fyne.Resource     { return theme.NewErrorThemedResource(theme.VolumeMuteIcon()) }
func iconSelfDeafened() fyne.Resource { return theme.VolumeMuteIcon() }
func iconRecording() fyne.Resource    { return theme.NewErrorThemedResource(theme.MediaRecordIcon()) }
func iconPriority() fyne.Resource     { return theme.NewPrimaryThemedResource(theme.VolumeUpIcon()) }
func iconLocalMute() fyne.Resource    { return theme.NewWarningThemedResource(theme.VolumeMuteIcon()) }
