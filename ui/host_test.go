package ui

import (
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/makiuchi-d/gozxing"
	qrreader "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/tor"
)

// fakeHoster is a fakeController that hosts rooms: StartRoom records the
// configuration and shows the first phase; the test shows the next
// phases with setState, as the real controller's room goroutine does.
type fakeHoster struct {
	*fakeController
	link string // what RoomInvite returns

	hmu     sync.Mutex
	started []app.RoomConfig
}

var _ roomHoster = (*fakeHoster)(nil)

func (f *fakeHoster) StartRoom(cfg app.RoomConfig) error {
	f.hmu.Lock()
	f.started = append(f.started, cfg)
	f.hmu.Unlock()
	f.setHosting(app.RoomView{Phase: app.RoomStartingServer})
	return nil
}

func (f *fakeHoster) StopRoom() error {
	f.setHosting(app.RoomView{})
	return nil
}

func (f *fakeHoster) AddGuest(name string) (string, error) { return f.link, nil }
func (f *fakeHoster) RevokeGuest(name string) error        { return nil }
func (f *fakeHoster) RoomInvite(guest string) (string, error) {
	return f.link, nil
}

func (f *fakeHoster) setHosting(v app.RoomView) {
	st := f.State()
	st.Hosting = v
	f.setState(st)
}

func (f *fakeHoster) starts() []app.RoomConfig {
	f.hmu.Lock()
	defer f.hmu.Unlock()
	return append([]app.RoomConfig(nil), f.started...)
}

// TestHostDialog opens the Host dialog from the server list, checks that
// bad settings are refused with a clear message, starts a room and follows
// its progress to the invitation, shown as text and as a QR code that
// decodes to it; in socks mode the dialog shows the gateway's lines.
func TestHostDialog(t *testing.T) {
	onion, _ := newOnion(t, 7)
	c := &fakeHoster{fakeController: newFakeController(app.State{}),
		link: "mumble://alice:pw@" + onion + "/?title=Our%20room&version=1.2.0"}
	u := newTestUI(t, c, &Options{Layout: LayoutDesktop})
	u.win.Resize(fyne.NewSize(1180, 760)) // wide enough for the toolbar's texts
	test.Tap(findButton(t, u.win.Canvas().Content(), "Host"))
	hd := u.host
	if hd == nil {
		t.Fatal("the Host dialog did not open")
	}
	dlg := topOverlay(u)
	if !hasText(dlg, "Not hosting.") {
		t.Errorf("dialog texts %q", texts(dlg))
	}
	start := findButton(t, dlg, "Start room")

	// Bad input: a clear message, nothing started.
	test.Type(hd.maxUsers, "lots")
	test.Tap(start)
	if !hasText(dlg, `max users "lots" is not a whole number`) {
		t.Errorf("bad max users: texts %q", texts(dlg))
	}
	hd.maxUsers.SetText("8")
	test.Type(hd.listen, "192.0.2.1")
	test.Tap(start)
	if !hasText(dlg, "192.0.2.1 is not an address of this machine") {
		t.Errorf("foreign listen address: texts %q", texts(dlg))
	}
	hd.listen.SetText("gateway")
	test.Tap(start)
	if !hasText(dlg, `"gateway" is not an IP address`) {
		t.Errorf("listen address not an IP: texts %q", texts(dlg))
	}
	if n := len(c.starts()); n != 0 {
		t.Fatalf("bad settings started %d rooms", n)
	}

	// Good input starts the room with the settings in the form.
	hd.listen.SetText("127.0.0.2")
	test.Type(hd.name, "Our room")
	test.Type(hd.welcome, "Welcome!")
	test.Tap(hd.remember)
	test.Tap(start)
	got := c.starts()
	want := app.RoomConfig{Name: "Our room", Welcome: "Welcome!", MaxUsers: 8, Listen: "127.0.0.2", ClientAuth: true, RememberChannel: true}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("started %+v, want %+v", got, want)
	}

	// Progress for every wait.
	for _, p := range []app.RoomPhase{app.RoomStartingServer, app.RoomWaitingForTor, app.RoomPublishing} {
		c.setHosting(app.RoomView{Phase: p})
		u.Sync()
		if !hasText(dlg, string(p)+"…") {
			t.Errorf("phase %s: texts %q", p, texts(dlg))
		}
		if !start.Disabled() || findButton(t, dlg, "Stop room").Disabled() {
			t.Errorf("phase %s: start enabled %v", p, !start.Disabled())
		}
	}

	// Ready: the invitation as text and QR code.
	c.setHosting(app.RoomView{Phase: app.RoomReady, Onion: onion, Guests: []string{"host"}})
	u.Sync()
	if !hasText(dlg, "Hosting "+onion) {
		t.Errorf("ready: texts %q", texts(dlg))
	}
	if hd.invite.Text != c.link {
		t.Errorf("invitation %q, want %q", hd.invite.Text, c.link)
	}
	if hd.qr.Image == nil {
		t.Fatal("no QR code")
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(hd.qr.Image)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrreader.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || res.GetText() != c.link {
		t.Errorf("QR code decodes to %v, %v; want %s", res, err, c.link)
	}
	if !hasText(dlg, "host") {
		t.Errorf("guest list: %q", texts(dlg))
	}

	// Socks mode: the gateway's lines, to copy, with the real address.
	gw := &app.GatewaySetup{Mode: tor.ModeSOCKS, Dir: app.DefaultGatewayDir, Addr: "127.0.0.2:41234"}
	c.setHosting(app.RoomView{Phase: app.RoomOnGateway, Gateway: gw})
	u.Sync()
	if want := strings.Join(gw.Torrc(), "\n"); hd.invite.Text != want {
		t.Errorf("gateway lines %q, want %q", hd.invite.Text, want)
	}
	if !hasText(dlg, "HiddenServicePort 64738 127.0.0.2:41234") || hd.qr.Image != nil {
		t.Errorf("gateway: texts %q, QR %v", texts(dlg), hd.qr.Image != nil)
	}

	// Stop.
	test.Tap(findButton(t, dlg, "Stop room"))
	u.Sync()
	if !hasText(dlg, "Not hosting.") || start.Disabled() {
		t.Errorf("stopped: texts %q", texts(dlg))
	}
}
