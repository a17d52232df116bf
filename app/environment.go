package app

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Environment is what Tumble learns about the system it runs on before it
// decides on amnesic mode and the Tor mode.
type Environment struct {
	// QubesDisposable is true in a Qubes OS disposable VM, whose disk is
	// thrown away at shutdown: Tumble then runs amnesic.
	QubesDisposable bool
	// QubesReason says how the disposable VM was recognized.
	QubesReason string
	// WhonixWorkstation is true in a Whonix Workstation, where all
	// traffic already goes through the Whonix Gateway's Tor: Tumble then
	// uses the gateway's SOCKS port instead of starting its own Tor (never
	// Tor over Tor).
	WhonixWorkstation bool
	// WhonixSOCKS is the gateway's SOCKS address (host:port) in a Whonix
	// Workstation.
	WhonixSOCKS string
}

// WhonixGatewayIP is the Whonix Gateway's address on the internal network
// of non-Qubes Whonix. In Qubes-Whonix the gateway is the qube's network
// gateway, read from QubesDB.
const WhonixGatewayIP = "10.152.152.10"

// WhonixSOCKSPort is the Whonix Gateway's general SOCKS port.
const WhonixSOCKSPort = "9050"

// EnvironmentProbe detects the Environment. The zero value probes the real
// system; tests set Root and QubesDBRead to a fake tree.
type EnvironmentProbe struct {
	// Root is prepended to every file the probe looks at. Empty is "/".
	Root string
	// QubesDBRead is the qubesdb-read program. Empty is
	// "/usr/bin/qubesdb-read" under Root. It is only run if it exists.
	QubesDBRead string
	// Timeout bounds each qubesdb-read run; it is killed after that. Zero
	// is 2 seconds.
	Timeout time.Duration
}

// Marker files, relative to the root.
const (
	// qubesPersistenceNone is created by qubes-core-agent-linux
	// (vm-systemd/qubes-sysinit.sh) when QubesDB's /qubes-vm-persistence
	// is "none", which qubes-core-admin (qubes/vm/dispvm.py) sets for
	// disposable VMs.
	qubesPersistenceNone = "run/qubes/persistent-none"
	// qubesRunDir exists in every Qubes VM (created by qubes-sysinit.sh).
	qubesRunDir = "run/qubes"
	// whonixWorkstationMarker is shipped by Whonix's anon-ws-base-files
	// package and checked by Whonix's own tools.
	whonixWorkstationMarker = "usr/share/anon-ws-base-files/workstation"
	defaultQubesDBRead      = "usr/bin/qubesdb-read"
)

// DetectEnvironment probes the real system (see EnvironmentProbe.Detect).
func DetectEnvironment(ctx context.Context) Environment {
	return EnvironmentProbe{}.Detect(ctx)
}

// Detect looks for a Qubes disposable VM and a Whonix Workstation. It only
// reads marker files and, inside Qubes, runs qubesdb-read with a timeout;
// it never blocks longer than a few timeouts and never fails: what cannot
// be determined counts as "no".
//
// A Qubes disposable VM is recognized by the marker file
// /run/qubes/persistent-none, else by `qubesdb-read /type` printing
// "DispVM" (the VM class qubes-core-admin writes to /type; the agent's own
// is_dispvm uses the same test), else, if /type cannot be read, by
// `qubesdb-read /name` starting with "disp" (the default names of
// disposables).
func (p EnvironmentProbe) Detect(ctx context.Context) Environment {
	var env Environment
	if runtime.GOOS != "linux" {
		return env
	}
	_, qerr := os.Stat(p.qubesDBReadPath())
	inQubes := p.exists(qubesRunDir) || qerr == nil
	switch {
	case p.exists(qubesPersistenceNone):
		env.QubesDisposable = true
		env.QubesReason = "/" + qubesPersistenceNone + " exists"
	case inQubes:
		if t, err := p.qubesDB(ctx, "/type"); err == nil {
			if t == "DispVM" {
				env.QubesDisposable = true
				env.QubesReason = "qubesdb-read /type is DispVM"
			}
		} else if n, err := p.qubesDB(ctx, "/name"); err == nil && strings.HasPrefix(n, "disp") {
			env.QubesDisposable = true
			env.QubesReason = "qubesdb-read /name is " + n
		}
	}
	if p.exists(whonixWorkstationMarker) {
		env.WhonixWorkstation = true
		gw := WhonixGatewayIP
		if inQubes {
			// In Qubes-Whonix the gateway is sys-whonix, the qube's
			// network gateway.
			if g, err := p.qubesDB(ctx, "/qubes-gateway"); err == nil && net.ParseIP(g) != nil {
				gw = g
			}
		}
		env.WhonixSOCKS = net.JoinHostPort(gw, WhonixSOCKSPort)
	}
	return env
}

// DefaultTorMode returns the Tor mode to use when the user chose none: the
// Whonix Gateway's SOCKS port in a Whonix Workstation, else the embedded
// Tor.
func (e Environment) DefaultTorMode() (mode TorMode, socks string) {
	if e.WhonixWorkstation && e.WhonixSOCKS != "" {
		return TorSOCKS, e.WhonixSOCKS
	}
	return TorEmbedded, ""
}

// DefaultSettings returns DefaultSettings with the Tor mode this
// environment calls for.
func (e Environment) DefaultSettings() Settings {
	s := DefaultSettings()
	mode, socks := e.DefaultTorMode()
	s.Network.TorMode, s.Network.SOCKSAddress = mode, socks
	s.applyForceTCPRule()
	return s
}

func (p EnvironmentProbe) path(rel string) string {
	root := p.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

func (p EnvironmentProbe) exists(rel string) bool {
	_, err := os.Stat(p.path(rel))
	return err == nil
}

func (p EnvironmentProbe) qubesDBReadPath() string {
	if p.QubesDBRead != "" {
		return p.QubesDBRead
	}
	return p.path(defaultQubesDBRead)
}

// qubesDB runs qubesdb-read for key with a timeout and returns its output
// without surrounding space.
func (p EnvironmentProbe) qubesDB(ctx context.Context, key string) (string, error) {
	prog := p.qubesDBReadPath()
	if _, err := os.Stat(prog); err != nil {
		return "", err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, key)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stdin = nil
	cmd.Stderr = nil
	// If the program hangs and leaves children holding its output open,
	// stop waiting for them shortly after killing it.
	cmd.WaitDelay = 200 * time.Millisecond
	if err := cmd.Run(); err != nil {
		return "", err
	}
	if out.Len() > 4096 {
		return "", errors.New("qubesdb-read: output too long")
	}
	return strings.TrimSpace(out.String()), nil
}
