// Package portaltest runs a private D-Bus session bus with a fake XDG
// GlobalShortcuts portal on it, for tests of global push-to-talk on
// Wayland desktops, where the real portal cannot be had in a test.
package portaltest

import (
	"bufio"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// The portal's names, as in the specification.
const (
	portalBusName   = "org.freedesktop.portal.Desktop"
	portalPath      = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	portalShortcuts = "org.freedesktop.portal.GlobalShortcuts"
	portalRequest   = "org.freedesktop.portal.Request"
	portalSession   = "org.freedesktop.portal.Session"
)

// StartBus starts a private D-Bus session daemon and points
// $DBUS_SESSION_BUS_ADDRESS at it for the test.
func StartBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("no dbus-daemon")
	}
	addr := "unix:path=" + filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address", "--address="+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n') // printed once it listens
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(line))
	return strings.TrimSpace(line)
}

// Portal implements org.freedesktop.portal.GlobalShortcuts as
// xdg-desktop-portal does, on a private bus: sessions, bound shortcuts,
// Response signals on the request objects, Activated and Deactivated on
// demand.
type Portal struct {
	conn *dbus.Conn

	mu      sync.Mutex
	session dbus.ObjectPath
	bound   []string // id=preferred_trigger
	closed  bool

	// Response is BindShortcuts' response code (1: the user
	// cancelled); set it before the binding.
	Response uint32
}

func Start(t *testing.T, addr string) *Portal {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &Portal{conn: conn}
	if err := conn.Export(f, portalPath, portalShortcuts); err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(fakeProps{}, portalPath, "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName(portalBusName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("take the portal's name: %v %v", r, err)
	}
	return f
}

// requestPath is the Request object of a call, as the portal names it.
func requestPath(sender dbus.Sender, token string) dbus.ObjectPath {
	s := strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_")
	return dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + s + "/" + token)
}

// CreateSession implements the portal's method.
func (f *Portal) CreateSession(sender dbus.Sender, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	token, _ := opts["handle_token"].Value().(string)
	stoken, _ := opts["session_handle_token"].Value().(string)
	if token == "" || stoken == "" {
		return "", dbus.MakeFailedError(errors.New("tokens missing"))
	}
	s := strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_")
	session := dbus.ObjectPath("/org/freedesktop/portal/desktop/session/" + s + "/" + stoken)
	f.mu.Lock()
	f.session = session
	f.mu.Unlock()
	f.conn.Export(fakeSession{f}, session, portalSession)
	req := requestPath(sender, token)
	f.conn.Emit(req, portalRequest+".Response", uint32(0),
		map[string]dbus.Variant{"session_handle": dbus.MakeVariant(string(session))})
	return req, nil
}

// boundShortcut is one shortcut of BindShortcuts, (sa{sv}).
type boundShortcut struct {
	ID   string
	Opts map[string]dbus.Variant
}

// BindShortcuts implements the portal's method.
func (f *Portal) BindShortcuts(sender dbus.Sender, session dbus.ObjectPath, shortcuts []boundShortcut,
	parent string, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	token, _ := opts["handle_token"].Value().(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	if session != f.session {
		return "", dbus.MakeFailedError(errors.New("no such session"))
	}
	for _, s := range shortcuts {
		trigger, _ := s.Opts["preferred_trigger"].Value().(string)
		f.bound = append(f.bound, s.ID+"="+trigger)
	}
	req := requestPath(sender, token)
	f.conn.Emit(req, portalRequest+".Response", f.Response,
		map[string]dbus.Variant{"shortcuts": dbus.MakeVariant(shortcuts)})
	return req, nil
}

// Press emits Activated (true) or Deactivated (false) for id.
func (f *Portal) Press(t *testing.T, id string, on bool) {
	t.Helper()
	name := ".Deactivated"
	if on {
		name = ".Activated"
	}
	f.mu.Lock()
	session := f.session
	f.mu.Unlock()
	if err := f.conn.Emit(portalPath, portalShortcuts+name, session, id, uint64(time.Now().UnixMilli()),
		map[string]dbus.Variant{}); err != nil {
		t.Fatal(err)
	}
}

type fakeSession struct{ f *Portal }

// Close implements org.freedesktop.portal.Session.
func (s fakeSession) Close() *dbus.Error {
	s.f.mu.Lock()
	s.f.closed = true
	s.f.mu.Unlock()
	return nil
}

type fakeProps struct{}

// Get implements org.freedesktop.DBus.Properties.
func (fakeProps) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	if iface == portalShortcuts && name == "version" {
		return dbus.MakeVariant(uint32(1)), nil
	}
	return dbus.Variant{}, dbus.MakeFailedError(errors.New("no such property"))
}

// Bound returns the shortcuts bound so far, each as id=preferred_trigger.
func (f *Portal) Bound() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bound...)
}

// Closed reports whether the client closed its session.
func (f *Portal) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
