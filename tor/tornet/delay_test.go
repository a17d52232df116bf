package tornet

import (
	"encoding/binary"
	"io"
	mathrand "math/rand/v2"
	"net"
	"testing"
	"time"
)

// TestDelayProxyKeepsOrderAndDelays sends numbered messages through a proxy
// and checks, at the far side, that they arrive complete, in order and no
// earlier than the link's one-way delay after they were written (lower
// bounds only: a loaded machine may add any amount).
func TestDelayProxyKeepsOrderAndDelays(t *testing.T) {
	p := Profile{Name: "test", DelayMedian: 40 * time.Millisecond, Jitter: 10 * time.Millisecond,
		Bandwidth: 256 << 10, Seed: 7}
	sink, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	px, err := NewDelayProxy(p, 0, sink.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()

	const msgs, size = 400, 256 // 100 KiB: 0.39 s at the 256 KiB/s cap
	type arrival struct {
		seq uint64
		at  time.Time
	}
	got := make(chan []arrival, 1)
	go func() {
		c, err := sink.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var arr []arrival
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				break
			}
			arr = append(arr, arrival{binary.BigEndian.Uint64(buf), time.Now()})
		}
		got <- arr
	}()

	c, err := net.Dial("tcp4", px.Addr())
	if err != nil {
		t.Fatal(err)
	}
	sent := make([]time.Time, msgs)
	buf := make([]byte, size)
	for i := range msgs {
		binary.BigEndian.PutUint64(buf, uint64(i))
		sent[i] = time.Now()
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	arr := <-got
	c.Close()

	if len(arr) != msgs {
		t.Fatalf("got %d messages, want %d", len(arr), msgs)
	}
	delays := px.LinkDelays()
	if len(delays) != 1 || delays[0] != p.DelayMedian {
		t.Fatalf("link delays %v, want [%v] (sigma 0)", delays, p.DelayMedian)
	}
	for i, a := range arr {
		if a.seq != uint64(i) {
			t.Fatalf("message %d arrived as number %d: order not kept", i, a.seq)
		}
		if d := a.at.Sub(sent[i]); d < p.DelayMedian {
			t.Errorf("message %d took %v, less than the link delay %v", i, d, p.DelayMedian)
		}
	}
	minTotal := time.Duration(float64(msgs*size) / float64(p.Bandwidth) * float64(time.Second))
	if total := arr[len(arr)-1].at.Sub(sent[0]); total < minTotal+p.DelayMedian {
		t.Errorf("100 KiB crossed in %v, faster than the cap allows (%v + delay)", total, minTotal)
	}
}

// TestShaperSchedule checks the schedule itself, without the clock: due
// times never go backwards, never come before the link delay and the
// serialisation at the cap, and nothing is due during a stall.
func TestShaperSchedule(t *testing.T) {
	p := Profile{Name: "test", Jitter: 20 * time.Millisecond, Bandwidth: 100_000,
		StallEvery: 500 * time.Millisecond, StallFor: 200 * time.Millisecond}
	delay := 30 * time.Millisecond
	s := newShaper(p, delay, mathrand.New(mathrand.NewPCG(1, 2)))
	t0 := time.Unix(1000, 0)
	var last time.Time
	var bytes int
	stalledOver := 0
	for i := range 2000 {
		now := t0.Add(time.Duration(i) * 2 * time.Millisecond)
		const n = 100
		bytes += n
		due := s.due(now, n)
		if due.Before(last) {
			t.Fatalf("chunk %d due %v before the previous one", i, due.Sub(last))
		}
		if min := now.Add(delay + time.Millisecond); due.Before(min) { // 100 B at 100 kB/s = 1 ms
			t.Fatalf("chunk %d due after %v, before delay+serialisation", i, due.Sub(now))
		}
		if floor := t0.Add(time.Duration(float64(bytes)/float64(p.Bandwidth)*float64(time.Second)) + delay); due.Before(floor) {
			t.Fatalf("chunk %d due before the cap allows", i)
		}
		if due.Sub(now) > delay+p.StallFor {
			stalledOver++
		}
		last = due
	}
	if stalledOver == 0 {
		t.Error("no chunk was held back by a stall in 4 s with a stall every 0.5 s")
	}
}

// TestProfiles checks the named profiles and that a link's delay is
// repeatable from the seed.
func TestProfiles(t *testing.T) {
	for _, name := range []string{"fast", "typical", "bad"} {
		p, err := ProfileByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.validate(); err != nil {
			t.Error(err)
		}
		a := p.linkDelay(mathrand.New(mathrand.NewPCG(p.Seed, 5)))
		b := p.linkDelay(mathrand.New(mathrand.NewPCG(p.Seed, 5)))
		if a != b || a < p.DelayMin || a > p.DelayMax {
			t.Errorf("%s: delays %v %v, want equal within [%v, %v]", name, a, b, p.DelayMin, p.DelayMax)
		}
	}
	if _, err := ProfileByName("lunar"); err == nil {
		t.Error("unknown profile accepted")
	}
	if _, err := NewDelayProxy(Profile{Name: "neg", Jitter: -1}, 0, ""); err == nil {
		t.Error("negative jitter accepted")
	}
}
