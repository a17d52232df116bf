package tornet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// A socksError is a SOCKS5 reply other than success. Tor's SocksPort with
// ExtendedErrors answers onion-service failures with codes 0xF0 to 0xF7.
type socksError struct {
	Code byte
}

// socksReplies names the SOCKS5 reply codes (RFC 1928) and Tor's extended
// ones (tor's socks-extensions.txt).
var socksReplies = map[byte]string{
	0x01: "general SOCKS server failure",
	0x02: "connection not allowed by ruleset",
	0x03: "network unreachable",
	0x04: "host unreachable",
	0x05: "connection refused",
	0x06: "TTL expired",
	0x07: "command not supported",
	0x08: "address type not supported",
	0xF0: "onion service descriptor can not be found",
	0xF1: "onion service descriptor is invalid",
	0xF2: "onion service introduction failed",
	0xF3: "onion service rendezvous failed",
	0xF4: "onion service missing client authorization",
	0xF5: "onion service wrong client authorization",
	0xF6: "onion service invalid address",
	0xF7: "onion service introduction timed out",
}

func (e *socksError) Error() string {
	if s, ok := socksReplies[e.Code]; ok {
		return fmt.Sprintf("socks reply %#02x: %s", e.Code, s)
	}
	return fmt.Sprintf("socks reply %#02x", e.Code)
}

// dialSOCKS connects to host:port through the SOCKS5 proxy at proxy (a
// loopback address). host is always sent as a name (address type 3), never
// resolved here, which is how .onion names must reach Tor. If user is not
// empty, username/password authentication (RFC 1929) is offered; Tor uses
// the pair to isolate circuits and does not check it. A SOCKS5 failure reply
// is returned as a *socksError.
func dialSOCKS(ctx context.Context, proxy, user, pass, host string, port int) (net.Conn, error) {
	if len(host) == 0 || len(host) > 255 || len(user) > 255 || len(pass) > 255 {
		return nil, fmt.Errorf("socks: host, user or password empty or longer than 255 bytes")
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("socks: port %d out of range", port)
	}
	if err := checkLoopback(proxy); err != nil {
		return nil, fmt.Errorf("socks: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", proxy)
	if err != nil {
		return nil, fmt.Errorf("socks: %w", err)
	}
	// Tor answers a CONNECT only once the stream is open, which can take a
	// while; cancel the handshake when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	err = socksHandshake(conn, user, pass, host, port)
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("socks connect %s:%d via %s: %w", host, port, proxy, err)
	}
	return conn, nil
}

func socksHandshake(conn net.Conn, user, pass, host string, port int) error {
	method := byte(0x00) // no authentication
	if user != "" {
		method = 0x02 // username/password
	}
	if _, err := conn.Write([]byte{0x05, 0x01, method}); err != nil {
		return err
	}
	var b [4]byte
	if _, err := io.ReadFull(conn, b[:2]); err != nil {
		return fmt.Errorf("method reply: %w", err)
	}
	if b[0] != 0x05 || b[1] != method {
		return fmt.Errorf("proxy refused authentication method %d (reply % x)", method, b[:2])
	}
	if method == 0x02 {
		req := []byte{0x01, byte(len(user))}
		req = append(req, user...)
		req = append(req, byte(len(pass)))
		req = append(req, pass...)
		if _, err := conn.Write(req); err != nil {
			return err
		}
		if _, err := io.ReadFull(conn, b[:2]); err != nil {
			return fmt.Errorf("authentication reply: %w", err)
		}
		if b[1] != 0x00 {
			return fmt.Errorf("authentication failed (status %d)", b[1])
		}
	}
	req := []byte{0x05, 0x01, 0x00, 0x03, byte(len(host))}
	req = append(req, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := conn.Write(req); err != nil {
		return err
	}
	if _, err := io.ReadFull(conn, b[:4]); err != nil {
		return fmt.Errorf("connect reply: %w", err)
	}
	if b[0] != 0x05 {
		return fmt.Errorf("connect reply: version %d, not 5", b[0])
	}
	if b[1] != 0x00 {
		return &socksError{Code: b[1]}
	}
	var skip int
	switch b[3] {
	case 0x01:
		skip = 4
	case 0x04:
		skip = 16
	case 0x03:
		if _, err := io.ReadFull(conn, b[:1]); err != nil {
			return fmt.Errorf("connect reply: %w", err)
		}
		skip = int(b[0])
	default:
		return fmt.Errorf("connect reply: address type %d", b[3])
	}
	if _, err := io.ReadFull(conn, make([]byte, skip+2)); err != nil {
		return fmt.Errorf("connect reply: %w", err)
	}
	return nil
}

// checkLoopback returns an error unless addr is "ip:port" with a loopback IP
// literal: nothing in this package talks to anything else.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address", addr)
	}
	return nil
}

// DialOnion connects to the onion service s through the standalone client
// tor's SocksPort, on a circuit isolated by the SOCKS username user.
func (n *Network) DialOnion(ctx context.Context, user string, s *OnionService) (net.Conn, error) {
	return dialSOCKS(ctx, n.clientSOCKS, user, "x", s.Address, s.Port)
}
