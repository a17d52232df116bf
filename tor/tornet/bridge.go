package tornet

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// obfs4proxy writes the bridge line of its server into this file of the
// bridge's data directory, with placeholders for address and fingerprint.
const obfs4BridgeLineFile = "pt_state/obfs4_bridgeline.txt"

// waitBridgeLine waits until the bridge's obfs4 transport is registered and
// builds the bridge line from obfs4proxy's template and the bridge's
// fingerprint.
func (n *Network) waitBridgeLine(ctx context.Context) error {
	nd := n.bridge
	addr := net.JoinHostPort(BridgeHost, strconv.Itoa(nd.orPort))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := nd.exited(); err != nil {
			return err
		}
		// Tor logs this once obfs4proxy reported its listener (SMETHOD).
		registered := strings.Contains(nd.log(0), "Registered server transport 'obfs4' at '"+addr+"'")
		tmpl, terr := os.ReadFile(filepath.Join(nd.dir, obfs4BridgeLineFile))
		fpr, ferr := os.ReadFile(filepath.Join(nd.dir, "fingerprint"))
		if registered && terr == nil && ferr == nil {
			line, err := bridgeLine(string(tmpl), string(fpr), addr)
			if err != nil {
				return fmt.Errorf("bridge: %w", err)
			}
			n.bridgeLine = line
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the bridge's obfs4 transport on %s: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// bridgeLine fills obfs4proxy's bridge line template ("Bridge obfs4 <IP
// ADDRESS>:<PORT> <FINGERPRINT> cert=... iat-mode=0" after comment lines)
// from the fingerprint file ("NICK FPR") and the listener address.
func bridgeLine(tmpl, fprFile, addr string) (string, error) {
	f := strings.Fields(fprFile)
	if len(f) != 2 || !isFingerprint(f[1]) {
		return "", fmt.Errorf("unexpected fingerprint file %q", fprFile)
	}
	for _, l := range strings.Split(tmpl, "\n") {
		l = strings.TrimSpace(l)
		rest, ok := strings.CutPrefix(l, "Bridge obfs4 <IP ADDRESS>:<PORT> <FINGERPRINT> ")
		if ok && strings.HasPrefix(rest, "cert=") {
			return "obfs4 " + addr + " " + f[1] + " " + rest, nil
		}
	}
	return "", fmt.Errorf("no bridge line template in %q", tail(tmpl, 3))
}

// BridgeLine returns the bridge's obfs4 bridge line (without "Bridge "),
// or "" for a network started without Options.Bridge.
func (n *Network) BridgeLine() string { return n.bridgeLine }

// BridgeAddr returns the address of the bridge's obfs4 listener
// (BridgeHost:port), or "" without Options.Bridge.
func (n *Network) BridgeAddr() string {
	if n.bridge == nil {
		return ""
	}
	return net.JoinHostPort(BridgeHost, strconv.Itoa(n.bridge.orPort))
}

// BridgeClientTorrc returns ClientTorrc without the line that a bridge
// client cannot have (UseEntryGuards 0: Tor refuses UseBridges without entry
// guards). The bridge lines themselves are the client's business.
func (n *Network) BridgeClientTorrc() []string {
	return slices.DeleteFunc(n.ClientTorrc(), func(l string) bool { return strings.HasPrefix(l, "UseEntryGuards ") })
}

// RelayAddrs returns the address of every ORPort and DirPort of the
// network's authorities and relays (and the bridge's own ORPort): the
// addresses a client that may use only the bridge must never connect to.
func (n *Network) RelayAddrs(ctx context.Context) ([]string, error) {
	var addrs []string
	for _, nd := range n.nodes {
		if nd.kind != authority && nd.kind != relay && nd.kind != bridge {
			continue
		}
		c, err := dialControl(ctx, nd.controlAddr, n.password)
		if err != nil {
			return nil, fmt.Errorf("tornet: tor %s: %w", nd.name, err)
		}
		for _, key := range []string{"net/listeners/or", "net/listeners/dir"} {
			v, err := c.getInfo(ctx, key)
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("tornet: tor %s: %w", nd.name, err)
			}
			for _, a := range strings.Fields(v) {
				addrs = append(addrs, strings.Trim(a, `"`))
			}
		}
		c.Close()
	}
	return addrs, nil
}
