package tor

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mode says how a Server reaches the Tor network.
type Mode int

const (
	// ModeDefault, the zero value, is ModeEmbedded, except on a Whonix
	// workstation, where it is ModeSOCKS with the Whonix gateway's SOCKS
	// port (WhonixGatewaySOCKS): that system's traffic already goes through
	// the gateway's Tor, and Tor must not run over Tor.
	ModeDefault Mode = iota
	// ModeEmbedded runs Tor inside this process (Server.Creator).
	ModeEmbedded
	// ModeSOCKS uses an existing Tor's SOCKS port (Server.SOCKSAddr): a
	// Whonix gateway, Tails, Orbot, a system tor.
	ModeSOCKS
	// ModeOff connects directly, without Tor. It must be chosen explicitly;
	// Server.IsProtected reports false.
	ModeOff
)

// WhonixGatewaySOCKS is the Whonix gateway's SOCKS port as seen from a
// Whonix workstation; ModeDefault uses it there.
const WhonixGatewaySOCKS = "10.152.152.10:9050"

// whonixWorkstationMarker is installed by Whonix's anon-ws-base-files
// package on every Whonix workstation.
const whonixWorkstationMarker = "usr/share/anon-ws-base-files/workstation"

// String returns the mode's name as accepted by ParseMode ("socks" for
// ModeSOCKS, whose address is kept separately).
func (m Mode) String() string {
	switch m {
	case ModeDefault:
		return "default"
	case ModeEmbedded:
		return "embedded"
	case ModeSOCKS:
		return "socks"
	case ModeOff:
		return "off"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode parses a mode as given on a command line:
//
//	""  or "default"   ModeDefault
//	"embedded"         ModeEmbedded
//	"socks=HOST:PORT"  ModeSOCKS; socksAddr is HOST:PORT
//	"off"              ModeOff (direct connections, no Tor)
//
// HOST must be an IP address (or "localhost"): resolving a name would be a
// DNS lookup outside Tor.
func ParseMode(s string) (mode Mode, socksAddr string, err error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), "=")
	switch strings.ToLower(name) {
	case "", "default":
		if hasArg {
			break
		}
		return ModeDefault, "", nil
	case "embedded":
		if hasArg {
			break
		}
		return ModeEmbedded, "", nil
	case "off":
		if hasArg {
			break
		}
		return ModeOff, "", nil
	case "socks":
		if !hasArg || arg == "" {
			return 0, "", fmt.Errorf("tor: mode %q: socks mode needs an address: socks=HOST:PORT (e.g. socks=127.0.0.1:9050)", s)
		}
		addr, err := checkSOCKSAddr(arg)
		if err != nil {
			return 0, "", err
		}
		return ModeSOCKS, addr, nil
	}
	return 0, "", fmt.Errorf("tor: unknown mode %q: want embedded, socks=HOST:PORT or off", s)
}

// checkSOCKSAddr validates a SOCKS proxy address and returns it in
// canonical form. Only IP addresses are accepted ("localhost" is taken as
// 127.0.0.1) so that reaching the proxy never needs a DNS lookup.
func checkSOCKSAddr(addr string) (string, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("tor: SOCKS address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", fmt.Errorf("tor: SOCKS address %q: host must be an IP address (a name would need a DNS lookup outside Tor)", addr)
	}
	return netip.AddrPortFrom(ip.Unmap(), port).String(), nil
}

// splitHostPort splits HOST:PORT and parses PORT as a number in 1..65535.
// Service names are not accepted (no lookups of any kind).
func splitHostPort(addr string) (string, uint16, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("port %q: want a number in 1..65535", portStr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("missing host")
	}
	return host, uint16(port), nil
}

// isWhonixWorkstation reports whether the system under root ("/" normally)
// is a Whonix workstation.
func isWhonixWorkstation(root string) bool {
	_, err := os.Stat(filepath.Join(root, whonixWorkstationMarker))
	return err == nil
}

// resolveMode turns the configured mode into the effective one; see
// ModeDefault. root is the file system root used for the Whonix check.
func resolveMode(m Mode, socksAddr, root string) (Mode, string, error) {
	whonix := isWhonixWorkstation(root)
	switch m {
	case ModeDefault:
		if whonix {
			return ModeSOCKS, WhonixGatewaySOCKS, nil
		}
		return ModeEmbedded, "", nil
	case ModeEmbedded:
		if whonix {
			return 0, "", fmt.Errorf("tor: %w (%s)", ErrTorOverTor, WhonixGatewaySOCKS)
		}
		return ModeEmbedded, "", nil
	case ModeSOCKS:
		if socksAddr == "" {
			return 0, "", fmt.Errorf("tor: socks mode needs Server.SOCKSAddr (HOST:PORT)")
		}
		addr, err := checkSOCKSAddr(socksAddr)
		if err != nil {
			return 0, "", err
		}
		return ModeSOCKS, addr, nil
	case ModeOff:
		return ModeOff, "", nil
	}
	return 0, "", fmt.Errorf("tor: unknown mode %v", m)
}
