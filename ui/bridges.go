package ui

import (
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// Choices of the bridges section of Settings > Network.
const (
	bridgeOptSnowflake = "Built-in Snowflake"
	bridgeOptCustom    = "My bridge lines (obfs4, Snowflake, WebTunnel)"
)

// bridgeWidgets is the "Bridges" section of Settings > Network: use
// bridges, where they come from, the lines with an error per bad line, and
// import from a file.
type bridgeWidgets struct {
	use    *keyCheck
	source *keyRadio
	lines  *keyEntry
	errs   *widget.Label
	load   *keyButton
}

func newBridgeWidgets(f *settingsForm, changed func()) *bridgeWidgets {
	b := &bridgeWidgets{}
	b.use = f.ui.newCheck("Use bridges (for networks that block Tor)", func(bool) { changed() })
	b.source = f.ui.newRadio([]string{bridgeOptSnowflake, bridgeOptCustom}, func(string) { changed() })
	b.lines = f.ui.newMultiLineEntry()
	b.lines.Wrapping = fyne.TextWrapOff
	b.lines.SetMinRowsVisible(4)
	b.lines.OnChanged = func(string) {
		b.showProblems()
		changed()
	}
	b.errs = wrapLabel("")
	b.errs.Importance = widget.DangerImportance
	b.errs.Hide()
	b.load = f.ui.newButton("Import from file or QR image…", nil, func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			defer r.Close()
			data, err := io.ReadAll(io.LimitReader(r, app.MaxBridgeImport+1))
			if err != nil {
				setLabel(f.errLabel, "Cannot read that file: "+errorText(err))
				return
			}
			b.importFile(f, data)
		}, f.ui.win)
		// Escape closes it (while none of Fyne's widgets inside it has
		// the focus: they keep the keys to themselves).
		f.ui.showDialog(d, nil, nil, d.Dismiss)
	})
	return b
}

// importFile adds the bridge lines of a chosen file (text, or a QR code
// image from bridges.torproject.org or @GetBridgesBot) to the box, where
// each line is checked as typed lines are.
func (b *bridgeWidgets) importFile(f *settingsForm, data []byte) {
	lines, err := app.ImportBridges(data)
	if err != nil {
		setLabel(f.errLabel, errorText(err))
		return
	}
	setLabel(f.errLabel, "")
	text := strings.TrimSpace(b.lines.Text)
	if text != "" {
		text += "\n"
	}
	b.source.SetSelected(bridgeOptCustom)
	b.lines.SetText(text + strings.Join(lines, "\n"))
}

// section declares the bridges as one setting of the form f (several
// widgets, one field: the Network's bridge settings) and lays them out.
func (b *bridgeWidgets) section(f *settingsForm) fyne.CanvasObject {
	return container.NewVBox(
		f.section("Bridges",
			&setting{obj: b.use, hint: "Embedded Tor only; applies at once, also to a Tor still connecting",
				load:  func(s *app.Settings) { b.loadFrom(s.Network) },
				store: func(s *app.Settings) { b.readInto(&s.Network) }},
			&setting{label: "Bridges", obj: b.source},
			&setting{label: "Bridge lines", obj: b.lines,
				hint: "One per line: obfs4 IP:PORT FINGERPRINT cert=... (bridges.torproject.org, @GetBridgesBot)"},
			&setting{obj: container.NewHBox(b.load)}),
		b.errs)
}

// showProblems names every bad line under the box.
func (b *bridgeWidgets) showProblems() {
	p := app.BridgeLineProblems(app.SplitBridgeText(b.lines.Text))
	if p == nil {
		b.errs.Hide()
		return
	}
	b.errs.SetText(strings.Join(p, "\n"))
	b.errs.Show()
}

// loadFrom shows the bridge settings of n.
func (b *bridgeWidgets) loadFrom(n app.Network) {
	b.use.SetChecked(n.UseBridges)
	if n.BridgeSource == app.BridgesSnowflake {
		b.source.SetSelected(bridgeOptSnowflake)
	} else {
		b.source.SetSelected(bridgeOptCustom)
	}
	b.lines.SetText(strings.Join(n.BridgeLines, "\n"))
	b.showProblems()
}

// readInto stores the widgets' bridge settings in n.
func (b *bridgeWidgets) readInto(n *app.Network) {
	n.UseBridges = b.use.Checked
	n.BridgeSource = app.BridgesCustom
	if b.source.Selected == bridgeOptSnowflake {
		n.BridgeSource = app.BridgesSnowflake
	}
	n.BridgeLines = app.SplitBridgeText(b.lines.Text)
}

// refresh enables what applies: bridges only with the embedded Tor, lines
// only for custom bridges.
func (b *bridgeWidgets) refresh(n app.Network) {
	embedded := n.TorMode == app.TorEmbedded
	setEnabled(b.use, embedded)
	setEnabled(b.source, embedded && n.UseBridges)
	custom := embedded && n.UseBridges && n.BridgeSource == app.BridgesCustom
	setEnabled(b.lines, custom)
	setEnabled(b.load, custom)
}
