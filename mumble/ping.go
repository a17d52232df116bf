package mumble

import (
	"context"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// PingStats describes the round trip times of the pings the client sends
// over the TCP connection every Config.PingInterval.
type PingStats struct {
	Sent     int           // pings sent
	Received int           // replies received
	Last     time.Duration // round trip time of the latest reply
	Mean     time.Duration // mean round trip time
	StdDev   time.Duration // standard deviation of the round trip time
	// Variance is the variance of the round trip time in ms², the unit
	// Mumble reports it in.
	Variance float64
}

// pingState accumulates round trip times (Welford's algorithm, in ms).
// Guarded by Client.mu.
type pingState struct {
	sent, received int
	last           time.Duration
	mean, m2       float64
}

func (p *pingState) add(rtt time.Duration) {
	p.received++
	p.last = rtt
	ms := float64(rtt) / float64(time.Millisecond)
	d := ms - p.mean
	p.mean += d / float64(p.received)
	p.m2 += d * (ms - p.mean)
}

func (p *pingState) variance() float64 {
	if p.received < 2 {
		return 0
	}
	return p.m2 / float64(p.received-1)
}

// PingStats returns the round trip statistics so far.
func (c *Client) PingStats() PingStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.ping.variance()
	return PingStats{
		Sent:     c.ping.sent,
		Received: c.ping.received,
		Last:     c.ping.last,
		Mean:     time.Duration(c.ping.mean * float64(time.Millisecond)),
		StdDev:   time.Duration(math.Sqrt(v) * float64(time.Millisecond)),
		Variance: v,
	}
}

func (c *Client) pingLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			// A failed write ends the connection; nothing else to do.
			_ = c.sendPing(context.Background())
		}
	}
}

// sendPing sends a ping stamped with the time since the client started, and
// the statistics the official client reports (the server shows them to
// administrators).
func (c *Client) sendPing(ctx context.Context) error {
	c.mu.Lock()
	c.ping.sent++
	m := &mumbleproto.Ping{
		Timestamp:  proto.Uint64(uint64(time.Since(c.epoch))),
		TcpPackets: proto.Uint32(uint32(c.ping.received)),
		TcpPingAvg: proto.Float32(float32(c.ping.mean)),
		TcpPingVar: proto.Float32(float32(c.ping.variance())),
	}
	c.mu.Unlock()
	return c.send(ctx, m)
}

// handlePing records the round trip of an echoed ping. c.mu must be held.
func (c *Client) handlePing(m *mumbleproto.Ping) {
	if m.Timestamp == nil {
		return
	}
	now := time.Since(c.epoch)
	sent := time.Duration(*m.Timestamp)
	if sent < 0 || sent > now {
		return // not a timestamp of ours
	}
	c.ping.add(now - sent)
}
