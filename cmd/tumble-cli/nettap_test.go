package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
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

// tlsRecord is a TLS record: when its last byte passed the tap and its
// length (header excluded).
type tlsRecord struct {
	at  time.Time
	len int
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

// tapTransit is one voice packet's way through the network: when the
// mouth sent it, and how long until it reached the ear.
type tapTransit struct {
	sent time.Time
	d    time.Duration
}

// medianTransit returns the median transit of the packets sent in
// [from, to) (all of them if from is zero), and how many there were.
func medianTransit(ts []tapTransit, from, to time.Time) (time.Duration, int) {
	var ds []time.Duration
	for _, t := range ts {
		if from.IsZero() || !t.sent.Before(from) && t.sent.Before(to) {
			ds = append(ds, t.d)
		}
	}
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2], len(ds)
}

// tlsRecords splits a TLS byte stream (after the SOCKS handshake, which it
// skips) into records.
type tlsRecords struct {
	buf    []byte
	synced bool
	recs   []tlsRecord // application data records
}

// feed takes the next bytes of the stream, which passed at now.
func (r *tlsRecords) feed(now time.Time, p []byte) {
	r.buf = append(r.buf, p...)
	if !r.synced {
		i := tlsStart(r.buf)
		if i < 0 {
			if len(r.buf) > 64<<10 {
				r.buf = r.buf[:0] // not TLS: give up on this stream
			}
			return
		}
		r.buf = r.buf[i:]
		r.synced = true
	}
	for len(r.buf) >= 5 {
		n := int(r.buf[3])<<8 | int(r.buf[4])
		if len(r.buf) < 5+n {
			break
		}
		if r.buf[0] == 23 {
			r.recs = append(r.recs, tlsRecord{now, n})
		}
		r.buf = r.buf[5+n:]
	}
	if len(r.buf) == 0 {
		r.buf = nil // keep the buffer small
	}
}

// tlsStart returns where the TLS stream starts in b: the first handshake
// record header (type 22, version 3.x) that is followed by another record
// header or by the end of b, or -1.
func tlsStart(b []byte) int {
	for i := 0; i+5 <= len(b); i++ {
		if b[i] != 22 || b[i+1] != 3 || b[i+2] > 4 {
			continue
		}
		n := int(b[i+3])<<8 | int(b[i+4])
		if n == 0 || n > 1<<14+2048 {
			continue
		}
		next := i + 5 + n
		if next+3 > len(b) {
			if next > len(b) {
				return -1 // wait for the whole record
			}
			return i
		}
		if b[next] >= 20 && b[next] <= 23 && b[next+1] == 3 {
			return i
		}
	}
	return -1
}

// tapMaxTransit is the longest transit a voice packet is matched across.
const tapMaxTransit = 10 * time.Second

// tapMatch finds the records of sent among received: the server forwards
// a voice packet with a header a fixed number of bytes longer or shorter
// (the speaker's session added, the format changed), in TCP order, among
// other messages (pings, state). For each size offset from -8 to +8 bytes
// it walks sent in order and takes for each record the next received
// record of the size plus offset, no earlier and at most tapMaxTransit
// later (looking no further than 25 records ahead, so that one record
// without a match does not skip past the rest); the offset that matches
// most gives the transits.
func tapMatch(sent, received []tlsRecord) []tapTransit {
	var best []tapTransit
	for off := -8; off <= 8; off++ {
		var transits []tapTransit
		j := 0
		for _, s := range sent {
			for j < len(received) && received[j].at.Before(s.at) {
				j++
			}
			for k := j; k < len(received) && k < j+25; k++ {
				d := received[k].at.Sub(s.at)
				if d > tapMaxTransit {
					break
				}
				if received[k].len == s.len+off {
					transits = append(transits, tapTransit{s.at, d})
					j = k + 1
					break
				}
			}
		}
		if len(transits) > len(best) {
			best = transits
		}
	}
	return best
}

// TestNetTap checks the record split (a SOCKS handshake first, records cut
// across reads) and the matching (sizes one byte longer at the ear, pings
// in between, one packet of the same size as a ping).
func TestNetTap(t *testing.T) {
	var rs tlsRecords
	t0 := time.Unix(1000, 0)
	rec := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	stream := []byte{5, 1, 0, 5, 0, 5, 1, 0, 3, 4, 'a', '.', 'b', 'c', 0, 80, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	stream = append(stream, rec(22, 200)...)
	stream = append(stream, rec(20, 1)...)
	for i := range 10 {
		stream = append(stream, rec(23, 40+i)...)
	}
	for i := 0; i < len(stream); i += 7 {
		rs.feed(t0.Add(time.Duration(i)*time.Millisecond), stream[i:min(i+7, len(stream))])
	}
	if len(rs.recs) != 10 || rs.recs[0].len != 40 || rs.recs[9].len != 49 {
		t.Fatalf("records %+v, want 10 of 40 to 49 bytes", rs.recs)
	}

	var sent, received []tlsRecord
	var last time.Time
	for i := range 200 {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		n := 30 + (i*7)%11
		sent = append(sent, tlsRecord{at, n})
		arrive := at.Add(300 * time.Millisecond)
		if i%100 == 50 {
			arrive = at.Add(700 * time.Millisecond) // a stall: the next ones queue behind it (TCP)
		}
		if arrive.Before(last) {
			arrive = last
		}
		last = arrive
		if i%25 == 0 {
			received = append(received, tlsRecord{arrive, 35}) // a ping
		}
		received = append(received, tlsRecord{arrive, n + 1})
	}
	ts := tapMatch(sent, received)
	if d, n := medianTransit(ts, time.Time{}, time.Time{}); n < 195 || d != 300*time.Millisecond {
		t.Errorf("median transit %v over %d packets, want 300 ms over about 200", d, n)
	}
	// The packets sent during the stall's queue: 700 ms, then less.
	from := t0.Add(50 * 20 * time.Millisecond)
	if d, n := medianTransit(ts, from, from.Add(100*time.Millisecond)); n != 5 || d != 660*time.Millisecond {
		t.Errorf("median transit in the stall %v over %d packets, want 660 ms over 5 (700 to 620)", d, n)
	}
	if ts := tapMatch(sent, nil); len(ts) != 0 {
		t.Errorf("%d matched with nothing received", len(ts))
	}
}
