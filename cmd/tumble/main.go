// Command tumble is Tumble's desktop app: a Mumble voice client that
// carries its own Tor.
//
// Usage:
//
//	tumble [--amnesic] [--config-dir DIR] [--tor embedded|socks=HOST:PORT|off]
//	       [--torrc FILE] [--connect BOOKMARK] [--audio devices|null|none]
//
// Without a display (neither DISPLAY nor WAYLAND_DISPLAY set, or the X
// server not answering) it prints one error line and exits with status 1;
// tumble-cli is the client for machines without a GUI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mobile/icon"
	"github.com/tumble-voip/tumble/ui"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "tumble: %s\n", oneLine(err))
		os.Exit(1)
	}
}

// oneLine keeps an error message on a single line.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// run is the whole program.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintf(stdout, "tumble %s\n", version)
		return nil
	}
	if err := checkDisplay(getenv); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := app.DetectEnvironment(ctx)
	cfg, err := o.controllerConfig(env)
	if err != nil {
		return err
	}
	plat, err := newPlatform()
	if err != nil {
		return err
	}
	if plat != nil {
		if err := plat.Configure(&cfg); err != nil {
			return err
		}
	}
	ctrl, err := app.NewController(ctx, cfg)
	if err != nil {
		return err
	}
	defer ctrl.Close()

	connectID := ""
	if o.connect != "" {
		b, err := findBookmark(ctrl.Bookmarks(), o.connect)
		if err != nil {
			return err
		}
		connectID = b.ID
	}

	if ctrl.Amnesic() {
		cleanup, err := redirectFyneCache()
		if err != nil {
			return err
		}
		defer cleanup()
	}
	quietCLocale(os.Getenv, os.Setenv)
	a := newFyneApp()
	if ctrl.Amnesic() {
		fixTheme(a)
	}
	u := ui.New(a, ctrl, &ui.Options{
		NoEmbeddedTor: torCreator() == nil,
		AudioCheck:    cfg.AudioBackend == app.AudioDevices,
		WindowPTT:     o.windowPTT,
		Notice:        notice(ctrl, env, o),
	})
	if plat != nil {
		if err := plat.Start(a, u.Window(), ctrl); err != nil {
			return err
		}
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	if connectID != "" {
		ctrl.Connect(connectID)
	}
	u.ShowAndRun()
	return nil
}

// newFyneApp creates the Fyne application without a unique ID. With an
// ID, Fyne creates a storage directory under ~/.config/fyne at start and
// writes preferences.json there at every exit; Tumble keeps nothing in
// Fyne's preferences, and must write nothing at all in amnesic mode. The
// metadata a packaging tool may have compiled in is replaced for the same
// reason: its ID would switch the preferences file back on.
func newFyneApp() fyne.App {
	fyneapp.SetMetadata(fyne.AppMetadata{Name: "Tumble"})
	a := fyneapp.NewWithID("")
	a.SetIcon(icon.Resource())
	return a
}

// notice is the line shown under the Tor status about amnesic mode: what
// is and is not written.
func notice(ctrl *app.Controller, env app.Environment, o *options) string {
	switch {
	case o.amnesic:
		return ctrl.AmnesiaNotice("--amnesic")
	case env.QubesDisposable:
		return ctrl.AmnesiaNotice("Qubes disposable VM")
	}
	return ctrl.AmnesiaNotice("")
}

// findBookmark returns the bookmark whose ID or name (label, or address
// without a label) is key.
func findBookmark(list []app.Bookmark, key string) (app.Bookmark, error) {
	for _, b := range list {
		if b.ID == key {
			return b, nil
		}
	}
	var found []app.Bookmark
	for _, b := range list {
		if b.Name() == key {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return app.Bookmark{}, fmt.Errorf("--connect: no bookmark named %q", key)
	}
	return app.Bookmark{}, fmt.Errorf("--connect: %d bookmarks are named %q; give the bookmark's ID", len(found), key)
}
