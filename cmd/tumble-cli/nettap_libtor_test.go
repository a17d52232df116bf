//go:build libtor

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// A netTap stands between Mumble clients and the SOCKS port of the Tor
// client they use, forwarding bytes unchanged, and notes when each TLS
// record of every connection passed it, in each direction, on the test's
// clock. The voice packets a mouth sent are then found among the records
// that reached an ear (tapMatch): their median transit is the network's
// part of the mouth-to-ear delay in that very run, for any client, the
// official one included, without reading its traffic: from the moment the
// mouth's record left the mouth (handed to Tor) to the moment the ear's
// record came out of Tor, that is client tor, circuits, onion service and
// Mumble server.
type netTap struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*tapConn
	open  map[net.Conn]bool
}

// tapConn is one connection through the tap: the TLS records each way.
type tapConn struct {
	up, down tlsRecords // client to Tor, Tor to client
}

// newNetTap listens on loopback and forwards every connection to target.
func newNetTap(target string) (*netTap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("net tap: %w", err)
	}
	t := &netTap{ln: ln, target: target, open: map[net.Conn]bool{}}
	t.wg.Go(t.accept)
	return t, nil
}

// Addr is the tap's address, to be used as the SOCKS port.
func (t *netTap) Addr() string { return t.ln.Addr().String() }

func (t *netTap) accept() {
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.wg.Go(func() { t.serve(c) })
	}
}

func (t *netTap) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", t.target)
	if err != nil {
		return
	}
	defer s.Close()
	tc := &tapConn{}
	t.mu.Lock()
	if t.open == nil { // closed
		t.mu.Unlock()
		return
	}
	t.conns = append(t.conns, tc)
	t.open[c], t.open[s] = true, true
	t.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { t.copy(s, c, &tc.up); s.(*net.TCPConn).CloseWrite() })
	t.copy(c, s, &tc.down)
	c.(*net.TCPConn).CloseWrite()
	wg.Wait()
	t.mu.Lock()
	delete(t.open, c)
	delete(t.open, s)
	t.mu.Unlock()
}

// copy forwards src to dst, feeding what passes to rs.
func (t *netTap) copy(dst io.Writer, src io.Reader, rs *tlsRecords) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			now := time.Now()
			t.mu.Lock()
			rs.feed(now, buf[:n])
			t.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Close stops the tap and its connections.
func (t *netTap) Close() error {
	err := t.ln.Close()
	t.mu.Lock()
	for c := range t.open {
		c.Close()
	}
	t.open = nil
	t.mu.Unlock()
	t.wg.Wait()
	return err
}

// Transits returns the transits of the voice packets a mouth sent
// through the tap to an ear, over the connection pair whose records match
// best (tapMatch), in the order sent.
func (t *netTap) Transits() ([]tapTransit, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best []tapTransit
	for i, a := range t.conns {
		for j, b := range t.conns {
			if i == j {
				continue
			}
			if ts := tapMatch(a.up.recs, b.down.recs); len(ts) > len(best) {
				best = ts
			}
		}
	}
	if len(best) == 0 {
		return nil, errors.New("net tap: no record sent by one connection reached another")
	}
	return best, nil
}
