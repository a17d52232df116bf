package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// Texts of the Tor status bar.
const (
	torEmbeddedText    = "Tor: embedded"
	torExternalText    = "Tor: external (SOCKS)"
	torUnprotectedText = "UNPROTECTED: Tor is off"
	torUnknownText     = "Tor: not started"
	torOffDetail       = "Connections go straight to the server, which sees your IP address."
	torNetworkLostText = "Tor has lost the network. It keeps trying; connections wait until it gets through."
	torNetworkLostStep = "Check this computer's network connection (cable, Wi-Fi, VPN, firewall)."
)

// torBar shows how connections are made: the Tor mode in large type, red
// when Tor is off, with Tor's bootstrap progress.
type torBar struct {
	ui *UI

	banner   *canvas.Rectangle
	mode     *canvas.Text
	detail   *widget.Label
	progress *widget.ProgressBar
	warning  *widget.Label
	note     *widget.Label
	settings *keyButton
	obj      fyne.CanvasObject

	unprotected bool
}

func newTorBar(u *UI) *torBar {
	b := &torBar{ui: u}
	b.banner = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	b.banner.CornerRadius = theme.InputRadiusSize()
	b.mode = canvas.NewText(torUnknownText, theme.Color(theme.ColorNameForeground))
	b.mode.TextStyle = fyne.TextStyle{Bold: true}
	b.mode.TextSize = theme.TextSubHeadingSize()
	b.detail = widget.NewLabel("")
	b.detail.Truncation = fyne.TextTruncateEllipsis
	b.progress = widget.NewProgressBar()
	b.progress.TextFormatter = func() string {
		return fmt.Sprintf("Bootstrapped %.0f%%", b.progress.Value*100)
	}
	b.warning = widget.NewLabel("")
	b.warning.Importance = widget.WarningImportance
	b.warning.Wrapping = fyne.TextWrapWord
	b.warning.Hide()
	b.note = widget.NewLabel("")
	b.note.Wrapping = fyne.TextWrapWord
	b.note.Hide()
	b.settings = u.newButton("Settings", theme.SettingsIcon(), u.showSettings)

	mode := container.NewStack(b.banner, container.NewPadded(b.mode))
	row := container.NewBorder(nil, nil, mode, b.settings, container.NewBorder(nil, nil, nil, nil, b.detail))
	b.obj = container.NewVBox(row, b.progress, b.warning, b.note)
	return b
}

func (b *torBar) object() fyne.CanvasObject { return b.obj }

// apply shows st.Tor.
func (b *torBar) apply(st app.State) {
	t := st.Tor
	b.unprotected = t.Mode == string(app.TorOff) || (t.Mode != "" && !t.Protected)
	bg, fg := theme.Color(theme.ColorNameInputBackground), theme.Color(theme.ColorNameForeground)
	detail := ""
	switch {
	case b.unprotected:
		b.mode.Text = torUnprotectedText
		bg, fg = theme.Color(theme.ColorNameError), theme.Color(theme.ColorNameForegroundOnError)
		detail = torOffDetail
	case t.Mode == string(app.TorEmbedded):
		b.mode.Text = torEmbeddedText
	case t.Mode == string(app.TorSOCKS):
		b.mode.Text = torExternalText
	default:
		b.mode.Text = torUnknownText
	}
	if !b.unprotected {
		switch {
		case t.Ready && t.NetworkDown:
			detail = torNetworkLostText
		case t.Ready:
			detail = "Tor is ready. Every server gets its own circuit."
		case t.Summary != "":
			detail = t.Summary
		default:
			detail = "Tor starts when you connect."
		}
	}
	b.banner.FillColor = bg
	b.mode.Color = fg
	b.banner.Refresh()
	b.mode.Refresh()
	b.detail.SetText(detail)

	// The bar shows once Tor is starting; before that "0%" would suggest
	// something is stuck.
	starting := t.Progress > 0 || t.Ready || st.Phase == app.PhaseStartingTor
	if b.unprotected || !starting {
		b.progress.Hide()
	} else {
		p := float64(t.Progress) / 100
		if t.Ready {
			p = 1
		}
		b.progress.SetValue(p)
		b.progress.Show()
	}
	setLabel(b.warning, torBarWarning(t))
	note := b.ui.opts.Notice
	if t.Mode == string(app.TorEmbedded) && b.ui.opts.NoEmbeddedTor {
		note = joinNonEmpty("\n", note, "Tumble was built without embedded Tor: choose an external Tor (SOCKS port) "+
			"or, knowing that it is UNPROTECTED, no Tor in Settings > Network.")
	}
	setLabel(b.note, note)
}

// setLabel sets a label's text and hides it when empty.
func setLabel(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// joinNonEmpty joins the non-empty strings with sep.
func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}

// torBarWarning is the warning line of the Tor bar: why Tor has lost the
// network and what to check, Tor's own warning, the failed bridge and the
// hint to try bridges, as far as present.
func torBarWarning(t app.TorStatus) string {
	var parts []string
	lost := ""
	if t.NetworkDown {
		lost = t.NetworkProblem + ". " + torNetworkLostStep
	}
	for _, p := range []string{lost, t.Warning, t.BridgeFailure, t.Hint} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " · ")
}
