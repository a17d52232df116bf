package tor

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/cretz/bine/control"
	bine "github.com/cretz/bine/tor"
)

// OnionListener is a v3 onion service published by Server.Listen. It is a
// net.Listener: Accept returns the connections Tor forwards to it (from
// loopback), Addr its onion address and port.
type OnionListener struct {
	s    *Server
	emb  *embedded
	svc  *bine.OnionService
	addr torAddr

	closeOnce sync.Once
	closeErr  error
}

// Listen publishes a v3 onion service on virtual port port with identity
// key key and returns its listener once the service descriptor has been
// uploaded (so it is reachable), waiting for Tor to be ready first. The
// onion address is derived from key: store key.Seed() (32 bytes) and
// recreate the key with ed25519.NewKeyFromSeed to keep the address. A nil
// key is refused (it would make Tor invent a throw-away identity).
//
// Listen needs the embedded Tor (ErrNoControl otherwise).
func (s *Server) Listen(ctx context.Context, port int, key ed25519.PrivateKey) (*OnionListener, error) {
	host, err := checkListenArgs(port, key)
	if err == nil {
		if _, err := s.Up(ctx); err != nil {
			return nil, err
		}
		var l *OnionListener
		if l, err = s.listen(ctx, port, key, host); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("tor: listen on onion port %d: %w", port, err)
}

// checkListenArgs validates Listen's arguments and returns the onion host
// name of key.
func checkListenArgs(port int, key ed25519.PrivateKey) (string, error) {
	if port < 1 || port > 65535 {
		return "", fmt.Errorf("port must be in 1..65535")
	}
	if len(key) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("need an ed25519 private key (%d bytes), got %d bytes", ed25519.PrivateKeySize, len(key))
	}
	return OnionAddress(key.Public().(ed25519.PublicKey))
}

func (s *Server) listen(ctx context.Context, port int, key ed25519.PrivateKey, host string) (*OnionListener, error) {
	id := strings.TrimSuffix(host, ".onion")
	emb, err := s.control()
	if err != nil {
		return nil, err
	}

	// Register for this service's HS_DESC events before creating it.
	events := make(chan *control.HSDescEvent, 64)
	emb.hsMu.Lock()
	if emb.hsWait[id] != nil {
		emb.hsMu.Unlock()
		return nil, fmt.Errorf("onion service %s is already being published", host)
	}
	emb.hsWait[id] = events
	emb.hsMu.Unlock()
	defer func() {
		emb.hsMu.Lock()
		delete(emb.hsWait, id)
		emb.hsMu.Unlock()
	}()

	emb.ctlMu.Lock()
	svc, err := emb.t.Listen(ctx, &bine.ListenConf{
		RemotePorts: []int{port},
		Key:         key,
		Version3:    true,
		NoWait:      true,
	})
	emb.ctlMu.Unlock()
	if err != nil {
		return nil, err
	}
	l := &OnionListener{s: s, emb: emb, svc: svc, addr: torAddr(net.JoinHostPort(host, strconv.Itoa(port)))}
	if svc.ID != id {
		l.Close()
		return nil, fmt.Errorf("published %s.onion, expected %s", svc.ID, host)
	}

	// Wait for the first successful descriptor upload.
	uploads := 0
	var failures []string
	for done := false; !done; {
		select {
		case ev := <-events:
			switch ev.Action {
			case "UPLOAD":
				uploads++
			case "UPLOADED":
				done = true
			case "FAILED":
				failures = append(failures, fmt.Sprintf("%s: %s", ev.HSDir, ev.Reason))
				if len(failures) >= uploads {
					l.Close()
					return nil, fmt.Errorf("descriptor upload failed: %s", strings.Join(failures, "; "))
				}
			}
		case <-emb.pumpDone:
			l.Close()
			return nil, ErrTorExited
		case <-ctx.Done():
			l.Close()
			return nil, fmt.Errorf("waiting for descriptor upload: %w", ctx.Err())
		}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil, net.ErrClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	s.logf("tor: onion service %s published", l.addr)
	return l, nil
}

// Accept waits for and returns the next connection to the onion service.
func (l *OnionListener) Accept() (net.Conn, error) { return l.svc.LocalListener.Accept() }

// Addr returns the onion address and virtual port ("<56 chars>.onion:port").
func (l *OnionListener) Addr() net.Addr { return l.addr }

// Onion returns the onion host name ("<56 chars>.onion").
func (l *OnionListener) Onion() string {
	h, _, _ := net.SplitHostPort(string(l.addr))
	return h
}

// Close removes the onion service from Tor and closes the local listener.
func (l *OnionListener) Close() error {
	l.closeOnce.Do(func() {
		l.s.mu.Lock()
		delete(l.s.listeners, l)
		l.s.mu.Unlock()
		select {
		case <-l.emb.pumpDone: // Tor is gone, and the service with it
			l.closeErr = l.svc.LocalListener.Close()
			return
		default:
		}
		l.emb.ctlMu.Lock()
		err := l.svc.Close()
		l.emb.ctlMu.Unlock()
		if err != nil {
			l.closeErr = fmt.Errorf("tor: close onion service %s: %w", l.addr, err)
		}
	})
	return l.closeErr
}

// control returns the running embedded Tor, or why there is none.
func (s *Server) control() (*embedded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, net.ErrClosed
	case !s.started: // also after a failed Start
		return nil, ErrNotStarted
	case s.stopErr != nil:
		return nil, s.stopErr
	case s.mode != ModeEmbedded || s.emb == nil:
		return nil, fmt.Errorf("%w (mode %v)", ErrNoControl, s.mode)
	}
	return s.emb, nil
}
