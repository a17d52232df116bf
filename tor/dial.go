package tor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Dial connects to addr ("host:port") through Tor with the Server's own
// isolation credentials (shared by all Dial calls of this Server; use
// Isolated to keep connections apart). See Dialer.DialContext.
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.init()
	return s.Isolated(s.defaultIso).DialContext(ctx, network, addr)
}

// Isolated returns a Dialer whose connections use the isolation
// credentials iso: they get circuits of their own, shared only with other
// connections made with the same iso. A zero iso gets the Server's own
// credentials (as Dial).
func (s *Server) Isolated(iso Isolation) *Dialer {
	s.init()
	if iso.IsZero() {
		iso = s.defaultIso
	}
	return &Dialer{s: s, iso: iso}
}

// Dialer connects through a Server with fixed isolation credentials. It is
// safe for concurrent use.
type Dialer struct {
	s   *Server
	iso Isolation
}

// Isolation returns the credentials the Dialer sends to Tor.
func (d *Dialer) Isolation() Isolation { return d.iso }

// Dial is DialContext with context.Background.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects to addr ("host:port", port numeric) over TCP
// through Tor's SOCKS port. The host name, .onion or not, is sent to Tor as
// a name and resolved only inside Tor; nothing is ever looked up locally
// and nothing is ever dialed directly (except in ModeOff, chosen
// explicitly). Onion addresses are checked first (v3 only).
//
// Dialing fails closed: before the Server is ready (Up), after Tor stopped
// or after Close it returns an error wrapping ErrNotStarted, ErrNotReady,
// ErrTorExited or net.ErrClosed without opening any connection. Failures
// reported by Tor come back as *SOCKSError, which for onion services wraps
// ErrClientAuthRequired, ErrOnionNotFound and the like.
//
// The whole operation is bounded by ctx and by the Server's
// ConnectTimeout.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("tor: dial %s: %w", addr, err)
	}
	return c, nil
}

func (d *Dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("network %q not supported: only TCP goes through Tor", network)
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		return nil, err
	}
	onion := IsOnion(host)
	if onion {
		// Checked and made canonical ("X.onion." -> "x.onion") for every
		// caller, so no spelling skips the check.
		a, err := ParseOnion(host)
		if err != nil {
			return nil, err
		}
		host = a.String()
	}
	if len(host) > 255 {
		return nil, fmt.Errorf("host name longer than 255 bytes")
	}
	mode, socksAddr, err := d.s.dialTarget()
	if err != nil {
		return nil, err
	}
	s := d.s
	if mode == ModeOff {
		if onion {
			return nil, ErrOnionNeedsTor
		}
		return s.dialer().DialContext(ctx, network, addr)
	}

	ctx, cancel := context.WithTimeout(ctx, s.connectTimeout())
	defer cancel()
	conn, err := s.dialer().DialContext(ctx, "tcp", socksAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: connect to %s: %w", ErrSOCKSUnreachable, socksAddr, err)
	}
	// Bound the handshake by ctx (deadline or cancellation): when it is
	// done, a deadline in the past makes the pending read or write fail.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	err = socksConnect(conn, host, port, d.iso.Username(), d.iso.Password())
	if !stop() || ctx.Err() != nil {
		if err == nil || isTimeout(err) {
			err = fmt.Errorf("SOCKS handshake with Tor: %w", ctx.Err())
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return &torConn{Conn: conn, remote: torAddr(addr)}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialTarget returns where connections go, or why none may be made.
func (s *Server) dialTarget() (Mode, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return 0, "", net.ErrClosed
	case !s.started: // also after a failed Start
		return 0, "", ErrNotStarted
	case s.stopErr != nil:
		return 0, "", s.stopErr
	case !s.status.Ready:
		return 0, "", fmt.Errorf("%w (%v)", ErrNotReady, s.status)
	}
	return s.mode, s.socksAddr, nil
}

// torConn is a connection through Tor. RemoteAddr reports the address
// asked for (Tor's SOCKS port is an implementation detail).
type torConn struct {
	net.Conn
	remote torAddr
}

func (c *torConn) RemoteAddr() net.Addr { return c.remote }

// CloseWrite shuts down the writing side, as *net.TCPConn does.
func (c *torConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("tor: CloseWrite not supported")
}

// torAddr is a host:port reached through Tor.
type torAddr string

// Network returns "tcp".
func (a torAddr) Network() string { return "tcp" }

func (a torAddr) String() string { return string(a) }
