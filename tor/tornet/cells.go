package tornet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// A CellCounter counts the relay cells the network's standalone client tor
// and its onion-service tor send on their own (origin) circuits, from the
// CELL_STATS events tor emits once a second on a test network
// (TestingEnableCellStatsEvent, set for every tor of the network).
type CellCounter struct {
	n        *Network
	cli, oni *controlConn
	wg       sync.WaitGroup

	mu     sync.Mutex
	client map[string]int // circuit ID -> relay cells sent, client tor
	onion  map[string]int // circuit ID -> relay cells sent, onion-service tor
	events int            // CELL_STATS events of origin circuits seen
}

// Events returns the number of CELL_STATS events of origin circuits seen
// so far (tor sends one a second per circuit that moved cells).
func (cc *CellCounter) Events() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.events
}

// CountCells starts counting; Close stops. Counts start at zero.
func (n *Network) CountCells(ctx context.Context) (*CellCounter, error) {
	cc := &CellCounter{n: n, client: map[string]int{}, onion: map[string]int{}}
	var err error
	if cc.cli, err = dialControl(ctx, n.cli.controlAddr, n.password); err != nil {
		return nil, fmt.Errorf("tornet: cell counter: %w", err)
	}
	if cc.oni, err = dialControl(ctx, n.onion.controlAddr, n.password); err != nil {
		cc.cli.Close()
		return nil, fmt.Errorf("tornet: cell counter: %w", err)
	}
	for _, c := range []*controlConn{cc.cli, cc.oni} {
		ch := c.subscribe()
		onion := c == cc.oni
		cc.wg.Go(func() {
			for {
				select {
				case line := <-ch:
					cc.add(line, onion)
				case <-c.done:
					return
				}
			}
		})
		if _, err := c.command(ctx, "SETEVENTS CELL_STATS"); err != nil {
			cc.Close()
			return nil, fmt.Errorf("tornet: cell counter: %w", err)
		}
	}
	return cc, nil
}

// add counts the relay cells of one CELL_STATS event of an origin circuit:
// "CELL_STATS ID=5 OutboundQueue=.. OutboundConn=.. OutboundRemoved=relay:12,...".
func (cc *CellCounter) add(line string, onion bool) {
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "CELL_STATS" {
		return
	}
	id, cells := "", 0
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "ID":
			id = v
		case "OutboundRemoved":
			// Cells flushed towards the guard. tor records cells added
			// to the queues of relayed circuits only, so for a
			// circuit of its own only "removed" counts.
			cells += relayCells(v)
		}
	}
	if id == "" {
		return // not an origin circuit
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.events++
	if onion {
		cc.onion[id] += cells
	} else {
		cc.client[id] += cells
	}
}

// relayCells returns the relay and relay_early counts of a CellsByType
// list ("relay:12,destroy:1").
func relayCells(v string) int {
	n := 0
	for _, e := range strings.Split(v, ",") {
		typ, num, _ := strings.Cut(e, ":")
		if typ == "relay" || typ == "relay_early" {
			if k, err := strconv.Atoi(num); err == nil && k > 0 {
				n += k
			}
		}
	}
	return n
}

// ClientSent returns the relay cells the client tor sent so far on the
// circuits it built for the SOCKS username user (see GETINFO
// circuit-status), that is, everything that user's connections sent.
func (cc *CellCounter) ClientSent(ctx context.Context, user string) (int, error) {
	st, err := cc.cli.getInfo(ctx, "circuit-status")
	if err != nil {
		return 0, fmt.Errorf("tornet: %w", err)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	n := 0
	for _, l := range strings.Split(st, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && strings.Contains(l, ` SOCKS_USERNAME="`+user+`"`) {
			n += cc.client[f[0]]
		}
	}
	return n, nil
}

// OnionSent returns the relay cells the onion-service tor sent so far on
// all its circuits: what its services sent to their clients.
func (cc *CellCounter) OnionSent() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	n := 0
	for _, c := range cc.onion {
		n += c
	}
	return n
}

// OnionSentByCircuit returns the relay cells the onion-service tor sent so
// far on each of its circuits, by circuit ID: an onion service has one
// rendezvous circuit per client connection, so this splits what it sent
// by client.
func (cc *CellCounter) OnionSentByCircuit() map[string]int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	m := make(map[string]int, len(cc.onion))
	for id, n := range cc.onion {
		m[id] = n
	}
	return m
}

// Close stops counting.
func (cc *CellCounter) Close() error {
	for _, c := range []*controlConn{cc.cli, cc.oni} {
		if c != nil {
			c.Close()
		}
	}
	cc.wg.Wait()
	return nil
}
