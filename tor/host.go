package tor

import (
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cretz/bine/control"
	"github.com/cretz/bine/torutil"

	"github.com/tumble-voip/tumble/tor/atomicfile"
)

// HostedService is an onion service that forwards its virtual port to a TCP
// server on this machine, published by Server.Host from a service directory
// (HiddenServiceDir), so that its client authorization list can change
// without changing the address or dropping connected clients.
type HostedService struct {
	s      *Server
	emb    *embedded
	dir    string
	id     string
	port   int
	target string

	mu     sync.Mutex // serializes SetClients and Close
	closed bool
}

// clientNameRE is what a client's name may look like: it becomes a file
// name in the service directory.
var clientNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Host publishes a v3 onion service on virtual port port that forwards
// connections to target (a "127.0.0.1:port" address), with identity key
// key, and returns once its descriptor has been uploaded. dir is the
// service directory, created 0700: Host writes the key and the authorized
// clients there (Tor adds its hostname and state files); the caller owns
// it and removes it for an amnesic service. If clients is not empty, only
// holders of one of those keys (each made with GenerateClientAuthKey for
// this service) can reach the service; the map keys name the clients
// (letters, digits, '-' and '_').
//
// One Server hosts at most one service this way. Host needs the embedded
// Tor (ErrNoControl otherwise).
func (s *Server) Host(ctx context.Context, dir string, key ed25519.PrivateKey, port int, target string, clients map[string]ClientAuthKey) (*HostedService, error) {
	host, err := checkListenArgs(port, key)
	if err != nil {
		return nil, fmt.Errorf("tor: host onion service: %w", err)
	}
	if err := checkTarget(target); err != nil {
		return nil, fmt.Errorf("tor: host onion service: %w", err)
	}
	if _, err := s.Up(ctx); err != nil {
		return nil, err
	}
	emb, err := s.control()
	if err != nil {
		return nil, fmt.Errorf("tor: host onion service: %w", err)
	}
	h := &HostedService{s: s, emb: emb, dir: dir, id: strings.TrimSuffix(host, ".onion"), port: port, target: target}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tor: host onion service: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tor: host onion service: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "hs_ed25519_secret_key"), secretKeyFile(key), 0o600); err != nil {
		return nil, fmt.Errorf("tor: host onion service: write key: %w", err)
	}
	if err := h.publish(ctx, clients); err != nil {
		h.unpublish()
		return nil, fmt.Errorf("tor: host onion service %s: %w", host, err)
	}
	s.logf("tor: onion service %s hosted for %s", host, target)
	return h, nil
}

// checkTarget accepts a loopback "IP:port" address.
func checkTarget(target string) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	ip := net.ParseIP(host)
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("target %q is not a loopback address and port", target)
	}
	return nil
}

// secretKeyFile returns key in the format of Tor's hs_ed25519_secret_key
// file: a 32-byte tagged header and the 64-byte expanded secret key.
func secretKeyFile(key ed25519.PrivateKey) []byte {
	h := sha512.Sum512(key.Seed())
	h[0] &= 248
	h[31] &= 63
	h[31] |= 64
	hdr := make([]byte, 32)
	copy(hdr, "== ed25519v1-secret: type0 ==")
	return append(hdr, h[:]...)
}

// writeClients replaces the authorized_clients directory's contents.
func (h *HostedService) writeClients(clients map[string]ClientAuthKey) error {
	ac := filepath.Join(h.dir, "authorized_clients")
	if err := os.MkdirAll(ac, 0o700); err != nil {
		return err
	}
	for name, k := range clients {
		if !clientNameRE.MatchString(name) {
			return fmt.Errorf("client name %q: use 1-64 letters, digits, '-' or '_'", name)
		}
		if k.IsZero() || k.Onion != h.id {
			return fmt.Errorf("client %s: the key is not for %s.onion", name, h.id)
		}
		if err := atomicfile.Write(filepath.Join(ac, name+".auth"), []byte(k.PublicLine()+"\n"), 0o600); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(ac)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".auth")
		if _, keep := clients[name]; ok && !keep {
			if err := os.Remove(filepath.Join(ac, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// publish writes the client list and (re)configures the service, waiting
// for a descriptor upload.
func (h *HostedService) publish(ctx context.Context, clients map[string]ClientAuthKey) error {
	if err := h.writeClients(clients); err != nil {
		return err
	}
	events := make(chan *control.HSDescEvent, 64)
	h.emb.hsMu.Lock()
	if h.emb.hsWait[h.id] != nil {
		h.emb.hsMu.Unlock()
		return errors.New("the service is already being published")
	}
	h.emb.hsWait[h.id] = events
	h.emb.hsMu.Unlock()
	defer func() {
		h.emb.hsMu.Lock()
		delete(h.emb.hsWait, h.id)
		h.emb.hsMu.Unlock()
	}()
	// Setting the options again, even unchanged, makes Tor reload the
	// service's keys and authorized clients; a changed client list gives
	// new descriptors, while intro points and circuits stay.
	cmd := "SETCONF HiddenServiceDir=" + torutil.EscapeSimpleQuotedString(h.dir) +
		" HiddenServicePort=" + torutil.EscapeSimpleQuotedString(strconv.Itoa(h.port)+" "+h.target)
	for attempt := 1; ; attempt++ {
		if err := h.command(cmd); err != nil {
			return err
		}
		err := waitUploaded(ctx, h.emb, events, uploadGrace)
		if !errors.Is(err, errRejected) || attempt == 3 {
			return err
		}
		// Tor derives a descriptor's revision counter from the clock in
		// seconds, and directories refuse one that is not newer than what
		// they have: a second change within the same second is rejected.
		// Publish again in the next second.
		next := time.Until(time.Now().Truncate(time.Second).Add(time.Second))
		select {
		case <-time.After(next):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errRejected is wrapped when every directory rejected the descriptor.
var errRejected = errors.New("rejected by every directory (not newer than theirs)")

func (h *HostedService) command(cmd string) error {
	h.emb.ctlMu.Lock()
	defer h.emb.ctlMu.Unlock()
	_, err := h.emb.t.Control.SendRequest("%s", cmd)
	return err
}

// unpublish removes every service directory from Tor's configuration.
func (h *HostedService) unpublish() error {
	select {
	case <-h.emb.pumpDone:
		return nil // Tor is gone, and the service with it
	default:
	}
	return h.command("RESETCONF HiddenServiceDir HiddenServicePort")
}

// uploadGrace is how long waitUploaded waits for the other announced
// uploads once one has succeeded.
const uploadGrace = 15 * time.Second

// waitUploaded waits until the descriptors announced on events (after the
// caller changed the configuration) have been uploaded: every UPLOAD has
// ended, at least one of them successfully. Tor announces a round's
// uploads together, so once one has finished the set is complete. It
// fails if all of them failed.
//
// An announced upload may never end on events (a CI run waited 180 s for
// one; Tor seems to report an end only when the directory answers, not
// when the circuit or connection fails). So once an upload has succeeded,
// the others get grace (uploadGrace): the new descriptor is then on at
// least one directory, and Tor uploads again on its own schedule. A wait
// that ctx ends says what was pending.
func waitUploaded(ctx context.Context, emb *embedded, events <-chan *control.HSDescEvent, grace time.Duration) error {
	pending := map[string]int{}
	announced, uploaded := 0, 0
	rejectedOnly := true
	var failures []string
	var graceEnd <-chan time.Time // after the first success
	for {
		select {
		case ev := <-events:
			switch ev.Action {
			case "UPLOAD":
				pending[ev.HSDir]++
				announced++
				continue
			case "UPLOADED":
				if pending[ev.HSDir] == 0 {
					continue // an upload from before the change
				}
				uploaded++
				if graceEnd == nil {
					t := time.NewTimer(grace)
					defer t.Stop()
					graceEnd = t.C
				}
			case "FAILED":
				if pending[ev.HSDir] == 0 {
					continue
				}
				failures = append(failures, fmt.Sprintf("%s: %s", ev.HSDir, ev.Reason))
				if ev.Reason != "UPLOAD_REJECTED" {
					rejectedOnly = false
				}
			default:
				continue
			}
			if pending[ev.HSDir]--; pending[ev.HSDir] == 0 {
				delete(pending, ev.HSDir)
			}
			if len(pending) == 0 {
				if uploaded > 0 {
					return nil
				}
				if rejectedOnly {
					return fmt.Errorf("descriptor upload: %w", errRejected)
				}
				return fmt.Errorf("descriptor upload failed: %s", strings.Join(failures, "; "))
			}
		case <-graceEnd:
			return nil
		case <-emb.pumpDone:
			return ErrTorExited
		case <-ctx.Done():
			dirs := slices.Sorted(maps.Keys(pending))
			return fmt.Errorf("waiting for descriptor upload (%d announced, %d uploaded, %d failed, still pending at %v): %w",
				announced, uploaded, len(failures), dirs, ctx.Err())
		}
	}
}

// Onion returns the service's host name ("<56 chars>.onion").
func (h *HostedService) Onion() string { return h.id + ".onion" }

// Port returns the virtual port.
func (h *HostedService) Port() int { return h.port }

// Clients returns the names of the authorized clients, sorted.
func (h *HostedService) Clients() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(h.dir, "authorized_clients"))
	if err != nil {
		return nil, fmt.Errorf("tor: authorized clients: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".auth"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// SetClients replaces the authorized clients (empty: anyone may connect)
// and returns once Tor has uploaded descriptors for the new list. The
// address stays; clients already connected stay connected, a removed
// client cannot connect again.
func (h *HostedService) SetClients(ctx context.Context, clients map[string]ClientAuthKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("tor: set clients of %s: %w", h.Onion(), net.ErrClosed)
	}
	if err := h.publish(ctx, clients); err != nil {
		return fmt.Errorf("tor: set clients of %s: %w", h.Onion(), err)
	}
	return nil
}

// Close removes the service from Tor. It leaves the directory alone.
func (h *HostedService) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if err := h.unpublish(); err != nil {
		return fmt.Errorf("tor: remove onion service %s: %w", h.Onion(), err)
	}
	return nil
}
