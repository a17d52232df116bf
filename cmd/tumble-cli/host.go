package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tumble-voip/tumble/app"
)

// hostOptions is the command line of "tumble-cli host".
type hostOptions struct {
	options   // the Tor flags and --json
	roomDir   string
	cfg       app.RoomConfig
	guests    []string
	inviteDir string
	qrFile    string
}

const hostUsage = `usage: tumble-cli host [flags]

Hosts a room: runs the Mumble server (Debian package mumble-server) on
127.0.0.1 (or --listen) and publishes it as an onion service of the embedded
Tor, then prints an invitation link per guest and stays up until interrupted
(or --for). With --tor socks=... (Whonix, Tails) Tumble cannot publish it: the
server runs and the torrc lines for the Tor gateway are printed instead.
Commands on standard input, one per line: "add NAME" (new guest, prints the
invitation), "revoke NAME", "guests", "stop".

flags:
`

// parseHostOptions parses the flags after "host".
func parseHostOptions(args []string, stderr io.Writer, getenv func(string) string) (*hostOptions, error) {
	o := &hostOptions{}
	fs := flag.NewFlagSet("tumble-cli host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), hostUsage)
		fs.PrintDefaults()
	}
	var passwordFile, guests string
	fs.StringVar(&o.roomDir, "room-dir", "", "keep the room (server database, certificate, onion key, guest keys) in `DIR`\n(default: rooms/default under Tumble's configuration directory)")
	fs.BoolVar(&o.amnesic, "amnesic", false, "keep the room and Tor state in temporary directories removed on exit: a new address every time")
	fs.StringVar(&o.cfg.Name, "name", "", "the room's `NAME` (default \"Tumble room\")")
	fs.StringVar(&o.cfg.Welcome, "welcome", "", "welcome `TEXT` for guests")
	fs.StringVar(&passwordFile, "password-file", "", "server password from `FILE` (default: generated once and kept)")
	fs.IntVar(&o.cfg.MaxUsers, "max-users", 0, "most guests at once (default 50)")
	fs.IntVar(&o.cfg.Bandwidth, "bandwidth", 0, "per-user voice limit in `bit/s` (default from the Tor recommended preset)")
	fs.BoolVar(&o.cfg.RememberChannel, "remember-channel", false, "put returning registered users into their last channel")
	fs.BoolVar(&o.cfg.CertRequired, "cert-required", false, "refuse guests without a client certificate")
	fs.BoolVar(&o.cfg.ClientAuth, "client-auth", false, "only guests with a client authorization key (one per --guest) can reach the room")
	fs.StringVar(&o.cfg.Listen, "listen", "", "run the server on `ADDR`, an IP address of this machine (default 127.0.0.1);\nbehind a Tor gateway on another machine (Whonix), this machine's address on the gateway's network")
	fs.StringVar(&o.cfg.GatewayDir, "gateway-dir", "", "the HiddenServiceDir `DIR` printed for a Tor gateway in socks mode (default "+app.DefaultGatewayDir+")")
	fs.StringVar(&guests, "guest", "", "comma-separated guest `NAMES` to invite (letters, digits, - and _)")
	fs.StringVar(&o.inviteDir, "invite-dir", "", "write each guest's invitation to `DIR`/NAME.link (0600) instead of printing it")
	fs.StringVar(&o.qrFile, "qr", "", "write the first guest's invitation as a QR code PNG to `FILE`")
	fs.StringVar(&o.tor, "tor", "", "Tor `MODE`: embedded (needed to publish), or socks=HOST:PORT to print the gateway configuration")
	fs.StringVar(&o.torrc, "torrc", "", "extra torrc lines for the embedded Tor from `FILE`")
	fs.StringVar(&o.torDataDir, "tor-data-dir", "", "embedded Tor data `DIR`")
	fs.DurationVar(&o.duration, "for", 0, "stop the room after `DURATION` (default: when interrupted or \"stop\" is read)")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object per line for every event")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("host: unexpected argument %q", fs.Arg(0))
	}
	if o.amnesic && o.roomDir != "" {
		return nil, errors.New("host: --amnesic and --room-dir exclude each other")
	}
	if o.cfg.Listen != "" {
		if err := app.CheckListenAddress(o.cfg.Listen); err != nil {
			return nil, fmt.Errorf("host: --listen: %w", err)
		}
	}
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("host: --password-file: %w", err)
		}
		o.cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	for _, g := range strings.Split(guests, ",") {
		if g = strings.TrimSpace(g); g != "" {
			o.guests = append(o.guests, g)
		}
	}
	if o.roomDir == "" && !o.amnesic {
		base, err := app.DefaultConfigDir()
		if err != nil {
			return nil, err
		}
		o.roomDir = filepath.Join(base, "rooms", "default")
	}
	return o, nil
}

// runHost is "tumble-cli host".
func runHost(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseHostOptions(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	ev := &eventWriter{w: stdout, json: o.jsonOut, now: time.Now}
	room, err := app.OpenRoom(o.roomDir, o.amnesic, o.cfg)
	if err != nil {
		return err
	}
	defer room.Stop()
	// Guests known before the start are in the first descriptor.
	known := map[string]bool{}
	for _, g := range room.Guests() {
		known[g] = true
	}
	for _, g := range o.guests {
		if !known[g] {
			if _, err := room.AddGuest(ctx, g); err != nil {
				return err
			}
		}
	}
	start := time.Now()
	net, err := newNetwork(ctx, &o.options, ev)
	if err != nil {
		return err
	}
	defer net.Close()
	last := start
	err = room.Start(ctx, net.srv, func(p app.RoomPhase) {
		now := time.Now()
		ev.emit("room", field{"phase", string(p)}, field{"seconds", now.Sub(last).Seconds()})
		last = now
	})
	if err != nil {
		return err
	}
	if gw := room.Gateway(); gw != nil {
		// The gateway publishes the room under its own key: the invitations
		// are made from the address it reports, not here.
		fmt.Fprintln(stderr, gw.Lines())
		ev.emit("room-gateway", field{"torrc", strings.Join(gw.Torrc(), "\n")}, field{"server", room.ServerAddr()},
			field{"server_pid", room.ServerPid()}, field{"dir", room.Dir()}, field{"seconds", time.Since(start).Seconds()})
		o.guests = nil
	} else {
		ev.emit("room-ready", field{"onion", room.Onion()}, field{"port", app.RoomPort}, field{"server", room.ServerAddr()},
			field{"fingerprint", room.Fingerprint()}, field{"dir", room.Dir()}, field{"server_pid", room.ServerPid()},
			field{"seconds", time.Since(start).Seconds()})
	}
	for _, g := range o.guests {
		link, err := room.Invite(g)
		if err != nil {
			return err
		}
		if err := o.emitInvite(ev, g, link); err != nil {
			return err
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.duration > 0 {
		runCtx, cancel = context.WithTimeout(runCtx, o.duration)
		defer cancel()
	}
	lines := make(chan string)
	go func() { // ends with stdin; not joined (stdin may never close)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-runCtx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-runCtx.Done():
			ev.emit("room-stopped")
			return room.Stop()
		case line := <-lines:
			cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch cmd {
			case "add":
				link, err := room.AddGuest(runCtx, strings.TrimSpace(arg))
				if err != nil {
					ev.emit("error", field{"message", err.Error()})
					continue
				}
				o.emitInvite(ev, strings.TrimSpace(arg), link)
			case "revoke":
				if err := room.RevokeGuest(runCtx, strings.TrimSpace(arg)); err != nil {
					ev.emit("error", field{"message", err.Error()})
					continue
				}
				ev.emit("revoked", field{"guest", strings.TrimSpace(arg)})
			case "guests":
				ev.emit("guests", field{"names", strings.Join(room.Guests(), ",")})
			case "stop":
				cancel()
			case "":
			default:
				ev.emit("error", field{"message", "unknown command " + cmd})
			}
		}
	}
}

// emitInvite prints or writes guest's invitation (and the QR code).
func (o *hostOptions) emitInvite(ev *eventWriter, guest, link string) error {
	if o.qrFile != "" {
		img, err := app.InviteQR(link, 512)
		if err != nil {
			return err
		}
		var buf strings.Builder
		if err := png.Encode(&buf, img); err != nil {
			return fmt.Errorf("host: QR code: %w", err)
		}
		if err := os.WriteFile(o.qrFile, []byte(buf.String()), 0o600); err != nil {
			return fmt.Errorf("host: --qr: %w", err)
		}
		o.qrFile = ""
	}
	if o.inviteDir != "" {
		p := filepath.Join(o.inviteDir, guest+".link")
		if err := os.WriteFile(p, []byte(link+"\n"), 0o600); err != nil {
			return fmt.Errorf("host: --invite-dir: %w", err)
		}
		ev.emit("invite", field{"guest", guest}, field{"file", p})
		return nil
	}
	ev.emit("invite", field{"guest", guest}, field{"link", link})
	return nil
}
