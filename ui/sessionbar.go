package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// sessionBar says where the session stands and offers the button that ends
// the current step: Cancel while Tor starts or the connection is made,
// Disconnect when connected, Stop during a reconnect countdown.
type sessionBar struct {
	ui *UI

	activity *widget.Activity
	status   *widget.Label
	stop     *keyButton // Cancel, Disconnect or Stop
	again    *keyButton // Connect again
	details  *keyButton // the raw error behind the problem
	detail   string
	obj      fyne.CanvasObject
}

func newSessionBar(u *UI) *sessionBar {
	b := &sessionBar{ui: u}
	b.activity = widget.NewActivity()
	b.activity.Hide()
	b.status = widget.NewLabel("Not connected. Choose a server and press Connect.")
	b.status.Wrapping = fyne.TextWrapWord
	b.stop = u.newButton("Cancel", theme.CancelIcon(), nil)
	b.stop.Hide()
	b.again = u.newButton("Connect again", theme.ViewRefreshIcon(), nil)
	b.again.Hide()
	b.details = u.newButton("Details", theme.InfoIcon(), func() { u.showDetail(b.detail) })
	b.details.Hide()
	b.obj = container.NewBorder(nil, nil, b.activity, container.NewHBox(b.details, b.again, b.stop), b.status)
	return b
}

func (b *sessionBar) object() fyne.CanvasObject { return b.obj }

// apply shows the session phase.
func (b *sessionBar) apply(st app.State) {
	name := ""
	id := ""
	if st.Bookmark != nil {
		name, id = st.Bookmark.Name(), st.Bookmark.ID
	}
	ctrl := b.ui.ctrl
	busy := false
	b.again.Hide()
	b.stop.Show()
	switch st.Phase {
	case app.PhaseStartingTor:
		busy = true
		var msg string
		switch {
		case st.Tor.Ready && st.Tor.NetworkDown:
			// A reconnect waiting for Tor; the Tor bar says why.
			msg = "Waiting for Tor to get through to the network, then connecting to " + name
		case st.Tor.Ready && st.Problem.Message != "":
			msg = st.Problem.Message // checking Tor after a loss
		default:
			msg = fmt.Sprintf("Starting Tor for %s: %d%%", name, st.Tor.Progress)
			if st.Tor.Summary != "" {
				msg += " (" + st.Tor.Summary + ")"
			}
		}
		b.status.SetText(msg)
		b.setStop("Cancel", theme.CancelIcon(), ctrl.Cancel)
	case app.PhaseConnecting:
		busy = true
		b.status.SetText("Connecting to " + name + "...")
		b.setStop("Cancel", theme.CancelIcon(), ctrl.Cancel)
	case app.PhaseConnected:
		msg := "Connected to " + name
		// "sending" only while voice goes out; the rate is the cap.
		if st.Transmitting && st.Bitrate > 0 {
			msg += fmt.Sprintf(", sending at %.1f kb/s", float64(st.Bitrate)/1000)
		}
		if st.CertificateExposed {
			msg += ". " + st.TLS + " only: your identity certificate crossed the network unencrypted"
		}
		b.status.SetText(msg)
		b.setStop("Disconnect", theme.LogoutIcon(), ctrl.Disconnect)
	case app.PhaseReconnectWait:
		msg := fmt.Sprintf("Reconnecting to %s in %s", name, countdown(st.ReconnectIn))
		if st.ReconnectMaxAttempts > 0 {
			msg += fmt.Sprintf(" (attempt %d of %d)", st.ReconnectAttempt, st.ReconnectMaxAttempts)
		}
		if st.Problem.Message != "" {
			msg += ". " + st.Problem.Message
		}
		b.status.SetText(msg)
		b.setStop("Stop", theme.MediaStopIcon(), ctrl.StopReconnect)
		b.again.SetText("Retry now")
		b.again.OnTapped = func() { ctrl.RetryNow(); b.ui.Sync() }
		b.again.Show()
	case app.PhaseDisconnected:
		msg := "Disconnected"
		if name != "" {
			msg += " from " + name
		}
		if st.Problem.Message != "" {
			msg += ": " + st.Problem.Message
		}
		b.status.SetText(msg)
		b.setStop("Dismiss", theme.CancelIcon(), ctrl.Cancel)
		if id != "" {
			b.again.SetText("Connect again")
			b.again.OnTapped = func() { b.ui.connect(id) }
			b.again.Show()
		}
	default:
		b.status.SetText("Not connected. Choose a server and press Connect.")
		b.stop.Hide()
	}
	b.detail = st.Problem.Detail
	if b.detail != "" && (st.Phase == app.PhaseDisconnected || st.Phase == app.PhaseReconnectWait) {
		b.details.Show()
	} else {
		b.details.Hide()
	}
	if busy {
		b.activity.Show()
		b.activity.Start()
	} else {
		b.activity.Stop()
		b.activity.Hide()
	}
}

// setStop configures the stop button; pressing it also refreshes the UI.
func (b *sessionBar) setStop(text string, icon fyne.Resource, fn func()) {
	b.stop.SetText(text)
	b.stop.SetIcon(icon)
	b.stop.OnTapped = func() {
		fn()
		b.ui.Sync()
	}
}

// countdown formats a reconnect wait in whole seconds, rounding up.
func countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int((d + time.Second - 1) / time.Second)
	if s == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", s)
}
