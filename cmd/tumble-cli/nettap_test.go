package main

import (
	"slices"
	"testing"
	"time"
)

// The record bookkeeping of the net tap (nettap_libtor_test.go, where the
// tap itself is): TLS records split from a connection's bytes, and a
// mouth's voice packets found among an ear's records.

// tlsRecord is a TLS record: when its last byte passed the tap and its
// length (header excluded).
type tlsRecord struct {
	at  time.Time
	len int
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
// other messages (pings, state), and may drop some (a backlog towards a
// listener). The offset, from -8 to +8 bytes, is the one under which a
// greedy walk (each sent record takes the next received one of its size
// plus the offset, no earlier and at most tapMaxTransit later, looking no
// further than 25 records ahead) matches most. The transits are then those
// of the longest order-keeping matching under that offset (tapAlign): a
// greedy walk that meets a packet the server dropped takes a later
// packet's record instead, and when most packets have one size (a mouth
// sending near-silence) every packet after it stays one behind.
func tapMatch(sent, received []tlsRecord) []tapTransit {
	best, bestN := 0, 0
	for off := -8; off <= 8; off++ {
		n := 0
		j := 0
		for _, s := range sent {
			for j < len(received) && received[j].at.Before(s.at) {
				j++
			}
			for k := j; k < len(received) && k < j+25; k++ {
				if received[k].at.Sub(s.at) > tapMaxTransit {
					break
				}
				if received[k].len == s.len+off {
					n++
					j = k + 1
					break
				}
			}
		}
		if n > bestN {
			best, bestN = off, n
		}
	}
	if bestN == 0 {
		return nil
	}
	return tapAlign(sent, received, best)
}

// tapAlign returns the transits of the longest matching of sent records to
// received ones of their size plus off that keeps both in order, a record
// received no earlier than sent and at most tapMaxTransit later (a longest
// common subsequence); among the longest, one whose transits keep near
// their median.
func tapAlign(sent, received []tlsRecord, off int) []tapTransit {
	n, m := len(sent), len(received)
	w := m + 1
	l := make([]int32, (n+1)*w) // l[i*w+k]: the longest for sent[:i], received[:k]
	match := func(i, k int) bool {
		d := received[k].at.Sub(sent[i].at)
		return received[k].len == sent[i].len+off && d >= 0 && d <= tapMaxTransit
	}
	for i := 1; i <= n; i++ {
		for k := 1; k <= m; k++ {
			v := max(l[(i-1)*w+k], l[i*w+k-1])
			if match(i-1, k-1) {
				v = max(v, l[(i-1)*w+k-1]+1)
			}
			l[i*w+k] = v
		}
	}
	walk := func(d0 time.Duration) []tapTransit {
		var ts []tapTransit
		for i, k := n, m; i > 0 && k > 0; {
			v := l[i*w+k]
			if match(i-1, k-1) && v == l[(i-1)*w+k-1]+1 {
				// Among longest matchings, pair records of one size
				// so that the transit stays near d0: next to a dropped
				// packet either neighbour would do.
				d := received[k-1].at.Sub(sent[i-1].at)
				switch {
				case d0 >= 0 && d > d0+10*time.Millisecond && l[i*w+k-1] == v:
					k-- // the sent record has an earlier partner
				case d0 >= 0 && d < d0-10*time.Millisecond && l[(i-1)*w+k] == v:
					i-- // the received record has an earlier sender
				default:
					ts = append(ts, tapTransit{sent[i-1].at, d})
					i, k = i-1, k-1
				}
				continue
			}
			if l[(i-1)*w+k] >= l[i*w+k-1] {
				i--
			} else {
				k--
			}
		}
		slices.Reverse(ts)
		return ts
	}
	ts := walk(-1)
	d0, _ := medianTransit(ts, time.Time{}, time.Time{})
	return walk(d0)
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

	// Near-silence: nearly every packet has one size, a louder one every
	// 20, and the server drops every 30th (a backlog): a greedy walk
	// would take the next packet's record for each dropped one and stay
	// behind, 20 ms more each time.
	sent, received = nil, nil
	for i := range 600 {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		n := 46
		if i%20 == 7 {
			n = 80 + i%13
		}
		sent = append(sent, tlsRecord{at, n})
		if i%30 != 29 {
			received = append(received, tlsRecord{at.Add(300 * time.Millisecond), n + 2})
		}
	}
	ts = tapMatch(sent, received)
	if d, n := medianTransit(ts, time.Time{}, time.Time{}); n != 580 || d != 300*time.Millisecond {
		t.Errorf("with dropped packets: median transit %v over %d packets, want 300 ms over 580", d, n)
	}
	// Next to a dropped packet two records of one size may pair either
	// way (20 ms off); the error must not carry on.
	exact := 0
	for _, tr := range ts {
		if tr.d == 300*time.Millisecond {
			exact++
		} else if tr.d < 280*time.Millisecond || tr.d > 320*time.Millisecond {
			t.Fatalf("with dropped packets: packet sent at %v matched %v later, want 300 ms", tr.sent.Sub(t0), tr.d)
		}
	}
	if exact < len(ts)*9/10 {
		t.Errorf("with dropped packets: %d of %d transits exact", exact, len(ts))
	}
}
