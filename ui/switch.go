package ui

import (
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// switchTo connects to the bookmark id. While connected (or connecting)
// to another server it first asks whether to leave it; the answer
// switches without a separate Disconnect.
func (u *UI) switchTo(id string) {
	st := u.state
	busy := st.Phase == app.PhaseConnected || st.Phase == app.PhaseConnecting ||
		st.Phase == app.PhaseStartingTor || st.Phase == app.PhaseReconnectWait
	if !busy || st.Bookmark == nil || st.Bookmark.ID == id {
		u.connect(id)
		return
	}
	to := id
	for _, b := range u.ctrl.Bookmarks() {
		if b.ID == id {
			to = b.Name()
		}
	}
	d := u.newConfirm("Switch server", "Leave "+st.Bookmark.Name()+" and connect to "+to+"?",
		"Switch", "Stay", widget.HighImportance,
		func(ok bool) {
			if ok {
				u.connect(id)
			}
		})
	u.showDialog(d, nil, nil, nil)
}
