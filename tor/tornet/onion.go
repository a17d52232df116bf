package tornet

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// An OnionService is a v3 onion service published by the network's
// onion-service tor, forwarding connections to a TCP server on 127.0.0.1.
type OnionService struct {
	// Address is the service's address: 56 base32 characters and ".onion".
	Address string
	// Port is the virtual port clients connect to.
	Port int
	// Target is the "127.0.0.1:port" connections are forwarded to.
	Target string
	// ClientAuthKey is, for a service with client authorization, the key a
	// client needs, as a line of the .auth_private files in Tor's
	// ClientOnionAuthDir: "<address without .onion>:descriptor:x25519:<base32
	// private key>". It is empty for a service without client authorization.
	ClientAuthKey string
}

// Addr returns "Address:Port", what a client dials.
func (s *OnionService) Addr() string {
	return net.JoinHostPort(s.Address, strconv.Itoa(s.Port))
}

// base32NoPad is the base32 form of keys in Tor's client-authorization
// lines and ADD_ONION's ClientAuthV3.
var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// uploadQuiet is how long AddOnionService waits, after the last pending
// descriptor upload finished, for more uploads to start.
const uploadQuiet = 250 * time.Millisecond

// AddOnionService publishes a new onion service (fresh ED25519-V3 key) on the
// network's onion-service tor that forwards connections on virtPort to target,
// a TCP address on 127.0.0.1 ("127.0.0.1:port"). With clientAuth, only
// clients that hold the returned ClientAuthKey can connect (client
// authorization with a fresh x25519 key).
//
// AddOnionService returns once the service's descriptor has been uploaded to
// the hidden-service directories and a connection through the onion-service
// tor's own SocksPort reached the service, so that clients connect without
// waiting. That check connects to target once and closes the connection at
// once; target need not be listening yet.
func (n *Network) AddOnionService(ctx context.Context, target string, virtPort int, clientAuth bool) (*OnionService, error) {
	if err := checkLoopback(target); err != nil {
		return nil, fmt.Errorf("tornet: onion service target: %w", err)
	}
	if _, port, _ := net.SplitHostPort(target); !validPort(port) {
		return nil, fmt.Errorf("tornet: onion service target %s: bad port", target)
	}
	if virtPort <= 0 || virtPort > 65535 {
		return nil, fmt.Errorf("tornet: onion service port %d out of range", virtPort)
	}
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("tornet: add onion service: %w", net.ErrClosed)
	}
	if n.onionCtl == nil {
		return nil, errors.New("tornet: add onion service: network not started by Start or StartT")
	}

	// Detach: the service outlives the control connection; DiscardPK: tor
	// keeps its key to itself, as nothing here restarts a service.
	flags, auth := "Detach,DiscardPK", ""
	var authKey *ecdh.PrivateKey
	if clientAuth {
		var err error
		if authKey, err = newClientAuthKey(); err != nil {
			return nil, fmt.Errorf("tornet: client authorization key: %w", err)
		}
		flags += ",V3Auth"
		auth = " ClientAuthV3=" + base32NoPad.EncodeToString(authKey.PublicKey().Bytes())
	}
	cmd := fmt.Sprintf("ADD_ONION NEW:ED25519-V3 Flags=%s Port=%d,%s%s", flags, virtPort, target, auth)

	// Subscribe before the service exists: its first uploads follow soon.
	events := n.onionCtl.subscribe()
	defer n.onionCtl.unsubscribe(events)
	reply, err := n.onionCtl.command(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("tornet: add onion service: %w", err)
	}
	var id string
	for _, l := range reply.lines {
		if v, ok := strings.CutPrefix(l, "ServiceID="); ok {
			id = v
		}
	}
	if len(id) != 56 {
		return nil, fmt.Errorf("tornet: add onion service: no v3 ServiceID in reply %q", reply.lines)
	}
	s := &OnionService{Address: id + ".onion", Port: virtPort, Target: target}
	n.logf("onion service %s: added (port %d -> %s, client authorization %v)", s.Address, virtPort, target, clientAuth)
	if err := n.publish(ctx, s, id, authKey, events); err != nil {
		// Do not leave a half-published service behind.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		n.onionCtl.command(dctx, "DEL_ONION "+id)
		cancel()
		return nil, fmt.Errorf("tornet: onion service %s: %w", s.Address, err)
	}
	return s, nil
}

// publish waits until the new service s (id without .onion) is reachable.
func (n *Network) publish(ctx context.Context, s *OnionService, id string, authKey *ecdh.PrivateKey, events <-chan string) error {
	if authKey != nil {
		s.ClientAuthKey = id + ":descriptor:x25519:" + base32NoPad.EncodeToString(authKey.Bytes())
		// The reachability probe below is a client of its own service.
		add := fmt.Sprintf("ONION_CLIENT_AUTH_ADD %s x25519:%s", id,
			base64.StdEncoding.EncodeToString(authKey.Bytes()))
		if _, err := n.onionCtl.command(ctx, add); err != nil {
			return err
		}
	}
	if err := n.waitUploaded(ctx, id, events); err != nil {
		return err
	}
	n.logf("onion service %s: descriptors uploaded", s.Address)
	if err := n.probe(ctx, s); err != nil {
		return err
	}
	n.logf("onion service %s: reachable", s.Address)
	return nil
}

// validPort reports whether s is a port number from 1 to 65535.
func validPort(s string) bool {
	p, err := strconv.Atoi(s)
	return err == nil && p > 0 && p <= 65535
}

// newClientAuthKey returns a new x25519 key, clamped as X25519 uses it so
// that every implementation derives the same public key from it.
func newClientAuthKey() (*ecdh.PrivateKey, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	b[0] &= 248
	b[31] &= 127
	b[31] |= 64
	return ecdh.X25519().NewPrivateKey(b[:])
}

// waitUploaded waits, reading HS_DESC events, until service id's descriptors
// have been uploaded to at least one HSDir and no upload is in progress.
func (n *Network) waitUploaded(ctx context.Context, id string, events <-chan string) error {
	pending := map[string]int{} // HSDir -> uploads in progress
	uploaded, failed := 0, 0
	var quiet <-chan time.Time
	for {
		select {
		case ev := <-events:
			f := strings.Fields(ev)
			if len(f) < 5 || f[0] != "HS_DESC" || f[2] != id {
				continue
			}
			hsdir := f[4]
			switch f[1] {
			case "UPLOAD":
				pending[hsdir]++
			case "UPLOADED":
				uploaded++
				pending[hsdir]--
			case "FAILED":
				failed++
				pending[hsdir]--
				n.logf("onion service %s.onion: upload to %s failed: %s", id, hsdir, ev)
			}
			quiet = nil
			if uploaded > 0 && inProgress(pending) == 0 {
				quiet = time.After(uploadQuiet)
			}
		case <-quiet:
			n.logf("onion service %s.onion: %d descriptor uploads done, %d failed", id, uploaded, failed)
			return nil
		case <-n.onionCtl.done:
			return fmt.Errorf("control connection to the onion-service tor lost: %v", n.onionCtl.readErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the descriptor upload (%d done, %d failed, %d in progress): %w",
				uploaded, failed, inProgress(pending), ctx.Err())
		}
	}
}

func inProgress(pending map[string]int) int {
	sum := 0
	for _, k := range pending {
		sum += max(k, 0)
	}
	return sum
}

// probe connects to s through the onion-service tor's own SocksPort until a
// connection succeeds or the service answers that target refused it.
func (n *Network) probe(ctx context.Context, s *OnionService) error {
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		conn, err := dialSOCKS(pctx, n.onionSOCKS, "tornet-probe", "x", s.Address, s.Port)
		cancel()
		var se *socksError
		switch {
		case err == nil:
			conn.Close()
			return nil
		case errors.As(err, &se) && se.Code == 0x05:
			return nil // the service is reachable; its target refused
		}
		last = err
		n.logf("onion service %s: probe: %v", s.Address, err)
		if err := n.onion.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the service to be reachable: %w (last: %v)", ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
