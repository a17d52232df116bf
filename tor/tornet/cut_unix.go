//go:build unix

package tornet

import (
	"errors"
	"fmt"
	"syscall"
)

// Cut takes the Tor network away from its users, as when a client's network
// is unplugged: every authority, relay and bridge is stopped (SIGSTOP). Their
// connections stay open but nothing answers on them; new connections are
// accepted by the kernel and then get no answer either. The onion service
// host and the client tor keep running: they lose the network like any other
// user. Restore brings the network back. Close works on a cut network.
func (n *Network) Cut() error {
	n.logf("cut: stopping authorities, relays and bridge")
	return n.signalRelays(syscall.SIGSTOP)
}

// Restore undoes Cut: the stopped tors continue (SIGCONT) and answer again.
func (n *Network) Restore() error {
	n.logf("restore: continuing authorities, relays and bridge")
	return n.signalRelays(syscall.SIGCONT)
}

// signalRelays sends sig to every authority, relay and bridge.
func (n *Network) signalRelays(sig syscall.Signal) error {
	var errs []error
	for _, nd := range n.nodes {
		if nd.kind != authority && nd.kind != relay && nd.kind != bridge {
			continue
		}
		pid := nd.pid()
		if pid == 0 {
			continue
		}
		if err := syscall.Kill(pid, sig); err != nil {
			errs = append(errs, fmt.Errorf("tornet: signal %v to tor %s: %w", sig, nd.name, err))
		}
	}
	return errors.Join(errs...)
}
