package tor

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// SOCKS5 client (RFC 1928) with username/password authentication
// (RFC 1929), just the CONNECT command. Host names are always sent to the
// proxy as names (address type 3): resolving them is the proxy's (Tor's)
// job, never ours.

const (
	socksVersion    = 0x05
	socksAuthNone   = 0x00
	socksAuthPasswd = 0x02
	socksNoMethod   = 0xFF
	socksCmdConnect = 0x01
	socksAtypIPv4   = 0x01
	socksAtypDomain = 0x03
	socksAtypIPv6   = 0x04
	socksPasswdVer  = 0x01
)

// errSOCKSProtocol reports a malformed reply from the SOCKS server.
var errSOCKSProtocol = errors.New("SOCKS protocol error")

// socksConnect runs the SOCKS5 handshake on rw, asking the proxy to connect
// to host:port. A non-empty user selects username/password authentication
// with user and pass (Tor uses them for stream isolation). IP literals are
// sent as addresses, everything else as a domain name.
func socksConnect(rw io.ReadWriter, host string, port uint16, user, pass string) error {
	// Build the request before sending anything, so bad input never
	// reaches the wire.
	req := []byte{socksVersion, socksCmdConnect, 0}
	if isIPLiteral(host) {
		ip, _ := netip.ParseAddr(host)
		ip = ip.Unmap()
		if ip.Is4() {
			req = append(req, socksAtypIPv4)
		} else {
			req = append(req, socksAtypIPv6)
		}
		req = append(req, ip.AsSlice()...)
	} else {
		if len(host) == 0 || len(host) > 255 {
			return fmt.Errorf("host name must be 1 to 255 bytes, got %d", len(host))
		}
		req = append(req, socksAtypDomain, byte(len(host)))
		req = append(req, host...)
	}
	req = append(req, byte(port>>8), byte(port))

	method := byte(socksAuthNone)
	if user != "" {
		if len(user) > 255 || len(pass) > 255 || pass == "" {
			return fmt.Errorf("SOCKS username and password must be 1 to 255 bytes")
		}
		method = socksAuthPasswd
	}
	if _, err := rw.Write([]byte{socksVersion, 1, method}); err != nil {
		return fmt.Errorf("SOCKS greeting: %w", err)
	}
	var buf [2]byte
	if _, err := io.ReadFull(rw, buf[:]); err != nil {
		return fmt.Errorf("SOCKS greeting reply: %w", err)
	}
	if buf[0] != socksVersion {
		return fmt.Errorf("%w: server speaks SOCKS version %d, want 5", errSOCKSProtocol, buf[0])
	}
	switch buf[1] {
	case method:
	case socksNoMethod:
		return fmt.Errorf("SOCKS server accepts none of our authentication methods")
	default:
		return fmt.Errorf("%w: server chose authentication method %d, we offered %d", errSOCKSProtocol, buf[1], method)
	}

	if method == socksAuthPasswd {
		auth := make([]byte, 0, 3+len(user)+len(pass))
		auth = append(auth, socksPasswdVer, byte(len(user)))
		auth = append(auth, user...)
		auth = append(auth, byte(len(pass)))
		auth = append(auth, pass...)
		if _, err := rw.Write(auth); err != nil {
			return fmt.Errorf("SOCKS authentication: %w", err)
		}
		if _, err := io.ReadFull(rw, buf[:]); err != nil {
			return fmt.Errorf("SOCKS authentication reply: %w", err)
		}
		if buf[0] != socksPasswdVer {
			return fmt.Errorf("%w: authentication reply version %d", errSOCKSProtocol, buf[0])
		}
		if buf[1] != 0 {
			return fmt.Errorf("SOCKS server rejected the credentials (status %d)", buf[1])
		}
	}

	if _, err := rw.Write(req); err != nil {
		return fmt.Errorf("SOCKS connect request: %w", err)
	}
	return readSOCKSReply(rw)
}

// isIPLiteral reports whether host is an IP address without zone; such
// hosts are sent to the proxy as addresses.
func isIPLiteral(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == ""
}

// readSOCKSReply reads a CONNECT reply. A failure code is returned as a
// *SOCKSError.
func readSOCKSReply(r io.Reader) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("SOCKS connect reply: %w", err)
	}
	if hdr[0] != socksVersion {
		return fmt.Errorf("%w: reply version %d", errSOCKSProtocol, hdr[0])
	}
	if hdr[1] != 0 {
		return &SOCKSError{Code: hdr[1]}
	}
	var n int
	switch hdr[3] {
	case socksAtypIPv4:
		n = 4
	case socksAtypIPv6:
		n = 16
	case socksAtypDomain:
		var l [1]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return fmt.Errorf("SOCKS connect reply: %w", err)
		}
		n = int(l[0])
	default:
		return fmt.Errorf("%w: reply address type %d", errSOCKSProtocol, hdr[3])
	}
	// Bound address and port; Tor sends zeros. Read and discard.
	if _, err := io.ReadFull(r, make([]byte, n+2)); err != nil {
		return fmt.Errorf("SOCKS connect reply: %w", err)
	}
	return nil
}

// socksProbe checks that a SOCKS5 server answers a greeting offering
// username/password authentication (what Tor's SocksPort accepts), without
// asking it to connect anywhere.
func socksProbe(rw io.ReadWriter) error {
	if _, err := rw.Write([]byte{socksVersion, 1, socksAuthPasswd}); err != nil {
		return err
	}
	var buf [2]byte
	if _, err := io.ReadFull(rw, buf[:]); err != nil {
		return err
	}
	if buf[0] != socksVersion {
		return fmt.Errorf("%w: not a SOCKS5 server (version byte %d)", errSOCKSProtocol, buf[0])
	}
	if buf[1] != socksAuthPasswd {
		return fmt.Errorf("SOCKS server does not accept username/password authentication, so streams cannot be isolated")
	}
	return nil
}
