package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/tor"
)

// errUsage reports a bad command line (exit status 2); the flag package has
// printed the reason.
var errUsage = errors.New("usage")

// options holds the parsed command line.
type options struct {
	amnesic   bool
	configDir string
	tor       string
	torrc     string
	connect   string
	audio     string
	version   bool
	windowPTT bool
}

const usageHeader = `usage: tumble [flags]

Tumble is a Mumble voice client that carries its own Tor.

flags:
`

// parseOptions parses args. --help returns flag.ErrHelp; a bad flag
// returns errUsage after the flag package printed the reason.
func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("tumble", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.amnesic, "amnesic", false, "write nothing to disk: bookmarks and settings in memory, Tor state in a temporary directory")
	fs.StringVar(&o.configDir, "config-dir", "", "keep bookmarks, settings and Tor state in `DIR` (default: tumble in the user config directory)")
	fs.StringVar(&o.tor, "tor", "", "Tor `MODE`: embedded, socks=HOST:PORT (an existing Tor), or off (direct, UNPROTECTED);\ndefault: the settings' choice")
	fs.StringVar(&o.torrc, "torrc", "", "extra torrc lines for the embedded Tor from `FILE` (the only way to use a test network)")
	fs.StringVar(&o.connect, "connect", "", "connect to the bookmark with this label or ID at start")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.windowPTT, "window-ptt", false, "push-to-talk only while Tumble's window has the focus: hold no desktop-wide key")
	fs.StringVar(&o.audio, "audio", "devices", "sound `BACKEND`: devices, null (silence, playback discarded) or none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tumble: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return nil, errUsage
	}
	switch o.audio {
	case "devices", "null", "none":
	default:
		fmt.Fprintf(stderr, "tumble: --audio %q is not one of devices, null, none\n", o.audio)
		return nil, errUsage
	}
	return o, nil
}

// controllerConfig builds the controller's configuration.
func (o *options) controllerConfig(env app.Environment) (app.ControllerConfig, error) {
	cfg := app.ControllerConfig{
		ConfigDir:   o.configDir,
		Amnesic:     o.amnesic || env.QubesDisposable,
		TorMode:     o.tor,
		TorCreator:  torCreator(),
		Environment: env,
	}
	switch o.audio {
	case "null":
		cfg.AudioBackend = app.AudioNull
	case "none":
		cfg.AudioBackend = app.AudioNone
	}
	if o.torrc != "" {
		lines, err := tor.ReadTorrcFile(o.torrc)
		if err != nil {
			return cfg, fmt.Errorf("--torrc: %w", err)
		}
		cfg.Torrc = lines
		cfg.AllowTestingTor = true
	}
	return cfg, nil
}
