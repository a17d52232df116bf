package hotkey

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/godbus/dbus/v5"
)

// The XDG desktop portal's names (flatpak's xdg-desktop-portal,
// org.freedesktop.portal.GlobalShortcuts).
const (
	portalBusName   = "org.freedesktop.portal.Desktop"
	portalPath      = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	portalShortcuts = "org.freedesktop.portal.GlobalShortcuts"
	portalRequest   = "org.freedesktop.portal.Request"
	portalSession   = "org.freedesktop.portal.Session"

	// shortcutID is the one shortcut Tumble binds.
	shortcutID = "push-to-talk"
)

// ErrNoPortal is returned by NewPortalGrab where the session bus has no
// GlobalShortcuts portal.
var ErrNoPortal = errors.New("hotkey: the desktop has no GlobalShortcuts portal (xdg-desktop-portal with a backend that offers it)")

// tokens makes the handle tokens of one process unique.
var tokens atomic.Uint64

// PortalGrab holds push-to-talk as a shortcut of the XDG GlobalShortcuts
// portal, the way Wayland desktops give a program keys while other
// windows have the focus. The desktop (not Tumble) decides which key
// triggers it; the key is only proposed.
type PortalGrab struct {
	conn    *dbus.Conn
	session dbus.ObjectPath
	signals chan *dbus.Signal
	done    chan struct{}
	once    sync.Once
	err     error
}

// NewPortalGrab connects to the session bus ($DBUS_SESSION_BUS_ADDRESS),
// opens a GlobalShortcuts session and binds one shortcut, proposing key
// (an app.PTTKeys name) as its trigger. The desktop may ask the user
// first: NewPortalGrab waits for that answer, or for ctx. onChange is
// called with true when the shortcut is activated and false when it is
// deactivated, on the grab's own goroutine. It fails with an error
// wrapping ErrNoPortal where there is no portal.
func NewPortalGrab(ctx context.Context, key string, onChange func(pressed bool)) (g *PortalGrab, err error) {
	if onChange == nil {
		return nil, errors.New("hotkey: no callback")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		// Without it godbus would start dbus-launch: only use a bus that
		// is there.
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err != nil {
			return nil, fmt.Errorf("%w: no session bus", ErrNoPortal)
		}
	}
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("hotkey: session bus: %w", err)
	}
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	if err := checkPortal(ctx, conn); err != nil {
		return nil, err
	}
	g = &PortalGrab{conn: conn, signals: make(chan *dbus.Signal, 16), done: make(chan struct{})}
	conn.Signal(g.signals)

	res, err := g.request(ctx, "CreateSession", func(token string) []any {
		return []any{map[string]dbus.Variant{
			"handle_token":         dbus.MakeVariant(token),
			"session_handle_token": dbus.MakeVariant(token),
		}}
	})
	if err != nil {
		return nil, fmt.Errorf("hotkey: portal CreateSession: %w", err)
	}
	switch h := res["session_handle"].Value().(type) {
	case string:
		g.session = dbus.ObjectPath(h)
	case dbus.ObjectPath:
		g.session = h
	}
	if !g.session.IsValid() {
		return nil, errors.New("hotkey: portal CreateSession: no session handle")
	}
	if err := g.watch(dbus.WithMatchInterface(portalShortcuts), dbus.WithMatchObjectPath(portalPath)); err != nil {
		return nil, err
	}
	type shortcut struct {
		ID   string
		Opts map[string]dbus.Variant
	}
	opts := map[string]dbus.Variant{"description": dbus.MakeVariant("Push to talk (Tumble)")}
	if trigger, err := keysymName(key); err == nil {
		opts["preferred_trigger"] = dbus.MakeVariant(trigger)
	}
	res, err = g.request(ctx, "BindShortcuts", func(token string) []any {
		return []any{g.session, []shortcut{{shortcutID, opts}}, "",
			map[string]dbus.Variant{"handle_token": dbus.MakeVariant(token)}}
	})
	if err != nil {
		g.closeSession()
		return nil, fmt.Errorf("hotkey: portal BindShortcuts: %w", err)
	}
	if bound, ok := res["shortcuts"].Value().([][]any); ok && len(bound) == 0 {
		g.closeSession()
		return nil, errors.New("hotkey: portal BindShortcuts: the desktop bound no shortcut")
	}
	go g.run(onChange)
	return g, nil
}

// checkPortal reports ErrNoPortal unless the bus has a portal offering
// GlobalShortcuts.
func checkPortal(ctx context.Context, conn *dbus.Conn) error {
	var v dbus.Variant
	err := conn.Object(portalBusName, portalPath).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		portalShortcuts, "version").Store(&v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoPortal, err)
	}
	return nil
}

// watch adds a match rule for signals.
func (g *PortalGrab) watch(opts ...dbus.MatchOption) error {
	if err := g.conn.AddMatchSignal(opts...); err != nil {
		return fmt.Errorf("hotkey: watch portal signals: %w", err)
	}
	return nil
}

// request calls a portal method that answers with a Request object and
// waits for the request's Response signal, returning its results. The
// request's path is known before the call (it derives from the handle
// token), so the signal cannot arrive unwatched.
func (g *PortalGrab) request(ctx context.Context, method string, args func(token string) []any) (map[string]dbus.Variant, error) {
	token := fmt.Sprintf("tumble%d", tokens.Add(1))
	sender := strings.ReplaceAll(strings.TrimPrefix(g.conn.Names()[0], ":"), ".", "_")
	path := dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + sender + "/" + token)
	if err := g.watch(dbus.WithMatchObjectPath(path), dbus.WithMatchInterface(portalRequest), dbus.WithMatchMember("Response")); err != nil {
		return nil, err
	}
	defer g.conn.RemoveMatchSignal(dbus.WithMatchObjectPath(path), dbus.WithMatchInterface(portalRequest), dbus.WithMatchMember("Response"))
	var handle dbus.ObjectPath
	if err := g.conn.Object(portalBusName, portalPath).CallWithContext(ctx, portalShortcuts+"."+method, 0, args(token)...).Store(&handle); err != nil {
		return nil, err
	}
	for {
		select {
		case s, ok := <-g.signals:
			if !ok {
				return nil, errors.New("the session bus connection closed")
			}
			if s.Path != handle && s.Path != path || s.Name != portalRequest+".Response" {
				continue
			}
			var code uint32
			var res map[string]dbus.Variant
			if err := dbus.Store(s.Body, &code, &res); err != nil {
				return nil, fmt.Errorf("response: %w", err)
			}
			switch code {
			case 0:
				return res, nil
			case 1:
				return nil, errors.New("the user cancelled")
			default:
				return nil, fmt.Errorf("the portal refused (response %d)", code)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// run reports the shortcut's activation until Close.
func (g *PortalGrab) run(onChange func(bool)) {
	defer close(g.done)
	pressed := false
	for s := range g.signals {
		if len(s.Body) < 2 {
			continue
		}
		session, _ := s.Body[0].(dbus.ObjectPath)
		id, _ := s.Body[1].(string)
		if session != g.session || id != shortcutID {
			continue
		}
		switch s.Name {
		case portalShortcuts + ".Activated":
			if !pressed {
				pressed = true
				onChange(true)
			}
		case portalShortcuts + ".Deactivated":
			if pressed {
				pressed = false
				onChange(false)
			}
		}
	}
	if pressed {
		onChange(false)
	}
}

// closeSession ends the portal session (best effort: the bus connection
// closing ends it too).
func (g *PortalGrab) closeSession() {
	if g.session.IsValid() {
		g.conn.Object(portalBusName, g.session).Call(portalSession+".Close", 0)
	}
}

// Close ends the session, closes the bus connection and waits for the
// grab's goroutine. A second Close returns the first's result.
func (g *PortalGrab) Close() error {
	g.once.Do(func() {
		g.closeSession()
		g.err = g.conn.Close() // closes g.signals: run returns
		<-g.done
	})
	return g.err
}
