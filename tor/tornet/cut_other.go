//go:build !unix

package tornet

import (
	"errors"
	"fmt"
)

// Cut would stop the network's relays; it needs Unix signals.
func (n *Network) Cut() error { return fmt.Errorf("tornet: cut: %w", errors.ErrUnsupported) }

// Restore would continue the network's relays; it needs Unix signals.
func (n *Network) Restore() error { return fmt.Errorf("tornet: restore: %w", errors.ErrUnsupported) }
